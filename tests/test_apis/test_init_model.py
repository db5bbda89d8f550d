"""facedisentangle.apis.init_model: every stage's model from its config and its own checkpoint,
without the earlier stages' files or the VGG19 file (read by init_weights, before training)."""
import os.path as osp

import pytest
import torch
from conftest import REPO
from mmengine.config import Config

from facedisentangle.apis import init_model
from facedisentangle.structures import is_discriminator

CONFIGS = osp.join(REPO, 'configs', 'deepfaceediting')
# tiny networks, as --cfg-options, for the model keys a config has
TINY = {
    'generator': dict(ngf=4, n_blocks=1),
    'image_encoder': dict(ngf=4, n_blocks=1),
    'sketch_encoder': dict(ngf=4, n_blocks=1),
    'sketch_decoder': dict(ngf=4, n_blocks=1),
    'discriminator': dict(ndf=4, n_layers=2, num_D=1),
    'fusion_generator': dict(ngf=4, n_blocks=1, input_nc=4),
    'fusion_discriminator': dict(ndf=4, n_layers=2, num_D=1),
    'image_to_sketch': dict(ngf=4, n_blocks=1),
    'sketch_discriminator': dict(ndf=4, n_layers=2, num_D=1),
    'drawing_encoder': dict(latent_dim=8),
    'drawing_decoder': dict(latent_dim=8),
}
# (config, its model, earlier-stage keys, perceptual losses)
STAGES = [
    ('stage1_sketch-ae_synthetic-128.py', 'SketchAutoEncoder', (), ()),
    ('stage2_image-encoder_synthetic-128.py', 'ImageGeometryEncoderTrainer',
     ('stage1_checkpoint',), ()),
    ('stage3_local-disentanglement-vgg_synthetic-128.py', 'LocalDisentanglement',
     ('stage2_checkpoint',), ('loss_vgg', 'loss_cycle_vgg')),
    ('stage4_global-fusion_faces-512.py', 'GlobalFusion',
     ('stage3_checkpoint', 'sketch_decoder_checkpoint'), ('loss_vgg',)),
    ('image-to-sketch_faces-512.py', 'ImageToSketch', (), ('loss_vgg',)),
    ('sketch-embedding_synthetic-128.py', 'SketchEmbedding', (), ()),
]


@pytest.fixture(autouse=True)
def no_vgg19_file(tmp_path, monkeypatch):
    """An empty torch hub cache: no VGG19 weights file anywhere."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'empty-torch-home'))


def tiny_options(path: str, earlier: tuple, missing_dir) -> dict:
    model = Config.fromfile(path).model
    opts = {f'model.{k}.{o}': v for k, sizes in TINY.items() if model.get(k) is not None
            for o, v in sizes.items()}
    # the earlier stages' checkpoints: files that do not exist
    opts.update({f'model.{k}': str(missing_dir / f'{k}.pth') for k in earlier})
    return opts


def save(model, path, **extra) -> str:
    torch.save(dict(meta=dict(iter=1), state_dict=model.state_dict(), **extra), path)
    return str(path)


@pytest.mark.parametrize('name,model_type,earlier,vgg_losses', STAGES,
                         ids=[s[0] for s in STAGES])
def test_init_model_builds_every_stage_from_its_checkpoint_alone(
        tmp_path, name, model_type, earlier, vgg_losses):
    path = osp.join(CONFIGS, name)
    opts = tiny_options(path, earlier, tmp_path / 'missing')
    torch.manual_seed(0)
    trained = init_model(path, cfg_options=opts)     # builds: no earlier stage, no VGG19 file
    assert type(trained).__name__ == model_type and not trained.training
    assert trained.cfg.model.type == model_type
    assert set(getattr(trained, 'earlier_stages', {})) == set(earlier)
    for key in vgg_losses:
        assert type(getattr(trained, key)).__name__ == 'PerceptualLoss'
    ckpt = save(trained, tmp_path / 'stage.pth')

    torch.manual_seed(1)
    model = init_model(path, ckpt, cfg_options=opts)
    theirs = trained.state_dict()
    assert model.state_dict().keys() == theirs.keys()
    assert all(torch.equal(v, theirs[k]) for k, v in model.state_dict().items())
    assert not model.training

    # init_weights (training) is what reads the files: the VGG19 first, then earlier stages
    if vgg_losses or earlier:
        what = 'vgg19-dcbb9e9d.pth' if vgg_losses else f'{earlier[0]}.pth'
        with pytest.raises(FileNotFoundError, match=what):
            model.init_weights()


def test_init_model_checkpoint_checks_and_raw_weights(tmp_path):
    path = osp.join(CONFIGS, 'stage3_local-disentanglement_synthetic-128.py')
    opts = dict(tiny_options(path, ('stage2_checkpoint',), tmp_path),
                **{'model.components': ['eye1', 'nose']})
    cfg = Config.fromfile(path)
    trained = init_model(cfg, cfg_options=opts)
    assert cfg.model.components != ['eye1', 'nose']       # the given Config is not changed
    state = trained.state_dict()

    # the discriminators only train: a checkpoint may lack them
    no_d = str(tmp_path / 'no_d.pth')
    torch.save(dict(state_dict={k: v for k, v in state.items() if not is_discriminator(k)}),
               no_d)
    init_model(path, no_d, cfg_options=opts)
    # any other network missing: named
    no_enc = str(tmp_path / 'no_enc.pth')
    torch.save(dict(state_dict={k: v for k, v in state.items()
                                if not k.startswith('image_encoders.nose.')}), no_enc)
    with pytest.raises(KeyError, match=r"lacks .* weights .*\['image_encoders.nose'\]"):
        init_model(path, no_enc, cfg_options=opts)
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        init_model(path, str(tmp_path / 'nowhere.pth'), cfg_options=opts)
    with pytest.raises(FileNotFoundError, match='no-config.py'):
        init_model(str(tmp_path / 'no-config.py'))

    # raw weights: EMAHook's ema_state_dict (module.<key>) over the averaged state_dict
    raw = {f'module.{k}': v + 1 for k, v in state.items() if k.startswith('generators.')}
    ema_ckpt = save(trained, tmp_path / 'ema.pth', ema_state_dict=dict(raw, steps=3))
    averaged = init_model(path, ema_ckpt, cfg_options=opts)
    assert all(torch.equal(averaged.state_dict()[k], v) for k, v in state.items())
    model = init_model(path, ema_ckpt, cfg_options=opts, raw_weights=True)
    for k, v in model.state_dict().items():
        assert torch.equal(v, raw.get(f'module.{k}', state[k]))
    with pytest.raises(KeyError, match='no ema_state_dict'):
        init_model(path, no_d, cfg_options=opts, raw_weights=True)
