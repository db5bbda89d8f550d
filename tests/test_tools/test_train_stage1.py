"""Stage 1 end to end through tools/train.py: training, crash-safe resume, 2 CPU processes."""
import json
from pathlib import Path

import pytest
import torch
from conftest import kill_9_once_written, run_tool, tiny_run_options

CONFIG = 'configs/deepfaceediting/stage1_sketch-ae_synthetic-128.py'


def tiny_options(data_file: str, max_iters: int, interval: int) -> list[str]:
    return tiny_run_options(data_file, max_iters, interval, model=(
        'model.sketch_encoder.ngf=4', 'model.sketch_decoder.ngf=4',
        'default_hooks.checkpoint.max_keep_ckpts=-1'))


def scalars(work_dir: Path) -> list[dict]:
    files = sorted(work_dir.glob('*/vis_data/scalars.json'))
    rows = []
    for f in files:
        rows += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return rows


def test_stage1_trains_validates_and_writes_grids(tiny_synthetic_h5, tmp_path):
    work = tmp_path / 'work'
    run_tool(['tools/train.py', CONFIG, '--work-dir', str(work),
              *tiny_options(tiny_synthetic_h5, 4, 2)])
    assert (work / 'iter_4.pth').is_file() and (work / 'iter_2.pth').is_file()
    rows = scalars(work)
    val = [r for r in rows if 'eye1/sketch/L1' in r]
    assert len(val) == 3 and all(r['bg/sketch/L1'] > 0 for r in val)  # iterations 0, 2, 4
    train = [r for r in rows if 'loss' in r]
    assert {'bg/loss_rec', 'eye1/loss_rec', 'eye2/loss_rec', 'nose/loss_rec',
            'mouth/loss_rec'} <= set(train[-1])
    grids = list(work.glob('*/vis_data/vis_image/stage1_eye1_*.png'))
    assert len(grids) >= 2
    assert not list(work.glob('.*.tmp-*'))  # atomic saves leave no temporary file
    # the test tool evaluates the checkpoint and writes the JSON results
    out = tmp_path / 'results.json'
    run_tool(['tools/test.py', CONFIG, str(work / 'iter_4.pth'), '--work-dir', str(work),
              '--out', str(out), *tiny_options(tiny_synthetic_h5, 4, 2)])
    res = json.loads(out.read_text())
    assert set(res['metrics']) >= {'bg/sketch/L1', 'mouth/sketch/L1'}
    assert len(res['checkpoint_sha256']) == 64


def test_kill_9_then_resume_auto_reaches_the_configured_end(tiny_synthetic_h5, tmp_path):
    work = tmp_path / 'work'
    kill_9_once_written(['tools/train.py', CONFIG, '--work-dir', str(work),
                         *tiny_options(tiny_synthetic_h5, 16, 2)], work / 'iter_4.pth')
    assert not (work / 'iter_16.pth').exists()
    done = run_tool(['tools/train.py', CONFIG, '--work-dir', str(work), '--resume',
                     *tiny_options(tiny_synthetic_h5, 16, 2)])
    log = done.stdout + done.stderr
    assert 'Auto resumed from the latest good checkpoint' in log
    assert (work / 'iter_16.pth').is_file()
    from facedisentangle.engine.checkpoint import safe_load_checkpoint
    assert safe_load_checkpoint(work / 'iter_16.pth')['meta']['iter'] == 16


def test_resume_from_explicit_path_without_weights_only_error(tiny_synthetic_h5, tmp_path):
    work = tmp_path / 'work'
    run_tool(['tools/train.py', CONFIG, '--work-dir', str(work),
              *tiny_options(tiny_synthetic_h5, 2, 2)])
    done = run_tool(['tools/train.py', CONFIG, '--work-dir', str(work), '--resume',
                     str(work / 'iter_2.pth'), *tiny_options(tiny_synthetic_h5, 4, 2)])
    assert 'Weights only load failed' not in done.stdout + done.stderr
    assert (work / 'iter_4.pth').is_file()


def test_two_cpu_processes_with_torchrun(tiny_synthetic_h5, tmp_path):
    if torch.cuda.is_available():
        pytest.skip('this test checks the CPU (gloo) path')
    work = tmp_path / 'work'
    run_tool(['-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29533',
              'tools/train.py', CONFIG, '--work-dir', str(work), '--launcher', 'pytorch',
              *tiny_options(tiny_synthetic_h5, 4, 2)])
    assert (work / 'iter_4.pth').is_file()
    rows = scalars(work)
    assert any('eye1/sketch/L1' in r for r in rows)
