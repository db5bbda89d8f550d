"""tools/edit.py and tools/export.py: every subcommand on a tiny model, folders, grids, and the
one-line errors with exit code 2."""
from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import REPO
from inference_helpers import random_face, write_stage_checkpoint
from PIL import Image

torch.set_num_threads(1)


def load_tool(name):
    return importlib.import_module(f'facedisentangle.cli.{name}')


edit = load_tool('edit')
export_tool = load_tool('export')


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('cli')
    stage2 = write_stage_checkpoint(root / 'work' / 'stage2' / 'iter_10.pth', stage=2, seed=2)
    stage4 = write_stage_checkpoint(root / 'work' / 'stage4' / 'iter_10.pth', stage=4, seed=4)
    (root / 'work' / 'stage4' / 'last_checkpoint').write_text(str(stage4))
    model = root / 'model.pth'
    assert export_tool.main(['--src', str(stage2), str(stage4), '--out', str(model)]) == 0
    photos, sketches = root / 'photos', root / 'sketches'
    photos.mkdir()
    sketches.mkdir()
    for i, name in enumerate(['ann', 'bob', 'cid']):
        Image.fromarray(random_face(10 + i)).save(photos / f'{name}.png')
        Image.fromarray(random_face(20 + i).min(axis=2)).save(sketches / f'{name}.png')
    return dict(root=root, model=model, stage2=stage2, stage4=stage4, photos=photos,
                sketches=sketches, a=photos / 'ann.png', b=photos / 'bob.png')


def run(*args):
    return edit.main([str(a) for a in args])


def read(path):
    return np.asarray(Image.open(path))


def test_export_tool_writes_a_weights_only_file(files, tmp_path, capsys):
    obj = torch.load(files['model'], weights_only=True)
    assert 'sketch_decoders.eye1' in obj['networks'] and 'fusion_generator' in obj['networks']
    assert export_tool.main(['--src', str(files['root'] / 'work'), '--out',
                             str(tmp_path / 'w.pth')]) == 0  # a work directory
    assert 'fusion_generator' in torch.load(tmp_path / 'w.pth', weights_only=True)['networks']
    capsys.readouterr()
    assert export_tool.main(['--src', str(tmp_path / 'none.pth'), '--out',
                             str(tmp_path / 'x.pth')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'none.pth' in err[0] and err[0].startswith('export.py: error:')


def test_swap_single_file_with_grid(files, tmp_path):
    out = tmp_path / 'swap.png'
    assert run('swap', '-c', files['model'], '--geometry', files['a'], '--appearance',
               files['b'], '-o', out, '--grid', '--precision', 'float32') == 0
    img = read(out)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    grid = read(tmp_path / 'swap_grid.png')
    assert grid.shape == (64, 3 * 64, 3)
    np.testing.assert_array_equal(grid[:, :64], read(files['a']))
    np.testing.assert_array_equal(grid[:, 128:], img)


def test_folders_pair_by_name_and_broadcast_files(files, tmp_path):
    out = tmp_path / 'sk'
    assert run('sketch2face', '-c', files['model'], '--sketch', files['sketches'],
               '--appearance', files['photos'], '-o', out, '--batch-size', '2') == 0
    assert sorted(p.name for p in out.iterdir()) == ['ann__ann.png', 'bob__bob.png',
                                                     'cid__cid.png']
    out2 = tmp_path / 'sw'
    assert run('swap', '-c', files['model'], '--geometry', files['photos'], '--appearance',
               files['b'], '-o', out2) == 0
    assert sorted(p.name for p in out2.iterdir()) == ['ann__bob.png', 'bob__bob.png',
                                                      'cid__bob.png']


def test_mix_interpolate_reconstruct_to_sketch(files, tmp_path):
    assert run('mix', '-c', files['model'], '--base', files['photos'], '--part', 'eye1',
               files['a'], files['b'], '--part', 'mouth', files['b'], files['b'],
               '-o', tmp_path / 'mix', '--grid') == 0
    assert len(list((tmp_path / 'mix').glob('*__mix.png'))) == 3
    assert read(tmp_path / 'mix' / 'ann__mix_grid.png').shape == (64, 6 * 64, 3)
    assert run('interpolate', '-c', files['model'], '--a', files['a'], '--b', files['b'],
               '--steps', '3', '--what', 'geometry', '-o', tmp_path / 'int', '--grid') == 0
    assert sorted(p.name for p in (tmp_path / 'int').iterdir()) == [
        'ann__bob_00.png', 'ann__bob_01.png', 'ann__bob_02.png', 'ann__bob_grid.png']
    assert read(tmp_path / 'int' / 'ann__bob_grid.png').shape == (64, 5 * 64, 3)
    assert run('reconstruct', '-c', files['model'], '--input', files['photos'],
               '-o', tmp_path / 'rec') == 0
    assert len(list((tmp_path / 'rec').iterdir())) == 3
    assert run('to-sketch', '-c', files['model'], '--input', files['a'],
               '-o', tmp_path / 'sketch.png') == 0
    assert read(tmp_path / 'sketch.png').shape == (64, 64, 3)


@pytest.mark.parametrize('case', ['missing', 'unreadable', 'wrong_checkpoint',
                                  'stage1_checkpoint', 'unsupported'])
def test_errors_are_one_line_with_exit_code_2(files, tmp_path, capsys, case):
    model, a = files['model'], files['a']
    if case == 'missing':
        args, name = ['swap', '-c', model, '--geometry', tmp_path / 'nobody.png',
                      '--appearance', a], 'nobody.png'
    elif case == 'unreadable':
        bad = tmp_path / 'broken.png'
        bad.write_bytes(b'\x89PNG\r\n\x1a\nnot really')
        args, name = ['reconstruct', '-c', model, '--input', bad], 'broken.png'
    elif case == 'wrong_checkpoint':
        bad = tmp_path / 'notes.pth'
        bad.write_text('hello')
        args, name = ['swap', '-c', bad, '--geometry', a, '--appearance', a], 'notes.pth'
    elif case == 'stage1_checkpoint':
        s1 = write_stage_checkpoint(tmp_path / 'stage1.pth', stage=1)
        args, name = ['swap', '-c', s1, '--geometry', a, '--appearance', a], 'stage1.pth'
    else:
        args, name = ['to-sketch', '-c', files['stage4'], '--input', a], 'to_sketch needs'
    capsys.readouterr()
    assert run(*args, '-o', tmp_path / 'out.png') == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('edit.py: error:') and name in err[0], err


def test_exit_code_2_from_the_shell(files, tmp_path):
    proc = subprocess.run([sys.executable, 'tools/edit.py', 'swap', '-c', str(files['model']),
                           '--geometry', str(tmp_path / 'missing.png'), '--appearance',
                           str(files['a']), '-o', str(tmp_path / 'o.png')],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f'edit.py: error: {tmp_path / "missing.png"}: no such file or directory']
