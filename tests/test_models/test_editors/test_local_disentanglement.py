"""Stage 3 (LocalDisentanglement): G/D steps, frozen encoders, loss switches, NaN guard, EMA."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.hooks import EMAHook
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapperDict

from facedisentangle.engine.optim_constructor import PerNetworkOptimWrapperConstructor
from facedisentangle.models.editors import LocalDisentanglement, NonFiniteLossError
from facedisentangle.models.editors.sub_network_ema import SubNetworkEMA
from facedisentangle.registry import MODELS
from facedisentangle.utils import register_all_modules

register_all_modules()
torch.set_num_threads(1)

# the tiny models use PerceptualLoss(pretrained=False), which warns that it is for tests only
pytestmark = pytest.mark.filterwarnings(r'ignore:PerceptualLoss\(pretrained=False\)')

RES = 64  # eye 16 px, nose 20 px: two down-samplings (stride 4)
COMPONENTS = ['eye1', 'nose']


def tiny_cfg(**overrides):
    cfg = dict(
        type='LocalDisentanglement', layout=dict(resolution=RES), components=COMPONENTS,
        generator=dict(type='ComponentGenerator', ngf=4, n_downsampling=2, n_blocks=1,
                       app_dim=4, app_n_downsampling=3, style_dim=16),
        image_encoder=dict(type='ImageGeometryEncoder', ngf=4, n_downsampling=2, n_blocks=1),
        sketch_encoder=dict(type='SketchEncoder', ngf=4, n_downsampling=2, n_blocks=1),
        discriminator=dict(type='MultiScaleDiscriminator', ndf=4, n_layers=2, num_D=2),
        sketch_prob=0.5,
        loss_vgg=dict(type='PerceptualLoss', pretrained=False, loss_weight=10.0,
                      layer_weights={'relu1_1': 1.0}),
        loss_cycle_vgg=dict(type='PerceptualLoss', pretrained=False, loss_weight=10.0,
                            layer_weights={'relu1_1': 1.0}, loss_name='loss_cycle_vgg'),
    )
    cfg.update(overrides)
    return cfg


def build(**overrides) -> LocalDisentanglement:
    torch.manual_seed(0)
    return MODELS.build(tiny_cfg(**overrides))


def optim(model, lr=1e-2):
    cfg = dict(generator=dict(modules=['generators'],
                              optimizer=dict(type='Adam', lr=lr, betas=(0.5, 0.999))))
    if model.discriminators is not None:
        cfg['discriminator'] = dict(modules=['discriminators'],
                                    optimizer=dict(type='Adam', lr=lr, betas=(0.5, 0.999)))
    return PerNetworkOptimWrapperConstructor(cfg)(model)


def batch(n=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(photo=torch.randint(0, 256, (n, 3, RES, RES), dtype=torch.uint8, generator=g),
                sketch=torch.randint(0, 256, (n, 3, RES, RES), dtype=torch.uint8, generator=g))


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def changed(before, after):
    return {k for k in before if not torch.equal(before[k], after[k])}


ALL_G_KEYS = ['loss_rec', 'loss_vgg', 'loss_geo', 'loss_cycle', 'loss_cycle_vgg', 'loss_gan_g',
              'loss_feat', 'loss_cycle_feat']
ALL_D_KEYS = ['loss_gan_d_real', 'loss_gan_d_fake']


def test_train_step_g_step_and_d_step_touch_only_their_networks():
    model = build()
    model.train()
    wrappers = optim(model)
    seen = {}
    for name in ('generator', 'discriminator'):
        w = wrappers[name]
        orig = w.update_params

        def spy(loss, _orig=orig, _name=name, **kw):
            # no gradient leaked in from the other step (the G step's backward through D)
            nets = model.generators if _name == 'generator' else model.discriminators
            seen[f'{_name}_clean'] = all(p.grad is None or not p.grad.any()
                                         for p in nets.parameters())
            before = snapshot(model)
            _orig(loss, **kw)
            seen[_name] = changed(before, snapshot(model))
        w.update_params = spy
    before = snapshot(model)
    log = model.train_step(batch(), wrappers)

    assert seen['generator_clean'] and seen['discriminator_clean']
    g_changed, d_changed = seen['generator'], seen['discriminator']
    assert g_changed and all(k.startswith('generators.') for k in g_changed)
    # every generator-side network (G_syn and E_A = enc_style) of every component learns
    for c in COMPONENTS:
        assert any(k.startswith(f'generators.{c}.model.') for k in g_changed)
        assert any(k.startswith(f'generators.{c}.enc_style.') for k in g_changed)
    assert d_changed and all(k.startswith('discriminators.') for k in d_changed)
    assert {k.split('.')[1] for k in d_changed} == set(COMPONENTS)
    # the frozen E_I and E_sketch never change and stay frozen, in eval mode
    after = snapshot(model)
    frozen = [k for k in before if k.startswith(('image_encoders.', 'sketch_encoders.'))]
    assert frozen and not changed({k: before[k] for k in frozen}, after)
    for net in (model.image_encoders, model.sketch_encoders):
        assert not net.training and not any(p.requires_grad for p in net.parameters())
    # the discriminator is trainable again after the generator step
    assert all(p.requires_grad for p in model.discriminators.parameters())

    for c in COMPONENTS:
        for key in ALL_G_KEYS + ALL_D_KEYS:
            assert torch.isfinite(log[f'{c}/{key}']), key
    assert {'loss_g', 'loss_d'} <= set(log)
    expected_g = sum(float(log[f'{c}/{k}']) for c in COMPONENTS for k in ALL_G_KEYS)
    assert float(log['loss_g']) == pytest.approx(expected_g, rel=1e-5)


def _count_calls(module: nn.Module, counter: dict, name: str):
    orig = module.forward

    def forward(*args, **kwargs):
        counter[name] = counter.get(name, 0) + 1
        return orig(*args, **kwargs)
    module.forward = forward


SWITCHES = {
    'loss_rec': (dict(loss_rec=None), ['loss_rec']),
    'loss_vgg': (dict(loss_vgg=None), ['loss_vgg']),
    'loss_feat': (dict(loss_feat=None), ['loss_feat']),
    'loss_geo': (dict(loss_geo=None), ['loss_geo']),
    'loss_geo_weight0': (dict(loss_geo=dict(type='GeometryConsistencyLoss', loss_weight=0)),
                         ['loss_geo']),
    'loss_cycle': (dict(loss_cycle=None), ['loss_cycle']),
    'loss_cycle_feat': (dict(loss_cycle_feat=None), ['loss_cycle_feat']),
    'loss_cycle_vgg': (dict(loss_cycle_vgg=None), ['loss_cycle_vgg']),
    'all_cycle': (dict(loss_cycle=None, loss_cycle_feat=None, loss_cycle_vgg=None),
                  ['loss_cycle', 'loss_cycle_feat', 'loss_cycle_vgg']),
    'gan': (dict(loss_gan=None, discriminator=None, loss_feat=None, loss_cycle_feat=None),
            ['loss_gan_g', 'loss_feat', 'loss_cycle_feat'] + ALL_D_KEYS),
}


@pytest.mark.parametrize('switch', list(SWITCHES))
def test_each_loss_switch_removes_its_term(switch):
    overrides, removed = SWITCHES[switch]
    model = build(**overrides)
    model.train()
    calls = {}
    for c in COMPONENTS:
        _count_calls(model.image_encoders[c], calls, f'E_I/{c}')
    log = model.train_step(batch(), optim(model))
    for c in COMPONENTS:
        for key in ALL_G_KEYS + ALL_D_KEYS:
            assert (f'{c}/{key}' in log) == (key not in removed), (switch, key)
        # E_I runs on I1, and on I_mix only for L_Geo
        assert calls[f'E_I/{c}'] == (1 if 'loss_geo' in removed else 2)
    photo = batch()['photo'].float() / 127.5 - 1
    out = model.synthesize(photo, photo, 'eye1', mix=model.needs_mix, cycle=model.needs_cycle)
    assert ('cycle' in out) == (switch != 'all_cycle')  # I_cycle only when a term needs it
    if switch == 'gan':
        assert model.discriminators is None and 'discriminator' not in optim(model).keys()


def test_inconsistent_switches_are_refused():
    with pytest.raises(ValueError, match='nothing trains the discriminator'):
        build(loss_gan=None, loss_feat=None, loss_cycle_feat=None)
    with pytest.raises(ValueError, match=r"\['loss_feat', 'loss_cycle_feat'\].*loss_gan is off"):
        build(loss_gan=None, discriminator=None)
    with pytest.raises(ValueError, match='every generator loss is off'):
        build(loss_gan=None, discriminator=None, loss_feat=None, loss_cycle_feat=None,
              loss_rec=None, loss_vgg=None, loss_geo=None, loss_cycle=None, loss_cycle_vgg=None)
    with pytest.raises(ValueError, match="loss_cycle_feat and loss_feat are both logged as "
                                         "'loss_feat'"):
        build(loss_cycle_feat=dict(type='FeatureMatchingLoss'))
    with pytest.raises(ValueError, match='sketch_prob'):
        build(sketch_prob=1.5)
    model = build(loss_vgg=None, loss_cycle_vgg=None)
    g_only = PerNetworkOptimWrapperConstructor(dict(generator=dict(
        modules=['generators'], optimizer=dict(type='Adam', lr=1e-3))))(model)
    with pytest.raises(KeyError, match="lacks a 'discriminator' optimiser"):
        model.train_step(batch(), g_only)
    with pytest.raises(ValueError, match='batch size must be >= 2'):
        model.train_step(batch(n=1), optim(model))


def test_network_mismatch_is_refused():
    with pytest.raises(ValueError, match='eye1: image_encoder gives 32-channel codes'):
        build(image_encoder=dict(type='ImageGeometryEncoder', ngf=8, n_downsampling=2))
    with pytest.raises(ValueError, match='smaller than the discriminator minimum'):
        build(discriminator=dict(type='MultiScaleDiscriminator', ndf=4, n_layers=3, num_D=3))


def test_nan_guard_stops_before_any_step():
    model = build(loss_vgg=None, loss_cycle_vgg=None)
    model.train()
    wrappers = optim(model)
    MessageHub.get_current_instance().update_info('iter', 6)
    before = snapshot(model)
    model.loss_geo.forward = lambda code_mix, code_ref: code_mix.sum() * float('nan')
    with pytest.raises(NonFiniteLossError, match=r"'eye1/loss_geo' is nan at iteration 7"):
        model.train_step(batch(), wrappers)
    assert not changed(before, snapshot(model))

    model = build(loss_vgg=None, loss_cycle_vgg=None)
    model.train()
    wrappers = optim(model)
    gan_forward = model.loss_gan.forward

    def bad_disc(pred, target_is_real, is_disc=False):
        loss = gan_forward(pred, target_is_real, is_disc)
        return loss * float('inf') if is_disc and target_is_real else loss
    model.loss_gan.forward = bad_disc
    before = snapshot(model)
    with pytest.raises(NonFiniteLossError, match="'eye1/loss_gan_d_real' is inf"):
        model.train_step(batch(), wrappers)
    assert not changed(before, snapshot(model))  # the generator was not updated either


def test_sketch_prob_selects_the_geometry_source():
    model = build(loss_vgg=None, loss_cycle_vgg=None)
    model.eval()
    data = model.data_preprocessor(batch(n=4), False)
    photo, sketch = data['photo'], data['sketch']
    with torch.no_grad():
        use = torch.tensor([True, False, True, False])
        out = model.synthesize(photo, sketch, 'nose', use_sketch=use)
        code_s = model.sketch_encoders['nose'](model.crop(sketch, 'nose'))
        code_i = model.image_encoders['nose'](model.crop(photo, 'nose'))
        assert torch.equal(out['code1'][use], code_s[use])
        assert torch.equal(out['code1'][~use], code_i[~use])
        # the cycle takes the geometry of I2 from its photo, whatever I1 used
        expected = model.generators['nose'](code_i.roll(1, 0), appearance_image=out['mix'])
        assert torch.allclose(out['cycle'], expected, atol=1e-6)
        # I_mix = G(g1, E_A(I2)) with I2 the batch rolled by one
        mix = model.generators['nose'](out['code1'],
                                      appearance_image=model.crop(photo, 'nose').roll(1, 0))
        assert torch.allclose(out['mix'], mix, atol=1e-5)
    model.sketch_prob = 0.0
    assert model.draw_sketch_mask(4, 'cpu') is None
    model.sketch_prob = 1.0
    assert model.draw_sketch_mask(4, 'cpu').all()


def test_predict_tensor_and_visuals():
    model = build(loss_vgg=None, loss_cycle_vgg=None)
    model.eval()
    data = batch(n=3)
    data.update(name=['a', 'b', 'c'], index=torch.tensor([5, 6, 7]),
                appearance_seed=torch.tensor([50, 60, 70]))
    with torch.no_grad():
        outs = model.val_step(data)
        visuals = model.get_visuals(data)
        tensors = model(**model.data_preprocessor(data, False), mode='tensor')
    assert len(outs) == 3
    assert outs[1]['name'] == 'b' and outs[1]['partner_name'] == 'a'
    assert outs[0]['partner_index'] == 7 and outs[0]['partner_appearance_seed'] == 70
    for c in COMPONENTS:
        s = model.layout.size(c)
        for key in ('photo', 'rec', 'app', 'mix', 'sketch', 'sketch_mix'):
            assert outs[0][f'{c}/{key}'].shape == (3, s, s)
        assert outs[0][f'{c}/code'].shape == outs[0][f'{c}/mix_code'].shape
        assert torch.equal(outs[0][f'{c}/app'], outs[2][f'{c}/photo'])
        assert len(visuals[f'stage3_{c}']) == 6
        assert set(tensors[c]) == {'rec', 'mix', 'cycle'}
    with pytest.raises(ValueError, match="unknown mode 'bad'"):
        model(**model.data_preprocessor(data, False), mode='bad')


def _stage2_checkpoint(tmp_path, ema_like=False):
    stage2 = MODELS.build(dict(
        type='ImageGeometryEncoderTrainer', layout=dict(resolution=RES), components=COMPONENTS,
        image_encoder=dict(type='ImageGeometryEncoder', ngf=4, n_downsampling=2, n_blocks=1),
        sketch_encoder=dict(type='SketchEncoder', ngf=4, n_downsampling=2, n_blocks=1),
        sketch_decoder=dict(type='SketchDecoder', ngf=4, n_downsampling=2, n_blocks=1)))
    path = tmp_path / 'stage2.pth'
    torch.save({'state_dict': stage2.state_dict(), 'meta': {}}, path)
    return stage2, str(path)


def test_stage2_checkpoint_is_loaded_and_frozen(tmp_path):
    stage2, path = _stage2_checkpoint(tmp_path)
    # building reads no file: E_I and E_s are frozen now, loaded by init_weights (the Runner
    # calls it before training)
    missing = build(stage2_checkpoint=str(tmp_path / 'not-there.pth'), loss_vgg=None,
                    loss_cycle_vgg=None)
    assert not any(p.requires_grad for p in missing.image_encoders.parameters())
    with pytest.raises(FileNotFoundError, match='not-there.pth'):
        missing.init_weights()
    model = build(stage2_checkpoint=path, loss_vgg=None, loss_cycle_vgg=None)
    assert model.earlier_stages == {
        'stage2_checkpoint': (path, ('image_encoders', 'sketch_encoders'))}
    before = model.image_encoders.state_dict()
    assert any(not torch.equal(v, stage2.image_encoders.state_dict()[k])
               for k, v in before.items())
    model.init_weights()
    for prefix in ('image_encoders', 'sketch_encoders'):
        ours, theirs = getattr(model, prefix).state_dict(), getattr(stage2, prefix).state_dict()
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) for k in ours)
        assert not any(p.requires_grad for p in getattr(model, prefix).parameters())
    model.train()
    assert not model.image_encoders.training and model.generators.training


def test_sub_network_ema_averages_only_the_generators():
    model = build(loss_vgg=None, loss_cycle_vgg=None)
    ema = SubNetworkEMA(model, sub_networks=['generators'], momentum=0.5)
    keys = list(ema.state_dict())
    assert 'steps' in keys
    assert all(k == 'steps' or k.startswith('module.generators.') for k in keys)
    assert len(keys) - 1 == len(model.generators.state_dict())
    ema.update_parameters(model)          # step 0 copies
    name, w = next(iter(model.generators.named_parameters()))
    old = w.detach().clone()
    with torch.no_grad():
        w.add_(1.0)
    ema.update_parameters(model)          # (1 - 0.5) * old + 0.5 * (old + 1)
    avg = dict(ema.module.generators.named_parameters())[name]
    assert torch.allclose(avg, old + 0.5)

    warm = SubNetworkEMA(model, momentum=0.002, warmup=True)
    assert warm.momentum_at(0) == pytest.approx(0.9)
    assert warm.momentum_at(10) == pytest.approx(0.45)
    assert warm.momentum_at(10 ** 6) == 0.002          # then MMEngine's constant momentum
    warm.update_parameters(model)                       # step 0 copies
    with torch.no_grad():
        w.add_(1.0)
    warm.update_parameters(model)                       # step 1: m = 9 / 11
    avg = dict(warm.module.generators.named_parameters())[name]
    assert torch.allclose(avg, w.detach() - 1 + 9 / 11)

    class Late(nn.Module):  # generators registered after another trainable network
        def __init__(self):
            super().__init__()
            self.discriminators = nn.Linear(2, 2)
            self.generators = nn.Linear(2, 2)
    with pytest.raises(ValueError, match='must come first'):
        SubNetworkEMA(Late())
    with pytest.raises(AttributeError, match="no sub-network 'generatorz'"):
        SubNetworkEMA(model, sub_networks=['generatorz'])


def test_optim_wrapper_must_be_a_dict():
    model = build(loss_vgg=None, loss_cycle_vgg=None)
    single = PerNetworkOptimWrapperConstructor(dict(optimizer=dict(type='SGD', lr=0.1)))(model)
    with pytest.raises(KeyError, match="optim_wrapper\\['generator'\\]"):
        model.train_step(batch(), single)
    assert isinstance(optim(model), OptimWrapperDict)


def test_per_component_networks_are_called_by_name():
    model = build(loss_vgg=None, loss_cycle_vgg=None)
    gen = model.generators['eye1']
    code = torch.randn(2, gen.in_channels, 4, 4)
    app = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model.generators('eye1', code, appearance_image=app),
                           gen(code, appearance_image=app))
        assert torch.equal(model.generators('eye1', app, method='enc_style'), gen.enc_style(app))
    with pytest.raises(KeyError, match="no network for component 'mouth'"):
        model.generators('mouth', code)


def test_separate_ddp_wrapping_trains_and_keeps_plain_keys(tmp_path):
    """With separate_ddp the generators/discriminators become DDP wrappers (one process here)."""
    import torch.distributed as dist
    from mmengine.model import MMSeparateDistributedDataParallel

    model = build(loss_vgg=None, loss_cycle_vgg=None)
    plain_keys = list(model.state_dict())
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/pg', rank=0, world_size=1)
    try:
        wrapped = MMSeparateDistributedDataParallel(model, device_ids=None)
        assert type(model.generators).__name__ == 'MMDistributedDataParallel'
        assert type(model.image_encoders).__name__ == 'ModuleDict'  # frozen: not wrapped
        wrappers = optim(model)
        ema = SubNetworkEMA(wrapped, momentum=0.5)
        # EMAHook before begin_iter copies the weights by state-dict key
        runner = SimpleNamespace(model=wrapped, iter=0)
        hook = EMAHook(ema_type='SubNetworkEMA', momentum=0.5, begin_iter=5)
        hook.before_run(runner)
        before = snapshot(model)
        wrapped.train()
        log = wrapped.train_step(batch(), wrappers)
        ema.update_parameters(model)
        hook.after_train_iter(runner, 0)
        assert all(torch.equal(v, model.state_dict()[k])
                   for k, v in hook.ema_model.module.state_dict().items())
        assert torch.isfinite(log['loss_g']) and torch.isfinite(log['loss_d'])
        assert list(model.state_dict()) == plain_keys  # no 'generators.module.' keys
        moved = changed(before, snapshot(model))
        assert any(k.startswith('generators.') for k in moved)
        assert any(k.startswith('discriminators.') for k in moved)
        wrapped.eval()
        with torch.no_grad():
            assert len(wrapped.val_step(batch())) == 3
    finally:
        dist.destroy_process_group()


def test_region_weights_take_each_crops_label_map():
    """rec is weighed by I1's label crop, cycle by I2's; a train step runs with labels."""
    weights = [dict(labels=[5], weight=10.0)]

    def losses(label=None, **overrides):
        model = build(loss_vgg=None, loss_cycle_vgg=None, **overrides)
        model.eval()
        data = model.data_preprocessor(batch(n=3), False)
        if label is not None:
            data['label'] = label
        with torch.no_grad():
            return model(**data, mode='loss')

    plain = losses()
    weighted = dict(region_weights=weights)
    assert build(**weighted).needs_labels and not build().needs_labels
    assert not build(loss_rec=None, loss_cycle=None, **weighted).needs_labels
    outside = losses(torch.zeros(3, RES, RES, dtype=torch.uint8), **weighted)
    inside = losses(torch.full((3, RES, RES), 5, dtype=torch.uint8), **weighted)
    for c in COMPONENTS:
        for k in ('loss_rec', 'loss_cycle'):
            assert outside[f'{c}/{k}'].item() == pytest.approx(plain[f'{c}/{k}'].item())
            assert inside[f'{c}/{k}'].item() == pytest.approx(10 * plain[f'{c}/{k}'].item())
        assert inside[f'{c}/loss_geo'].item() == pytest.approx(plain[f'{c}/loss_geo'].item())
    # label 5 only on the last sample: I1's term weighs it, the cycle term (target I2 = the
    # batch rolled by one) weighs sample 0, whose I2 is the last sample
    last = torch.zeros(3, RES, RES, dtype=torch.uint8)
    last[2] = 5
    model = build(loss_vgg=None, loss_cycle_vgg=None, **weighted)
    out = model.synthesize(*[model.data_preprocessor(batch(n=3), False)[k]
                             for k in ('photo', 'sketch')], 'eye1', label=last)
    assert out['label1'][2].eq(5).all() and out['label2'][0].eq(5).all()
    assert not out['label2'][2].eq(5).any()
    model.eval()
    data = model.data_preprocessor(batch(n=3), False)
    with torch.no_grad():
        logged = model(**data, label=last, mode='loss')
        out = model.synthesize(data['photo'], data['sketch'], 'eye1', label=last)
        cyc = out['cycle']
        by_i2 = model.loss_cycle(cyc, out['i2'], model.pixel_weight(out['label2'], cyc))
        by_i1 = model.loss_cycle(cyc, out['i2'], model.pixel_weight(out['label1'], cyc))
        rec = model.loss_rec(out['rec'], out['i1'], model.pixel_weight(out['label1'], cyc))
    assert logged['eye1/loss_cycle'].item() == pytest.approx(by_i2.item())
    assert by_i1.item() != pytest.approx(by_i2.item())
    assert logged['eye1/loss_rec'].item() == pytest.approx(rec.item())
    with pytest.raises(ValueError, match='load_labels=True'):
        losses(**weighted)
    # a train step with label maps in the batch
    model = build(loss_vgg=None, loss_cycle_vgg=None, **weighted)
    data = batch(n=3)
    data['label'] = last
    logs = model.train_step(data, optim(model))
    assert torch.isfinite(logs['eye1/loss_rec'])


def test_appearance_shift_moves_what_e_a_reads_in_training_only():
    model = build(loss_vgg=None, loss_cycle_vgg=None, appearance_shift=2)
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6)
    torch.manual_seed(1)
    shifted = model.shift_appearance(x)
    assert shifted.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), mode='reflect')
    for i in range(2):  # every sample is one of the 25 reflect-padded windows of itself
        windows = [padded[i, :, dy:dy + 6, dx:dx + 6] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(shifted[i], w) for w in windows)
    torch.manual_seed(0)
    assert any(not torch.equal(model.shift_appearance(x), x) for _ in range(5))
    assert torch.equal(build(loss_vgg=None, loss_cycle_vgg=None).shift_appearance(x), x)
    with pytest.raises(ValueError, match='smaller than the component crop'):
        build(appearance_shift=6).shift_appearance(x)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match='appearance_shift must be an integer'):
            build(appearance_shift=bad)

    # E_A reads shifted images in training (I1, and I_mix for the cycle), never in inference
    seen = []
    enc = model.generators['eye1'].enc_style
    hook = enc.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()))
    data = model.data_preprocessor(batch(n=3), False)
    i1 = model.crop(data['photo'], 'eye1')
    torch.manual_seed(3)
    model.synthesize(data['photo'], data['sketch'], 'eye1', augment=True)
    assert len(seen) == 2 and not torch.equal(seen[0], i1)
    seen.clear()
    model.eval()
    with torch.no_grad():
        model(**data, mode='tensor')
    assert torch.equal(seen[0], i1)
    hook.remove()
