"""The four stages in one command: order, checkpoint hand-over, skip, resume after kill -9."""
import json

from conftest import REPO, kill_9_once_written, run_tool

CONFIGS = REPO / 'configs' / 'deepfaceediting'

TINY_PIPELINE = '''
_base_ = [{runtime!r}]
D = {data!r}
C = {configs!r} + '/'
common = {{
    'train_dataloader.dataset.ann_file': D, 'val_dataloader.dataset.ann_file': D,
    'test_dataloader.dataset.ann_file': D, 'train_dataloader.batch_size': 4,
    'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
    'val_dataloader.batch_size': 4, 'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
    'default_hooks.checkpoint.interval': 2,
    'custom_hooks.FaceVisualizationHook.interval': 2,
    'param_scheduler.0.begin': 1, 'param_scheduler.0.end': 2,
    'default_hooks.logger.interval': 1, 'model.sketch_encoder.ngf': 4,
}}
stage3 = dict(common, **{{'model.image_encoder.ngf': 4, 'model.generator.ngf': 4,
                         'model.discriminator.ndf': 4, 'train_cfg.max_iters': {stage3_iters},
                         'param_scheduler.0.end': {stage3_iters}}})
pipeline = dict(amp=True, stages=[
    dict(name='stage1', config=C + 'stage1_sketch-ae_synthetic-128.py',
         cfg_options=dict(common, **{{'model.sketch_decoder.ngf': 4}})),
    dict(name='stage2', config=C + 'stage2_image-encoder_synthetic-128.py',
         cfg_options=dict(common, **{{'model.sketch_decoder.ngf': 4,
                                      'model.image_encoder.ngf': 4}}),
         init={{'model.stage1_checkpoint': 'stage1'}}),
    dict(name='stage3', config=C + 'stage3_local-disentanglement_synthetic-128.py',
         cfg_options=stage3, init={{'model.stage2_checkpoint': 'stage2'}}),
    dict(name='stage4', config=C + 'stage4_global-fusion_synthetic-128.py',
         cfg_options=dict(common, **{{'model.image_encoder.ngf': 4, 'model.generator.ngf': 4,
                                      'model.sketch_decoder.ngf': 4,
                                      'model.fusion_generator.input_nc': 4,
                                      'model.fusion_generator.ngf': 4,
                                      'model.fusion_discriminator.ndf': 4}}),
         init={{'model.stage3_checkpoint': 'stage3',
                'model.sketch_decoder_checkpoint': 'stage2'}}),
], samples=dict(num=4))
'''


def test_pipeline_killed_in_stage3_resumes_and_finishes(tiny_synthetic_h5, tmp_path):
    cfg = tmp_path / 'tiny_pipeline.py'
    cfg.write_text(TINY_PIPELINE.format(
        runtime=str(REPO / 'configs/_base_/default_runtime.py'), data=tiny_synthetic_h5,
        configs=str(CONFIGS), stage3_iters=8))
    work = tmp_path / 'work'
    kill_9_once_written(['tools/train.py', str(cfg), '--work-dir', str(work)],
                        work / 'stage3' / 'iter_2.pth', timeout=600)
    assert (work / 'stage2' / 'stage_done.json').is_file()
    assert not (work / 'stage3' / 'stage_done.json').exists()

    done = run_tool(['tools/train.py', str(cfg), '--work-dir', str(work), '--resume'])
    log = done.stdout + done.stderr
    assert 'pipeline: stage1 already finished' in log
    assert 'pipeline: stage2 already finished' in log
    assert 'Auto resumed from the latest good checkpoint' in log
    assert 'stage3/iter_' in log.split('Auto resumed from the latest good checkpoint')[1][:300]
    # the console: stage k/4 with an overall ETA, no MMEngine listings (in the log files)
    assert 'skipped (stage 2/4)' in log
    assert 'stage 3/4: stage3 (' in log and 'stage 4/4: stage4 (' in log
    assert 'pipeline: stage 4/4 (stage4) iter 2/2; all stages: ' in log
    assert 'ETA 0:' in log and 'pipeline: all 4 stages done' in log
    for listing in ('System environment', 'Config:', 'Hooks will be executed'):
        assert listing not in log, listing
    stage4_log = next((work / 'stage4').glob('*/*.log')).read_text()
    assert 'System environment' in stage4_log and 'Hooks will be executed' in stage4_log
    results = json.loads((work / 'pipeline_done.json').read_text())
    assert results['stage3'].endswith('stage3/iter_8.pth')
    assert results['stage4'].endswith('stage4/iter_2.pth')
    # each stage started from the previous stage's final checkpoint
    stage4_cfg = (work / 'stage4' / 'stage4_global-fusion_synthetic-128.py').read_text()
    assert results['stage3'] in stage4_cfg and results['stage2'] in stage4_cfg
    # pipeline.amp: every stage trained with bfloat16 autocast on this CPU
    for stage in ('stage1', 'stage3', 'stage4'):
        dumped = next((work / stage).glob('stage*_synthetic-128.py')).read_text()
        assert 'CPUAutocastOptimWrapper' in dumped, stage
    assert (work / 'samples' / 'sample_swaps.png').is_file()
    # every stage's images and scalars land in its own folder
    assert list((work / 'stage4').glob('*/vis_data/vis_image/stage4_face_*.png'))
    assert list((work / 'stage1').glob('*/vis_data/vis_image/stage1_eye1_*.png'))
    assert not list((work / 'stage1').glob('*/vis_data/vis_image/stage4_*.png'))


def test_stage_override_with_delete_survives_building_the_stage_twice(tmp_path):
    """A stage's cfg_options may replace a dict with ``_delete_`` (e.g. a stage-4 optimiser
    without the discriminator); MMEngine's merge pops ``_delete_`` from what it merges, so
    the second build of the same stage (the sample grid rebuilds the last one) must see it
    too."""
    from argparse import Namespace

    from mmengine.config import Config

    from facedisentangle.apis.pipeline import _stage_cfg
    from facedisentangle.apis.train import stage_configs

    ow = dict(_delete_=True, constructor='PerNetworkOptimWrapperConstructor',
              generator=dict(modules=['fusion_generator'],
                             optimizer=dict(type='Adam', lr=5e-4, betas=(0.5, 0.999))))
    cfg_file = tmp_path / 'pipe.py'
    cfg_file.write_text(
        f"work_dir = {str(tmp_path / 'w')!r}\n"
        f"pipeline = dict(stages=[dict(name='stage4', config={str(REPO / 'configs' / 'deepfaceediting' / 'stage4_global-fusion_synthetic-128.py')!r}, "
        f"cfg_options={{'optim_wrapper': {ow!r}}})])\n")
    cfg = Config.fromfile(str(cfg_file))
    args = Namespace(cfg_options={'optim_wrapper.generator.optimizer.lr': 1e-3}, launcher='none',
                     resume=False)
    # the key check of tools/train.py builds every stage config first
    assert 'discriminator' not in stage_configs(cfg)[0][1].optim_wrapper
    for _ in range(2):
        stage_cfg = _stage_cfg(cfg, cfg.pipeline.stages[0], cfg.work_dir, {}, args)
        assert 'discriminator' not in stage_cfg.optim_wrapper
        assert stage_cfg.optim_wrapper.generator.optimizer.lr == 1e-3


def test_pipeline_ending_before_stage4_skips_the_sample_edits(tiny_synthetic_h5, tmp_path):
    """``samples`` needs the stage-4 editor: a pipeline of stage 1 alone finishes and says so
    (it used to fail after training with 'expected a GlobalFusion (stage 4) config')."""
    cfg = tmp_path / 'stage1_only.py'
    text = TINY_PIPELINE.format(
        runtime=str(REPO / 'configs/_base_/default_runtime.py'), data=tiny_synthetic_h5,
        configs=str(CONFIGS), stage3_iters=2)
    cfg.write_text(text + '\npipeline["stages"] = pipeline["stages"][:1]\n')
    work = tmp_path / 'work'
    done = run_tool(['tools/train.py', str(cfg), '--work-dir', str(work)])
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert 'no sample edits: the last stage (stage1) trains a SketchAutoEncoder' in log
    assert (work / 'stage1' / 'stage_done.json').is_file()
    assert not (work / 'samples').exists()


def test_init_load_from_fine_tunes_then_resumes_from_its_own_checkpoints(tmp_path):
    """``init={'load_from': 'stage4'}``: without checkpoints of its own the stage loads that
    stage's weights and starts at iteration 0 (resume off, even under --resume); once it has
    checkpoints, --resume continues from them (load_from cleared)."""
    from argparse import Namespace

    from mmengine.config import Config

    from facedisentangle.apis.pipeline import _stage_cfg

    stage4 = str(REPO / 'configs' / 'deepfaceediting' / 'stage4_global-fusion_synthetic-128.py')
    cfg_file = tmp_path / 'pipe.py'
    cfg_file.write_text(
        f"work_dir = {str(tmp_path / 'w')!r}\n"
        f"pipeline = dict(stages=[dict(name='stage4', config={stage4!r}), "
        f"dict(name='plus', config={stage4!r}, init={{'load_from': 'stage4'}})])\n")
    cfg = Config.fromfile(str(cfg_file))
    results = {'stage4': str(tmp_path / 'w' / 'stage4' / 'iter_10.pth')}
    plus = cfg.pipeline.stages[1]
    for resume in (False, True):
        c = _stage_cfg(cfg, plus, cfg.work_dir, results,
                       Namespace(cfg_options=None, launcher='none', resume=resume))
        assert c.load_from == results['stage4'] and c.resume is False
    (tmp_path / 'w' / 'plus').mkdir(parents=True)
    (tmp_path / 'w' / 'plus' / 'last_checkpoint').write_text('iter_5.pth')
    c = _stage_cfg(cfg, plus, cfg.work_dir, results,
                   Namespace(cfg_options=None, launcher='none', resume=True))
    assert c.load_from is None and c.resume is True
    # a stage without init never inherits a load_from from its config
    c = _stage_cfg(cfg, cfg.pipeline.stages[0], cfg.work_dir, {},
                   Namespace(cfg_options=None, launcher='none', resume=True))
    assert c.load_from is None and c.resume is True
