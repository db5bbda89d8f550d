"""ImageToSketch: the photo -> sketch generator trained pix2pixHD-style through the Runner,
and its checkpoint used by FaceEditor.to_sketch(method='generator')."""
import json

import numpy as np
import pytest
import torch
from conftest import run_tool, tiny_run_options

from facedisentangle.registry import MODELS
from facedisentangle.utils.setup_env import register_all_modules

CONFIG = 'configs/deepfaceediting/image-to-sketch_synthetic-128.py'
TINY_G = dict(type='ImageToSketchGenerator', ngf=4, n_downsampling=2, n_blocks=1)
TINY_D = dict(type='MultiScaleDiscriminator', input_nc=6, ndf=4, n_layers=2, num_D=2)


def tiny_options(data_file: str, max_iters: int, interval: int) -> list[str]:
    return tiny_run_options(data_file, max_iters, interval, batch_size=2, model=(
        'model.image_to_sketch.ngf=4', 'model.image_to_sketch.n_downsampling=2',
        'model.image_to_sketch.n_blocks=1', 'model.sketch_discriminator.ndf=4',
        'model.sketch_discriminator.n_layers=2'))


def test_losses_and_errors():
    register_all_modules()
    model = MODELS.build(dict(type='ImageToSketch', layout=dict(resolution=32),
                              image_to_sketch=TINY_G, sketch_discriminator=TINY_D,
                              loss_vgg=None, loss_rec=dict(type='ReconstructionLoss')))
    photo, sketch = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    losses = model(photo, sketch, mode='loss')
    assert {'loss_rec', 'loss_gan_g', 'loss_feat', 'loss_gan_d_real', 'loss_gan_d_fake'} <= \
        set(losses), set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    with pytest.raises(ValueError, match='sketch_discriminator is None'):
        MODELS.build(dict(type='ImageToSketch', layout=dict(resolution=32),
                          image_to_sketch=TINY_G, loss_vgg=None))
    with pytest.raises(ValueError, match='every generator loss is off'):
        MODELS.build(dict(type='ImageToSketch', layout=dict(resolution=32),
                          image_to_sketch=TINY_G, loss_gan=None, loss_feat=None,
                          loss_vgg=None))


def test_trains_through_the_runner_and_serves_to_sketch(tiny_synthetic_h5, tmp_path):
    work = tmp_path / 'work'
    run_tool(['tools/train.py', CONFIG, '--work-dir', str(work),
              *tiny_options(tiny_synthetic_h5, 2, 2)])
    ckpt = work / 'iter_2.pth'
    assert ckpt.is_file()
    rows = []
    for f in sorted(work.glob('*/vis_data/scalars.json')):
        rows += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    assert len([r for r in rows if 'sketch/L1' in r]) == 2            # iterations 0 and 2
    assert {'loss_g', 'loss_d', 'loss_rec', 'loss_feat'} <= set([r for r in rows
                                                                  if 'loss_g' in r][-1])
    from facedisentangle.apis import FaceEditor
    from facedisentangle.engine.checkpoint import safe_load_checkpoint

    editor = FaceEditor.from_checkpoint(ckpt, precision='float32')
    assert 'image_to_sketch' in editor.supported()
    photo = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    got = editor.to_sketch(photo, method='generator')
    register_all_modules()
    from facedisentangle.models.backbones import ImageToSketchGenerator
    net = ImageToSketchGenerator(ngf=4, n_downsampling=2, n_blocks=1)
    state = safe_load_checkpoint(ckpt)['state_dict']
    net.load_state_dict({k[len('image_to_sketch.'):]: v for k, v in state.items()
                         if k.startswith('image_to_sketch.')})
    with torch.no_grad():
        want = net(torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 127.5 - 1)
    want = ((want[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    assert np.abs(got.astype(int) - want).max() <= 1
