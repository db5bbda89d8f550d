"""tools/analysis/sketch_projection_check.py on a tiny random model and embedding (smoke test of
the measurement: the numbers it writes are the L1 of the images it makes)."""
import json

import torch
from conftest import REPO, run_tool
from inference_helpers import tiny_model, write_tiny_export

from facedisentangle.apis.sketch_bank import build_sketch_banks
from facedisentangle.registry import MODELS
from facedisentangle.utils.setup_env import register_all_modules

EMB = dict(drawing_encoder=dict(channels=[4, 8], latent_dim=8),
           drawing_decoder=dict(channels=[8, 4, 4], latent_dim=8))


def test_check_runs_and_reports_every_method(tiny_synthetic_h5, tmp_path):
    export = write_tiny_export(tmp_path / 'tiny.pth',
                               model_cfg=tiny_model(layout=dict(resolution=128)))
    register_all_modules()
    torch.manual_seed(0)
    model_cfg = dict(type='SketchEmbedding', layout=dict(resolution=128),
                     components=['eye1', 'mouth'],
                     drawing_encoder=dict(type='DrawingEncoder', **EMB['drawing_encoder']),
                     drawing_decoder=dict(type='DrawingDecoder', **EMB['drawing_decoder']))
    emb = MODELS.build(model_cfg).eval()
    ckpt = tmp_path / 'emb' / 'emb.pth'
    ckpt.parent.mkdir()
    torch.save({'state_dict': emb.state_dict()}, ckpt)
    build_sketch_banks(emb, tiny_synthetic_h5, ckpt.parent / 'sketch_bank')
    cfg = tmp_path / 'emb.py'
    cfg.write_text(
        f"_base_ = ['{REPO}/configs/deepfaceediting/sketch-embedding_synthetic-128.py']\n"
        f"model = dict(components=['eye1', 'mouth'], drawing_encoder={EMB['drawing_encoder']!r},"
        f" drawing_decoder={EMB['drawing_decoder']!r})\n")
    out = tmp_path / 'out'
    done = run_tool(['tools/analysis/sketch_projection_check.py', '-c', str(export),
                     '--embedding', str(cfg), str(ckpt), '--data', tiny_synthetic_h5,
                     '--num-pairs', '3', '--k', '5', '--strength', '0.5', '1',
                     '--out-dir', str(out), '--grid', str(tmp_path / 'grid.png')])
    res = json.loads((out / 'sketch_projection_check.json').read_text())
    assert res['num_pairs'] == 3 and res['components'] == ['eye1', 'mouth']
    assert set(res['L1']) == {'clean', 'degraded', 'projected@0.5', 'projected@1',
                              'clean_projected@1'}
    for m, r in res['L1'].items():
        assert set(r) == {'all', 'details', 'detail_boxes'} and all(0 < v < 2 for v in r.values())
    assert res['L1']['degraded']['all'] != res['L1']['projected@1']['all']
    assert 'projected@1' in done.stdout and (tmp_path / 'grid.png').is_file()
    run_tool(['tools/analysis/sketch_projection_check.py', '--embedding', str(cfg), str(ckpt),
              '--data', tiny_synthetic_h5, '--sketch-space', '--num-pairs', '4', '--k', '5',
              '--strength', '1', '--out-dir', str(out)])
    space = json.loads((out / 'sketch_space.json').read_text())['L1']
    assert set(space) == {'eye1', 'mouth'}
    assert set(space['eye1']) == {'degraded', 'autoencoded_clean', 'autoencoded_degraded@0',
                                  'autoencoded_degraded@1'}
