"""tools/train.py's user errors and console: unknown --cfg-options keys are refused before
anything runs (with the closest key), a missing config or an empty split is one line and exit
code 2, and MMEngine's listings go to the log file unless --verbose."""
from __future__ import annotations

import pytest
from conftest import REPO, run_tool
from mmengine.config import Config

from facedisentangle.apis.train import check_options
from facedisentangle.utils import register_all_modules
from facedisentangle.utils.cfg_options import UnknownConfigKeyError, check_key

CONFIGS = REPO / 'configs' / 'deepfaceediting'
STAGE1 = CONFIGS / 'stage1_sketch-ae_synthetic-128.py'
PIPELINE = CONFIGS / 'pipeline_synthetic-128.py'


@pytest.fixture(scope='module')
def stage1():
    register_all_modules(init_default_scope=False)
    return Config.fromfile(STAGE1).to_dict()


def tiny_options(data: str, iters: int = 1) -> list[str]:
    return [f'train_dataloader.dataset.ann_file={data}', f'val_dataloader.dataset.ann_file={data}',
            f'test_dataloader.dataset.ann_file={data}', 'train_dataloader.batch_size=4',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'val_dataloader.batch_size=4', 'model.sketch_encoder.ngf=4',
            'model.sketch_decoder.ngf=4', f'train_cfg.max_iters={iters}',
            f'train_cfg.val_interval={iters}', f'default_hooks.checkpoint.interval={iters}',
            'default_hooks.logger.interval=1',
            f'custom_hooks.FaceVisualizationHook.interval={iters}',
            'param_scheduler.0.begin=0', f'param_scheduler.0.end={iters}']


@pytest.mark.parametrize('key,closest', [
    ('trian_cfg.max_iters', 'train_cfg.max_iters'),                  # top level
    ('train_cfg.max_iterz', 'train_cfg.max_iters'),                  # nested
    ('model.sketch_encoder.ngff', 'model.sketch_encoder.ngf'),       # a backbone's argument
    ('default_hooks.chekpoint.interval', 'default_hooks.checkpoint.interval'),
    ('train_dataloader.dataset.splt', 'train_dataloader.dataset.split'),
    ('custom_hooks.0.intervall', 'custom_hooks.0.interval'),         # through a list index
])
def test_unknown_keys_name_the_closest_one(stage1, key, closest):
    msg = check_key(stage1, key)
    assert msg and f"'{key}'" in msg and f"closest valid key: '{closest}'" in msg, msg


@pytest.mark.parametrize('key', [
    'train_cfg.max_iters', 'custom_hooks.0.interval', 'param_scheduler.0.end',
    'load_from', 'resume', 'compile',                              # Runner arguments
    'model.components',                                            # the model class's argument
    'model.loss_rec.loss_weight', 'optim_wrapper.optimizer.weight_decay',
    'train_dataloader.pin_memory', 'randomness.deterministic', 'env_cfg.dist_cfg.timeout',
    'default_hooks.visualization',                                 # a whole new hook
])
def test_legitimate_keys_pass(stage1, key):
    assert check_key(stage1, key) is None


def test_list_entries_are_addressed_by_their_type(stage1):
    from facedisentangle.utils.cfg_options import merge_cfg_options, resolve_typed_keys

    key = 'custom_hooks.FaceVisualizationHook.interval'
    assert [h['type'] for h in stage1['custom_hooks']][0] == 'FaceVisualizationHook'
    assert resolve_typed_keys(stage1, {key: 7, 'train_cfg.max_iters': 3}) == {
        'custom_hooks.0.interval': 7, 'train_cfg.max_iters': 3}
    assert check_key(stage1, key) is None
    assert check_key(stage1, 'custom_hooks.ValidateAtStartHook') is None
    msg = check_key(stage1, 'custom_hooks.FaceVisualisationHook.interval')
    assert "'custom_hooks' has no entry of type 'FaceVisualisationHook'" in msg, msg
    assert 'FaceVisualizationHook, ValidateAtStartHook' in msg
    assert "closest valid key: 'custom_hooks.0.interval'" in check_key(
        stage1, 'custom_hooks.FaceVisualizationHook.intervall')
    # the name finds the hook wherever it sits; the other entries are left alone
    cfg = Config.fromfile(STAGE1)
    cfg.custom_hooks = [dict(type='EMAHook'), *cfg.custom_hooks]
    merge_cfg_options(cfg, {key: 7, 'custom_hooks.0.momentum': 0.5})
    assert cfg.custom_hooks[1].interval == 7 and cfg.custom_hooks[0].momentum == 0.5
    assert cfg.custom_hooks[1].max_samples == 4 and 'interval' not in cfg.custom_hooks[0]
    cfg.custom_hooks.append(dict(type='EMAHook'))
    with pytest.raises(UnknownConfigKeyError, match="'custom_hooks' has 2 entries of type "
                                                    "'EMAHook': address it by index"):
        merge_cfg_options(cfg, {'custom_hooks.EMAHook.momentum': 0.1})


def test_pipeline_keys_are_checked_against_the_pipeline_and_every_stage():
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(PIPELINE)
    check_options(cfg, {'train_cfg.max_iters': 2, 'pipeline.amp': False,
                        'pipeline.samples.num': 2, 'pipeline.stages.0.cfg_options.x': 1,
                        'work_dir': 'w'})
    with pytest.raises(UnknownConfigKeyError, match="closest valid key: 'pipeline.amp'"):
        check_options(cfg, {'pipeline.ampp': True})
    with pytest.raises(UnknownConfigKeyError) as e:
        check_options(cfg, {'train_cfg.max_iterz': 2})
    assert "closest valid key: 'train_cfg.max_iters'" in str(e.value)
    assert 'stage1 (stage1_sketch-ae_synthetic-128.py)' in str(e.value)
    assert 'stage4 (stage4_global-fusion_synthetic-128.py)' in str(e.value)
    # a stage-3 key would be added to the other stages' models: named with those stages
    with pytest.raises(UnknownConfigKeyError) as e:
        check_options(cfg, {'model.stage2_checkpoint': None})
    assert 'stage1 (' in str(e.value) and 'stage3 (' not in str(e.value)


def test_unknown_key_stops_before_anything_runs(tmp_path):
    work = tmp_path / 'work'
    proc = run_tool(['tools/train.py', str(PIPELINE), '--work-dir', str(work), '--cfg-options',
                     'trian_cfg.max_iters=3'], check=False, timeout=300)
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: --cfg-options:'), proc.stderr
    assert "'trian_cfg.max_iters'" in err[0] and "'train_cfg.max_iters'" in err[0]
    assert '--allow-new-keys' in err[0]
    assert not work.exists()


def test_allow_new_keys_lets_a_new_key_through(tiny_synthetic_h5, tmp_path):
    work = tmp_path / 'work'
    proc = run_tool(['tools/train.py', str(STAGE1), '--work-dir', str(work), '--allow-new-keys',
                     '--cfg-options', *tiny_options(tiny_synthetic_h5), 'my_note=hello'],
                    timeout=300)
    assert (work / 'iter_1.pth').is_file()
    dumped = (work / STAGE1.name).read_text()
    assert "my_note = 'hello'" in dumped
    # the console has the iteration log, not MMEngine's listings; the log file has both
    out = proc.stdout + proc.stderr
    assert 'Iter(train) [1/1]' in out
    for listing in ('System environment', 'Config:', 'Hooks will be executed'):
        assert listing not in out, listing
    log = next(work.glob('*/*.log')).read_text()
    assert 'System environment' in log and 'Hooks will be executed' in log
    assert 'Config:' in log and 'Iter(train) [1/1]' in log


def test_verbose_prints_the_listings(tiny_synthetic_h5, tmp_path):
    proc = run_tool(['tools/train.py', str(STAGE1), '--work-dir', str(tmp_path / 'work'),
                     '--verbose', '--cfg-options', *tiny_options(tiny_synthetic_h5)],
                    timeout=300)
    out = proc.stdout + proc.stderr
    for listing in ('System environment', 'Config:', 'Hooks will be executed',
                    'Iter(train) [1/1]'):
        assert listing in out, listing


def train_main(argv: list[str]) -> int:
    from facedisentangle.cli.train import main

    return main(argv)


def test_missing_configs_are_one_line_with_exit_code_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')  # parse_args sets it; undone after the test
    assert train_main([str(tmp_path / 'nope.py')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error:') and 'nope.py' in err[0], err
    # a pipeline stage whose config file is missing stops before any stage trains
    cfg = tmp_path / 'pipe.py'
    cfg.write_text(f"_base_ = [{str(REPO / 'configs/_base_/default_runtime.py')!r}]\n"
                   "pipeline = dict(stages=[dict(name='s1', config='missing_stage.py')])\n")
    assert train_main([str(cfg), '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                       'train_cfg.max_iters=1']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'missing_stage.py' in err[0], err
    assert not (tmp_path / 'w').exists()


@pytest.mark.parametrize('case', ['empty_split', 'missing_data'])
def test_data_errors_are_one_line_with_exit_code_2(tmp_path, case):
    data = tmp_path / 'noval.h5'
    if case == 'empty_split':
        from facedisentangle.cli.synthetic_faces import main as make_faces

        assert make_faces(['--num', '8', '--size', '128', '--val', '0', '--test', '2',
                           '--workers', '1', '--out', str(data)]) == 0
        name = "split 'val' has no samples"
    else:
        name = 'noval.h5'
    args = [str(STAGE1), '--work-dir', str(tmp_path / 'work'), '--cfg-options',
            *tiny_options(str(data))]
    proc = run_tool(['tools/train.py', *args], check=False, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error:') and name in err[0], proc.stderr
    assert 'Traceback' not in proc.stdout + proc.stderr

