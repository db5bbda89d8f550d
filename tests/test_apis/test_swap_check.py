"""The ground-truth swap check of a stage-3 model (facedisentangle.apis.swap_check and its
command line, tools/analysis/swap_check.py) on a tiny model and tiny synthetic faces."""
import json
import os.path as osp

import pytest
import torch
from conftest import REPO, run_tool, write_factor_faces

from facedisentangle.apis import init_model
from facedisentangle.apis.swap_check import judge, load_stage3_model, run

STAGE3 = osp.join(REPO, 'configs', 'deepfaceediting',
                  'stage3_local-disentanglement_synthetic-128.py')
STAGE2 = osp.join(REPO, 'configs', 'deepfaceediting', 'stage2_image-encoder_synthetic-128.py')
OPTIONS = {'model.components': ['eye1', 'nose'], 'model.generator.ngf': 4,
           'model.generator.n_blocks': 1, 'model.image_encoder.ngf': 4,
           'model.image_encoder.n_blocks': 1, 'model.sketch_encoder.ngf': 4,
           'model.discriminator.ndf': 4, 'model.discriminator.n_layers': 2,
           'model.discriminator.num_D': 1}


@pytest.fixture(scope='module')
def faces_h5(tmp_path_factory):
    """2 train and 4 test synthetic faces at 128 px, with labels and factor seeds."""
    return write_factor_faces(tmp_path_factory.mktemp('data') / 'synthetic-128.h5',
                              {'train': 2, 'test': 4})


@pytest.fixture(scope='module')
def stage3_checkpoint(tmp_path_factory):
    """A tiny stage-3 checkpoint as EMAHook saves it: the averaged generators in state_dict,
    the raw ones (here: different) in ema_state_dict as module.<key>."""
    torch.manual_seed(0)
    model = init_model(STAGE3, cfg_options=OPTIONS)
    state = model.state_dict()
    raw = {f'module.{k}': v * 0.5 for k, v in state.items() if k.startswith('generators.')}
    path = tmp_path_factory.mktemp('stage3') / 'iter_2.pth'
    torch.save(dict(meta=dict(iter=2), state_dict=state,
                    ema_state_dict=dict(raw, steps=torch.tensor(2))), path)
    return str(path)


def test_swap_check_report_grids_and_raw_weights(faces_h5, stage3_checkpoint, tmp_path):
    report = run(STAGE3, stage3_checkpoint, data=faces_h5, num_pairs=3,
                 out_dir=str(tmp_path / 'swap'), cfg_options=OPTIONS)
    assert report['pairs'] == 3 and len(report['pair_list']) == 3
    assert report['weights'] == 'state_dict'
    assert all(p['geometry'] != p['appearance'] for p in report['pair_list'])
    for c in ('eye1', 'nose'):
        for method in ('swap', 'copy_geometry', 'copy_appearance', 'color_transfer'):
            assert 0 <= report['metrics'][f'{c}/{method}/L1'] <= 2
        assert osp.isfile(tmp_path / 'swap' / f'swap_grid_{c}.png')
    assert report['metrics']['eye1/irises/pixels'] > 0
    assert 'eye1/irises' in report['verdict'] and 'nose/all' in report['verdict']
    # the self-reconstruction is a reference beside the baselines, never one the swap must beat
    assert 0 <= report['metrics']['eye1/self_reconstruction/irises/L1'] <= 2
    for v in report['verdict'].values():
        assert 'self_reconstruction' not in v['not_beaten']
        assert set(v['L1_bound_by_reconstruction']) <= set(v['not_beaten'])
    saved = json.load(open(tmp_path / 'swap' / 'swap_check.json'))
    assert saved['metrics'] == report['metrics']

    raw = run(STAGE3, stage3_checkpoint, data=faces_h5, num_pairs=3,
              out_dir=str(tmp_path / 'raw'), cfg_options=OPTIONS, raw_weights=True)
    assert raw['weights'] == 'raw (ema_state_dict)'
    assert raw['metrics']['eye1/swap/L1'] != report['metrics']['eye1/swap/L1']
    # the copy baselines do not depend on the model
    assert raw['metrics']['eye1/copy_geometry/L1'] == report['metrics']['eye1/copy_geometry/L1']


def test_swap_check_refuses_what_is_not_stage3(stage3_checkpoint, tmp_path):
    with pytest.raises(ValueError, match='not a stage-3 config.*ImageGeometryEncoderTrainer'):
        load_stage3_model(STAGE2, stage3_checkpoint)
    with pytest.raises(FileNotFoundError, match="swap_check: checkpoint file '.*nowhere.pth'"):
        load_stage3_model(STAGE3, str(tmp_path / 'nowhere.pth'))


def test_swap_check_command_line(faces_h5, stage3_checkpoint, tmp_path):
    options = ["model.components=['eye1','nose']"] + [
        f'{k}={v}' for k, v in OPTIONS.items() if k != 'model.components']
    proc = run_tool(['tools/analysis/swap_check.py', STAGE3, stage3_checkpoint, '--data',
                     faces_h5, '--num-pairs', '2', '--out-dir', str(tmp_path / 'cli'),
                     '--cfg-options', *options])
    assert 'eye1/all: swap L1' in proc.stdout and '2 pairs in' in proc.stdout
    assert osp.isfile(tmp_path / 'cli' / 'swap_check.json')


def test_swap_check_verdict_measures_and_the_reconstruction_bound():
    """judge(): L1 and colour_L1 lower-is-better, colour_corr higher-is-better (a baseline
    without it, a constant colour, cannot win on it); the self-reconstruction is never a
    baseline, and a loss it shares is reported as bound by the model's fidelity."""
    m = {'eye1/swap/L1': 0.08, 'eye1/copy_geometry/L1': 0.36, 'eye1/copy_appearance/L1': 0.10,
         'eye1/self_reconstruction/L1': 0.07}
    for meth, l1, col, corr in (('swap', 0.27, 0.11, 0.04), ('copy_geometry', 0.22, 0.12, None),
                                ('copy_appearance', 0.44, 0.24, 0.25),
                                ('self_reconstruction', 0.26, 0.09, 0.5)):
        m[f'eye1/{meth}/irises/L1'], m[f'eye1/{meth}/irises/colour_L1'] = l1, col
        if corr is not None:
            m[f'eye1/{meth}/irises/colour_corr'] = corr
    m['eye1/irises/pixels'] = 400
    v = judge(m, ['eye1'])
    assert v['eye1/all']['beats_all'] and 'swap_colour_L1' not in v['eye1/all']
    iris = v['eye1/irises']
    assert iris['not_beaten'] == ['copy_geometry']
    assert iris['L1_bound_by_reconstruction'] == ['copy_geometry']   # 0.26 loses too
    assert iris['colour_beats_all']
    assert iris['corr_not_beaten'] == ['copy_appearance']            # 0.04 < 0.25
    assert iris['colour_corr_bound_by_reconstruction'] == []          # 0.5 > 0.25
