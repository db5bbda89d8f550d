"""Converter of the release's hand-drawn-sketch files: Drawing/ networks (full-size key map,
small seeded official-layout files in Jittor's format, the identity LeakyReLU(True)), the .bin
sketch banks, and the tool's report of what it found."""
from __future__ import annotations

import copy
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from drawing_keys import official_decoder_keys, official_encoder_keys
from inference_helpers import TINY_MODEL
from test_converter import jittor_safepickle

from facedisentangle.converters import (
    OFFICIAL_DRAWING_MODEL,
    OfficialWeightsError,
    convert_official_drawing,
    load_official_drawing,
    map_drawing_weights,
)
from facedisentangle.converters.official_drawing import drawing_network_config
from facedisentangle.inference.network_build import build_empty
from facedisentangle.inference.sketch_bank import load_bank

COMPS = ('bg', 'eye1', 'eye2', 'nose', 'mouth')
FILES = {'drawing_encoders': 'Drawing/sketch_encoder_{c}.pkl',
         'drawing_decoders': 'Drawing/sketch_DE_{c}.pkl',
         'drawing_geometry_encoders': 'Drawing/geo_encoder_{c}.pkl',
         'drawing_generators': 'Drawing/part_gen_{c}.pkl',
         'drawing_fusion_generator': 'Drawing/global_fuse.pkl'}
SMALL_DRAWING = dict(
    layout=dict(resolution=64), components=list(COMPS),
    drawing_encoder=dict(type='DrawingEncoder', input_nc=1, channels=(4, 8), latent_dim=6,
                         leaky_relu_slope=1.0),
    drawing_decoder=dict(type='DrawingDecoder', output_nc=4, channels=(8, 4, 4), latent_dim=6,
                         leaky_relu_slope=1.0, out_activation='none'),
    drawing_geometry_encoder=dict(type='GeometryEncoder', input_nc=4, ngf=4, n_downsampling=2,
                                  n_blocks=0),
    drawing_generator=dict(type='ComponentGenerator', ngf=4, n_downsampling=2, n_blocks=1,
                           style_dim=16, app_dim=4, app_n_downsampling=2, up_norm='in'),
    drawing_fusion_generator=dict(type='GlobalGenerator', input_nc=4, ngf=4, n_downsampling=2,
                                  n_blocks=1, norm='bn'),
)


# ------------------------------------------------------------ the release's structure, by hand
def conv(prefix, o, i, k):
    return {f'{prefix}.weight': (o, i, k, k), f'{prefix}.bias': (o,)}


def norm(prefix, c, bn):
    names = ('weight', 'bias', 'running_mean', 'running_var') if bn else ('weight', 'bias')
    return {f'{prefix}.{n}': (c,) for n in names}


def official_geo_encoder_keys():
    """GeometryEncoder(input_nc=32, ngf=32, n_downsampling=4, n_blocks=0), instance norm."""
    keys = {**conv('model.1', 32, 32, 7), **norm('model.2', 32, False)}
    for i in range(4):
        c = 32 * 2 ** i
        keys.update(conv(f'model.{4 + 3 * i}', 2 * c, c, 3))
        keys.update(norm(f'model.{5 + 3 * i}', 2 * c, False))
    return keys


def official_part_gen_keys():
    """Part_Generator(ngf=32, n_downsampling=4, n_blocks=4, norm_layer='in')."""
    keys = {}
    for i in range(4):
        for j in (0, 1):
            keys.update(conv(f'model.{i}.conv_block.{j}.conv', 512, 512, 3))
    for i in range(4):
        c = 512 // 2 ** i
        keys[f'model.{4 + 3 * i}.weight'] = (c, c // 2, 3, 3)     # ConvTranspose (in, out)
        keys[f'model.{4 + 3 * i}.bias'] = (c // 2,)
        keys.update(norm(f'model.{5 + 3 * i}', c // 2, False))
    keys.update(conv('model.17', 3, 32, 7))
    n_adain = 4 * 2 * 2 * 512                       # AdaIN only in the ResnetBlocks
    keys.update(conv('enc_style.model.0.conv', 16, 3, 7))
    keys.update(conv('enc_style.model.1.conv', 32, 16, 4))
    keys.update(conv('enc_style.model.2.conv', 64, 32, 4))
    for i in (3, 4, 5):
        keys.update(conv(f'enc_style.model.{i}.conv', 64, 64, 4))
    keys.update(conv('enc_style.model.7', n_adain, 64, 1))
    return keys


def official_global_fuse_keys():
    """GlobalGenerator(input_nc=32, ngf=32, n_downsampling=4, n_blocks=9, norm='bn')."""
    keys = {**conv('model.1', 32, 32, 7), **norm('model.2', 32, True)}
    for i in range(4):
        c = 32 * 2 ** i
        keys.update(conv(f'model.{4 + 3 * i}', 2 * c, c, 3))
        keys.update(norm(f'model.{5 + 3 * i}', 2 * c, True))
    for b in range(9):
        for j in (0, 1):
            keys.update(conv(f'model.{16 + b}.conv_block.{j}.conv', 512, 512, 3))
            keys.update(norm(f'model.{16 + b}.conv_block.{j}.norm', 512, True))
    for i in range(4):
        c = 512 // 2 ** i
        keys[f'model.{25 + 3 * i}.weight'] = (c, c // 2, 3, 3)
        keys[f'model.{25 + 3 * i}.bias'] = (c // 2,)
        keys.update(norm(f'model.{26 + 3 * i}', c // 2, True))
    keys.update(conv('model.38', 3, 32, 7))       # model.37 is the ReflectionPad2d
    return keys


def ours(name, cfg=OFFICIAL_DRAWING_MODEL):
    net = build_empty(drawing_network_config(name, cfg))
    return {k: tuple(v.shape) for k, v in net.state_dict().items()
            if not k.endswith('num_batches_tracked')}


def test_full_size_networks_have_the_official_keys_and_shapes():
    sizes = dict(bg=512, eye1=128, eye2=128, nose=160, mouth=192)
    for c, s in sizes.items():
        assert ours(f'drawing_encoders.{c}') == official_encoder_keys(s)
        assert ours(f'drawing_decoders.{c}') == official_decoder_keys(s, output_nc=32)
        assert ours(f'drawing_geometry_encoders.{c}') == official_geo_encoder_keys()
        assert ours(f'drawing_generators.{c}') == official_part_gen_keys()
    assert ours('drawing_fusion_generator') == official_global_fuse_keys()
    enc = build_empty(drawing_network_config('drawing_encoders.eye1', OFFICIAL_DRAWING_MODEL))
    assert enc.conv[0].relu.negative_slope == 1.0          # the release's LeakyReLU(True)


# ------------------------------------------------------------ small seeded official files
def small_arrays(seed=0):
    """Seeded random values for every Drawing/ file of a small model, with the release's
    keys (no num_batches_tracked: Jittor's BatchNorm has none)."""
    rng = np.random.default_rng(seed)
    names = [f'{p}.{c}' for p in FILES if p != 'drawing_fusion_generator' for c in COMPS]
    arrays = {}
    for name in names + ['drawing_fusion_generator']:
        shapes = ours(name, SMALL_DRAWING)
        arrays[name] = {k: (np.abs(rng.standard_normal(s)) + 0.5 if k.endswith('running_var')
                            else rng.standard_normal(s) * 0.3).astype(np.float32)
                        for k, s in shapes.items()}
    return arrays


def write_drawing(root: Path, arrays, monkeypatch, banks=None) -> Path:
    for name, state in arrays.items():
        prefix, _, comp = name.partition('.')
        path = root / FILES[prefix].format(c=comp)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jittor_safepickle(state, monkeypatch))
    for (s, c), vec in (banks or {}).items():
        (root / 'bin').mkdir(parents=True, exist_ok=True)
        vec.astype('<f4').tofile(root / 'bin' / f'{s}_{c}_feature.bin')
    return root


def reference_encoder(state, x):
    """The release's DrawingEncoder forward written out with torch.nn.functional, eval mode:
    EncoderBlock = conv, BN, LeakyReLU(True) = nothing; ResnetBlock with BN and ReLU."""
    t = {k: torch.from_numpy(v) for k, v in state.items()}

    def bn(h, p):
        return F.batch_norm(h, t[f'{p}.running_mean'], t[f'{p}.running_var'], t[f'{p}.weight'],
                            t[f'{p}.bias'], False, 0.0, 1e-5)

    def res(h, p):
        y = F.conv2d(F.pad(h, (1,) * 4, mode='reflect'), t[f'{p}.conv_block.0.conv.weight'],
                     t[f'{p}.conv_block.0.conv.bias'])
        y = F.relu(bn(y, f'{p}.conv_block.0.norm'))
        y = F.conv2d(F.pad(y, (1,) * 4, mode='reflect'), t[f'{p}.conv_block.1.conv.weight'],
                     t[f'{p}.conv_block.1.conv.bias'])
        return h + bn(y, f'{p}.conv_block.1.norm')

    def enc(h, p):
        return bn(F.conv2d(h, t[f'{p}.conv.weight'], t[f'{p}.conv.bias'], stride=2, padding=1),
                  f'{p}.bn')

    h = enc(x[:, :1], 'conv.0')
    h = enc(res(h, 'conv.1'), 'conv.2')
    h = res(h, 'conv.3')
    return F.linear(h.flatten(1), t['fc_mu.0.weight'], t['fc_mu.0.bias'])


def test_converted_drawing_networks_load_and_match_the_release(tmp_path, monkeypatch):
    arrays = small_arrays()
    gen_runtime = 'model.0.conv_block.0.norm.weight'                 # saved after a forward
    arrays_rt = copy.deepcopy(arrays)
    arrays_rt['drawing_generators.nose'][gen_runtime] = np.ones((2, 16, 1, 1), np.float32)
    rng = np.random.default_rng(5)
    banks = {(s, c): rng.standard_normal((n, 6)).astype(np.float32)
             for s, n in (('man', 7), ('female', 9)) for c in COMPS}
    src = write_drawing(tmp_path / 'release', arrays_rt, monkeypatch, banks)
    summary = convert_official_drawing(src, tmp_path / 'o_drawing.pth', model_cfg=SMALL_DRAWING)
    assert len(summary['networks']) == 21 and summary['missing'] == []
    assert summary['dropped'] == [f'{src / "Drawing" / "part_gen_nose.pkl"}: {gen_runtime}']
    assert summary['banks'] == {'man': dict.fromkeys(COMPS, 7),
                                'female': dict.fromkeys(COMPS, 9)}
    for (s, c), vec in banks.items():
        bank = load_bank(tmp_path / 'o_drawing_banks' / s / f'{c}.h5', latent_dim=6, component=c)
        assert np.array_equal(bank.vectors, vec)
    nets = load_official_drawing(tmp_path / 'o_drawing.pth')
    assert len(nets) == 21
    for name, net in nets.items():          # every release value arrived unchanged
        for k, v in arrays[name].items():
            assert np.array_equal(net.state_dict()[k].numpy(), v), (name, k)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        got = nets['drawing_encoders.eye1'](x)
    torch.testing.assert_close(got, reference_encoder(arrays['drawing_encoders.eye1'], x),
                               atol=1e-5, rtol=1e-5)
    # the decoder -> geometry encoder -> part generator -> fusion chain runs on the shapes
    with torch.no_grad():
        feat = nets['drawing_decoders.eye1'](got)
        code = nets['drawing_geometry_encoders.eye1'](feat)
        part = nets['drawing_generators.eye1'].decode_feature(
            code, nets['drawing_generators.eye1'].enc_style(torch.rand(2, 3, 16, 16)))
        assert feat.shape == (2, 4, 16, 16) and part.shape == (2, 4, 16, 16)
        assert nets['drawing_fusion_generator'](torch.rand(2, 4, 64, 64)).shape == (2, 3, 64, 64)


def test_bad_drawing_files_name_the_key(tmp_path, monkeypatch):
    arrays = small_arrays(1)
    bad = copy.deepcopy(arrays['drawing_decoders.mouth'])
    bad['conv.6.weight'] = bad['conv.6.weight'][:2]          # the last conv (small model)
    with pytest.raises(OfficialWeightsError, match=r'sketch_DE_mouth.*conv\.6\.weight'):
        map_drawing_weights({'drawing_decoders.mouth': bad}, SMALL_DRAWING,
                            {'drawing_decoders.mouth': 'Drawing/sketch_DE_mouth.pkl'})
    no_stats = {k: v for k, v in arrays['drawing_encoders.bg'].items()
                if not k.endswith('conv.0.bn.running_var')}
    with pytest.raises(OfficialWeightsError, match=r"missing keys \['conv.0.bn.running_var'\]"):
        map_drawing_weights({'drawing_encoders.bg': no_stats}, SMALL_DRAWING)
    (tmp_path / 'x.pth').write_bytes(pickle.dumps({'format': 'other'}))
    with pytest.raises(OfficialWeightsError, match='x.pth: not a loadable converted'):
        load_official_drawing(tmp_path / 'x.pth')
    torch.save({'format': 'other'}, tmp_path / 'y.pth')
    with pytest.raises(OfficialWeightsError, match="y.pth: not a converted Drawing/ file"):
        load_official_drawing(tmp_path / 'y.pth')


def test_tool_converts_what_it_finds_and_says_so(tmp_path, monkeypatch, capsys):
    from test_converter import SMALL_OFFICIAL, small_release_arrays, write_release

    from facedisentangle.cli import convert_official_weights as tool

    src = write_release(tmp_path / 'release', small_release_arrays(1), 'jittor', monkeypatch)
    cfg = tmp_path / 'small.py'
    cfg.write_text(f'model = {dict(SMALL_OFFICIAL)!r}\n')
    out = tmp_path / 'o.pth'
    assert tool.main(['--src', str(src), '--out', str(out), '--model-config', str(cfg)]) == 0
    text = capsys.readouterr().out
    assert 'sketch_generator.pkl: found' in text
    assert 'Drawing/ networks and bin/ sketch banks: not found' in text
    # a partial Drawing/ folder and the banks of one set
    arrays = {k: v for k, v in small_arrays(2).items() if not k.endswith('.mouth')}
    banks = {('female', c): np.zeros((3, 6), np.float32) for c in COMPS}
    write_drawing(src, arrays, monkeypatch, banks)
    assert SMALL_DRAWING['layout'] == TINY_MODEL['layout']     # both at 64 px
    cfg.write_text(f'model = {dict(SMALL_OFFICIAL, **SMALL_DRAWING)!r}\n')
    assert tool.main(['--src', str(src), '--out', str(out), '--model-config', str(cfg)]) == 0
    text = capsys.readouterr().out
    assert 'Drawing/: found 17 of 21 networks' in text and 'part_gen_mouth.pkl' in text
    assert 'sketch banks: female: 5 components (15 vectors)' in text
    assert len(load_official_drawing(tmp_path / 'o_drawing.pth')) == 17
    assert (tmp_path / 'o_drawing_banks' / 'female' / 'nose.h5').is_file()


def test_official_projection_model_runs_the_release_chain(tmp_path, monkeypatch):
    from facedisentangle.inference.official_projection import OfficialProjectionModel
    from facedisentangle.structures import build_layout

    rng = np.random.default_rng(3)
    banks = {(s, c): rng.standard_normal((20, 6)).astype(np.float32)
             for s in ('man', 'female') for c in COMPS}
    src = write_drawing(tmp_path / 'release', small_arrays(3), monkeypatch, banks)
    convert_official_drawing(src, tmp_path / 'o_drawing.pth', model_cfg=SMALL_DRAWING)
    model = OfficialProjectionModel.from_files(tmp_path / 'o_drawing.pth',
                                               tmp_path / 'o_drawing_banks', 'man', k=5)
    assert np.array_equal(model.banks['nose'].numpy(), banks[('man', 'nose')])
    sketch, app = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    nets, layout = model.nets, build_layout(SMALL_DRAWING['layout'])
    with torch.no_grad():                       # the chain by hand, without projection
        feats, vecs = {}, {}
        for c in COMPS:
            vecs[c] = nets[f'drawing_encoders.{c}'](layout.crop(sketch, c)[:, :1])
            geo = nets[f'drawing_geometry_encoders.{c}'](nets[f'drawing_decoders.{c}'](vecs[c]))
            g = nets[f'drawing_generators.{c}']
            feats[c] = g.decode_feature(geo, g.enc_style(layout.crop(app, c)))
        want = nets['drawing_fusion_generator'](layout.fuse(feats))
    torch.testing.assert_close(model(sketch, app, 0.0), want)
    assert not torch.allclose(model(sketch, app, 1.0), want, atol=1e-4)
    # a bank holding the sketch's own vectors: projecting onto the nearest (K=1) changes nothing
    own = OfficialProjectionModel(nets, {c: torch.cat([vecs[c], torch.randn(5, 6) * 50])
                                         for c in COMPS}, SMALL_DRAWING['layout'], k=1)
    torch.testing.assert_close(own(sketch, app, 1.0), want, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="unknown component.*'ear'"):
        model(sketch, app, {'ear': 1.0})
