"""tools/edit.py and FaceEditor on a user's files: inputs are never overwritten, a folder run
keeps every usable image, --align cuts in-the-wild photos with the preparation's FaceAligner,
each resize warning is logged once, the converted-weights cache (refused checkpoints, size
report, cleanup), and the model shipped in the package as the default."""
from __future__ import annotations

import importlib.util
import logging

import cv2
import numpy as np
import pytest
import torch
from inference_helpers import random_face, tiny_model, write_tiny_export
from PIL import Image
from skimage import data

from facedisentangle.apis import FaceEditor, NoFaceError
from facedisentangle.inference import CheckpointKindError
from facedisentangle.inference.converted_cache import cache_entries, clear_cache

torch.set_num_threads(1)
HAVE_DLIB = (importlib.util.find_spec('dlib') is not None
             and importlib.util.find_spec('face_recognition_models') is not None)
needs_dlib = pytest.mark.skipif(
    not HAVE_DLIB, reason='dlib / face-recognition-models not installed (pip install -e .[align])')


def load_tool(name):
    return importlib.import_module(f'facedisentangle.cli.{name}')


edit = load_tool('edit')


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('safety')
    model = write_tiny_export(root / 'model.pth', seed=3)
    photos = root / 'photos'
    photos.mkdir()
    for i, name in enumerate(['ann', 'bob', 'cid', 'dan']):
        Image.fromarray(random_face(30 + i)).save(photos / f'{name}.png')
    return dict(root=root, model=model, photos=photos, a=photos / 'ann.png',
                b=photos / 'bob.png')


def run(*args):
    return edit.main([str(a) for a in args])


def one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('edit.py: error:'), err
    return err[0]


# ------------------------------------------------------------------ never overwrite an input
def test_an_output_equal_to_an_input_is_refused(files, tmp_path, capsys):
    a = tmp_path / 'a.png'
    a.write_bytes(files['a'].read_bytes())
    before = a.read_bytes()
    capsys.readouterr()
    assert run('reconstruct', '-c', files['model'], '--input', a, '-o', a) == 2
    line = one_error_line(capsys)
    assert 'would overwrite the input' in line and str(a) in line and '--overwrite' in line
    assert a.read_bytes() == before
    # the grid of a swap would land on an input: refused as well
    grid_victim = tmp_path / 'x_grid.png'
    grid_victim.write_bytes(before)
    assert run('swap', '-c', files['model'], '--geometry', a, '--appearance', grid_victim,
               '-o', tmp_path / 'x.png', '--grid') == 2
    assert 'x_grid.png' in one_error_line(capsys) and grid_victim.read_bytes() == before
    # explicitly allowed
    assert run('reconstruct', '-c', files['model'], '--input', a, '-o', a,
               '--overwrite') == 0
    assert a.read_bytes() != before


def test_a_folder_run_into_its_input_folder_is_refused(files, tmp_path, capsys):
    photos = tmp_path / 'photos'
    photos.mkdir()
    for p in files['photos'].iterdir():
        (photos / p.name).write_bytes(p.read_bytes())
    names = sorted(p.name for p in photos.iterdir())
    capsys.readouterr()
    # swap writes ann__bob.png etc.: no name clash, but the results would join the inputs
    assert run('swap', '-c', files['model'], '--geometry', photos, '--appearance', files['b'],
               '-o', photos) == 2
    assert 'is the input folder' in one_error_line(capsys)
    assert sorted(p.name for p in photos.iterdir()) == names


# ------------------------------------------------------------------ folder runs
def test_a_truncated_image_is_listed_after_every_good_one_is_written(files, tmp_path, capsys):
    photos = tmp_path / 'photos'
    photos.mkdir()
    for p in files['photos'].iterdir():
        (photos / p.name).write_bytes(p.read_bytes())
    whole = (photos / 'bob.png').read_bytes()
    (photos / 'bob.png').write_bytes(whole[:len(whole) // 2])  # truncated
    out = tmp_path / 'out'
    capsys.readouterr()
    # batches of 2: bob spoils the first batch, whose other image is still edited
    assert run('reconstruct', '-c', files['model'], '--input', photos, '-o', out,
               '--batch-size', '2', '--grid') == 1
    captured = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == [
        'ann.png', 'ann_grid.png', 'cid.png', 'cid_grid.png', 'dan.png', 'dan_grid.png']
    err = captured.err.strip().splitlines()
    assert err[0] == 'edit.py: 1 of 4 input(s) could not be used:'
    assert len(err) == 2 and 'bob.png' in err[1] and 'truncated' in err[1], err
    assert 'wrote 6 file(s)' in captured.out
    # the same edits as a clean run (ann was edited alone: batching may move the last bit,
    # at most one grey level, docs/editing.md)
    clean = tmp_path / 'clean'
    assert run('reconstruct', '-c', files['model'], '--input', files['photos'], '-o',
               clean, '--batch-size', '2') == 0
    for name in ('ann.png', 'cid.png', 'dan.png'):
        a = np.asarray(Image.open(out / name)).astype(int)
        b = np.asarray(Image.open(clean / name)).astype(int)
        assert np.abs(a - b).max() <= 1, name


def test_a_bad_file_shared_by_a_folder_run_stops_at_once(files, tmp_path, capsys):
    bad = tmp_path / 'app.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\nnot really')
    capsys.readouterr()
    assert run('swap', '-c', files['model'], '--geometry', files['photos'], '--appearance',
               bad, '-o', tmp_path / 'out') == 2
    assert 'app.png' in one_error_line(capsys)
    assert not (tmp_path / 'out').exists()


# ------------------------------------------------------------------ resize warnings
def test_each_resize_warning_is_logged_once(files, tmp_path, caplog):
    wide = tmp_path / 'wide.png'
    Image.fromarray(cv2.resize(random_face(5), (100, 80))).save(wide)
    with caplog.at_level(logging.WARNING, logger='facedisentangle.inference'):
        assert run('reconstruct', '-c', files['model'], '--input', wide, '-o',
                   tmp_path / 'r.png', '--grid') == 0
        assert run('swap', '-c', files['model'], '--geometry', wide, '--appearance',
                   files['a'], '-o', tmp_path / 's.png', '--grid') == 0
    msgs = [r.getMessage() for r in caplog.records if 'wide.png is 100x80' in r.getMessage()]
    assert len(msgs) == 2, msgs  # once per command (each loads its own editor)
    assert 'not square: stretched' in msgs[0] and '--align' in msgs[0]


# ------------------------------------------------------------------ --align
@needs_dlib
def test_align_without_a_face_names_the_file(files, tmp_path, capsys):
    plain = tmp_path / 'no_face.png'
    Image.fromarray(np.full((90, 120, 3), 200, np.uint8)).save(plain)
    capsys.readouterr()
    assert run('reconstruct', '-c', files['model'], '--input', plain, '-o',
               tmp_path / 'o.png', '--align') == 2
    line = one_error_line(capsys)
    assert str(plain) in line and 'no usable face' in line
    editor = FaceEditor.from_checkpoint(files['model'], precision='float32', align=True)
    with pytest.raises(NoFaceError, match='no_face.png'):
        editor.swap(plain, files['a'])
    # a folder run lists it and keeps going
    folder = tmp_path / 'mixed'
    folder.mkdir()
    Image.fromarray(data.astronaut()).save(folder / 'astronaut.png')
    Image.fromarray(data.chelsea()).save(folder / 'cat.png')
    capsys.readouterr()
    assert run('reconstruct', '-c', files['model'], '--input', folder, '-o', tmp_path / 'out',
               '--align') == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and 'cat.png' in err[1] and 'no usable face' in err[1], err
    assert [p.name for p in (tmp_path / 'out').iterdir()] == ['astronaut.png']


@needs_dlib
def test_align_cuts_a_non_square_photo_like_prepare_data(files, tmp_path, caplog):
    from facedisentangle.data_prep.alignment import FaceAligner

    photo = data.astronaut()[:, 40:460]  # 512 x 420, not square
    path = tmp_path / 'astronaut.png'
    Image.fromarray(photo).save(path)
    editor = FaceEditor.from_checkpoint(files['model'], precision='float32', align=True)
    with caplog.at_level(logging.WARNING, logger='facedisentangle.inference'):
        seen = editor.prepare(path)
        out = editor.reconstruct(path)
    assert not [r for r in caplog.records if 'resized' in r.getMessage()]  # never stretched
    expected = FaceAligner(size=64, layout=editor.model.layout).align(photo).image
    np.testing.assert_array_equal(seen, expected)
    assert out.shape == (64, 64, 3)
    plain = FaceEditor.from_checkpoint(files['model'], precision='float32')
    np.testing.assert_array_equal(out, plain.reconstruct(expected))  # = the aligned photo
    # sketches are never aligned
    sketch = tmp_path / 'sketch.png'
    Image.fromarray(random_face(7).min(axis=2)).save(sketch)
    assert editor.sketch_to_face(sketch, path).shape == (64, 64, 3)


# ------------------------------------------------------------------ the conversion cache
@pytest.mark.parametrize('case', ['no_whole_face', 'encoder_stride'])
def test_a_refused_checkpoint_leaves_no_cache_file(tmp_path, case):
    if case == 'no_whole_face':
        cfg = tiny_model(components=['eye1', 'eye2', 'nose', 'mouth'])
        match = 'whole-face'
    else:  # 3 down-samplings: stride 8 does not divide the 20 px nose box of the 64 px layout
        cfg = tiny_model(image_encoder=dict(type='ImageGeometryEncoder', ngf=4,
                                            n_downsampling=3, n_blocks=1))
        match = 'not divisible'
    model = write_tiny_export(tmp_path / 'bad.pth', model_cfg=cfg)
    cache = tmp_path / 'cache'
    with pytest.raises((CheckpointKindError, ValueError), match=match):
        FaceEditor.from_checkpoint(model, convert_cache=cache)
    assert not cache.exists() or not list(cache.iterdir())


def test_cache_size_report_and_cleanup(files, tmp_path, capsys):
    cache = tmp_path / 'cache'
    FaceEditor.from_checkpoint(files['model'], convert_cache=cache)  # float32 -> bf16 copy
    entries = cache_entries(cache)
    assert len(entries) == 1 and entries[0][1] == entries[0][0].stat().st_size > 0
    (cache / 'notes.txt').write_text('not ours')
    capsys.readouterr()
    assert run('cache', '--dir', cache) == 0
    out = capsys.readouterr().out
    assert '1 converted file(s)' in out and entries[0][0].name in out and 'notes.txt' not in out
    assert run('cache', '--clear', '--dir', cache) == 0
    assert 'removed 1 converted file(s)' in capsys.readouterr().out
    assert [p.name for p in cache.iterdir()] == ['notes.txt']  # only its own files
    assert clear_cache(cache) == (0, 0)


# ------------------------------------------------------------------ the shipped model
def test_default_model_is_the_shipped_one(files, tmp_path, capsys, monkeypatch):
    import facedisentangle.model_zoo as zoo

    missing = tmp_path / 'zoo'
    monkeypatch.setattr(zoo, 'HERE', str(missing))
    capsys.readouterr()
    assert run('reconstruct', '--input', files['a'], '-o', tmp_path / 'o.png') == 2
    line = one_error_line(capsys)
    assert 'shipped model file' in line and str(missing) in line
    with pytest.raises(FileNotFoundError, match='shipped model file'):
        FaceEditor.from_pretrained()
    with pytest.raises(KeyError, match='unknown shipped model'):
        FaceEditor.from_pretrained('nonesuch')
    missing.mkdir()
    (missing / zoo.MODELS['synthetic-128']).write_bytes(files['model'].read_bytes())
    assert run('reconstruct', '--input', files['a'], '-o', tmp_path / 'o.png') == 0
    editor = FaceEditor.from_pretrained(precision='float32')
    np.testing.assert_array_equal(
        editor.reconstruct(files['a']),
        FaceEditor.from_checkpoint(files['model'], precision='float32').reconstruct(files['a']))
