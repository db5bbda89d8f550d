"""The stage-2/3 configs and the stage-3 ablations build, and train through the Runner.

Every config is loaded with ``Config.fromfile`` and shrunk (ngf 4, one block, one or two
components, batch 2, 2 iterations) on a tiny synthetic face file written in a temporary folder
with the data package's writer. The swap check and the appearance probe of a stage-3 checkpoint
have their own tests: tests/test_apis/test_swap_check.py, tests/test_tools/test_appearance_probe.py.
"""
import glob
import os.path as osp

import pytest
import torch
from conftest import REPO, write_factor_faces
from mmengine.config import Config

from facedisentangle.engine import FDRunner
from facedisentangle.engine.checkpoint import safe_load_checkpoint
from facedisentangle.registry import MODELS
from facedisentangle.utils import register_all_modules

register_all_modules()
torch.set_num_threads(1)
pytestmark = pytest.mark.filterwarnings(r'ignore:PerceptualLoss\(pretrained=False\)')

CONFIGS = osp.join(REPO, 'configs', 'deepfaceediting')
ABLATIONS = sorted(glob.glob(osp.join(CONFIGS, 'ablations', '*.py')))
STAGE3_SYNTHETIC = osp.join(CONFIGS, 'stage3_local-disentanglement_synthetic-128.py')
STAGE2_SYNTHETIC = osp.join(CONFIGS, 'stage2_image-encoder_synthetic-128.py')
ALL_STAGE23 = sorted(glob.glob(osp.join(CONFIGS, 'stage[23]_*.py'))) + ABLATIONS


@pytest.fixture(scope='module')
def synthetic_h5(tmp_path_factory):
    """8 train, 4 val, 4 test synthetic faces at 128 with labels and factors."""
    return write_factor_faces(tmp_path_factory.mktemp('data') / 'synthetic-128.h5',
                              {'train': 8, 'val': 4, 'test': 4})


def shrink(cfg: Config, components=('eye1',)) -> Config:
    """Tiny networks for ``components``, wherever the config's model has them."""
    m = cfg.model
    m.components = list(components)
    for key, sizes in (('generator', dict(ngf=4, n_blocks=1)),
                       ('image_encoder', dict(ngf=4, n_blocks=1)),
                       ('sketch_encoder', dict(ngf=4, n_blocks=1)),
                       ('sketch_decoder', dict(ngf=4, n_blocks=1)),
                       ('discriminator', dict(ndf=4, n_layers=2, num_D=1))):
        if m.get(key) is not None:
            m[key].update(sizes)
    for key in ('loss_vgg', 'loss_cycle_vgg'):  # no VGG19 weights offline: random, tests only
        if m.get(key) is not None:
            m[key].update(pretrained=False, layer_weights={'relu1_1': 1.0})
    for key in ('stage1_checkpoint', 'stage2_checkpoint'):
        if key in m:
            m[key] = None
    return cfg


def tiny_run_cfg(path: str, h5: str, work_dir, components=('eye1',), iters=2) -> Config:
    cfg = shrink(Config.fromfile(path), components)
    cfg.work_dir = str(work_dir)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg[name]
        dl.dataset.ann_file = h5
        dl.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_cfg.update(max_iters=iters, val_interval=iters)
    cfg.param_scheduler = [dict(type='LinearLR', by_epoch=False, start_factor=1.0,
                                end_factor=0.5, begin=0, end=iters)]
    cfg.val_evaluator = [e for e in cfg.val_evaluator if e.prefix in components]
    cfg.test_evaluator = cfg.val_evaluator
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=iters)
    for hook in cfg.custom_hooks:
        if hook.type == 'FaceVisualizationHook':
            hook.interval = iters
    cfg.randomness = dict(seed=0)
    # the visualizer is a named MMEngine singleton: a second runner in this process would
    # write its images into the first runner's folder
    cfg.visualizer.name = f'visualizer:{work_dir}'
    return cfg


def train(cfg: Config) -> FDRunner:
    runner = FDRunner.from_cfg(cfg)
    runner.train()
    return runner


@pytest.mark.parametrize('path', ALL_STAGE23, ids=osp.basename)
def test_config_builds(path):
    cfg = shrink(Config.fromfile(path))
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == cfg.model.type
    if cfg.model.type == 'LocalDisentanglement':
        assert cfg.separate_ddp is True  # G and D need separate DDP wrappers
        keys = {k for k in cfg.optim_wrapper if k != 'constructor'}
        assert keys == ({'generator', 'discriminator'} if model.discriminators is not None
                        else {'generator'})


ABLATION_REMOVES = {
    'ld_no-geo_synthetic-128.py': {'loss_geo'},
    'ld_no-cycle_synthetic-128.py': {'loss_cycle', 'loss_cycle_feat'},
    'ld_no-gan_synthetic-128.py': {'loss_gan_g', 'loss_feat', 'loss_cycle_feat',
                                   'loss_gan_d_real', 'loss_gan_d_fake'},
    'ld_hinge_synthetic-128.py': set(),
    'ld_no-vgg_synthetic-128.py': set(),
    'ld_iris-weighted_synthetic-128.py': set(),
    'ld_appearance-shift_synthetic-128.py': set(),
}
BASE_TERMS = {'loss_rec', 'loss_geo', 'loss_cycle', 'loss_feat', 'loss_cycle_feat',
              'loss_gan_g', 'loss_gan_d_real', 'loss_gan_d_fake'}


@pytest.mark.parametrize('path', ABLATIONS, ids=osp.basename)
def test_ablation_trains_through_the_runner(path, synthetic_h5, tmp_path):
    name = osp.basename(path)
    assert name in ABLATION_REMOVES, f'new ablation {name}: add its expected terms here'
    runner = train(tiny_run_cfg(path, synthetic_h5, tmp_path))
    logged = {k.split('/', 2)[-1] for k in runner.message_hub.log_scalars
              if k.startswith('train/eye1/')}
    assert logged == BASE_TERMS - ABLATION_REMOVES[name]
    assert osp.isfile(osp.join(tmp_path, 'iter_2.pth'))
    if name == 'ld_hinge_synthetic-128.py':
        assert runner.model.loss_gan.gan_type == 'hinge'
    # the region weights trained on the label maps (without them the first step would stop)
    weighted = name == 'ld_iris-weighted_synthetic-128.py'
    assert runner.model.needs_labels == weighted
    if weighted:
        assert runner.model.region_weights == [((5,), 10.0)]
    assert runner.model.appearance_shift == (4 if 'shift' in name else 0)


def test_stage2_then_stage3_with_ema(synthetic_h5, tmp_path):
    # stage 2 trains and writes the checkpoint stage 3 starts from
    s2 = train(tiny_run_cfg(STAGE2_SYNTHETIC, synthetic_h5, tmp_path / 's2',
                            components=('eye1', 'nose')))
    assert 'val/eye1/code/L1' in s2.message_hub.log_scalars
    s2_ckpt = str(tmp_path / 's2' / 'iter_2.pth')

    cfg = tiny_run_cfg(STAGE3_SYNTHETIC, synthetic_h5, tmp_path / 's3',
                       components=('eye1', 'nose'))
    cfg.model.stage2_checkpoint = s2_ckpt
    assert any(h.type == 'EMAHook' for h in cfg.custom_hooks)  # EMA on by default
    s3 = train(cfg)
    e_i = s3.model.image_encoders.state_dict()
    stage2 = safe_load_checkpoint(s2_ckpt)['state_dict']
    assert all(torch.equal(v, stage2[f'image_encoders.{k}']) for k, v in e_i.items())
    assert 'val/nose/geometry_consistency/L1' in s3.message_hub.log_scalars
    assert glob.glob(osp.join(tmp_path, 's3', '*', 'vis_data', 'vis_image', 'stage3_eye1_2.png'))

    ckpt_path = str(tmp_path / 's3' / 'iter_2.pth')
    ckpt = safe_load_checkpoint(ckpt_path)
    ema, state = ckpt['ema_state_dict'], ckpt['state_dict']
    assert {k for k in ema if k != 'steps'} == {f'module.{k}' for k in state
                                                 if k.startswith('generators.')}
    # the averaged weights are the saved state_dict, the raw ones are kept in ema_state_dict
    raw = {k: v for k, v in s3.model.state_dict().items() if k.startswith('generators.')}
    assert all(torch.equal(ema[f'module.{k}'], v) for k, v in raw.items())
    assert any(not torch.equal(state[k], v) for k, v in raw.items())
    assert all(torch.equal(state[k], v) for k, v in s3.model.state_dict().items()
               if not k.startswith('generators.'))


def test_ema_off(synthetic_h5, tmp_path):
    cfg = tiny_run_cfg(STAGE3_SYNTHETIC, synthetic_h5, tmp_path)
    cfg.custom_hooks = [h for h in cfg.custom_hooks if h.type != 'EMAHook']
    s3 = train(cfg)
    ckpt = safe_load_checkpoint(tmp_path / 'iter_2.pth')
    assert 'ema_state_dict' not in ckpt
    assert all(torch.equal(ckpt['state_dict'][k], v) for k, v in s3.model.state_dict().items())
