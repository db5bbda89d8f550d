"""Photo folder -> HDF5: bad files skipped and listed, conversions, resume, CLI."""
import importlib.util
import io
import json
import os
import runpy
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
from conftest import REPO
from PIL import Image
from rich.console import Console
from skimage import data

from facedisentangle.data_prep import PrepareOptions, find_sources, prepare_dataset, split_of
from facedisentangle.data_prep.image_io import decode_image
from facedisentangle.data_prep.report import print_summary
from facedisentangle.data_prep.skip_log import SkipLog, skip_log_path
from facedisentangle.datasets import read_h5_info

SIZE = 64
OPTS = dict(size=SIZE, min_size=32, chunk_flush=2)

GOOD = ['good_a', 'good_b', 'people/good_c', 'wide']
CONVERTIBLE = {'gray': 'grayscale -> RGB', 'rgba': 'alpha composited on white',
               'cmyk': 'CMYK -> RGB', 'deep16': '16-bit -> 8-bit'}
BAD = {'random_bytes': 'not an image', 'truncated_jpg': 'corrupt', 'truncated_png': 'corrupt',
       'notes': 'not an image', 'tiny': 'too small', 'empty': 'not an image'}


def _jpeg(img, **kw):
    b = io.BytesIO()
    Image.fromarray(img).save(b, 'JPEG', quality=92, **kw)
    return b.getvalue()


def _png(img):
    b = io.BytesIO()
    Image.fromarray(img).save(b, 'PNG')
    return b.getvalue()


@pytest.fixture(scope='module')
def base_img():
    return cv2.resize(data.astronaut(), (96, 96), interpolation=cv2.INTER_AREA)


def make_photos(root: Path, img: np.ndarray) -> Path:
    """Good photos, convertible ones and every kind of bad file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / 'people').mkdir(exist_ok=True)
    (root / 'good_a.jpg').write_bytes(_jpeg(img))
    (root / 'good_b.png').write_bytes(_png(np.ascontiguousarray(img[:, ::-1])))
    (root / 'people' / 'good_c.jpg').write_bytes(_jpeg(np.ascontiguousarray(img[::-1])))
    (root / 'wide.png').write_bytes(_png(cv2.resize(img, (128, 80))))          # not square
    (root / 'gray.png').write_bytes(_png(img[..., 1]))
    rgba = np.dstack([img, np.where(np.arange(96)[None, :] < 48, 255, 0).astype(np.uint8)
                      .repeat(96, 0)])
    (root / 'rgba.png').write_bytes(_png(rgba))
    b = io.BytesIO()
    Image.fromarray(img).convert('CMYK').save(b, 'JPEG', quality=95)
    (root / 'cmyk.jpg').write_bytes(b.getvalue())
    cv2.imwrite(str(root / 'deep16.png'), img[..., ::-1].astype(np.uint16) * 257)
    (root / 'random_bytes.jpg').write_bytes(np.random.default_rng(0).integers(
        0, 256, 4000, dtype=np.uint8).tobytes())
    jpg = _jpeg(img)
    (root / 'truncated_jpg.jpg').write_bytes(jpg[:len(jpg) // 2])
    png = _png(img)
    (root / 'truncated_png.png').write_bytes(png[:len(png) // 2])
    (root / 'notes.jpg').write_text('these are my notes, not a photo\n')
    (root / 'tiny.png').write_bytes(_png(img[:8, :8]))
    (root / 'empty.png').write_bytes(b'')
    (root / 'README.txt').write_text('ignored: no image extension\n')
    return root


@pytest.fixture
def photos(tmp_path, base_img):
    return make_photos(tmp_path / 'photos', base_img)


def h5_names(path):
    with h5py.File(path, 'r') as f:
        n = int(f.attrs['num_samples'])
        return list(f['names'].asstr()[:n])


def test_prepare_writes_good_and_converted_skips_bad(photos, tmp_path, base_img):
    out = tmp_path / 'out' / 'faces.h5'
    s = prepare_dataset(photos, out, progress=False, **OPTS)
    assert s.complete and not s.interrupted
    names = h5_names(out)
    assert sorted(names) == sorted(GOOD + list(CONVERTIBLE))
    assert s.found == len(GOOD) + len(CONVERTIBLE) + len(BAD) and s.ignored_files == 1
    assert s.written == len(names)
    skipped = {x.name: x.reason for x in s.skipped}
    assert set(skipped) == set(BAD)
    for name, cat in BAD.items():
        assert skipped[name].startswith(cat + ':'), (name, skipped[name])
    for name, note in CONVERTIBLE.items():
        assert s.converted[note] >= 1, (name, s.converted)
    assert s.converted['centre-cropped to a square'] == 1

    info = read_h5_info(out)
    assert info['complete'] and info['resolution'] == SIZE and info['layout']['resolution'] == SIZE
    with h5py.File(out, 'r') as f:
        split_names = json.loads(f.attrs['split_names'])
        photos_ = {n: f['photos'][i] for i, n in enumerate(f['names'].asstr()[:])}
        sketches = {n: f['sketches'][i] for i, n in enumerate(f['names'].asstr()[:])}
        splits = {n: split_names[k] for n, k in zip(f['names'].asstr()[:], f['split'][:])}
    for n in names:
        assert photos_[n].shape == (SIZE, SIZE, 3) and sketches[n].shape == (SIZE, SIZE)
        assert splits[n] == split_of(n, 0, (0.9, 0.05, 0.05))
        assert (sketches[n] == 255).mean() > 0.5                     # a drawing on white
    # conversions: grayscale has equal channels; RGBA's transparent half is white;
    # 16-bit equals the 8-bit photo it was made from
    g = photos_['gray'].astype(int)
    assert (g[..., 0] == g[..., 1]).all() and (g[..., 1] == g[..., 2]).all()
    assert photos_['rgba'][:, SIZE // 2 + 2:].min() == 255
    ref = cv2.resize(base_img, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(photos_['deep16'], ref)
    assert np.abs(photos_['cmyk'].astype(int) - ref).mean() < 6

    # the skip log lists every bad file with its reason
    log = SkipLog(skip_log_path(out)).read()
    assert {name for name, _ in log.values()} == set(BAD)
    assert all(os.path.isabs(p) for p in log)

    # the summary names each bad file with its reason
    console = Console(record=True, width=240)
    print_summary(s, console)
    text = console.export_text()
    for name in BAD:
        assert name in text
        assert skipped[name][:40] in text
    assert 'file complete' in text and 'images/s' in text


class Stop(Exception):
    pass


def test_resume_after_interruption_does_not_redo_work(photos, tmp_path):
    out = tmp_path / 'faces.h5'
    seen = []

    def stop_after_five(res):
        seen.append(res.name)
        if len(seen) == 5:
            raise Stop

    with pytest.raises(Stop):
        prepare_dataset(photos, out, progress=False, on_result=stop_after_five, **OPTS)
    info = read_h5_info(out)
    assert not info['complete']
    first_written = h5_names(out)
    first_skipped = {n for n, _ in SkipLog(skip_log_path(out)).read().values()}
    assert set(first_written) | first_skipped == set(seen)   # everything handled was kept

    s = prepare_dataset(photos, out, progress=False, **OPTS)
    assert not set(s.processed) & set(seen)                  # nothing processed twice
    assert s.already_written == len(first_written)
    assert s.complete and read_h5_info(out)['complete']
    assert sorted(h5_names(out)) == sorted(GOOD + list(CONVERTIBLE))
    assert {x.name for x in s.skipped} == set(BAD)
    assert {x.name for x in s.skipped_earlier} == first_skipped

    again = prepare_dataset(photos, out, progress=False, **OPTS)
    assert again.processed == [] and again.written == 0 and again.complete


def test_ctrl_c_returns_an_incomplete_summary(photos, tmp_path):
    out = tmp_path / 'faces.h5'
    n = []

    def ctrl_c_after_three(res):
        n.append(res.name)
        if len(n) == 3:
            raise KeyboardInterrupt

    s = prepare_dataset(photos, out, progress=False, on_result=ctrl_c_after_three, **OPTS)
    assert s.interrupted and not s.complete and s.processed == n
    assert s.num_samples == s.written                     # the buffered rows were flushed
    s = prepare_dataset(photos, out, progress=False, **OPTS)
    assert s.complete and not set(s.processed) & set(n)


def test_resume_after_a_hard_kill(photos, tmp_path):
    """os._exit in the middle of a run (no flush, no cleanup), then the same run again."""
    out = tmp_path / 'faces.h5'
    code = (
        'import os, sys\n'
        'from facedisentangle.data_prep import prepare_dataset\n'
        'n = []\n'
        'def hook(res):\n'
        '    n.append(res.name)\n'
        '    if len(n) == 7:\n'
        '        print("KILLED_AFTER", ",".join(n), flush=True)\n'
        '        os._exit(3)\n'
        f'prepare_dataset({str(photos)!r}, {str(out)!r}, progress=False, size={SIZE}, '
        'min_size=32, chunk_flush=3, on_result=hook)\n')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                       timeout=120, cwd=REPO)
    assert r.returncode == 3, r.stderr
    handled = r.stdout.split('KILLED_AFTER ')[1].split()[0].split(',')
    flushed = h5_names(out)                      # what survived the kill
    logged = {n for n, _ in SkipLog(skip_log_path(out)).read().values()}
    assert set(flushed) <= set(handled) and len(flushed) % 3 == 0
    assert logged <= set(handled)

    s = prepare_dataset(photos, out, progress=False, **OPTS)
    assert not set(s.processed) & (set(flushed) | logged)
    assert set(handled) - set(flushed) - logged <= set(s.processed)   # unflushed: redone
    assert s.complete
    assert sorted(h5_names(out)) == sorted(GOOD + list(CONVERTIBLE))


def test_workers_give_the_same_file(photos, tmp_path):
    """Worker processes write what the main process writes, and do not hang when the parent
    has already used OpenCV's thread pool (a plain fork inherits it without its threads)."""
    a, b = tmp_path / 'a.h5', tmp_path / 'b.h5'
    prepare_dataset(photos, a, progress=False, workers=0, **OPTS)
    code = (
        'import cv2, numpy as np\n'
        'cv2.setNumThreads(2)\n'
        'for _ in range(5):\n'
        '    cv2.GaussianBlur(np.zeros((2000, 2000), np.float32), (0, 0), 5)\n'
        'from facedisentangle.data_prep import prepare_dataset\n'
        f's = prepare_dataset({str(photos)!r}, {str(b)!r}, progress=False, workers=2, '
        f'size={SIZE}, min_size=32, chunk_flush=2)\n'
        'assert s.complete\n')
    proc = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)             # the run and its hung workers
        proc.communicate()
        pytest.fail('prepare_dataset with workers hung (forked OpenCV thread pool?)')
    assert proc.returncode == 0, err
    with h5py.File(a, 'r') as fa, h5py.File(b, 'r') as fb:
        assert list(fa['names'].asstr()[:]) == list(fb['names'].asstr()[:])
        np.testing.assert_array_equal(fa['photos'][:], fb['photos'][:])
        np.testing.assert_array_equal(fa['sketches'][:], fb['sketches'][:])
        np.testing.assert_array_equal(fa['split'][:], fb['split'][:])


def test_retry_skipped_and_settings_check(photos, tmp_path, base_img):
    out = tmp_path / 'faces.h5'
    prepare_dataset(photos, out, progress=False, **OPTS)
    (photos / 'tiny.png').write_bytes(_png(base_img))             # the user fixes a file
    s = prepare_dataset(photos, out, progress=False, **OPTS)
    assert s.processed == []                                      # skips are not retried
    s = prepare_dataset(photos, out, progress=False, retry_skipped=True, **OPTS)
    assert sorted(s.processed) == sorted(BAD)
    assert 'tiny' in h5_names(out) and s.complete
    assert 'tiny' not in {n for n, _ in SkipLog(skip_log_path(out)).read().values()}

    with pytest.raises(ValueError, match=r'sketch\.sigma'):
        prepare_dataset(photos, out, progress=False, sketch_config=dict(sigma=2.0), **OPTS)
    with pytest.raises(ValueError, match='split'):
        prepare_dataset(photos, out, progress=False, seed=1, **OPTS)
    with pytest.raises(ValueError, match='sum to 1'):
        PrepareOptions(split=(0.9, 0.2, 0.0))


def test_duplicate_names_are_skipped_and_listed(tmp_path, base_img):
    src = tmp_path / 'dup'
    src.mkdir()
    (src / 'face.jpg').write_bytes(_jpeg(base_img))
    (src / 'face.png').write_bytes(_png(base_img))
    s = prepare_dataset(src, tmp_path / 'd.h5', progress=False, **OPTS)
    assert h5_names(tmp_path / 'd.h5') == ['face']
    assert [x.reason.split(':')[0] for x in s.skipped] == ['duplicate name']
    assert s.complete


def test_dataset_layouts(tmp_path, base_img):
    ffhq = tmp_path / 'ffhq' / 'images1024x1024'
    for i in (0, 1, 1000):
        d = ffhq / f'{i // 1000 * 1000:05d}'
        d.mkdir(parents=True, exist_ok=True)
        (d / f'{i:05d}.png').write_bytes(_png(base_img))
    assert [x.name for x in find_sources(tmp_path / 'ffhq', 'ffhq').images] == \
        ['00000', '00001', '01000']
    assert len(find_sources(ffhq, 'ffhq').images) == 3
    celeba = tmp_path / 'CelebAMask-HQ' / 'CelebA-HQ-img'
    celeba.mkdir(parents=True)
    for i in (0, 1, 2, 10):
        (celeba / f'{i}.jpg').write_bytes(_jpeg(base_img))
    assert [x.name for x in find_sources(celeba.parent, 'celebamask-hq').images] == \
        ['0', '1', '2', '10']
    with pytest.raises(FileNotFoundError, match='images1024x1024'):
        find_sources(celeba.parent, 'ffhq')
    s = prepare_dataset(tmp_path / 'ffhq', tmp_path / 'f.h5', progress=False,
                        source_layout='ffhq', **OPTS)
    assert s.complete and sorted(h5_names(tmp_path / 'f.h5')) == ['00000', '00001', '01000']
    # the converter presets are prepare_data.py with --layout set
    argv = sys.argv
    try:
        sys.argv = ['celebamask_hq.py', str(celeba.parent), '--out', str(tmp_path / 'c.h5'),
                    '--size', str(SIZE), '--min-size', '32', '--workers', '0', '--no-progress']
        with pytest.raises(SystemExit) as e:
            runpy.run_path(str(REPO / 'tools' / 'dataset_converters' / 'celebamask_hq.py'),
                           run_name='__main__')
        assert e.value.code == 0
    finally:
        sys.argv = argv
    assert h5_names(tmp_path / 'c.h5') == ['0', '1', '2', '10']


def test_split_is_seeded_and_follows_the_fractions():
    names = [f'{i:05d}' for i in range(4000)]
    a = [split_of(n, 0, (0.8, 0.1, 0.1)) for n in names]
    assert a == [split_of(n, 0, (0.8, 0.1, 0.1)) for n in reversed(names)][::-1]
    assert a != [split_of(n, 1, (0.8, 0.1, 0.1)) for n in names]
    counts = {k: a.count(k) for k in ('train', 'val', 'test')}
    assert abs(counts['train'] - 3200) < 120 and abs(counts['val'] - 400) < 80
    assert {split_of(n, 0, (1.0, 0.0, 0.0)) for n in names} == {'train'}


def test_decode_reports_conversions_and_applies_exif_orientation(base_img):
    img, notes = decode_image(_png(np.dstack([base_img, np.full((96, 96), 255, np.uint8)])),
                              alpha='drop')
    assert notes == ['alpha dropped']
    np.testing.assert_array_equal(img, base_img)
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :10] = 255                                   # white on the left
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6                                  # orientation: rotate 90 degrees CW
    b = io.BytesIO()
    im.save(b, 'PNG', exif=exif.tobytes())
    img, _ = decode_image(b.getvalue())
    assert img.shape == (40, 20, 3)                   # white now on top
    assert img[:8].min() == 255 and img[-8:].max() == 0


@pytest.mark.skipif(importlib.util.find_spec('dlib') is None,
                    reason='dlib not installed (pip install -e .[align])')
def test_align_skips_photos_without_a_face(tmp_path):
    src = tmp_path / 'wild'
    src.mkdir()
    (src / 'astronaut.png').write_bytes(_png(cv2.resize(data.astronaut(), (320, 320))))
    (src / 'cat.jpg').write_bytes(_jpeg(data.chelsea()))
    s = prepare_dataset(src, tmp_path / 'w.h5', progress=False, align=True, **OPTS)
    assert h5_names(tmp_path / 'w.h5') == ['astronaut']
    assert [(x.name, x.reason.split(':')[0]) for x in s.skipped] == [('cat', 'no face')]


def _load_cli():
    from facedisentangle.cli import prepare_data

    return prepare_data


def test_cli(photos, tmp_path, capsys):
    out = tmp_path / 'cli.h5'
    args = [str(photos), '--out', str(out), '--size', str(SIZE), '--min-size', '32',
            '--workers', '0', '--no-progress']
    env = dict(os.environ, COLUMNS='200')
    r = subprocess.run([sys.executable, str(REPO / 'tools' / 'prepare_data.py'), *args],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in BAD:
        assert name in r.stdout
    assert 'too small: 8x8 px' in r.stdout and 'file complete' in r.stdout
    assert sorted(h5_names(out)) == sorted(GOOD + list(CONVERTIBLE))

    cli = _load_cli()                                  # the same main(), in this process
    assert cli.main(args) == 0
    assert 'already in the file (earlier runs)' in capsys.readouterr().out
    assert cli.main(args + ['--sketch-config', '{"sigmaa": 1}']) == 1
    assert 'sigmaa' in capsys.readouterr().out
    cfg = tmp_path / 'sketch.json'
    cfg.write_text(json.dumps({'sketch': {'sigma': 1.5}}))
    assert cli.load_options(str(cfg), '--sketch-config', 'sketch') == {'sigma': 1.5}
