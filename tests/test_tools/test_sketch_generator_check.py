"""tools/analysis/sketch_generator_check.py: the stroke chamfer distance and an extraction-only
run on the tiny synthetic faces."""
import json

import numpy as np
from conftest import run_tool

from facedisentangle.cli import sketch_generator_check as check


def test_stroke_chamfer():
    a = np.full((32, 32), 255, np.uint8)
    a[10, 4:28] = 0
    b = np.full((32, 32), 255, np.uint8)
    b[13, 4:28] = 0                                   # the same line 3 px lower
    assert check.stroke_chamfer(a, a) == 0.0
    assert abs(check.stroke_chamfer(a, b) - 3.0) < 0.05
    empty = np.full((32, 32), 255, np.uint8)
    assert check.stroke_chamfer(a, empty) == np.hypot(32, 32)
    assert check.stroke_chamfer(empty, empty) == 0.0
    assert abs(check.l1(a, empty) - 2 * 24 / 1024) < 1e-9


def test_extraction_only_run(tiny_synthetic_h5, tmp_path):
    run_tool(['tools/analysis/sketch_generator_check.py', '--data', tiny_synthetic_h5,
              '--num', '3', '--out-dir', str(tmp_path), '--grid', str(tmp_path / 'g.png')])
    res = json.loads((tmp_path / 'sketch_generator_check.json').read_text())
    assert res['num'] == 3 and set(res['results']) == {'extraction'}
    assert 0 < res['results']['extraction']['L1'] < 2 and (tmp_path / 'g.png').is_file()
