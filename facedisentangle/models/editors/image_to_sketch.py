"""The image-to-sketch generator (the release's ``sketch_generator``), trained pix2pixHD-style.

    S_hat = G_s(I)                                      photo -> sketch, same size
    L_G   = L_GAN(D(I, S_hat), real) + lambda_FM L_FM(D(I, S_hat), D(I, S))
            + lambda_VGG L_VGG(S_hat, S) (+ lambda_L1 ||S_hat - S||_1, ours, off by default)
    L_D   = 1/2 L_GAN(D(I, S), real) + 1/2 L_GAN(D(I, S_hat), fake)

(Wang et al., pix2pixHD, CVPR 2018: a conditional multi-scale discriminator that sees the
photo next to the sketch, least-squares GAN, discriminator feature matching, VGG perceptual
loss.) G_s is ``ImageToSketchGenerator`` (a pix2pixHD GlobalGenerator 3 -> 3; the release's
at ngf 32, 4 down-samplings, 9 ResnetBlocks, instance norm). The trained network is saved as
``image_to_sketch.*``, the name inference reads, so ``FaceEditor.to_sketch(method=
'generator')`` uses it (give the checkpoint next to the editing model's).
"""
from __future__ import annotations

from collections.abc import Mapping

import torch

from facedisentangle.registry import BACKBONES, MODELS

from .gan_stage import ImageGANStage
from .sample_outputs import per_sample_outputs


@MODELS.register_module()
class ImageToSketch(ImageGANStage):
    """Photo -> sketch generator with a conditional multi-scale discriminator, trained by
    :class:`ImageGANStage`'s step and terms (fake = S_hat, real = S, D sees the photo too).

    Args:
        image_to_sketch: backbone config of G_s (``ImageToSketchGenerator``).
        sketch_discriminator: backbone config of D (``MultiScaleDiscriminator`` with
            ``input_nc`` = photo + sketch channels, 6), or None when ``loss_gan`` is off.
        loss_gan, loss_feat, loss_vgg, loss_rec: loss configs (None or weight 0 = off).
        layout, data_preprocessor, init_cfg: see :class:`DeepFaceEditingBase` (the layout only
            names the resolution; the generator sees whole faces).
    """

    GENERATOR = 'image_to_sketch'
    DISCRIMINATOR = 'sketch_discriminator'

    def __init__(self, image_to_sketch: Mapping, sketch_discriminator: Mapping | None = None,
                 loss_gan: Mapping | None = dict(type='GANLoss', gan_type='lsgan'),  # noqa: B006
                 loss_feat: Mapping | None = dict(type='FeatureMatchingLoss',  # noqa: B006
                                                  loss_weight=10.0),
                 loss_vgg: Mapping | None = dict(type='PerceptualLoss',  # noqa: B006
                                                 loss_weight=10.0),
                 loss_rec: Mapping | None = None, layout: Mapping | None = None,
                 data_preprocessor: Mapping | None = None, init_cfg: Mapping | None = None):
        super().__init__(layout=layout, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        name = type(self).__name__
        self.image_to_sketch = BACKBONES.build(dict(image_to_sketch))
        self.build_gan(sketch_discriminator, loss_gan, loss_feat, loss_vgg, loss_rec)
        if self.layout.resolution % self.image_to_sketch.stride:
            raise ValueError(f'{name}: faces of {self.layout.resolution} px are not a multiple '
                             f'of the generator stride {self.image_to_sketch.stride}')

    # ------------------------------------------------------------------ training
    def gan_inputs(self, data: dict, training: bool) -> dict:
        return dict(photo=data['photo'], real=data.get('sketch'))

    def generate(self, inputs: dict, training: bool) -> dict:
        return dict(inputs, fake=self.image_to_sketch(inputs['photo']))

    def discriminator_input(self, image: torch.Tensor, outs: dict) -> torch.Tensor:
        """D is conditional: it sees the photo next to the (true or generated) sketch."""
        return torch.cat([outs['photo'], image], 1)

    # ------------------------------------------------------------------ inference
    def forward(self, photo: torch.Tensor, sketch: torch.Tensor | None = None,
                mode: str = 'tensor', **batch):
        """``'tensor'``: the generated sketches; ``'predict'``: per-sample ``pred``, ``gt``
        (the data set's sketch), name, index; ``'loss'``: the G- and D-side terms."""
        if mode == 'tensor':
            return self.image_to_sketch(photo)
        if mode == 'loss':
            return self.gan_losses(dict(photo=photo, sketch=sketch), self.training)
        if mode == 'predict':
            sketches = dict(pred=self.image_to_sketch(photo))
            if sketch is not None:
                sketches['gt'] = sketch
            return per_sample_outputs({'': sketches}, photo.shape[0], batch,
                                      keys=('name', 'index'))
        raise ValueError(f'{type(self).__name__}.forward: unknown mode {mode!r}')

    def get_visuals(self, data: dict) -> dict[str, list[torch.Tensor]]:
        """Photo | true sketch | generated sketch."""
        data = self.data_preprocessor(data, False)
        return {'image_to_sketch': [data['photo'], data['sketch'],
                                    self.image_to_sketch(data['photo'])]}


__all__ = ['ImageToSketch']
