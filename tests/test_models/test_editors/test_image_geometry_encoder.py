"""ImageGeometryEncoderTrainer (stage 2) train_step called directly: only E_I learns, E_s and
D_s of stage 1 stay frozen; predict's per-sample outputs."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from facedisentangle.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from facedisentangle.utils import register_all_modules

register_all_modules()
torch.set_num_threads(1)

CONFIG = 'configs/deepfaceediting/stage2_image-encoder_synthetic-128.py'
COMPONENTS = ['eye1', 'nose']


def build():
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({'model.image_encoder.ngf': 4, 'model.image_encoder.n_blocks': 1,
                         'model.sketch_encoder.ngf': 4, 'model.sketch_decoder.ngf': 4})
    cfg.model.stage1_checkpoint = None
    cfg.model.components = COMPONENTS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ow = cfg.optim_wrapper.to_dict()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=ow.pop('constructor', 'DefaultOptimWrapperConstructor'), optim_wrapper_cfg=ow))
    return model, constructor(model)


def batch(n=2):
    g = torch.Generator().manual_seed(0)
    return dict(photo=torch.randint(0, 256, (n, 3, 128, 128), dtype=torch.uint8, generator=g),
                sketch=torch.randint(0, 256, (n, 3, 128, 128), dtype=torch.uint8, generator=g),
                name=[f'face{i}' for i in range(n)], index=torch.arange(n))


def test_train_step_trains_the_image_encoders_only():
    model, ow = build()
    assert isinstance(ow, OptimWrapper)
    model.train()
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    logs = model.train_step(batch(), ow)
    assert set(logs) == {'loss'} | {f'{c}/loss_geo_code' for c in COMPONENTS}
    assert all(torch.isfinite(v) for v in logs.values())
    assert logs['loss'].item() == pytest.approx(
        sum(logs[f'{c}/loss_geo_code'].item() for c in COMPONENTS), rel=1e-5)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert {k.split('.')[0] for k in changed} == {'image_encoders'}
    assert {k.split('.')[1] for k in changed} == set(COMPONENTS)
    for prefix in ('sketch_encoders', 'sketch_decoders'):
        net = getattr(model, prefix)
        assert not any(p.requires_grad for p in net.parameters())
        assert not any(m.training for m in net.modules())


def test_predict_gives_one_dict_per_sample():
    model, _ = build()
    model.eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        outs = model(**data, mode='predict')
        code = model.image_encoders['nose'](model.crop(data['photo'], 'nose'))
    assert len(outs) == 2
    keys = {f'{c}/{k}' for c in COMPONENTS
            for k in ('code_pred', 'code_gt', 'sketch_pred', 'sketch_gt')}
    assert set(outs[1]) == keys | {'name', 'index'}
    assert outs[1]['name'] == 'face1' and outs[1]['index'] == 1
    assert torch.equal(outs[1]['nose/code_pred'], code[1])
    assert torch.equal(outs[0]['eye1/sketch_gt'], model.crop(data['sketch'], 'eye1')[0])
