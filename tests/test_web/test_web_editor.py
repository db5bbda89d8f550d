"""The web editor (tools/web_editor.py): HTTP API, uploads, partial recompute, load, and a real
headless Chromium (Debian's chromium + chromium-driver, driven by selenium).

The browser tests skip, saying why, only when Chromium is not installed outside CI; in CI
(``CI=true``) they fail instead (``tools/ensure_browser.py`` installs it there). The server runs
in this process on a free loopback port, with a tiny 128 px random model.
"""
from __future__ import annotations

import io
import json
import os
import struct
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO
from inference_helpers import random_face, tiny_model, write_tiny_export
from PIL import Image

pytest.importorskip('fastapi', reason="the web editor needs the 'web' extra")
from facedisentangle.apis import FaceEditor  # noqa: E402
from facedisentangle.web.browser import (  # noqa: E402
    find_browser,
    result_pixels,
    settled,
    start_chromium,
    stroke,
    upload,
    wait_for,
)
from facedisentangle.web.server import create_app, serve_in_background  # noqa: E402
from facedisentangle.web.session import ChoiceError, EditSession, parse_choices  # noqa: E402
from facedisentangle.web.uploads import UploadError, decode_upload  # noqa: E402

torch.set_num_threads(1)
RES = 128
IN_CI = os.environ.get('CI', '').lower() in ('1', 'true', 'yes')
needs_browser = pytest.mark.skipif(
    find_browser() is None and not IN_CI,
    reason='Chromium not installed (/usr/bin/chromium, /usr/bin/chromedriver): run '
           'tools/ensure_browser.py (in CI this test fails instead of skipping)')


# ------------------------------------------------------------------------------ helpers
def png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format='PNG')
    return buf.getvalue()


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit grey PNG of any size, a few kB (a decompression bomb)."""
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    z = zlib.compressobj(9)
    row = b'\x00' * (1 + (width + 7) // 8)
    data = b''.join(z.compress(row) for _ in range(height)) + z.flush()
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 1, 0,
                                                              0, 0, 0))
            + chunk(b'IDAT', data) + chunk(b'IEND', b''))


def post(url: str, fields: dict | None = None, files: dict | None = None):
    """multipart POST -> (status, content type, body)."""
    b = uuid.uuid4().hex
    body = b''
    for k, v in (fields or {}).items():
        body += f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for k, (name, data) in (files or {}).items():
        body += (f'--{b}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                 'Content-Type: application/octet-stream\r\n\r\n').encode() + data + b'\r\n'
    body += f'--{b}--\r\n'.encode()
    req = urllib.request.Request(url, data=body, method='POST', headers={
        'Content-Type': f'multipart/form-data; boundary={b}'})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers['content-type'], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers['content-type'], e.read()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert('RGB'))


def box_mask(box, margin: int = 0) -> np.ndarray:
    x, y, s = box
    m = np.zeros((RES, RES), bool)
    m[max(0, y - margin):y + s + margin, max(0, x - margin):x + s + margin] = True
    return m


def assert_local_change(before, after, inside: np.ndarray, margin_mask: np.ndarray):
    """Changed inside the boxes (mean > 8 grey levels), and outside them (beyond the fusion
    network's reach, ``margin_mask``) by less than a quarter of that mean: G_fuse's global
    instance norms move every pixel a little."""
    diff = np.abs(before.astype(int) - after.astype(int)).mean(axis=2)
    inner, outer = diff[inside].mean(), diff[~margin_mask].mean()
    assert inner > 8, f'the boxes did not change (mean {inner:.1f})'
    assert outer < 0.25 * inner, f'outside changed {outer:.1f} vs inside {inner:.1f}'
    return inner, outer


def vm_rss() -> int:
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) << 10
    raise RuntimeError('no VmRSS')


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope='module')
def export(tmp_path_factory):
    return write_tiny_export(tmp_path_factory.mktemp('web') / 'tiny128.pth',
                             model_cfg=tiny_model(layout=dict(resolution=RES)))


@pytest.fixture(scope='module')
def editor(export):
    return FaceEditor.from_checkpoint(export, precision='float32')


EMB = dict(drawing_encoder=dict(channels=[4, 8], latent_dim=8),
           drawing_decoder=dict(channels=[8, 4, 4], latent_dim=8))


def tiny_embedding(resolution=RES, seed=0):
    """A random SketchEmbedding with 8-d vectors (tests/test_inference/test_sketch_refine_edit.py's, at RES)."""
    from facedisentangle.registry import MODELS
    from facedisentangle.utils.setup_env import register_all_modules

    register_all_modules()
    torch.manual_seed(seed)
    return MODELS.build(dict(
        type='SketchEmbedding', layout=dict(resolution=resolution),
        drawing_encoder=dict(type='DrawingEncoder', init_type='xavier', init_gain=1.0,
                             **EMB['drawing_encoder']),
        drawing_decoder=dict(type='DrawingDecoder', init_type='xavier', init_gain=1.0,
                             **EMB['drawing_decoder']))).eval()


def tiny_banks(components, n=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {c: torch.randn(n, 8, generator=g) for c in components}


class CountingRefiner:
    """A SketchRefiner that counts the projections it runs (``calls``)."""

    def __init__(self, refiner):
        self.refiner, self.calls = refiner, 0

    def __getattr__(self, name):
        return getattr(self.refiner, name)

    def refined_sketches(self, *args, **kwargs):
        self.calls += 1
        return self.refiner.refined_sketches(*args, **kwargs)


@pytest.fixture(scope='module')
def proj_editor(export):
    """The same tiny model with a sketch projection model (tiny embedding, random banks, K 5)."""
    from facedisentangle.inference.sketch_refiner import SketchRefiner

    emb = tiny_embedding()
    refiner = CountingRefiner(SketchRefiner(emb, tiny_banks(emb.components), k=5))
    return FaceEditor.from_checkpoint(export, precision='float32', sketch_refiner=refiner)


@pytest.fixture(scope='module')
def proj_url(proj_editor):
    with serve_in_background(create_app(proj_editor, max_sessions=8)) as base:
        yield base


@pytest.fixture(scope='module')
def faces(tmp_path_factory):
    folder = tmp_path_factory.mktemp('faces')
    paths = []
    for i in range(3):
        paths.append(folder / f'face{i}.png')
        Image.fromarray(random_face(10 + i, RES)).save(paths[-1])
    return paths


@pytest.fixture(scope='module')
def url(editor):
    app = create_app(editor, max_sessions=8)
    with serve_in_background(app) as base:
        yield base


@pytest.fixture()
def sid(url):
    status, _, body = post(f'{url}/api/session')
    assert status == 200
    return json.loads(body)['session']


def new_session_with_refs(url, n=2):
    sid = json.loads(post(f'{url}/api/session')[2])['session']
    for i in range(n):
        status, _, body = post(f'{url}/api/{sid}/reference',
                               files={'file': (f'f{i}.png', png_bytes(random_face(10 + i, RES)))})
        assert status == 200, body
    status, kind, sketch = post(f'{url}/api/{sid}/canvas/reference/0')
    assert status == 200 and kind == 'image/png'
    return sid, decode(sketch)


# ------------------------------------------------------------------------------ no browser
def test_uploads_are_capped_and_named():
    good = png_bytes(random_face(1, 64))
    assert decode_upload(good, 'a', RES).shape == (RES, RES, 3)
    cases = {b'hello, not an image': 'not an image',
             good[:len(good) // 2]: 'broken or truncated',
             huge_png(20000, 20000): 'decompression bomb',
             huge_png(5000, 5000): 'refused before decoding',
             b'': 'empty'}
    for data, message in cases.items():
        with pytest.raises(UploadError, match=message):
            decode_upload(data, 'x.png', RES)
    with pytest.raises(UploadError, match='more than the 1 MB upload limit'):
        decode_upload(good + b'\0' * (1 << 20), 'x.png', RES, max_bytes=1 << 20)


def test_choices_are_validated():
    comps = ('bg', 'eye1', 'eye2', 'nose', 'mouth')
    c = parse_choices({'appearance': {'eye1': 1}, 'geometry': {'nose': 0}, 'blend_to': 1,
                       't': 0.5}, comps, 2)
    assert c.appearance == {'bg': 0, 'eye1': 1, 'eye2': 0, 'nose': 0, 'mouth': 0}
    assert c.geometry['nose'] == 0 and c.geometry['bg'] == 'sketch' and c.t == 0.5
    bad = [({'appearance': {'eye1': 2}}, 'not a reference index'),
           ({'appearance': {'ear': 0}}, 'unknown components'),
           ({'geometry': {'bg': '/etc/passwd'}}, 'not a reference index'),
           ({'t': 2}, r'in \[0, 1\]'), ({'blend_to': True}, 'not a reference index'),
           ({'path': 'x'}, 'unknown keys'),
           ({'projection': {'eye1': 0.5}}, 'no sketch projection model.*--sketch-embedding')]
    for raw, message in bad:
        with pytest.raises(ValueError, match=message):
            parse_choices(raw, comps, 2)
    # projection strengths: validated against the components the embedding projects
    details = ('eye1', 'eye2', 'nose', 'mouth')
    c = parse_choices({'projection': {'eye1': 1, 'mouth': 0.25}}, comps, 1, details)
    assert c.projection == {'eye1': 1.0, 'mouth': 0.25}
    assert parse_choices({}, comps, 1, details).projection == {}
    bad = [({'eye1': 1.5}, 'projection.eye1', r'projection.eye1 = 1.5 must be a number in \[0, 1\]'),
           ({'eye1': -0.1}, 'projection.eye1', r'in \[0, 1\]'),
           ({'nose': 'x'}, 'projection.nose', r"projection.nose = 'x' must be a number"),
           ({'nose': True}, 'projection.nose', 'must be a number'),
           ({'ear': 1.0}, 'projection', r"projection has unknown components \['ear'\]"),
           ({'bg': 0.5}, 'projection.bg', "the sketch embedding has no 'bg'"),
           (0.5, 'projection', 'projection must be an object')]
    for value, field, message in bad:
        with pytest.raises(ChoiceError, match=message) as e:
            parse_choices({'projection': value}, comps, 1, details)
        assert e.value.field == field


def test_stroke_recomputes_only_its_component(url, editor):
    sid, sketch = new_session_with_refs(url)
    cache = editor.model.cache
    status, _, first = post(f'{url}/api/{sid}/edit', {'choices': '{}'},
                            {'sketch': ('c.png', png_bytes(sketch))})
    assert status == 200
    stroke = sketch.copy()
    x, y, s = editor.model.layout.box('mouth')
    stroke[y + s // 2 - 1:y + s // 2 + 1, x + 8:x + s - 8] = 0  # a line inside the mouth box
    misses, fusion = cache.misses, editor.model._fusion
    status, _, second = post(f'{url}/api/{sid}/edit', {'choices': '{}'},
                             {'sketch': ('c.png', png_bytes(stroke))})
    assert status == 200
    assert cache.misses - misses == 2  # the mouth's geometry code and feature map, nothing else
    top, bottom, left, right = fusion.last_region  # G_fuse's stem: only around the mouth
    assert (top, bottom, left, right) != (0, RES, 0, RES) and left >= x and right <= x + s
    assert_local_change(decode(first), decode(second), box_mask((x, y, s)),
                        box_mask((x, y, s), margin=16))
    # exact_bg: bg reads the whole sketch, so it runs again too
    misses = cache.misses
    assert post(f'{url}/api/{sid}/edit', {'choices': '{"exact_bg": true}'})[0] == 200
    assert cache.misses - misses == 2  # bg's code and feature map


def test_photo_geometry_and_appearance_blend(url, editor):
    sid, sketch = new_session_with_refs(url)
    layout = editor.model.layout

    def edit(choices):
        status, kind, body = post(f'{url}/api/{sid}/edit', {'choices': json.dumps(choices)},
                                  {'sketch': ('c.png', png_bytes(sketch))})
        assert status == 200 and kind == 'image/png', body[:200]
        return decode(body)

    base = edit({})
    nose = layout.box('nose')
    photo_nose = edit({'geometry': {'nose': 1}})  # E_image on photo 2's nose crop
    changed = np.abs(base.astype(int) - photo_nose).mean(axis=2)
    assert changed[box_mask(nose)].mean() > 8
    all_two = edit({'appearance': {c: 1 for c in editor.components}})
    blend_end = edit({'blend_to': 1, 't': 1.0})
    assert np.abs(blend_end.astype(int) - all_two).max() <= 1  # t = 1: the blend photo's
    half = edit({'blend_to': 1, 't': 0.5})
    assert not np.array_equal(half, base) and not np.array_equal(half, all_two)


def test_api_errors_leave_the_session_working(url, editor):
    sid = json.loads(post(f'{url}/api/session')[2])['session']
    status, _, body = post(f'{url}/api/{sid}/edit')
    assert status == 400 and 'upload at least one reference' in json.loads(body)['error']
    assert post(f'{url}/api/nope/edit')[0] == 404
    status, _, body = post(f'{url}/api/{sid}/reference', files={'file': ('big.png',
                                                                          b'\0' * (50 << 20))})
    assert status == 413 and 'more than the 8 MB limit' in json.loads(body)['error']
    status, _, body = post(f'{url}/api/{sid}/edit', {'choices': '{"t": "x"'})
    assert status == 400 and 'not JSON' in json.loads(body)['error']
    status, _, body = post(f'{url}/api/{sid}/canvas/upload', files={'file': ('s.png', b'txt')})
    assert status == 400 and "sketch 's.png': not an image" in json.loads(body)['error']
    assert post(f'{url}/api/{sid}/reference', files={'file': (
        'a.png', png_bytes(random_face(4, 96)))})[0] == 200
    status, kind, body = post(f'{url}/api/{sid}/edit')
    assert status == 200 and kind == 'image/png' and decode(body).shape == (RES, RES, 3)
    # a GET never changes anything and an unknown route is a 404
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f'{url}/api/{sid}/reference/7.png', timeout=10)


def test_projection_sliders_api(proj_url, proj_editor, url, export):
    """choices.projection: each component's sketch projected by its strength (as
    FaceEditor's refine_sketch), nothing run when every strength is 0, projections of unchanged
    components reused, bad values 422 naming the field; refused without a projection model."""
    info = json.loads(post(f'{proj_url}/api/session')[2])
    comps = list(proj_editor.components)
    assert info['projection'] == {'components': comps, 'k': 5}
    sid, sketch = new_session_with_refs(proj_url, n=1)
    refiner, layout = proj_editor.sketch_refiner, proj_editor.model.layout

    def edit(choices, canvas=sketch):
        status, kind, body = post(f'{proj_url}/api/{sid}/edit',
                                  {'choices': json.dumps({'exact_bg': True, **choices})},
                                  {'sketch': ('c.png', png_bytes(canvas))})
        assert status == 200 and kind == 'image/png', body[:300]
        return decode(body)

    plain = edit({})
    calls = refiner.calls
    assert np.array_equal(edit({'projection': dict.fromkeys(comps, 0)}), plain)
    assert refiner.calls == calls  # every slider at 0: no projection work at all
    both = edit({'projection': {'eye1': 1.0, 'mouth': 0.5}})
    assert refiner.calls == calls + 2
    # the same face as FaceEditor's refine_sketch path (bg reads the whole sketch here)
    want = proj_editor.sketch_to_face(sketch, random_face(10, RES),
                                      refine_sketch={'eye1': 1.0, 'mouth': 0.5})
    assert np.abs(both.astype(int) - want).max() <= 1
    calls = refiner.calls
    assert_local_change(plain, edit({'projection': {'eye1': 1.0}}), box_mask(layout.box('eye1')),
                        box_mask(layout.box('eye1'), 16))
    assert refiner.calls == calls  # eye1's projected crop came from the cache
    assert not np.array_equal(edit({'projection': {'eye1': 0.5}}), both)
    # a stroke outside the eye, nose and mouth boxes: their projections are not run again
    stroke = sketch.copy()
    stroke[2:4, 10:40] = 0
    from facedisentangle.web.session import owned_mask
    assert not owned_mask(proj_editor)[2:4, 10:40].any()
    calls = refiner.calls
    edit({'projection': {'eye1': 1.0, 'mouth': 0.5}}, stroke)
    assert refiner.calls == calls
    # bad values: 422 naming the field; nothing changes
    for projection, field, message in [
            ({'eye1': 1.5}, 'projection.eye1', 'projection.eye1 = 1.5 must be a number in [0, 1]'),
            ({'nose': 'x'}, 'projection.nose', "projection.nose = 'x' must be a number"),
            ({'ear': 0.5}, 'projection', "projection has unknown components ['ear']"),
            ([0.5], 'projection', 'projection must be an object')]:
        status, _, body = post(f'{proj_url}/api/{sid}/edit',
                               {'choices': json.dumps({'projection': projection})})
        answer = json.loads(body)
        assert status == 422 and answer['field'] == field and message in answer['error'], answer
    assert np.array_equal(edit({}), plain)
    # a server without a projection model: no sliders, and projection values are refused
    assert json.loads(post(f'{url}/api/session')[2])['projection'] is None
    sid2, _ = new_session_with_refs(url, n=1)
    status, _, body = post(f'{url}/api/{sid2}/edit', {'choices': '{"projection": {"eye1": 0.5}}'})
    answer = json.loads(body)
    assert status == 422 and answer['field'] == 'projection'
    assert 'no sketch projection model' in answer['error'] and '--sketch-embedding' in \
        answer['error']
    # an embedding trained at another resolution (other boxes) is refused at start
    from facedisentangle.inference.sketch_refiner import SketchRefiner
    emb64 = tiny_embedding(resolution=64)
    other = FaceEditor.from_checkpoint(export, precision='float32', sketch_refiner=SketchRefiner(
        emb64, tiny_banks(emb64.components), k=5))
    with pytest.raises(ValueError, match="the sketch embedding places 'bg' at .* the model at"):
        create_app(other)


def test_align_refuses_a_photo_without_a_face(editor):
    pytest.importorskip('dlib', reason="alignment needs the 'align' extra")
    from facedisentangle.data_prep.alignment import FaceAligner

    aligner = FaceAligner(size=RES, layout=editor.model.layout)
    with serve_in_background(create_app(editor, aligner=aligner)) as base:
        sid = json.loads(post(f'{base}/api/session')[2])['session']
        status, _, body = post(f'{base}/api/{sid}/reference',
                               files={'file': ('noise.png', png_bytes(random_face(7, 96)))})
    assert status == 400
    assert "reference photo 'noise.png': cannot align it (no face" in json.loads(body)['error']


def test_canvas_from_a_photo_by_the_model_or_the_line_extraction(url, tmp_path):
    sid, by_model = new_session_with_refs(url, n=1)
    status, kind, body = post(f'{url}/api/{sid}/canvas/reference/0?method=extract')
    assert status == 200 and kind == 'image/png'
    lines = decode(body)
    assert lines.shape == (RES, RES, 3) and not np.array_equal(lines, by_model)
    assert (lines == lines[..., :1]).all() and lines.max() == 255  # grey strokes on white
    status, _, body = post(f'{url}/api/{sid}/canvas/reference/0?method=pickle')
    assert status == 400 and 'method must be one of' in json.loads(body)['error']
    # a model without sketch decoders: only the line extraction
    path = write_tiny_export(tmp_path / 'nodec.pth', model_cfg=tiny_model(
        layout=dict(resolution=RES), sketch_decoder=None))
    plain = FaceEditor.from_checkpoint(path, precision='float32')
    with serve_in_background(create_app(plain)) as base:
        info = json.loads(post(f'{base}/api/session')[2])
        assert info['model_sketch'] is False
        sid = info['session']
        assert post(f'{base}/api/{sid}/reference', files={'file': (
            'a.png', png_bytes(random_face(3, RES)))})[0] == 200
        status, _, body = post(f'{base}/api/{sid}/canvas/reference/0')
        assert status == 400 and 'cannot draw' in json.loads(body)['error']
        assert post(f'{base}/api/{sid}/canvas/reference/0?method=extract')[0] == 200


def write_embedding(folder: Path) -> tuple[Path, Path]:
    """The tiny embedding as ``tools/train.py`` and ``tools/build_sketch_bank.py`` leave it:
    a config, ``iter_1.pth`` and ``sketch_bank/{c}.h5`` beside it."""
    from facedisentangle.inference.sketch_bank import save_bank

    emb = tiny_embedding()
    ckpt = folder / 'emb' / 'iter_1.pth'
    ckpt.parent.mkdir(parents=True)
    torch.save({'state_dict': emb.state_dict()}, ckpt)
    for c, b in tiny_banks(emb.components).items():
        save_bank(ckpt.parent / 'sketch_bank' / f'{c}.h5', b.numpy(), c)
    repo = REPO
    cfg = folder / 'emb.py'
    cfg.write_text(
        f"_base_ = ['{repo}/configs/deepfaceediting/sketch-embedding_synthetic-128.py']\n"
        f"model = dict(layout=dict(resolution={RES}), "
        f"drawing_encoder=dict(init_type='xavier', init_gain=1.0, **{EMB['drawing_encoder']!r}), "
        f"drawing_decoder=dict(init_type='xavier', init_gain=1.0, "
        f"**{EMB['drawing_decoder']!r}))\n")
    return cfg, ckpt


def test_command_projection_options(tmp_path):
    """tools/web_editor.py --sketch-embedding / --sketch-bank / --refine-k (tools/edit.py's
    names): the refiner is loaded with its banks and K; misuse is a message naming the option."""
    from facedisentangle.cli import web_editor as tool

    cfg, ckpt = write_embedding(tmp_path)
    args = tool.parse_args(['--sketch-embedding', str(cfg), str(ckpt), '--refine-k', '7'])
    refiner = tool.load_sketch_refiner(args, RES)
    assert refiner.k == 7 and set(refiner.banks) == {'bg', 'eye1', 'eye2', 'nose', 'mouth'}
    assert tool.load_sketch_refiner(tool.parse_args([]), RES) is None
    bad = [(['--refine-k', '5'], '--refine-k is used with --sketch-embedding'),
           (['--sketch-embedding', str(cfg), str(tmp_path / 'no.pth')], 'no.pth not found'),
           (['--sketch-embedding', str(cfg), str(ckpt), '--refine-k', '21'],
            r'--refine-k: refine K must be an int in \[1, 20\]'),
           (['--sketch-embedding', str(cfg), str(ckpt), '--sketch-bank', str(tmp_path)],
            "--sketch-embedding: sketch bank folder .* has no bank for 'bg'")]
    for argv, message in bad:
        with pytest.raises(ValueError, match=message):
            tool.load_sketch_refiner(tool.parse_args(argv), RES)
    with pytest.raises(ValueError, match='the embedding is for 128 px sketches, the model edits '
                                         '256 px'):
        tool.load_sketch_refiner(args, 256)


def test_command_warns_off_loopback_and_serves(tmp_path):
    """tools/web_editor.py: a warning for a non-default host, the address printed, the page
    served (with the projection sliders' model: --sketch-embedding); a missing checkpoint is a
    one-line error."""
    import subprocess
    import sys

    repo = REPO
    path = write_tiny_export(tmp_path / 'tiny.pth', model_cfg=tiny_model(
        layout=dict(resolution=RES)))
    cfg, ckpt = write_embedding(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    bad = subprocess.run([sys.executable, 'tools/web_editor.py', '-c', str(tmp_path / 'no.pth')],
                         cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and 'no.pth' in bad.stderr
    proc = subprocess.Popen([sys.executable, 'tools/web_editor.py', '-c', str(path),
                             '--host', '127.0.0.2', '--port', '0', '--precision', 'float32',
                             '--sketch-embedding', str(cfg), str(ckpt), '--refine-k', '5'],
                            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        address, printed = None, []
        for line in proc.stdout:  # ends when the process does
            printed.append(line)
            if line.startswith('web editor at '):
                address = line.split()[3]
                break
        assert address and address.startswith('http://127.0.0.2:'), address
        assert 'sketch projection: bg, eye1, eye2, nose, mouth (K = 5)\n' in printed
        with urllib.request.urlopen(address, timeout=30) as r:
            assert b'<canvas id="canvas">' in r.read()
        info = json.loads(post(f'{address}api/session')[2])
        assert info['projection'] == {'components': ['bg', 'eye1', 'eye2', 'nose', 'mouth'],
                                      'k': 5}
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert 'WARNING: listening on 127.0.0.2' in err


def test_sessions_are_bounded():
    from facedisentangle.web.server import SessionStore

    store = SessionStore(RES, max_sessions=3, max_references=2)
    ids = [store.new() for _ in range(5)]
    assert len(store) == 3 and store.get(ids[0]) is None and store.get(ids[4]) is not None
    session = EditSession(RES, max_references=2)
    session.add_reference(np.zeros((RES, RES, 3), np.uint8))
    session.add_reference(np.zeros((RES, RES, 3), np.uint8))
    with pytest.raises(ValueError, match='at most 2 reference photos'):
        session.add_reference(np.zeros((RES, RES, 3), np.uint8))
    assert session.nbytes() == 4 * RES * RES * 3


def test_stress_loopback_4_clients_x_25_edits(url, editor):
    """4 concurrent clients x 25 edits (each a new stroke in a random component box) to
    127.0.0.1: every answer a 128 px PNG, no error; RSS grows by less than 200 MB."""
    sessions = [new_session_with_refs(url) for _ in range(4)]
    for sid, sketch in sessions:  # warm-up: every network built, the caches primed
        assert post(f'{url}/api/{sid}/edit', {'choices': '{}'},
                    {'sketch': ('c.png', png_bytes(sketch))})[0] == 200
    before = vm_rss()
    boxes = [editor.model.layout.box(c) for c in editor.components]
    errors: list[str] = []

    def client(k):
        sid, sketch = sessions[k]
        rng = np.random.default_rng(k)
        sketch = sketch.copy()
        for i in range(25):
            x, y, s = boxes[rng.integers(len(boxes))]
            px, py = x + rng.integers(2, s - 2), y + rng.integers(2, s - 2)
            sketch[py - 1:py + 1, max(x, px - 6):px + 6] = 0
            choices = {'appearance': {'eye1': int(i % 2)}, 't': float(i % 3) / 2,
                       'blend_to': 1}
            status, kind, body = post(f'{url}/api/{sid}/edit', {'choices': json.dumps(choices)},
                                      {'sketch': ('c.png', png_bytes(sketch))})
            if status != 200 or kind != 'image/png' or decode(body).shape != (RES, RES, 3):
                errors.append(f'client {k} edit {i}: {status} {kind} {body[:200]!r}')

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), 'a client did not finish within 120 s'
    assert not errors, errors[:3]
    grown = (vm_rss() - before) / 2**20
    print(f'stress: 100 edits in {time.time() - t0:.1f} s, RSS +{grown:.0f} MB')
    assert grown < 200, f'RSS grew by {grown:.0f} MB over 100 edits'


# ------------------------------------------------------------------------------ browser
@pytest.fixture(scope='module')
def browser():
    driver = start_chromium(1400, 1000)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@needs_browser
def test_browser_edit_stroke_and_appearance(browser, url, faces, editor, tmp_path):
    d = browser
    d.get(url)
    wait_for(d, 'return document.body.dataset.ready === "1"', 'the page')
    upload(d, 'ref-file', faces[0])
    n = settled(d, 0)  # the first photo's sketch fills the canvas, then the face
    upload(d, 'ref-file', faces[1])
    n = settled(d, n)
    assert d.execute_script("return document.querySelectorAll('#refs .ref').length") == 2
    # no projection model on this server: the refine sliders are hidden
    assert not d.find_element('id', 'projection').is_displayed()
    assert d.execute_script("return document.querySelectorAll('#projection input').length") == 0
    before = result_pixels(d)
    assert before.shape == (RES, RES, 3)
    layout = editor.model.layout
    mouth = layout.box('mouth')
    stroke(d, mouth, RES)
    n = settled(d, n)
    after = result_pixels(d)
    inner, outer = assert_local_change(before, after, box_mask(mouth), box_mask(mouth, 16))
    # another reference for the eyes: the eye boxes change
    from selenium.webdriver.support.ui import Select
    Select(d.find_element('id', 'app-eye1')).select_by_value('1')
    n = settled(d, n)
    Select(d.find_element('id', 'app-eye2')).select_by_value('1')
    n = settled(d, n)
    eyes = result_pixels(d)
    inside = box_mask(layout.box('eye1')) | box_mask(layout.box('eye2'))
    margin = box_mask(layout.box('eye1'), 16) | box_mask(layout.box('eye2'), 16)
    assert_local_change(after, eyes, inside, margin)
    assert d.execute_script("return document.getElementById('download-result').href"
                            ).startswith('blob:')
    # undo (Ctrl+Z) brings the canvas back to before the stroke: the mouth as before it
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    ActionChains(d).key_down(Keys.CONTROL).send_keys('z').key_up(Keys.CONTROL).perform()
    n = settled(d, n)
    undone = result_pixels(d)
    mouth_box = box_mask(mouth)
    assert np.abs(undone.astype(int) - before)[mouth_box].mean() < \
        0.25 * np.abs(eyes.astype(int) - before)[mouth_box].mean() + 1
    shot = tmp_path / 'web_editor.png'
    assert d.save_screenshot(str(shot)) and Image.open(shot).size[0] > 600
    assert d.find_element('id', 'message').text == ''


@needs_browser
def test_browser_bad_uploads_get_a_message(browser, url, faces, tmp_path):
    d = browser
    d.get(url)
    wait_for(d, 'return document.body.dataset.ready === "1"', 'the page')
    upload(d, 'ref-file', faces[0])
    n = settled(d, 0)
    good = png_bytes(random_face(5, RES))
    bad = {'text.png': (b'just some text, renamed', 'not an image'),
           'truncated.png': (good[:len(good) // 2], 'broken or truncated'),
           'bomb.png': (huge_png(20000, 20000), 'decompression bomb'),
           'big.png': (b'\x89PNG\r\n\x1a\n' + b'\0' * (50 << 20), 'more than the 8 MB limit')}
    for name, (data, expected) in bad.items():
        path = tmp_path / name
        path.write_bytes(data)
        errors = int(d.execute_script('return document.body.dataset.errors'))
        upload(d, 'ref-file', path)
        wait_for(d, f'return Number(document.body.dataset.errors) > {errors}', f'{name} refused')
        text = d.find_element('id', 'message').text
        assert expected in text, (name, text)
        path.unlink()
    # the session still works: another photo, a stroke, a new face
    upload(d, 'ref-file', faces[2])
    wait_for(d, "return document.querySelectorAll('#refs .ref').length === 2", 'photo 2')
    n = settled(d, n)  # the update the new photo asks for
    assert d.find_element('id', 'message').text == ''
    before = result_pixels(d)
    stroke(d, (40, 20, 40), RES)
    settled(d, n)
    assert not np.array_equal(before, result_pixels(d))


@needs_browser
def test_browser_refine_sliders(browser, proj_url, faces, proj_editor):
    """With a projection model: one "refine" slider per component; dragging eye1's re-renders
    the face with eye1's sketch projected (the eye1 box changes), and back to 0 gives the
    unprojected face again."""
    from selenium.webdriver.common.action_chains import ActionChains

    d = browser
    d.get(proj_url)
    wait_for(d, 'return document.body.dataset.ready === "1"', 'the page')
    assert d.find_element('id', 'projection').is_displayed()
    labels = d.execute_script("return [...document.querySelectorAll('#projection-sliders tr')]"
                              '.map((r) => r.cells[0].textContent)')
    assert labels == [f'refine {c}' for c in proj_editor.components]
    assert 'K = 5' in d.find_element('id', 'projection-k').text
    upload(d, 'ref-file', faces[0])
    n = settled(d, 0)
    before = result_pixels(d)
    slider = d.find_element('id', 'refine-eye1')
    assert slider.get_attribute('value') == '0'
    proj_editor.model.cache.clear()  # the API test may have projected this eye1 crop already
    calls = proj_editor.sketch_refiner.calls
    ActionChains(d).move_to_element_with_offset(slider, int(slider.size['width'] * 0.45), 0
                                                ).click().perform()
    n = settled(d, n)
    value = int(slider.get_attribute('value'))
    assert value > 80, value
    assert d.find_element('id', 'refine-eye1-value').text == f'{value / 100:.2f}'
    assert proj_editor.sketch_refiner.calls == calls + 1  # eye1's projection, nothing else
    projected = result_pixels(d)
    layout = proj_editor.model.layout
    assert_local_change(before, projected, box_mask(layout.box('eye1')),
                        box_mask(layout.box('eye1'), 16))
    # back to 0 (the keyboard's Home key): the face as drawn again
    from selenium.webdriver.common.keys import Keys
    slider.send_keys(Keys.HOME)
    settled(d, n)
    assert slider.get_attribute('value') == '0'
    assert np.abs(result_pixels(d).astype(int) - before).max() <= 1
    assert d.find_element('id', 'message').text == ''
