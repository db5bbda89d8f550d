"""SketchEmbedding: the per-component sketch auto-encoder for manifold projection, trained
through tools/train.py, and its refine_crops."""
import json
from pathlib import Path

import pytest
import torch
from conftest import run_tool, tiny_run_options

from facedisentangle.registry import MODELS

CONFIG = 'configs/deepfaceediting/sketch-embedding_synthetic-128.py'


def tiny_model(**kw):
    from facedisentangle.utils.setup_env import register_all_modules
    register_all_modules()
    cfg = dict(type='SketchEmbedding', layout=dict(resolution=128),
               drawing_encoder=dict(type='DrawingEncoder', channels=(4, 8, 8), latent_dim=8),
               drawing_decoder=dict(type='DrawingDecoder', channels=(8, 8, 4, 4), latent_dim=8))
    cfg.update(kw)
    return MODELS.build(cfg)


def tiny_options(data_file: str, max_iters: int, interval: int) -> list[str]:
    return tiny_run_options(data_file, max_iters, interval, model=(
        'model.drawing_encoder.channels=[4,8,8]', 'model.drawing_encoder.latent_dim=8',
        'model.drawing_decoder.channels=[8,8,4,4]', 'model.drawing_decoder.latent_dim=8'))


def test_sizes_from_the_layout_and_refine_crops():
    model = tiny_model().eval()
    assert {c: e.image_size for c, e in model.drawing_encoders.items()} == \
        dict(bg=128, eye1=32, eye2=32, nose=40, mouth=48)
    sketch = torch.rand(2, 3, 128, 128) * 2 - 1
    rec = model(sketch, mode='tensor')
    assert rec['nose'].shape == (2, 1, 40, 40)
    banks = {c: torch.randn(30, 8) for c in model.components}
    crops = model.refine_crops(sketch, banks, dict(eye1=1.0, nose=0.5), k=5)
    assert set(crops) == {'eye1', 'nose'} and crops['nose'].shape == (2, 3, 40, 40)
    # strength 1 on a bank vector's own decoding: projection of a bank member is itself
    v = model.encode(sketch, 'eye1')
    bank = torch.cat([v, torch.randn(40, 8) * 10])
    out = model.refine_crops(sketch, {'eye1': bank}, dict(eye1=1.0), k=1)
    assert torch.allclose(out['eye1'][:, :1], model.decode(v, 'eye1').clamp(-1, 1), atol=1e-5)
    with pytest.raises(ValueError, match="unknown component.*'ear'"):
        model.refine_crops(sketch, banks, dict(ear=1.0))
    with pytest.raises(KeyError, match="no sketch bank for component 'bg'"):
        model.refine_crops(sketch, {}, 0.3)
    assert model.refine_crops(sketch, {}, 0.0) == {}


def test_bad_decoder_output_is_named():
    with pytest.raises(ValueError, match='output_nc=1'):
        tiny_model(drawing_decoder=dict(type='DrawingDecoder', channels=(8, 8, 4, 4),
                                        latent_dim=8, output_nc=32))


def test_trains_through_the_runner(tiny_synthetic_h5, tmp_path):
    work = tmp_path / 'work'
    run_tool(['tools/train.py', CONFIG, '--work-dir', str(work),
              *tiny_options(tiny_synthetic_h5, 4, 2)])
    assert (work / 'iter_4.pth').is_file()
    rows = []
    for f in sorted(Path(work).glob('*/vis_data/scalars.json')):
        rows += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    val = [r for r in rows if 'nose/sketch/L1' in r]
    assert len(val) == 3 and all(r['bg/sketch/L1'] > 0 for r in val)
    train = [r for r in rows if 'loss' in r]
    assert {'bg/loss_rec', 'eye1/loss_rec', 'mouth/loss_rec'} <= set(train[-1])
    assert list(work.glob('*/vis_data/vis_image/embedding_eye1_*.png'))
