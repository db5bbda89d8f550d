"""Tests of the DeepFaceEditing networks (facedisentangle.models.backbones).

Official-size networks are built on the meta device (no memory, no compute) and compared key by
key and shape by shape with tests/data/official_param_names.txt; everything that runs uses
tiny networks on tiny images.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import REPO

from facedisentangle.models.backbones import (
    AdaptiveInstanceNorm2d,
    AppearanceEncoder,
    ComponentGenerator,
    GeometryEncoder,
    GlobalGenerator,
    ImageGeometryEncoder,
    ImageToSketchGenerator,
    MultiScaleDiscriminator,
    ResnetBlock,
    SketchDecoder,
    SketchEncoder,
    assign_adain_params,
    clear_adain_params,
    init_weights,
    num_adain_params,
)
from facedisentangle.registry import BACKBONES

torch.set_num_threads(1)
OFFICIAL = REPO / 'tests' / 'data' / 'official_param_names.txt'


# ---------------------------------------------------------------- official parameter names
def parse_official(path: Path = OFFICIAL) -> dict[str, dict]:
    """``{section header: {'tensors': {name: shape}, 'norms': [...], 'count', 'numel'}}``."""
    sections: dict[str, dict] = {}
    cur = None
    in_norms = False
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        if line.startswith('## norm layers'):
            in_norms = True
            continue
        m = re.match(r'## (\d+) tensors, (\d+) parameters', line)
        if m and cur is not None:
            cur['count'], cur['numel'] = int(m.group(1)), int(m.group(2))
            continue
        if re.match(r'## \w+\(', line):
            cur = sections.setdefault(line[3:], {'tensors': {}, 'norms': []})
            in_norms = False
            continue
        if line.startswith('#'):
            continue
        fields = line.split('\t')
        if in_norms:
            cur['norms'].append(fields)
        else:
            name, shape = fields[0], fields[1]
            cur['tensors'][name] = tuple(int(v) for v in shape.strip('[]').split(','))
    return sections


def _section(sections: dict, key: str) -> dict:
    matches = [v for k, v in sections.items() if key in k]
    assert len(matches) == 1, f'{key!r} matches {len(matches)} sections of {OFFICIAL.name}'
    return matches[0]


OFFICIAL_BUILDERS = {
    '[sketch encoder]': lambda: SketchEncoder(),
    '[image encoder]': lambda: ImageGeometryEncoder(),
    'Part_Generator(': lambda: ComponentGenerator(),
    'GlobalGenerator(input_nc=64': lambda: GlobalGenerator(),
}


def test_official_file_parses():
    sections = parse_official()
    assert len(sections) == 4
    for key in OFFICIAL_BUILDERS:
        sec = _section(sections, key)
        assert len(sec['tensors']) == sec['count']
        numel = sum(torch.Size(s).numel() for s in sec['tensors'].values())
        assert numel == sec['numel']
        assert sec['norms']


@pytest.mark.parametrize('key', list(OFFICIAL_BUILDERS))
def test_official_state_dict_names_and_shapes(key):
    sec = _section(parse_official(), key)
    with torch.device('meta'):
        net = OFFICIAL_BUILDERS[key]()
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    missing = sorted(set(sec['tensors']) - set(ours))
    extra = sorted(set(ours) - set(sec['tensors']))
    assert not missing and not extra, f'missing {missing[:5]}, extra {extra[:5]}'
    assert ours == sec['tensors']
    assert sum(p.numel() for p in net.parameters()) == sec['numel']


@pytest.mark.parametrize('key', list(OFFICIAL_BUILDERS))
def test_official_norm_layers(key):
    sec = _section(parse_official(), key)
    with torch.device('meta'):
        net = OFFICIAL_BUILDERS[key]()
    for fields in sec['norms']:
        name, cls, num = fields[0], fields[1], int(fields[2])
        mod = net.get_submodule(name)
        if cls == 'AdaptiveInstanceNorm2d':
            assert isinstance(mod, AdaptiveInstanceNorm2d), name
            assert mod.num_features == num and mod.eps == 1e-5
        else:
            assert cls == 'InstanceNorm'
            assert type(mod) is nn.InstanceNorm2d, name
            assert mod.num_features == num
            assert mod.affine == (fields[3] == 'affine=True'), name
            assert mod.eps == float(fields[4].split('=')[1])
            assert not mod.track_running_stats


def test_official_generator_adain_and_feature_layer():
    with torch.device('meta'):
        gen = ComponentGenerator()
    assert gen.num_adain_params == 18304 == num_adain_params(gen.model)
    assert gen.enc_style.model[7].out_channels == 18304
    assert gen.style_dim == 64 and gen.feature_channels == 64
    # the feature map is the output of model.15 (last ReLU), the head is model.16..18
    assert isinstance(gen.model[15], nn.ReLU) and isinstance(gen.model[17], nn.Conv2d)
    assert len(gen.model) == 19


def test_image_to_sketch_generator_defaults():
    with torch.device('meta'):
        net = ImageToSketchGenerator()
    blocks = [m for m in net.model if isinstance(m, ResnetBlock)]
    assert len(blocks) == 9
    assert tuple(net.model[1].weight.shape) == (32, 3, 7, 7)
    assert tuple(net.model[-2].weight.shape) == (3, 32, 7, 7)
    assert isinstance(net.model[16], ResnetBlock) and isinstance(net.model[25], nn.ConvTranspose2d)


# ---------------------------------------------------------------- AdaIN
def test_adain_math_and_bias_then_weight_slicing():
    torch.manual_seed(0)
    net = nn.Sequential(AdaptiveInstanceNorm2d(3), nn.Sequential(AdaptiveInstanceNorm2d(5)))
    assert num_adain_params(net) == 16
    p = torch.randn(2, 16)
    assign_adain_params(p, net)
    x1, x2 = torch.randn(2, 3, 4, 5), torch.randn(2, 5, 3, 3)
    exp1 = F.instance_norm(x1, eps=1e-5) * p[:, 3:6, None, None] + p[:, 0:3, None, None]
    exp2 = F.instance_norm(x2, eps=1e-5) * p[:, 11:16, None, None] + p[:, 6:11, None, None]
    torch.testing.assert_close(net[0](x1), exp1)
    torch.testing.assert_close(net[1][0](x2), exp2)
    assert net.state_dict() == {}  # assigned tensors are not state
    # (B, N, 1, 1) as the official enc_style returns it works the same
    assign_adain_params(p[:, :, None, None], net)
    torch.testing.assert_close(net[0](x1), exp1)
    clear_adain_params(net)
    with pytest.raises(RuntimeError, match='assign_adain_params'):
        net[0](x1)
    with pytest.raises(ValueError, match=r'\(B, 16\)'):
        assign_adain_params(torch.randn(2, 15), net)


def test_adain_broadcasts_one_appearance_and_rejects_wrong_batch():
    layer = AdaptiveInstanceNorm2d(2)
    p = torch.tensor([[1.0, -1.0, 2.0, 3.0]])
    assign_adain_params(p, layer)
    x = torch.randn(3, 2, 4, 4)
    exp = F.instance_norm(x) * torch.tensor([2.0, 3.0])[None, :, None, None] \
        + torch.tensor([1.0, -1.0])[None, :, None, None]
    torch.testing.assert_close(layer(x), exp)
    assign_adain_params(torch.randn(2, 4), layer)
    with pytest.raises(ValueError, match='batch'):
        layer(x)


@pytest.mark.parametrize('ngf,n_down,n_blocks', [(64, 4, 4), (4, 3, 2), (8, 2, 1), (2, 1, 0)])
def test_adain_param_count_formula(ngf, n_down, n_blocks):
    with torch.device('meta'):
        gen = ComponentGenerator(ngf=ngf, n_downsampling=n_down, n_blocks=n_blocks,
                                 style_dim=16, app_dim=4, app_n_downsampling=3)
    expected = 2 * ngf * ((2 * n_blocks + 1) * 2 ** n_down - 1)
    assert gen.num_adain_params == expected == gen.enc_style.num_adain_params


# ---------------------------------------------------------------- ResnetBlock
def test_resnet_block_keys_and_identity_skip():
    blk = ResnetBlock(4, norm='in')
    assert set(blk.state_dict()) == {f'conv_block.{i}.{m}.{p}' for i in (0, 1)
                                     for m in ('conv', 'norm') for p in ('weight', 'bias')}
    assert set(ResnetBlock(4, norm='adain').state_dict()) == {
        f'conv_block.{i}.conv.{p}' for i in (0, 1) for p in ('weight', 'bias')}
    # second conv at zero: the block is the identity, negative values included (no ReLU
    # after the addition)
    blk = ResnetBlock(4, norm='none')
    nn.init.zeros_(blk.conv_block[1].conv.weight)
    nn.init.zeros_(blk.conv_block[1].conv.bias)
    x = torch.randn(1, 4, 6, 6)
    torch.testing.assert_close(blk(x), x)
    assert (blk(x) < 0).any()


def test_resnet_block_computation():
    torch.manual_seed(1)
    blk = ResnetBlock(3, norm='in', padding='reflect')
    x = torch.randn(2, 3, 5, 5)
    c0, c1 = blk.conv_block[0], blk.conv_block[1]
    h = F.conv2d(F.pad(x, (1, 1, 1, 1), mode='reflect'), c0.conv.weight, c0.conv.bias)
    h = F.relu(F.instance_norm(h, weight=c0.norm.weight, bias=c0.norm.bias, eps=1e-5))
    h = F.conv2d(F.pad(h, (1, 1, 1, 1), mode='reflect'), c1.conv.weight, c1.conv.bias)
    h = F.instance_norm(h, weight=c1.norm.weight, bias=c1.norm.bias, eps=1e-5)
    torch.testing.assert_close(blk(x), x + h)


def test_bad_norm_and_padding_are_named():
    with pytest.raises(ValueError, match="'batch'"):
        ResnetBlock(4, norm='batch')
    with pytest.raises(ValueError, match="'circular'"):
        ResnetBlock(4, padding='circular')


# ---------------------------------------------------------------- encoders / decoder
def test_geometry_encoder_tiny_shapes_and_errors():
    enc = GeometryEncoder(ngf=4, n_downsampling=3, n_blocks=1)
    assert enc.out_channels == 32 and enc.stride == 8
    code = enc(torch.randn(2, 3, 40, 40))  # a nose crop at 128 px
    assert code.shape == (2, 32, 5, 5)
    assert enc(torch.randn(1, 3, 32, 48)).shape == (1, 32, 4, 6)
    with pytest.raises(ValueError, match='not divisible by the total stride 8'):
        enc(torch.randn(1, 3, 36, 36))
    with pytest.raises(ValueError, match='1 channels, expected 3'):
        enc(torch.randn(1, 1, 40, 40))


def test_sketch_and_image_encoder_block_counts():
    s = SketchEncoder(ngf=2, n_downsampling=2)
    i = ImageGeometryEncoder(ngf=2, n_downsampling=2)
    assert sum(isinstance(m, ResnetBlock) for m in s.model) == 1
    assert sum(isinstance(m, ResnetBlock) for m in i.model) == 6
    assert isinstance(s.model[4 + 3 * 2], ResnetBlock)  # blocks right after the down path
    x = torch.randn(1, 3, 16, 16)
    assert s(x).shape == i(x).shape == (1, 8, 4, 4)


@pytest.mark.parametrize('n_down,n_blocks', [(3, 1), (4, 1), (2, 0), (2, 2)])
def test_sketch_decoder_taps(n_down, n_blocks):
    torch.manual_seed(0)
    ngf, size = 2, 2 ** n_down * 2
    dec = SketchDecoder(ngf=ngf, n_downsampling=n_down, n_blocks=n_blocks)
    code = torch.randn(2, ngf * 2 ** n_down, 2, 2)
    img, taps = dec(code, return_taps=True)
    assert len(taps) == n_down + 3 == dec.num_taps
    assert img.shape == (2, 3, size, size)
    assert taps[0] is code and taps[-1] is img
    after_blocks = code
    for blk in dec.model[:n_blocks]:
        after_blocks = blk(after_blocks)
    torch.testing.assert_close(taps[1], after_blocks)
    for i, t in enumerate(taps[2:-1]):
        assert t.shape == (2, ngf * 2 ** (n_down - 1 - i), 2 * 2 ** (i + 1), 2 * 2 ** (i + 1))
        assert (t >= 0).all()  # after the ReLU
    assert img.abs().max() <= 1
    torch.testing.assert_close(dec(code), img)


def test_sketch_autoencoder_roundtrip_shape():
    enc, dec = SketchEncoder(ngf=2, n_downsampling=4), SketchDecoder(ngf=2, n_downsampling=4)
    s = torch.rand(1, 3, 32, 32) * 2 - 1
    rec, taps = dec(enc(s), return_taps=True)
    assert rec.shape == s.shape and len(taps) == 7
    with pytest.raises(ValueError, match='code has 16 channels, expected 32'):
        dec(torch.randn(1, 16, 2, 2))


def test_appearance_encoder_structure_and_interpolation():
    torch.manual_seed(0)
    enc = AppearanceEncoder(num_adain_params=10, dim=2, n_downsampling=3, style_dim=8)
    chans = [(m.conv.in_channels, m.conv.out_channels, m.conv.kernel_size[0], m.conv.stride[0])
             for m in enc.model[:4]]
    assert chans == [(3, 2, 7, 1), (2, 4, 4, 2), (4, 8, 4, 2), (8, 8, 4, 2)]
    assert isinstance(enc.model[4], nn.AdaptiveAvgPool2d) and enc.model[5].kernel_size == (1, 1)
    a, b = torch.rand(2, 3, 24, 24) * 2 - 1, torch.rand(2, 3, 24, 24) * 2 - 1
    va, vb = enc.encode(a), enc.encode(b)
    assert va.shape == (2, 8) and (va >= 0).all()
    pa = enc(a)
    assert pa.shape == (2, 10)
    torch.testing.assert_close(pa, enc.adain_params(va))
    mix = enc.adain_params(0.25 * va + 0.75 * vb)  # affine head: interpolation commutes
    torch.testing.assert_close(mix, 0.25 * pa + 0.75 * enc(b), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='minimum 8x8'):
        enc.encode(torch.randn(1, 3, 6, 6))
    with pytest.raises(ValueError, match=r'\(B, 8\)'):
        enc.adain_params(torch.randn(2, 7))
    with pytest.raises(ValueError, match='style_dim'):
        AppearanceEncoder(10, dim=16, style_dim=48)


# ---------------------------------------------------------------- component generator
def _tiny_generator(**kw):
    cfg = dict(ngf=4, n_downsampling=3, n_blocks=2, style_dim=16, app_dim=4,
               app_n_downsampling=3)
    cfg.update(kw)
    return ComponentGenerator(**cfg)


def test_component_generator_tiny_shapes_and_sources():
    torch.manual_seed(0)
    gen = _tiny_generator()
    assert gen.num_adain_params == 2 * 4 * (5 * 8 - 1)
    code = torch.randn(2, 32, 5, 5)
    app = torch.rand(2, 3, 40, 40) * 2 - 1
    img, feat = gen(code, appearance_image=app, return_feature=True)
    assert img.shape == (2, 3, 40, 40) and feat.shape == (2, 4, 40, 40)
    assert img.abs().max() <= 1 and (feat >= 0).all()
    torch.testing.assert_close(gen.to_image(feat), img)
    params = gen.enc_style(app)
    feat2, img2 = gen.decode(code, params)
    torch.testing.assert_close(img2, img)
    torch.testing.assert_close(feat2, feat)
    torch.testing.assert_close(gen.decode_feature(code, params), feat)
    torch.testing.assert_close(gen(code, adain_params=params), img)
    torch.testing.assert_close(
        gen(code, appearance_vector=gen.encode_appearance(app)), img)
    # AdaIN layers are cleared after each call and never enter the state dict
    assert all(m.weight is None for m in gen.modules() if isinstance(m, AdaptiveInstanceNorm2d))
    assert not any('norm' in k for k in gen.state_dict())
    assert 'enc_style.model.0.conv.weight' in gen.state_dict()


def test_component_generator_appearance_matters_and_broadcasts():
    torch.manual_seed(0)
    gen = _tiny_generator()
    code = torch.randn(1, 32, 4, 4).expand(2, -1, -1, -1)
    params = torch.randn(2, gen.num_adain_params)
    img = gen(code, adain_params=params)
    assert not torch.allclose(img[0], img[1])  # same geometry, different appearance
    one = gen(code, adain_params=params[:1])
    torch.testing.assert_close(one[0], img[0])
    torch.testing.assert_close(one[1], img[0])


def test_component_generator_source_errors():
    gen = _tiny_generator()
    code = torch.randn(1, 32, 4, 4)
    with pytest.raises(ValueError, match='exactly one'):
        gen(code)
    with pytest.raises(ValueError, match='adain_params, appearance_vector'):
        gen(code, adain_params=torch.randn(1, gen.num_adain_params),
            appearance_vector=torch.randn(1, 16))
    with pytest.raises(ValueError, match='geometry code has 16 channels'):
        gen(torch.randn(1, 16, 4, 4), adain_params=torch.randn(1, gen.num_adain_params))
    with pytest.raises(ValueError, match=f'\\(B, {gen.num_adain_params}\\)'):
        gen.decode(code, torch.randn(1, 5))
    assert all(m.weight is None for m in gen.modules() if isinstance(m, AdaptiveInstanceNorm2d))


def test_component_generator_gradients_reach_appearance_encoder():
    torch.manual_seed(0)
    gen = _tiny_generator(ngf=2, n_downsampling=2, n_blocks=1, style_dim=8, app_dim=2)
    code = torch.randn(2, 8, 4, 4, requires_grad=True)
    gen(code, appearance_image=torch.rand(2, 3, 16, 16)).mean().backward()
    assert gen.enc_style.model[0].conv.weight.grad.abs().sum() > 0
    assert gen.enc_style.model[-1].weight.grad.abs().sum() > 0
    assert gen.model[0].conv_block[0].conv.weight.grad.abs().sum() > 0
    assert code.grad.abs().sum() > 0


# ---------------------------------------------------------------- global generator
def test_global_generator_tiny():
    net = GlobalGenerator(input_nc=4, ngf=4, n_downsampling=2, n_blocks=1)
    x = torch.randn(1, 4, 16, 16)
    y = net(x)
    assert y.shape == (1, 3, 16, 16) and y.abs().max() <= 1
    assert isinstance(net.model[10], ResnetBlock)
    assert isinstance(net.model[11], nn.ConvTranspose2d)
    with pytest.raises(ValueError, match='not divisible'):
        net(torch.randn(1, 4, 18, 18))
    bn = GlobalGenerator(input_nc=4, ngf=4, n_downsampling=2, n_blocks=1, norm='none')
    assert len(bn.model) == len(net.model)  # Identity keeps the official indices
    assert not any('norm' in k for k in bn.state_dict())


# ---------------------------------------------------------------- discriminators
def test_multiscale_discriminator_structure():
    torch.manual_seed(0)
    d = MultiScaleDiscriminator(ndf=4, n_layers=2, num_D=2)
    assert d.min_size == 8
    out = d(torch.randn(2, 3, 32, 32))
    assert len(out) == 2 and all(len(o) == 4 for o in out)
    assert [tuple(t.shape[1:]) for t in out[0]] == [(4, 17, 17), (8, 9, 9), (16, 10, 10),
                                                   (1, 11, 11)]
    assert [tuple(t.shape[1:]) for t in out[1]] == [(4, 9, 9), (8, 5, 5), (16, 6, 6),
                                                   (1, 7, 7)]
    # the second scale sees the average-pooled input
    pooled = F.avg_pool2d(torch.ones(1, 3, 32, 32), 3, 2, 1, count_include_pad=False)
    torch.testing.assert_close(d.downsample(torch.ones(1, 3, 32, 32)), pooled)
    with pytest.raises(ValueError, match='minimum 8x8'):
        d(torch.randn(1, 3, 7, 7))
    sum(o[-1].mean() for o in out).backward()
    assert d.discriminators[1].layers[0][0].weight.grad is not None


def test_multiscale_discriminator_default_and_options():
    d = MultiScaleDiscriminator(ndf=2)
    assert len(d.discriminators) == 3 and d.min_size == 32
    out = d(torch.randn(1, 3, 32, 32))
    assert len(out) == 3 and all(len(o) == 5 for o in out)
    sig = MultiScaleDiscriminator(ndf=2, n_layers=1, num_D=1, norm='bn', use_sigmoid=True)
    pred = sig(torch.randn(2, 3, 8, 8))[0][-1]
    assert ((pred > 0) & (pred < 1)).all()
    with pytest.raises(ValueError, match="'group'"):
        MultiScaleDiscriminator(norm='group')


# ---------------------------------------------------------------- init and registry
def test_init_weights_normal_and_errors():
    torch.manual_seed(0)
    enc = GeometryEncoder(ngf=16, n_downsampling=1, n_blocks=1)
    w = enc.model[1].weight
    assert abs(w.std().item() - 0.02) < 0.004 and (enc.model[1].bias == 0).all()
    assert abs(enc.model[2].weight.mean().item() - 1) < 0.02
    enc.init_weights('default')
    assert w.std().item() > 0.04  # PyTorch's kaiming-uniform default for 3*49 fan-in
    with pytest.raises(ValueError, match="'uniform'"):
        init_weights(enc, 'uniform')
    with pytest.raises(ValueError, match="'uniform'"):
        GeometryEncoder(ngf=2, n_downsampling=1, init_type='uniform')


def test_adain_init_unit_starts_every_adain_as_instance_norm():
    tiny = dict(ngf=4, n_downsampling=2, n_blocks=1, style_dim=16, app_dim=4,
                app_n_downsampling=2)
    torch.manual_seed(0)
    gen = ComponentGenerator(**tiny)
    bias = gen.enc_style.model[-1].bias
    offset = 0
    for m in gen.model.modules():  # per AdaIN layer: C biases = 0, then C weights = 1
        if isinstance(m, AdaptiveInstanceNorm2d):
            c = m.num_features
            assert (bias[offset:offset + c] == 0).all()
            assert (bias[offset + c:offset + 2 * c] == 1).all()
            offset += 2 * c
    assert offset == gen.num_adain_params
    # the appearance encoder starts kaiming: its vector is O(1) and differs between images
    vec = gen.encode_appearance(torch.rand(4, 3, 16, 16) * 2 - 1)
    assert vec.abs().mean() > 0.05 and vec.std(0).mean() > 1e-3
    # pix2pixHD's N(0, 0.02) everywhere, head bias 0 (the old start): vector ~1e-4, AdaIN
    # weights ~0, so the output hardly depends on the geometry code
    torch.manual_seed(0)
    old = ComponentGenerator(**tiny, adain_init='zero', appearance_init=None)
    assert (old.enc_style.model[-1].bias == 0).all()
    assert old.encode_appearance(torch.rand(4, 3, 16, 16) * 2 - 1).abs().mean() < 0.01

    def geometry_effect(g):
        image = torch.rand(2, 3, 16, 16) * 2 - 1
        params = g.enc_style(image)
        code = torch.randn(2, 16, 4, 4)
        return (g(code, adain_params=params) -
                g(torch.randn_like(code), adain_params=params)).abs().mean()

    assert geometry_effect(gen) > 10 * geometry_effect(old)
    # re-initialising keeps the choice; the state dict has the official keys either way
    gen.init_weights()
    assert bias[offset - 1] == 1
    assert set(gen.state_dict()) == set(old.state_dict())
    with pytest.raises(ValueError, match="adain_init.*'ones'"):
        ComponentGenerator(ngf=4, n_downsampling=2, n_blocks=1, adain_init='ones')


def test_mmengine_init_weights_does_not_reset_loaded_weights():
    from mmengine.model import BaseModule

    class Holder(BaseModule):
        def __init__(self):
            super().__init__()
            self.enc = GeometryEncoder(ngf=2, n_downsampling=1)
            self.disc = MultiScaleDiscriminator(ndf=2, n_layers=1, num_D=2)

    h = Holder()
    with torch.no_grad():
        h.enc.model[1].weight.fill_(0.5)  # e.g. weights of a previous stage
        h.disc.discriminators[1].layers[0][0].weight.fill_(0.25)
    h.init_weights()  # what the Runner does before training
    assert (h.enc.model[1].weight == 0.5).all()
    assert (h.disc.discriminators[1].layers[0][0].weight == 0.25).all()


TINY_BUILD = {
    'GeometryEncoder': (dict(ngf=2, n_downsampling=2), (1, 3, 16, 16)),
    'SketchEncoder': (dict(ngf=8, n_downsampling=3), (1, 3, 16, 16)),
    'ImageGeometryEncoder': (dict(ngf=2, n_downsampling=2), (1, 3, 16, 16)),
    'SketchDecoder': (dict(ngf=2, n_downsampling=2), (1, 8, 4, 4)),
    'AppearanceEncoder': (dict(num_adain_params=6, dim=2, style_dim=8, n_downsampling=2),
                          (1, 3, 16, 16)),
    'ComponentGenerator': (dict(ngf=2, n_downsampling=2, n_blocks=1, style_dim=8, app_dim=2,
                                app_n_downsampling=2), None),
    'GlobalGenerator': (dict(input_nc=2, ngf=2, n_downsampling=2, n_blocks=1), (1, 2, 16, 16)),
    'GlobalFusionGenerator': (dict(input_nc=2, ngf=2, n_downsampling=2, n_blocks=1),
                              (1, 2, 16, 16)),
    'ImageToSketchGenerator': (dict(ngf=2, n_downsampling=2, n_blocks=1), (1, 3, 16, 16)),
    'NLayerDiscriminator': (dict(ndf=2, n_layers=2), (1, 3, 16, 16)),
    'DrawingEncoder': (dict(image_size=16, channels=(2, 4), latent_dim=8), (2, 3, 16, 16)),
    'DrawingDecoder': (dict(image_size=16, channels=(4, 2, 2), latent_dim=8), (2, 8)),
    'MultiScaleDiscriminator': (dict(ndf=2, n_layers=2, num_D=2), (1, 3, 16, 16)),
}


def test_every_registered_backbone_is_covered():
    assert set(BACKBONES.module_dict) == set(TINY_BUILD)


@pytest.mark.parametrize('name', sorted(TINY_BUILD))
def test_build_from_registry(name):
    kwargs, shape = TINY_BUILD[name]
    net = BACKBONES.build(dict(type=name, **kwargs))
    assert isinstance(net, nn.Module)
    if shape is None:  # the component generator takes a code and an appearance
        out = net(torch.randn(1, 8, 4, 4), appearance_image=torch.rand(1, 3, 16, 16))
        assert out.shape == (1, 3, 16, 16)
    else:
        out = net(torch.randn(*shape))
        assert isinstance(out, (torch.Tensor, list))


def test_registry_names_the_unknown_type():
    with pytest.raises(KeyError, match='SketchEncoder'):
        BACKBONES.build(dict(type='SketchEncodr'))
