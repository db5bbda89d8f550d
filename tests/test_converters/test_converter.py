"""Official-weights converter: full-size key map on shapes only (official name list), a small
release written in both Jittor formats and converted, and refused tampered pickles."""
from __future__ import annotations

import copy
import hashlib
import os
import pickle
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO
from inference_helpers import TINY_MODEL, random_face, to_tensor

from facedisentangle.apis import FaceEditor
from facedisentangle.converters import (
    OFFICIAL_MODEL,
    JittorPickleError,
    OfficialWeightsError,
    convert_official_weights,
    load_arrays,
    map_official_weights,
)
from facedisentangle.converters.official_weights import runtime_adain_keys
from facedisentangle.inference import DeepFaceEditingInference
from facedisentangle.inference.network_build import build_empty
from facedisentangle.registry import BACKBONES
from facedisentangle.structures import build_layout

torch.set_num_threads(1)
OFFICIAL_NAMES = REPO / 'tests' / 'data' / 'official_param_names.txt'
COMPS = ('bg', 'eye1', 'eye2', 'nose', 'mouth')
SECTIONS = {'[sketch encoder]': 'sketch_encoders', '[image encoder]': 'image_encoders',
            'Part_Generator(': 'generators', 'GlobalGenerator(input_nc=64': 'fusion_generator'}
FILES = {'sketch_encoders': 'sketch_encoder/sketch_encoder_{c}.pkl',
         'image_encoders': 'image_encoder/image_encoder_{c}.pkl',
         'generators': 'generator/generator_{c}.pkl',
         'fusion_generator': 'global_fuse.pkl', 'image_to_sketch': 'sketch_generator.pkl'}
# the official structure at a small size (no sketch decoder; the image-to-sketch net is read
# from its file)
SMALL_OFFICIAL = {k: v for k, v in copy.deepcopy(TINY_MODEL).items() if k != 'sketch_decoder'}
SMALL_SKETCH_GENERATOR = dict(type='ImageToSketchGenerator', ngf=4, n_downsampling=2,
                              n_blocks=2)


def official_shapes() -> dict[str, dict[str, tuple[int, ...]]]:
    """``{prefix: {key: shape}}`` from tests/data/official_param_names.txt."""
    out, cur = {}, None
    for line in OFFICIAL_NAMES.read_text().splitlines():
        if line.startswith('## '):
            cur = next((p for marker, p in SECTIONS.items() if marker in line), cur)
            if 'norm layers' in line:
                cur = None
            elif cur is not None:
                out.setdefault(cur, {})
            continue
        if cur is None or not line.strip() or line.startswith('#'):
            continue
        name, shape = line.split('\t')[:2]
        out[cur][name] = tuple(int(v) for v in re.findall(r'\d+', shape))
    return out


def shapes_only(shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Arrays with the right shapes and no memory (broadcast views of one zero)."""
    return {k: np.broadcast_to(np.float32(0), s) for k, s in shapes.items()}


# ------------------------------------------------------------------------ full size, shapes
def test_full_size_key_map_matches_the_official_names():
    shapes = official_shapes()
    assert {k: len(v) for k, v in shapes.items()} == {
        'sketch_encoders': 28, 'image_encoders': 68, 'generators': 40, 'fusion_generator': 70}
    arrays = {f'{p}.{c}': shapes_only(shapes[p]) for p in
              ('sketch_encoders', 'image_encoders', 'generators') for c in COMPS}
    arrays['fusion_generator'] = shapes_only(shapes['fusion_generator'])
    state, networks, dropped = map_official_weights(arrays)
    assert len(state) == 5 * (28 + 68 + 40) + 70 and dropped == []
    assert networks['generators.nose'] == OFFICIAL_MODEL['generator']
    assert state['generators.eye1.enc_style.model.7.weight'].shape == (18304, 64, 1, 1)
    assert state['fusion_generator.model.33.weight'].shape == (3, 64, 7, 7)


def test_full_size_errors_name_the_key():
    shapes = official_shapes()
    gen = shapes_only(shapes['generators'])
    # run-time AdaIN values saved after a forward pass (batch 2) are dropped
    with_runtime = dict(gen, **{'model.0.conv_block.0.norm.weight': np.zeros((2, 1024, 1, 1)),
                                'model.5.bias': np.zeros((2, 512, 1, 1))})
    _, _, dropped = map_official_weights({'generators.eye1': with_runtime},
                                         files={'generators.eye1': 'generator_eye1.pkl'})
    assert dropped == ['generator_eye1.pkl: model.0.conv_block.0.norm.weight',
                       'generator_eye1.pkl: model.5.bias']
    bad_runtime = dict(gen, **{'model.5.weight': np.zeros((512, 3))})
    with pytest.raises(OfficialWeightsError, match=r'model\.5\.weight has shape \[512, 3\]'):
        map_official_weights({'generators.eye1': bad_runtime})
    missing = {k: v for k, v in gen.items() if k != 'enc_style.model.7.bias'}
    with pytest.raises(OfficialWeightsError, match=r"missing keys \['enc_style.model.7.bias'\]"):
        map_official_weights({'generators.nose': missing})
    extra = dict(shapes_only(shapes['sketch_encoders']), **{'model.99.weight': np.zeros(3)})
    with pytest.raises(OfficialWeightsError, match=r"unexpected keys \['model.99.weight'\]"):
        map_official_weights({'sketch_encoders.bg': extra})
    wrong = dict(shapes_only(shapes['fusion_generator']),
                 **{'model.1.weight': np.broadcast_to(np.float32(0), (64, 3, 7, 7))})
    with pytest.raises(OfficialWeightsError,
                       match=r'model\.1\.weight: \(64, 3, 7, 7\) \(expected \(64, 64, 7, 7\)\)'):
        map_official_weights({'fusion_generator': wrong}, files={'fusion_generator': 'g.pkl'})


# ------------------------------------------------------------------------ small release
def small_release_arrays(seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Random values for every official file of a small model, keyed like our networks."""
    rng = np.random.default_rng(seed)
    cfgs = {f'{p}.{c}': SMALL_OFFICIAL[k] for p, k in (('sketch_encoders', 'sketch_encoder'),
                                                      ('image_encoders', 'image_encoder'),
                                                      ('generators', 'generator'))
            for c in COMPS}
    cfgs['fusion_generator'] = SMALL_OFFICIAL['fusion_generator']
    cfgs['image_to_sketch'] = SMALL_SKETCH_GENERATOR
    arrays = {}
    for name, cfg in cfgs.items():
        shapes = {k: tuple(v.shape) for k, v in build_empty(cfg).state_dict().items()}
        arrays[name] = {k: (rng.standard_normal(s) * 0.3).astype(np.float32)
                        for k, s in shapes.items()}
    return arrays


def jittor_safepickle(obj: dict[str, np.ndarray], monkeypatch) -> bytes:
    """Jittor's newer format, written with a stand-in ``jittor`` module that is removed again:
    ``{name: Var}`` with Var pickled as the global (jittor, jittor_core.Var) applied to an
    array, protocol 4, then the SHA-1 of the pickle and b'HCAJSLHD'."""
    def Var(data):  # noqa: N802  (Jittor's class name)
        raise AssertionError('never called while writing')

    Var.__module__, Var.__qualname__ = 'jittor', 'jittor_core.Var'

    class FakeVar:
        def __init__(self, data):
            self.data = data

        def __reduce__(self):
            return Var, (self.data,)

    jittor = types.ModuleType('jittor')
    jittor.jittor_core = types.SimpleNamespace(Var=Var)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, 'jittor', jittor)
        s = pickle.dumps({k: FakeVar(v) for k, v in obj.items()}, protocol=4)
    assert b'jittor_core.Var' in s
    return s + hashlib.sha1(s).digest() + b'HCAJSLHD'


def write_release(root: Path, arrays, fmt: str, monkeypatch) -> Path:
    for name, state in arrays.items():
        prefix, _, comp = name.partition('.')
        path = root / FILES[prefix].format(c=comp)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = jittor_safepickle(state, monkeypatch) if fmt == 'jittor' else pickle.dumps(state)
        path.write_bytes(data)
    return root


def direct_forward(arrays, geometry, appearance, geometry_from):
    """The edit with networks loaded straight from the arrays (no converter, no export)."""
    def net(name, cfg):
        m = BACKBONES.build(dict(cfg))
        m.load_state_dict({k: torch.from_numpy(v) for k, v in arrays[name].items()})
        return m.eval()

    layout = build_layout(SMALL_OFFICIAL['layout'])
    enc = 'image_encoder' if geometry_from == 'photo' else 'sketch_encoder'
    with torch.no_grad():
        feats = {}
        for c in COMPS:
            code = net(f'{enc}s.{c}', SMALL_OFFICIAL[enc])(layout.crop(geometry, c))
            gen = net(f'generators.{c}', SMALL_OFFICIAL['generator'])
            feats[c] = gen.decode_feature(code, gen.enc_style(layout.crop(appearance, c)))
        image = net('fusion_generator', SMALL_OFFICIAL['fusion_generator'])(layout.fuse(feats))
        sketch = net('image_to_sketch', SMALL_SKETCH_GENERATOR)(geometry)
    return image, sketch


@pytest.mark.parametrize('fmt', ['plain', 'jittor'])
def test_round_trip_equals_a_direct_load(fmt, tmp_path, monkeypatch):
    arrays = small_release_arrays()
    gen = build_empty(SMALL_OFFICIAL['generator'])
    runtime = sorted(runtime_adain_keys(gen).items())[:2]  # saved after a forward pass
    arrays_with_runtime = copy.deepcopy(arrays)
    for key, c in runtime:
        arrays_with_runtime['generators.mouth'][key] = np.ones((2, c, 1, 1), np.float32)
    src = write_release(tmp_path / 'release', arrays_with_runtime, fmt, monkeypatch)
    assert 'jittor' not in sys.modules  # read without Jittor
    if fmt == 'jittor':
        assert (src / 'global_fuse.pkl').read_bytes().endswith(b'HCAJSLHD')
    out = tmp_path / 'official.pth'
    summary = convert_official_weights(src, out, model_cfg=SMALL_OFFICIAL)
    assert summary['supports'] == ['photo', 'sketch', 'image_to_sketch']
    assert sorted(summary['dropped']) == [f'{src / "generator" / "generator_mouth.pkl"}: {k}'
                                          for k, _ in runtime]
    obj = torch.load(out, weights_only=True)
    assert obj['networks']['image_to_sketch'] == dict(SMALL_SKETCH_GENERATOR, input_nc=3,
                                                      output_nc=3)
    g, a = to_tensor(random_face(1)), to_tensor(random_face(2))
    model = DeepFaceEditingInference.from_checkpoint(out, precision='float32')
    for geometry_from in ('photo', 'sketch'):
        image, sketch = direct_forward(arrays, g, a, geometry_from)
        torch.testing.assert_close(model(g, a, geometry_from), image, atol=1e-5, rtol=0)
    torch.testing.assert_close(model.photo_to_sketch(g), sketch, atol=1e-6, rtol=0)
    editor = FaceEditor(model)
    assert editor.to_sketch(random_face(1)).shape == (64, 64, 3)


def test_file_by_file_equals_in_memory_and_a_bad_file_leaves_no_output(tmp_path, monkeypatch):
    """The file-by-file writer (structure first, each release file then copied in place) gives
    the weights of the all-in-memory one (the route for torch < 2.5); a bad file late in the
    release leaves the previous output as it was and no temporary file."""
    from facedisentangle.converters import official_weights

    assert official_weights._file_by_file_supported()  # the torch this project installs
    src = write_release(tmp_path / 'release', small_release_arrays(2), 'plain', monkeypatch)
    by_file, in_memory = tmp_path / 'by_file.pth', tmp_path / 'in_memory.pth'
    convert_official_weights(src, by_file, model_cfg=SMALL_OFFICIAL)
    with monkeypatch.context() as m:
        m.setattr(official_weights, '_file_by_file_supported', lambda: False)
        convert_official_weights(src, in_memory, model_cfg=SMALL_OFFICIAL)
    a, b = (torch.load(p, weights_only=True) for p in (by_file, in_memory))
    assert a['networks'] == b['networks'] and list(a['state_dict']) == list(b['state_dict'])
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    assert any(v.abs().sum() > 0 for v in a['state_dict'].values())

    before = by_file.read_bytes()
    fuse = pickle.loads((src / 'global_fuse.pkl').read_bytes())  # read after the others
    fuse['model.1.weight'] = fuse['model.1.weight'][:, :1]
    (src / 'global_fuse.pkl').write_bytes(pickle.dumps(fuse))
    with pytest.raises(OfficialWeightsError, match=r'global_fuse\.pkl: wrong shapes'):
        convert_official_weights(src, by_file, model_cfg=SMALL_OFFICIAL)
    assert by_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['by_file.pth', 'in_memory.pth',
                                                         'release']


def test_convert_tool(tmp_path, monkeypatch, capsys):
    from facedisentangle.cli import convert_official_weights as tool

    arrays = small_release_arrays(1)
    del arrays['image_to_sketch']  # optional
    src = write_release(tmp_path / 'release', arrays, 'jittor', monkeypatch)
    cfg = tmp_path / 'small.py'
    cfg.write_text(f'model = {SMALL_OFFICIAL!r}\n')
    out = tmp_path / 'o.pth'
    assert tool.main(['--src', str(src), '--out', str(out), '--model-config', str(cfg)]) == 0
    assert 'supports photo, sketch' in capsys.readouterr().out
    os.remove(src / 'image_encoder' / 'image_encoder_nose.pkl')
    assert tool.main(['--src', str(src), '--out', str(out), '--model-config', str(cfg)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'image_encoder/image_encoder_nose.pkl' in err[0]


# ------------------------------------------------------------------------ tampered files
class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_tampered_pickles_are_refused(tmp_path, monkeypatch):
    marker = tmp_path / 'pwned'
    plain = tmp_path / 'plain.pkl'
    plain.write_bytes(pickle.dumps({'model.1.weight': np.zeros(3, np.float32),
                                    'x': Evil(marker)}))
    with pytest.raises(JittorPickleError, match=r'refused global (posix|nt)\.system'):
        load_arrays(plain)
    # a Jittor-format file with a valid checksum is refused just the same
    body = pickle.dumps({'w': Evil(marker)}, protocol=4)
    signed = tmp_path / 'signed.pkl'
    signed.write_bytes(body + hashlib.sha1(body).digest() + b'HCAJSLHD')
    with pytest.raises(JittorPickleError, match='refused global'):
        load_arrays(signed)
    evil_eval = (b'\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04'
                 b'eval\x94\x93\x94\x8c\x061+1==2\x94\x85\x94R\x94.')
    (tmp_path / 'eval.pkl').write_bytes(evil_eval)
    with pytest.raises(JittorPickleError, match=r'refused global builtins\.eval'):
        load_arrays(tmp_path / 'eval.pkl')
    assert not marker.exists()
    # a modified Jittor file fails its checksum
    good = jittor_safepickle({'w': np.arange(4, dtype=np.float32)}, monkeypatch)
    np.testing.assert_array_equal(load_arrays(_write(tmp_path / 'ok.pkl', good))['w'],
                                  np.arange(4))
    broken = bytearray(good)
    broken[-40] ^= 1
    with pytest.raises(JittorPickleError, match='checksum does not match'):
        load_arrays(_write(tmp_path / 'bad.pkl', bytes(broken)))
    with pytest.raises(JittorPickleError, match="entry 'w' has dtype object"):
        load_arrays(_write(tmp_path / 'obj.pkl', pickle.dumps({'w': np.array([None, 1])})))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
