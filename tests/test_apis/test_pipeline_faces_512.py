"""configs/deepfaceediting/pipeline_faces-512.py, end to end at reduced size: a folder of photos
-> tools/prepare_data.py -> the four stages (two iterations each) -> sample edits.

The pipeline's stages, their order, configs and checkpoint hand-over are the shipped file's;
only the sizes change (cfg_options per stage): 128 px instead of 512 (three down-samplings,
since the 40 px nose box at 128 needs stride 8), width ngf 8, batch 2, two iterations, and the
VGG19 perceptual terms of stages 3 and 4 with a randomly initialised VGG19
(``pretrained=False``: the real weights cannot be had offline; their loading is tested in
test_losses.py).
"""
import json

import cv2
from conftest import REPO, run_tool
from mmengine.config import Config

from facedisentangle.datasets.synthetic import SyntheticFaces

PIPELINE = REPO / 'configs' / 'deepfaceediting' / 'pipeline_faces-512.py'
SIZE = 128
NETS = ('sketch_encoder', 'sketch_decoder', 'image_encoder', 'generator', 'fusion_generator')


def _photo_folder(root, num=6):
    """A few synthetic faces at 256 px, written as the PNG photos a user would have."""
    root.mkdir()
    faces = SyntheticFaces(size=256, seed=3, num=num)
    for i in range(num):
        cv2.imwrite(str(root / f'face{i}.png'), faces[i]['photo'][..., ::-1])
    return root


def _prepare(photos, out):
    from facedisentangle.cli.prepare_data import main as prepare_data

    assert prepare_data([str(photos), '--out', str(out), '--size', str(SIZE), '--min-size',
                         '64', '--workers', '0', '--no-progress']) == 0


def _reduced(stage_cfg: Config, data: str) -> dict:
    """cfg_options that shrink one stage: only keys the stage's own config has."""
    opts = {'model.layout.resolution': SIZE, 'train_cfg.max_iters': 2,
            'train_cfg.val_interval': 2, 'param_scheduler.0.begin': 1,
            'param_scheduler.0.end': 2, 'default_hooks.checkpoint.interval': 2,
            'default_hooks.logger.interval': 1,
            'custom_hooks.FaceVisualizationHook.interval': 2,
            'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts.update({f'{loader}.batch_size': 2, f'{loader}.dataset.ann_file': data,
                     f'{loader}.dataset.resolution': SIZE})
        if loader != 'train_dataloader':  # a 6-photo file: val and test read every sample
            opts.update({f'{loader}.num_workers': 0, f'{loader}.dataset.split': None})
    model = stage_cfg.model
    for net in NETS:
        if net in model:
            opts[f'model.{net}.ngf'] = 8
            if net != 'fusion_generator':
                opts[f'model.{net}.n_downsampling'] = 3
    if 'fusion_generator' in model:  # G_fuse reads the generators' 8-channel feature maps
        opts['model.fusion_generator.input_nc'] = 8
    for disc in ('discriminator', 'fusion_discriminator'):
        if disc in model:
            opts.update({f'model.{disc}.ndf': 8, f'model.{disc}.num_D': 2})
    for loss in ('loss_vgg', 'loss_cycle_vgg'):
        if model.get(loss) is not None:
            opts[f'model.{loss}.pretrained'] = False  # random VGG19 (see the module docstring)
    return opts


def test_faces_512_pipeline_from_a_photo_folder_at_reduced_size(tmp_path):
    data = tmp_path / 'faces-128.h5'
    _prepare(_photo_folder(tmp_path / 'photos'), data)

    cfg = Config.fromfile(PIPELINE)
    stages = cfg.pipeline.stages
    assert [s.name for s in stages] == ['stage1', 'stage2', 'stage3', 'stage4']
    for stage in stages:
        path = PIPELINE.parent / stage.config
        stage_cfg = Config.fromfile(path)
        # the paper's setting: 512 px, ngf 64, four down-samplings
        assert stage_cfg.model.layout.resolution == 512, stage.name
        assert all(stage_cfg.model[n].ngf == 64 and stage_cfg.model[n].n_downsampling == 4
                   for n in NETS if n in stage_cfg.model), stage.name
        assert stage_cfg.train_dataloader.dataset.resolution == 512, stage.name
        stage.config = str(path)  # the small config below lives in tmp_path
        stage.cfg_options = dict(stage.get('cfg_options', {}), **_reduced(stage_cfg, str(data)))
    small = tmp_path / 'pipeline_faces-512_small.py'
    small.write_text(f"_base_ = [{str(REPO / 'configs/_base_/default_runtime.py')!r}]\n"
                     f'pipeline = {cfg.pipeline.to_dict()!r}\n')

    work = tmp_path / 'work'
    run_tool(['tools/train.py', str(small), '--work-dir', str(work)])
    results = json.loads((work / 'pipeline_done.json').read_text())
    assert list(results) == ['stage1', 'stage2', 'stage3', 'stage4']
    for name, ckpt in results.items():
        assert ckpt.endswith(f'{name}/iter_2.pth'), ckpt
    # each stage started from the previous stages' final checkpoints (init), not the 512
    # configs' default paths
    stage4_cfg = (work / 'stage4' / 'stage4_global-fusion_faces-512.py').read_text()
    assert results['stage3'] in stage4_cfg and results['stage2'] in stage4_cfg
    assert 'iter_100000.pth' not in stage4_cfg
    assert (work / 'samples' / 'sample_swaps.png').is_file()
