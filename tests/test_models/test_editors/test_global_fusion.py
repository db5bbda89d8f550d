"""GlobalFusion (stage 4) train_step called directly: G_fuse and its discriminator step, every
LD network frozen, the optimisers checked, loss switches and the sketch geometry draw."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict

from facedisentangle.engine.optim_constructor import PerNetworkOptimWrapperConstructor
from facedisentangle.models.editors import GlobalFusion
from facedisentangle.registry import MODELS
from facedisentangle.utils import register_all_modules

register_all_modules()
torch.set_num_threads(1)

CONFIG = 'configs/deepfaceediting/stage4_global-fusion_synthetic-128.py'
TINY = {'generator.ngf': 4, 'generator.n_blocks': 1, 'image_encoder.ngf': 4,
        'image_encoder.n_blocks': 1, 'sketch_encoder.ngf': 4, 'sketch_decoder.ngf': 4,
        'fusion_generator.ngf': 4, 'fusion_generator.input_nc': 4,
        'fusion_generator.n_blocks': 1, 'fusion_discriminator.ndf': 4,
        'fusion_discriminator.n_layers': 2}
LD = ('generators', 'image_encoders', 'sketch_encoders', 'sketch_decoders')


def build(**overrides) -> tuple[GlobalFusion, Config]:
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({f'model.{k}': v for k, v in TINY.items()})
    cfg.model.stage3_checkpoint = cfg.model.sketch_decoder_checkpoint = None
    cfg.model.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(cfg.model), cfg


def optim(model, cfg, discriminator=True):
    ow = cfg.optim_wrapper.to_dict()
    ow.pop('constructor')
    if not discriminator:
        ow.pop('discriminator')
    return PerNetworkOptimWrapperConstructor(ow)(model)


def batch(n=2):
    g = torch.Generator().manual_seed(0)
    return dict(photo=torch.randint(0, 256, (n, 3, 128, 128), dtype=torch.uint8, generator=g),
                sketch=torch.randint(0, 256, (n, 3, 128, 128), dtype=torch.uint8, generator=g))


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def moved(before, model):
    after = model.state_dict()
    return {k.split('.')[0] for k in before if not torch.equal(before[k], after[k])}


def test_train_step_steps_g_fuse_and_its_discriminator_only():
    model, cfg = build()
    model.train()
    ow = optim(model, cfg)
    assert set(ow.keys()) == {'generator', 'discriminator'}
    before = snapshot(model)
    logs = model.train_step(batch(), ow)
    assert set(logs) == {'loss_rec', 'loss_gan_g', 'loss_feat', 'loss_g', 'loss_gan_d_real',
                         'loss_gan_d_fake', 'loss_d'}
    assert all(torch.isfinite(v) and v.dim() == 0 for v in logs.values())
    assert logs['loss_g'].item() == pytest.approx(
        sum(logs[k].item() for k in ('loss_rec', 'loss_gan_g', 'loss_feat')), rel=1e-5)
    assert moved(before, model) == {'fusion_generator', 'fusion_discriminator'}
    # the frozen LD module: no gradients, eval mode after model.train()
    for prefix in LD:
        net = getattr(model, prefix)
        assert not any(p.requires_grad for p in net.parameters())
        assert not any(m.training for m in net.modules())
        assert all(p.grad is None for p in net.parameters())
    # D was frozen for the G step and is trainable again afterwards
    assert all(p.requires_grad for p in model.fusion_discriminator.parameters())


def test_train_step_checks_the_optimisers():
    model, cfg = build()
    with pytest.raises(KeyError, match="lacks a 'discriminator' optimiser"):
        model.train_step(batch(), optim(model, cfg, discriminator=False))
    with pytest.raises(KeyError, match=r"needs optim_wrapper\['generator'\]"):
        model.train_step(batch(), optim(model, cfg)['generator'])
    with pytest.raises(KeyError, match=r"needs optim_wrapper\['generator'\]"):
        model.train_step(batch(), OptimWrapperDict(
            discriminator=optim(model, cfg)['discriminator']))
    # loss_gan off: no discriminator, no D step, and a 'discriminator' optimiser is refused
    plain, cfg = build(loss_gan=None, loss_feat=None, fusion_discriminator=None)
    assert plain.fusion_discriminator is None
    with pytest.raises(KeyError, match="has a 'discriminator' optimiser"):
        plain.train_step(batch(), optim(model, cfg))
    before = snapshot(plain)
    logs = plain.train_step(batch(), optim(plain, cfg, discriminator=False))
    assert set(logs) == {'loss_rec', 'loss_g'} and torch.isfinite(logs['loss_g'])
    assert moved(before, plain) == {'fusion_generator'}


def test_sketch_prob_draws_geometry_from_sketches_in_training_only():
    model, cfg = build(sketch_prob=1.0)
    model.train()
    data = model.data_preprocessor(batch(), True)
    from_sketch = model.gan_inputs(data, training=True)['features']
    everyone = torch.ones(2, dtype=torch.bool)
    with torch.no_grad():
        expected = model.fuse(model.component_features(data['photo'], data['sketch'],
                                                       everyone))
        own = model.fuse(model.component_features(data['photo']))
    assert torch.equal(from_sketch, expected) and not torch.equal(from_sketch, own)
    assert torch.equal(model.gan_inputs(data, training=False)['features'], own)
    logs = model.train_step(batch(), optim(model, cfg))
    assert torch.isfinite(logs['loss_g']) and torch.isfinite(logs['loss_d'])
