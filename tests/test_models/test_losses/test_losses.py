"""Tests of facedisentangle.models.losses: hand-computed values on tiny tensors."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import vgg as tv_vgg

from facedisentangle.models.losses import (
    VGG19_LAYER_NAMES,
    CycleConsistencyLoss,
    FeatureMatchingLoss,
    GANLoss,
    GeometryCodeLoss,
    GeometryConsistencyLoss,
    PerceptualLoss,
    PixelL1Loss,
    ReconstructionLoss,
)
from facedisentangle.models.losses.utils import check_region_weights, region_weight_map
from facedisentangle.registry import LOSSES

torch.set_num_threads(1)
VGG_FILE = 'vgg19-dcbb9e9d.pth'


def t(values) -> torch.Tensor:
    """A (1, 1, 1, n) float tensor."""
    return torch.tensor(values, dtype=torch.float32).view(1, 1, 1, -1)


# ---------------------------------------------------------------- pixel / code L1 losses
def test_reconstruction_loss_value_reduction_and_weight():
    pred = torch.tensor([[0.0, 1.0], [2.0, -3.0]]).view(1, 1, 2, 2)
    target = torch.zeros(1, 1, 2, 2)
    assert ReconstructionLoss()(pred, target).item() == pytest.approx(1.5)
    assert ReconstructionLoss(reduction='sum')(pred, target).item() == pytest.approx(6.0)
    assert ReconstructionLoss(loss_weight=2.0)(pred, target).item() == pytest.approx(3.0)
    none = ReconstructionLoss(reduction='none', loss_weight=0.5)(pred, target)
    assert torch.allclose(none, pred.abs() * 0.5)
    with pytest.raises(ValueError, match='different shapes'):
        ReconstructionLoss()(pred, torch.zeros(1, 1, 2, 3))
    with pytest.raises(ValueError, match="reduction='max'"):
        ReconstructionLoss(reduction='max')


def test_loss_name_default_override_and_validation():
    assert ReconstructionLoss().loss_name == 'loss_rec'
    assert ReconstructionLoss(loss_name='loss_sketch_rec').loss_name == 'loss_sketch_rec'
    assert GeometryConsistencyLoss().loss_name == 'loss_geo'
    with pytest.raises(ValueError, match="loss_name='rec'.*parse_losses"):
        ReconstructionLoss(loss_name='rec')
    with pytest.raises(ValueError, match='loss_weight=-1'):
        CycleConsistencyLoss(loss_weight=-1)


def test_geometry_code_loss_value_weights_and_detach():
    code_pred = torch.ones(1, 2, 1, 1, requires_grad=True)
    code_target = torch.zeros(1, 2, 1, 1, requires_grad=True)
    taps_pred = [torch.full((1, 3, 2, 2), 2.0, requires_grad=True),
                 torch.full((1, 1, 4, 4), 0.5, requires_grad=True)]
    taps_target = [torch.zeros(1, 3, 2, 2, requires_grad=True),
                   torch.zeros(1, 1, 4, 4, requires_grad=True)]
    # 1 * |1 - 0| + 1 * |2 - 0| + 2 * |0.5 - 0| = 4
    loss = GeometryCodeLoss(tap_weights=[1.0, 2.0])(code_pred, code_target, taps_pred,
                                                    taps_target)
    assert loss.item() == pytest.approx(4.0)
    loss.backward()
    assert code_pred.grad is not None and taps_pred[1].grad is not None
    assert code_target.grad is None and all(x.grad is None for x in taps_target)
    # scalar tap weight, latent weight, loss_weight: 3 * (2 * 1 + 0.5 * (2 + 0.5)) = 9.75
    loss = GeometryCodeLoss(latent_weight=2.0, tap_weights=0.5, loss_weight=3.0)(
        code_pred, code_target, taps_pred, taps_target)
    assert loss.item() == pytest.approx(9.75)
    with pytest.raises(ValueError, match='tap_weights has 3 weights but 2 decoder taps'):
        GeometryCodeLoss(tap_weights=[1, 1, 1])(code_pred, code_target, taps_pred, taps_target)
    with pytest.raises(ValueError, match='taps_pred has 2 taps but taps_target has 1'):
        GeometryCodeLoss()(code_pred, code_target, taps_pred, taps_target[:1])


def test_geometry_consistency_loss_value_and_detach():
    code_mix = t([1.0, -1.0, 3.0, 0.0]).requires_grad_()
    code_ref = t([0.0, 0.0, 1.0, 0.0]).requires_grad_()
    loss = GeometryConsistencyLoss(loss_weight=2.0)(code_mix, code_ref)
    assert loss.item() == pytest.approx(2.0 * (1 + 1 + 2 + 0) / 4)
    loss.backward()
    assert code_mix.grad is not None and code_ref.grad is None
    keep = GeometryConsistencyLoss(detach_target=False)(code_mix, code_ref)
    keep.backward()
    assert code_ref.grad is not None


def test_cycle_consistency_loss_value():
    cycle, i2 = t([0.5, -0.5, 1.0]), t([0.0, 0.5, 1.0])
    assert CycleConsistencyLoss()(cycle, i2).item() == pytest.approx(0.5)
    assert CycleConsistencyLoss(loss_weight=4, reduction='sum')(cycle, i2).item() == \
        pytest.approx(6.0)
    assert CycleConsistencyLoss()(i2, i2).item() == 0.0


def test_the_pixel_terms_are_one_l1_under_the_papers_names():
    assert issubclass(ReconstructionLoss, PixelL1Loss)
    assert issubclass(CycleConsistencyLoss, PixelL1Loss)
    assert LOSSES.get('ReconstructionLoss') is ReconstructionLoss
    assert LOSSES.get('CycleConsistencyLoss') is CycleConsistencyLoss
    assert (ReconstructionLoss().loss_name, CycleConsistencyLoss().loss_name) == \
        ('loss_rec', 'loss_cycle')
    assert torch.equal(CycleConsistencyLoss(reduction='none')(t([1.0, -2.0]), t([0.0, 0.0])),
                       t([1.0, 2.0]))


def weight_map(label, entries, like):
    return region_weight_map(label, check_region_weights(entries, 'test'), like, 'test')


@pytest.mark.parametrize('cls', [ReconstructionLoss, CycleConsistencyLoss])
def test_weight_map_weighs_each_pixel(cls):
    pred = torch.tensor([[1.0, 2.0], [-1.0, 0.5]]).view(1, 1, 2, 2).repeat(1, 3, 1, 1)
    target = torch.zeros(1, 3, 2, 2)
    label = torch.tensor([[[0, 5], [7, 5]]], dtype=torch.uint8)
    plain = cls()(pred, target).item()
    assert plain == pytest.approx(4.5 / 4)
    # irises (5) x10, lips (7) x3, the rest x1; still divided by the number of elements
    weights = [dict(labels=[5], weight=10.0), dict(labels=7, weight=3.0)]
    w = weight_map(label, weights, pred)
    assert w.shape == (1, 1, 2, 2) and w.flatten().tolist() == [1.0, 10.0, 3.0, 10.0]
    loss = cls(loss_weight=2.0)
    assert loss(pred, target, w).item() == pytest.approx(
        2.0 * (1.0 + 10 * 2.0 + 3 * 1.0 + 10 * 0.5) / 4)
    # all weights 1: the plain L1; label (B, 1, H, W) is accepted too
    ones = weight_map(label[:, None], [dict(labels=[5, 7], weight=1.0)], pred)
    assert cls()(pred, target, ones).item() == pytest.approx(plain)
    summed = cls(reduction='sum')(pred, target, w)
    assert summed.item() == pytest.approx(3 * (1.0 + 20.0 + 3.0 + 5.0))
    assert torch.equal(cls(reduction='none')(pred, target, w), pred.abs() * w)
    # gradients reach pred through the weight
    p = pred.clone().requires_grad_(True)
    cls()(p, target, w).backward()
    assert p.grad[0, 0, 0, 1].item() == pytest.approx(10 * p.grad[0, 0, 0, 0].item())
    with pytest.raises(ValueError, match=r'weight map \(1, 1, 3, 2\) does not broadcast'):
        cls()(pred, target, torch.ones(1, 1, 3, 2))
    with pytest.raises(TypeError, match='weight must be a tensor'):
        cls()(pred, target, 2.0)


@pytest.mark.parametrize('cls', [ReconstructionLoss, CycleConsistencyLoss])
def test_region_weights_belong_to_the_model_not_the_loss(cls):
    with pytest.raises(ValueError, match=r'region_weights is an argument of the model.*'
                                         r'model\.region_weights'):
        cls(region_weights=[dict(labels=[5], weight=10.0)])


def test_region_weight_map_errors_name_what_is_wrong():
    like = torch.ones(2, 3, 4, 4)
    with pytest.raises(ValueError, match='load_labels=True'):
        weight_map(None, [dict(labels=[5], weight=10.0)], like)
    with pytest.raises(ValueError, match=r'label map is \(2, 4, 5\).*\(2, 4, 4\)'):
        weight_map(torch.zeros(2, 4, 5, dtype=torch.uint8), [dict(labels=[5], weight=10.0)],
                   like)
    for bad, match in (([], 'non-empty list'), ([dict(labels=[5])], 'labels=.*weight'),
                       ([dict(labels=['iris'], weight=1.0)], 'integers 0..255'),
                       ([dict(labels=[5], weight=-2)], r'region_weights\[0\].weight=-2'),
                       ([dict(labels=[5], weight=2), dict(labels=[4, 5], weight=3)],
                        r'\[5\] appear in more than one entry')):
        with pytest.raises(ValueError, match=match):
            check_region_weights(bad, 'test')


# ---------------------------------------------------------------- GAN
P = [0.5, 2.0]


def test_gan_lsgan_sides_and_labels():
    p = t(P)
    loss = GANLoss('lsgan')
    assert loss(p, True, is_disc=True).item() == pytest.approx((0.25 + 1.0) / 2)
    assert loss(p, False, is_disc=True).item() == pytest.approx((0.25 + 4.0) / 2)
    assert loss(p, True).item() == pytest.approx((0.25 + 1.0) / 2)
    custom = GANLoss('lsgan', real_label=0.9, fake_label=0.1)
    assert custom(p, True).item() == pytest.approx(((0.5 - 0.9) ** 2 + (2 - 0.9) ** 2) / 2)
    assert custom(p, False).item() == pytest.approx(((0.5 - 0.1) ** 2 + (2 - 0.1) ** 2) / 2)


def test_gan_vanilla_sides():
    p = t(P)
    loss = GANLoss('vanilla')

    def softplus(x):
        return math.log1p(math.exp(x))
    assert loss(p, True).item() == pytest.approx((softplus(-0.5) + softplus(-2.0)) / 2)
    assert loss(p, False, is_disc=True).item() == pytest.approx(
        (softplus(0.5) + softplus(2.0)) / 2)


def test_gan_hinge_sides_relu():
    p = t([-2.0, 0.5, 3.0])
    loss = GANLoss('hinge')
    # D real: relu(1 - p) = 3, 0.5, 0 ; D fake: relu(1 + p) = 0, 1.5, 4 ; G: -mean(p)
    assert loss(p, True, is_disc=True).item() == pytest.approx(3.5 / 3)
    assert loss(p, False, is_disc=True).item() == pytest.approx(5.5 / 3)
    assert loss(p, True, is_disc=False).item() == pytest.approx(-0.5)
    with pytest.raises(ValueError, match='hinge generator'):
        loss(p, False, is_disc=False)


def test_gan_weights_multiscale_and_errors():
    p = t(P)
    assert GANLoss(loss_weight=3.0)(p, True).item() == pytest.approx(3 * 0.625)
    assert GANLoss(loss_weight=3.0)(p, True, is_disc=True).item() == pytest.approx(0.625)
    assert GANLoss(disc_loss_weight=0.5)(p, True, is_disc=True).item() == pytest.approx(0.3125)
    feat = torch.randn(1, 4, 3, 3)
    multi = [[feat, t([0.0])], [feat, t([2.0])]]  # per scale (real target): 1 and 1 -> 1, 2
    assert GANLoss()(multi, True).item() == pytest.approx(1.0)
    assert GANLoss(scale_reduction='sum')(multi, True).item() == pytest.approx(2.0)
    multi = [[feat, t([0.0])], [feat, t([3.0])]]  # 1 and 4
    assert GANLoss()(multi, True).item() == pytest.approx(2.5)
    assert GANLoss()([t([0.0]), t([3.0])], True).item() == pytest.approx(2.5)
    with pytest.raises(ValueError, match=r"gan_type='wgan'.*lsgan, hinge, vanilla"):
        GANLoss('wgan')
    with pytest.raises(TypeError, match='scale 1'):
        GANLoss()([[feat, t([0.0])], ['x']], True)


# ---------------------------------------------------------------- feature matching
def test_feature_matching_value_and_gradients():
    fake = [[torch.full((1, 2, 4, 4), 1.0), torch.full((1, 3, 2, 2), 2.0),
             torch.full((1, 1, 2, 2), 100.0)],
            [torch.full((1, 2, 2, 2), 0.5), torch.full((1, 3, 1, 1), 0.0),
             torch.full((1, 1, 1, 1), -100.0)]]
    real = [[torch.zeros_like(x) for x in scale] for scale in fake]
    for scale in fake + real:
        for x in scale:
            x.requires_grad_()
    # weight 4 / (n_layers + 1) * 1 / num_D = 4 / 2 * 1 / 2 = 1; |diffs| 1 + 2 + 0.5 + 0
    # (the predictions, 100 and -100, are excluded); lambda_FM = 10
    loss = FeatureMatchingLoss()(fake, real)
    assert loss.item() == pytest.approx(35.0)
    loss.backward()
    assert fake[0][0].grad is not None and fake[1][0].grad is not None
    assert all(x.grad is None for scale in real for x in scale)
    assert fake[0][2].grad is None  # the prediction does not enter
    assert FeatureMatchingLoss(num_D=2, n_layers=1, loss_weight=1.0)(fake, real).item() == \
        pytest.approx(3.5)
    with pytest.raises(ValueError, match='num_D=3 but the discriminator output has 2 scales'):
        FeatureMatchingLoss(num_D=3)(fake, real)
    with pytest.raises(ValueError, match='n_layers=3 expects 4 features'):
        FeatureMatchingLoss(n_layers=3)(fake, real)
    with pytest.raises(TypeError, match='lists of features'):
        FeatureMatchingLoss()([torch.zeros(1)], [torch.zeros(1)])


def test_feature_matching_pix2pixhd_weight():
    # num_D = 3, n_layers = 3: 4 features per scale, weight 4/4 * 1/3; each |diff| = 1
    fake = [[torch.ones(1, 1, 2, 2) for _ in range(5)] for _ in range(3)]
    real = [[torch.zeros(1, 1, 2, 2) for _ in range(5)] for _ in range(3)]
    assert FeatureMatchingLoss(num_D=3, n_layers=3, loss_weight=1.0)(fake, real).item() == \
        pytest.approx(3 * 4 * (1 / 3))


# ---------------------------------------------------------------- perceptual (VGG19)
@pytest.fixture(scope='module')
def vgg_file(tmp_path_factory):
    """A random torchvision-VGG19-layout weights file in <tmp>/hub/checkpoints (features only:
    the classifier is not used and would make the file 550 MB)."""
    torch.manual_seed(0)
    features = tv_vgg.make_layers(tv_vgg.cfgs['E'])
    torch_home = tmp_path_factory.mktemp('torch_home')
    path = torch_home / 'hub' / 'checkpoints' / VGG_FILE
    path.parent.mkdir(parents=True)
    torch.save({f'features.{k}': v for k, v in features.state_dict().items()}, path)
    return path


def test_vgg19_layer_names_match_pix2pixhd_slices():
    # pix2pixHD's Vgg19 slices end at features[1], [6], [11], [20], [29]
    assert [VGG19_LAYER_NAMES.index(n) for n in
            ('relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1')] == [1, 6, 11, 20, 29]
    assert len(VGG19_LAYER_NAMES) == 37 and VGG19_LAYER_NAMES[-1] == 'pool5'


def test_perceptual_missing_weights_file(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    loss = PerceptualLoss()  # built without the file: it is read on first use
    x = torch.zeros(1, 3, 8, 8)
    with pytest.raises(FileNotFoundError, match='vgg19-dcbb9e9d.pth'):
        loss(x, x)
    with pytest.raises(FileNotFoundError, match='vgg19-dcbb9e9d.pth'):
        PerceptualLoss(pretrained_path=str(tmp_path / 'nowhere')).init_weights()


def test_perceptual_bad_weights_file(tmp_path):
    bad = tmp_path / VGG_FILE
    torch.save({'foo': torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match=r'VGG19 state dict.*features\.0\.weight'):
        PerceptualLoss(pretrained_path=str(bad)).init_weights()


def test_perceptual_loads_file_values_and_layer_selection(vgg_file):
    saved = torch.load(vgg_file, weights_only=True)
    loss = PerceptualLoss(pretrained_path=str(vgg_file))
    assert len(loss.vgg.body) == 30  # cut after relu5_1
    assert torch.equal(loss.vgg.body[28].weight, saved['features.28.weight'])
    torch.manual_seed(1)
    x, y = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    assert loss(x, y).item() > 0
    assert loss(x, x).item() == 0.0

    # one layer by name, checked by hand: relu(conv1_1(normalised x)), folder as path
    one = PerceptualLoss(layer_weights={'relu1_1': 2.0}, pretrained_path=str(vgg_file.parent),
                         loss_weight=3.0)
    assert len(one.vgg.body) == 2

    def relu11(img, normalize):
        if normalize:
            mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
            img = ((img + 1) / 2 - mean) / std
        return F.relu(F.conv2d(img, saved['features.0.weight'], saved['features.0.bias'],
                               padding=1))
    expected = 3.0 * 2.0 * F.l1_loss(relu11(x, True), relu11(y, True))
    assert one(x, y).item() == pytest.approx(expected.item(), rel=1e-5)
    raw = PerceptualLoss(layer_weights={'relu1_1': 1.0}, normalize_input=False,
                         pretrained_path=str(vgg_file), loss_weight=1.0, criterion='mse')
    expected = F.mse_loss(relu11(x, False), relu11(y, False))
    assert raw(x, y).item() == pytest.approx(expected.item(), rel=1e-5)

    conv = PerceptualLoss(layer_weights={'conv3_2': 1.0}, pretrained_path=str(vgg_file))
    assert len(conv.vgg.body) == 13 and isinstance(conv.vgg.body[-1], nn.Conv2d)
    with pytest.raises(ValueError, match="'relu6_1'"):
        PerceptualLoss(layer_weights={'relu6_1': 1.0}, pretrained_path=str(vgg_file))
    with pytest.raises(ValueError, match=r'RGB images \(N, 3, H, W\)'):
        one(x[:, :1], y[:, :1])


def test_perceptual_hub_cache_gradients_and_state_dict(vgg_file, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(vgg_file.parent.parent.parent))
    loss = PerceptualLoss(layer_weights={'relu1_1': 1.0, 'relu2_1': 0.5})
    x = (torch.rand(1, 3, 16, 16) * 2 - 1).requires_grad_()
    y = torch.rand(1, 3, 16, 16) * 2 - 1
    loss(x, y).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    vgg_params = list(loss.vgg.parameters())
    assert vgg_params and all(not p.requires_grad and p.grad is None for p in vgg_params)
    # not trainable, not saved: out of parameters() and state_dict(), also inside a parent
    parent = nn.ModuleDict({'vgg_loss': loss, 'head': nn.Conv2d(3, 3, 1)})
    assert list(loss.parameters()) == [] and loss.state_dict() == {}
    assert set(parent.state_dict()) == {'head.weight', 'head.bias'}
    parent.load_state_dict(parent.state_dict(), strict=True)
    parent.train()
    assert loss.training and not loss.vgg.training
    parent.requires_grad_(True)
    assert all(not p.requires_grad for p in loss.vgg.parameters())
    parent.to(torch.float64)  # moves with the model
    assert loss.vgg.body[0].weight.dtype == torch.float64
    assert loss(x.double(), y.double()).dtype == torch.float64


def test_perceptual_random_weights_warn():
    with pytest.warns(UserWarning, match='random weights'):
        loss = PerceptualLoss(pretrained=False, layer_weights={'relu1_1': 1.0})
    x = torch.rand(1, 3, 8, 8) * 2 - 1
    assert loss(x, -x).item() > 0


# ---------------------------------------------------------------- registry
def test_every_registered_loss_builds(vgg_file, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(vgg_file.parent.parent.parent))
    names = set(LOSSES.module_dict)
    assert names == {'ReconstructionLoss', 'GeometryCodeLoss', 'GeometryConsistencyLoss',
                     'CycleConsistencyLoss', 'GANLoss', 'FeatureMatchingLoss',
                     'PerceptualLoss'}
    defaults = {'FeatureMatchingLoss': 10.0, 'PerceptualLoss': 10.0}
    for name in sorted(names):
        loss = LOSSES.build(dict(type=name))
        assert type(loss).__name__ == name
        assert 'loss' in loss.loss_name
        assert loss.loss_weight == defaults.get(name, 1.0)
    built = LOSSES.build(dict(type='GANLoss', gan_type='hinge', loss_weight=0.5,
                              loss_name='loss_gan_local'))
    assert (built.gan_type, built.loss_weight, built.loss_name) == ('hinge', 0.5,
                                                                    'loss_gan_local')
