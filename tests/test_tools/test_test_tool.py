"""tools/test.py: swap and sketch modes on tiny trained stage-3/4 checkpoints, the swap table
beside the baselines, JSON with the pair list, grids, --random-backbones, one-line errors."""
import json
import re

import cv2
import numpy as np
import pytest
from conftest import REPO, run_tool

from facedisentangle.apis.test import pair_evaluator
from facedisentangle.datasets import FaceH5Dataset, make_swap_pairs
from facedisentangle.structures import ComponentLayout

CONFIGS = REPO / 'configs' / 'deepfaceediting'
STAGE3 = 'stage3_local-disentanglement_synthetic-128.py'
STAGE4 = 'stage4_global-fusion_synthetic-128.py'


def common_options(data: str) -> list[str]:
    return [f'train_dataloader.dataset.ann_file={data}', f'val_dataloader.dataset.ann_file={data}',
            f'test_dataloader.dataset.ann_file={data}', 'train_dataloader.batch_size=4',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'val_dataloader.batch_size=4', 'test_dataloader.batch_size=4',
            'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=2',
            'custom_hooks.FaceVisualizationHook.interval=2',
            'param_scheduler.0.begin=1', 'param_scheduler.0.end=2',
            'model.sketch_encoder.ngf=4', 'model.image_encoder.ngf=4', 'model.generator.ngf=4']


@pytest.fixture(scope='module')
def trained(tiny_synthetic_h5, tmp_path_factory):
    """Stage-3 and stage-4 checkpoints after 2 iterations of tools/train.py (tiny networks;
    stage 3 with random frozen encoders instead of a stage-2 checkpoint)."""
    root = tmp_path_factory.mktemp('trained')
    opts = common_options(tiny_synthetic_h5)
    run_tool(['tools/train.py', str(CONFIGS / STAGE3), '--work-dir', str(root / 's3'),
              '--cfg-options', *opts, 'model.discriminator.ndf=4', 'model.stage2_checkpoint=None',
              'custom_hooks.EMAHook.begin_iter=0'])
    ckpt3 = root / 's3' / 'iter_2.pth'
    run_tool(['tools/train.py', str(CONFIGS / STAGE4), '--work-dir', str(root / 's4'),
              '--cfg-options', *opts, 'model.sketch_decoder.ngf=4',
              'model.fusion_generator.input_nc=4', 'model.fusion_generator.ngf=4',
              'model.fusion_discriminator.ndf=4', f'model.stage3_checkpoint={ckpt3}',
              'model.sketch_decoder_checkpoint=None'])
    # the configs as the runs dumped them (every override applied) are what users test with
    return dict(cfg3=str(root / 's3' / STAGE3), ckpt3=str(ckpt3),
                cfg4=str(root / 's4' / STAGE4), ckpt4=str(root / 's4' / 'iter_2.pth'),
                root=root, data=tiny_synthetic_h5)


def tool_main(argv) -> int:
    from facedisentangle.cli.test import main

    return main([str(a) for a in argv])


def expected_pairs(data: str):
    faces = FaceH5Dataset(data, split='test')
    pairs = make_swap_pairs(len(faces), None, 0, 'test')
    photos = np.stack([faces[k]['photo'].numpy() for k in range(len(faces))])
    photos = photos.astype(np.float64) / 127.5 - 1
    return faces, pairs, photos


def truths(faces, pairs):
    from facedisentangle.datasets.synthetic import render_face, sample_appearance, sample_geometry

    out = [render_face(sample_geometry(faces[i]['geometry_seed']),
                       sample_appearance(faces[j]['appearance_seed']), 128)['photo']
           for i, j in pairs]
    return np.stack(out).transpose(0, 3, 1, 2).astype(np.float64) / 127.5 - 1


def table_rows(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith('│')]


def test_stage3_swap_table_json_pairs_grids_random_backbones(trained, tmp_path):
    out = tmp_path / 'stage3_swap.json'
    proc = run_tool(['tools/test.py', trained['cfg3'], trained['ckpt3'], '--mode', 'swap',
                     '--random-backbones', '--work-dir', str(tmp_path), '--out', str(out)])
    rows = table_rows(proc.stdout)
    text = '\n'.join(rows)
    for method in ('swap', 'copy_geometry', 'copy_appearance', 'color_transfer'):
        assert re.search(rf'│ {method}\s', text), method
    for comp in ('bg', 'eye1', 'eye2', 'nose', 'mouth'):
        assert re.search(rf'│ {comp}\s+│ irises', text), comp
    # --random-backbones: every printed number is marked, and said to be not comparable
    numbers = re.findall(r'\d+\.\d{4}\*?', text)
    assert numbers and all(n.endswith('*') for n in numbers)
    assert 'NOT COMPARABLE' in proc.stdout

    res = json.loads(out.read_text())
    assert res['mode'] == 'swap' and res['comparable'] is False
    assert res['model_type'] == 'LocalDisentanglement' and len(res['checkpoint_sha256']) == 64
    faces, pairs, photos = expected_pairs(trained['data'])
    assert [(p['geometry'], p['appearance']) for p in res['pairs']] == pairs
    assert [p['geometry_name'] for p in res['pairs']] == [faces[i]['name'] for i, _ in pairs]
    assert res['pair_seed'] == 0 and res['data']['has_truth'] is True
    m = res['metrics']
    assert {'eye1/swap/L1', 'eye1/swap/PSNR', 'eye1/swap/LPIPS(random)', 'eye1/copy_geometry/L1',
            'eye1/copy_appearance/L1', 'eye1/color_transfer/L1', 'eye1/swap/irises/L1',
            'eye1/geometry_consistency/L1', 'eye1/appearance_consistency/rel_L1'} <= set(m)
    assert isinstance(m['eye1/irises/pixels'], int) and m['eye1/irises/pixels'] > 0
    assert 'eye1' in res['swap_table'] and 'swap' in res['swap_table']['eye1']['all']
    # the baselines do not depend on the model: recompute them from the file and the renderer
    layout = ComponentLayout(128)
    x, y, s = layout.box('eye1')
    t = truths(faces, pairs)[..., y:y + s, x:x + s]
    geo = photos[[i for i, _ in pairs]][..., y:y + s, x:x + s]
    app = photos[[j for _, j in pairs]][..., y:y + s, x:x + s]
    assert m['eye1/copy_geometry/L1'] == pytest.approx(np.abs(geo - t).mean(), rel=1e-6)
    assert m['eye1/copy_appearance/L1'] == pytest.approx(np.abs(app - t).mean(), rel=1e-6)
    # one grid per component: a row per pair, a column per output
    assert len(res['grids']) == 5
    grid_path = next(p for p in res['grids'] if p.endswith('_grid_eye1.png'))
    assert res['grids'][grid_path] == ['geometry', 'sketch', 'appearance', 'swap',
                                       'sketch_swap', 'reconstruction', 'swap_gt']
    assert 0 <= m['eye1/self_reconstruction/irises/L1'] <= 2
    grid = cv2.imread(grid_path)
    assert grid.shape == (2 + 4 * (32 + 2), 2 + 7 * (32 + 2), 3)


def test_stage4_swap_table_on_the_fused_face(trained, tmp_path):
    out = tmp_path / 'stage4_swap.json'
    proc = run_tool(['tools/test.py', trained['cfg4'], trained['ckpt4'], '--mode', 'swap',
                     '--lpips', 'none', '--num-pairs', '6', '--work-dir', str(tmp_path),
                     '--out', str(out)])
    text = '\n'.join(table_rows(proc.stdout))
    assert re.search(r'│ face\s+│ all\s+│ swap\s', text)
    assert re.search(r'│\s+│\s+│ copy_appearance\s', text)
    assert '*' not in text and 'NOT COMPARABLE' not in proc.stdout
    res = json.loads(out.read_text())
    assert res['comparable'] is True and res['model_type'] == 'GlobalFusion'
    faces, pairs, photos = expected_pairs(trained['data'])
    pairs = make_swap_pairs(len(faces), 6, 0, 'test')
    assert [(p['geometry'], p['appearance']) for p in res['pairs']] == pairs
    m = res['metrics']
    t = truths(faces, pairs)
    assert m['face/copy_geometry/L1'] == pytest.approx(
        np.abs(photos[[i for i, _ in pairs]] - t).mean(), rel=1e-6)
    assert m['face/copy_appearance/L1'] == pytest.approx(
        np.abs(photos[[j for _, j in pairs]] - t).mean(), rel=1e-6)
    assert 0 < m['face/swap/L1'] < 2 and 'face/swap/lips/PSNR' in m
    assert 'nose/geometry_consistency/L1' in m and not any('LPIPS' in k for k in m)
    [(grid_path, columns)] = res['grids'].items()
    assert columns[3] == 'swap' and 'reconstruction' in columns
    assert 'face/self_reconstruction/L1' in m
    assert cv2.imread(grid_path).shape == (2 + 4 * 130, 2 + 7 * 130, 3)


def test_stage4_sketch_mode_and_reconstruction_mode(trained, tmp_path, capsys):
    out = tmp_path / 'sketch.json'
    assert tool_main([trained['cfg4'], trained['ckpt4'], '--mode', 'sketch', '--lpips', 'none',
                      '--work-dir', tmp_path, '--out', out, '--grid-samples', '0']) == 0
    res = json.loads(out.read_text())
    assert res['mode'] == 'sketch' and res['grids'] == {}
    assert "pred_key='sketch_swap'" in res['config_text']
    assert {'face/swap/L1', 'face/color_transfer/L1', 'eye1/geometry_consistency/L1'} <= \
        set(res['metrics'])
    out = tmp_path / 'rec.json'
    assert tool_main([trained['cfg4'], trained['ckpt4'], '--work-dir', tmp_path,
                      '--out', out]) == 0
    res = json.loads(out.read_text())
    assert set(res['metrics']) == {'face/L1', 'face/PSNR', 'face/SSIM'}
    assert len(res['samples']) == 4 and res['samples'][0]['name'].startswith('synth')
    assert list(res['grids'].values()) == [['pred', 'gt', 'sketch_pred']]


def test_pair_modes_score_the_matching_output():
    swap = pair_evaluator('GlobalFusion', ['bg'], 'swap', True, None, False, None)
    sketch = pair_evaluator('LocalDisentanglement', ['eye1', 'nose'], 'sketch', True,
                            dict(net='alex'), False, None)
    assert swap[0]['pred_key'] == 'swap' and swap[0]['prefix'] == 'face'
    assert [m['prefix'] for m in sketch if m['type'] == 'SwapGroundTruthMetric'] == \
        ['eye1', 'nose']
    assert {m['pred_key'] for m in sketch if m['type'] == 'SwapGroundTruthMetric'} == \
        {'sketch_swap'}
    assert {m['pred_code_key'] for m in sketch if m['type'] == 'CodeConsistencyMetric'} == \
        {'sketch_swap_code', 'sketch_swap_appearance_code'}
    no_truth = pair_evaluator('LocalDisentanglement', ['eye1'], 'swap', False, None, False, None)
    assert {m['type'] for m in no_truth} == {'CodeConsistencyMetric'}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: '), err
    return err[0]


def test_missing_files_and_wrong_modes_are_one_line_errors(trained, tmp_path, capsys,
                                                           monkeypatch):
    work = ['--work-dir', tmp_path]
    assert tool_main([trained['cfg4'], tmp_path / 'nope.pth', *work]) == 2
    line = one_error_line(capsys)
    assert 'nope.pth' in line and 'not found' in line
    assert tool_main([tmp_path / 'nope.py', trained['ckpt4'], *work]) == 2
    assert 'config file' in one_error_line(capsys)
    # no weights in the torch hub cache: LPIPS (the swap table) and FID name their files
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'empty_torch_home'))
    assert tool_main([trained['cfg3'], trained['ckpt3'], '--mode', 'swap', *work]) == 2
    line = one_error_line(capsys)
    assert 'alexnet-owt-7be5be79.pth' in line and '--lpips none' in line
    assert tool_main([trained['cfg4'], trained['ckpt4'], '--fid', *work]) == 2
    assert 'pt_inception-2015-12-05-6726825d.pth' in one_error_line(capsys)
    assert tool_main([trained['cfg4'], trained['ckpt4'], '--fid', '--weights-dir',
                      tmp_path / 'weights', *work]) == 2
    assert str(tmp_path / 'weights') in one_error_line(capsys)
    # modes and flags that do not apply
    assert tool_main([CONFIGS / 'stage1_sketch-ae_synthetic-128.py', trained['ckpt3'], '--mode',
                      'swap', *work]) == 2
    assert 'use --mode reconstruction' in one_error_line(capsys)
    assert tool_main([trained['cfg3'], trained['ckpt3'], '--fid', *work]) == 2
    assert 'whole faces' in one_error_line(capsys)
    # a stage-3 checkpoint is not a stage-4 model (the Runner would load it non-strictly)
    assert tool_main([trained['cfg4'], trained['ckpt3'], *work]) == 2
    assert 'fusion_generator' in one_error_line(capsys)


@pytest.fixture
def fake_inception_home(tmp_path, monkeypatch):
    """A torch hub cache holding an Inception file of the right layout with RANDOM weights
    (the numbers are not FID; only the wiring is tested), and a private reference cache."""
    import torch

    from facedisentangle.evaluation.networks import FID_WEIGHTS_FILE
    from facedisentangle.evaluation.networks.fid_inception import _fid_inception_v3_without_weights

    home = tmp_path / 'torch_home'
    (home / 'hub' / 'checkpoints').mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(_fid_inception_v3_without_weights().state_dict(),
               home / 'hub' / 'checkpoints' / FID_WEIGHTS_FILE)
    monkeypatch.setenv('TORCH_HOME', str(home))
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg_cache'))
    return home


def test_fid_and_kid_of_the_faces_and_random_backbones_skip_them(trained, tmp_path,
                                                                 fake_inception_home):
    out = tmp_path / 'fid.json'
    assert tool_main([trained['cfg4'], trained['ckpt4'], '--fid', '--work-dir', tmp_path,
                      '--out', out, '--grid-samples', '0']) == 0
    m = json.loads(out.read_text())['metrics']
    assert {'face/L1', 'face/FID', 'face/KID', 'face/KID_std'} <= set(m) and m['face/FID'] > 0
    # the real statistics of the test split were cached for the next run
    assert list((tmp_path / 'xdg_cache').rglob('fid_*.npz'))
    out = tmp_path / 'fid_swap.json'
    assert tool_main([trained['cfg4'], trained['ckpt4'], '--mode', 'swap', '--fid', '--lpips',
                      'none', '--random-backbones', '--work-dir', tmp_path, '--out', out,
                      '--grid-samples', '0']) == 0
    res = json.loads(out.read_text())
    assert not any('FID' in k or 'KID' in k for k in res['metrics'])
    assert any('FID SKIPPED' in n for n in res['notes']) and res['comparable'] is False


def test_fid_validation_config_is_opt_in_and_names_the_missing_file(tmp_path, monkeypatch):
    from mmengine.config import Config

    from facedisentangle.registry import METRICS
    from facedisentangle.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(CONFIGS / 'eval' / 'stage4_global-fusion-fid_synthetic-128.py')
    base = Config.fromfile(CONFIGS / STAGE4)
    assert cfg.model == base.model and cfg.train_cfg == base.train_cfg
    assert base.default_hooks.checkpoint.save_best == 'face/L1'   # the default stays cheap
    assert cfg.default_hooks.checkpoint.save_best == 'face/FID'
    fid = cfg.val_evaluator[1]
    assert fid.type == 'FID' and fid.reference.source == base.val_dataloader.dataset.ann_file
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'empty'))
    with pytest.raises(FileNotFoundError, match='pt_inception-2015-12-05-6726825d.pth'):
        METRICS.build(dict(fid, reference=None))


def test_two_cpu_processes_give_the_numbers_of_one(trained, tmp_path):
    """torchrun with 2 processes (gloo): each of 5 pairs counts once; the sub-networks are
    DDP-wrapped (separate_ddp), which the checkpoint check must see through."""
    import torch

    if torch.cuda.is_available():
        pytest.skip('this test checks the CPU (gloo) path')
    args = [trained['cfg4'], trained['ckpt4'], '--mode', 'swap', '--lpips', 'none',
            '--num-pairs', '5', '--grid-samples', '0']
    one, two = tmp_path / 'one.json', tmp_path / 'two.json'
    assert tool_main([*args, '--work-dir', tmp_path / 'w1', '--out', one]) == 0
    run_tool(['-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29547',
              'tools/test.py', *args, '--work-dir', str(tmp_path / 'w2'), '--out', str(two),
              '--launcher', 'pytorch'])
    m1, m2 = (json.loads(p.read_text())['metrics'] for p in (one, two))
    assert set(m1) == set(m2) and 'face/swap/L1' in m1
    for k, v in m1.items():
        # a correlation near 0 is scale-free: compare it absolutely (the two runs' images
        # differ in the last float digits, with other batches)
        tol = dict(abs=1e-5) if k.endswith('colour_corr') else dict(rel=1e-5, abs=1e-7)
        assert m2[k] == pytest.approx(v, **tol), k
