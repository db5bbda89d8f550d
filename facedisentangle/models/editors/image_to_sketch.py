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

import contextlib
from collections.abc import Mapping

import torch
from mmengine.optim import OptimWrapperDict

from facedisentangle.registry import BACKBONES, MODELS

from .base import DeepFaceEditingBase
from .gan_stage import (
    build_image_discriminator,
    check_gan_optim_wrapper,
    frozen,
    split_scales,
    update_generator_and_discriminator,
)


@MODELS.register_module()
class ImageToSketch(DeepFaceEditingBase):
    """Photo -> sketch generator with a conditional multi-scale discriminator.

    Args:
        image_to_sketch: backbone config of G_s (``ImageToSketchGenerator``).
        sketch_discriminator: backbone config of D (``MultiScaleDiscriminator`` with
            ``input_nc`` = photo + sketch channels, 6), or None when ``loss_gan`` is off.
        loss_gan, loss_feat, loss_vgg, loss_rec: loss configs (None or weight 0 = off).
        layout, data_preprocessor, init_cfg: see :class:`DeepFaceEditingBase` (the layout only
            names the resolution; the generator sees whole faces).
    """

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
        self.loss_gan = self.build_loss(loss_gan)
        self.loss_feat = self.build_loss(loss_feat)
        self.loss_vgg = self.build_loss(loss_vgg)
        self.loss_rec = self.build_loss(loss_rec)
        self.sketch_discriminator = build_image_discriminator(self, 'sketch_discriminator', sketch_discriminator)
        if self.layout.resolution % self.image_to_sketch.stride:
            raise ValueError(f'{name}: faces of {self.layout.resolution} px are not a multiple '
                             f'of the generator stride {self.image_to_sketch.stride}')

    # ------------------------------------------------------------------ losses
    def _d(self, photo: torch.Tensor, sketch: torch.Tensor) -> list:
        return self.sketch_discriminator(torch.cat([photo, sketch], 1))

    def generator_losses(self, fake: torch.Tensor, real: torch.Tensor,
                         photo: torch.Tensor) -> dict:
        losses = {}
        if self.loss_rec is not None:
            losses[self.loss_rec.loss_name] = self.loss_rec(fake, real)
        if self.loss_vgg is not None:
            losses[self.loss_vgg.loss_name] = self.loss_vgg(fake, real)
        if self.sketch_discriminator is not None:
            b = fake.shape[0]
            pred = self._d(torch.cat([photo, photo]), torch.cat([fake, real]))
            losses[f'{self.loss_gan.loss_name}_g'] = self.loss_gan(
                split_scales(pred, 0, b), target_is_real=True, is_disc=False)
            if self.loss_feat is not None:
                real_feats = [[f.detach() for f in s] for s in split_scales(pred, b, 2 * b)]
                losses[self.loss_feat.loss_name] = self.loss_feat(split_scales(pred, 0, b),
                                                                  real_feats)
        return losses

    def discriminator_losses(self, fake: torch.Tensor, real: torch.Tensor,
                             photo: torch.Tensor) -> dict:
        b = fake.shape[0]
        pred = self._d(torch.cat([photo, photo]), torch.cat([real, fake.detach()]))
        name = self.loss_gan.loss_name
        return {
            f'{name}_d_real': 0.5 * self.loss_gan(split_scales(pred, 0, b), target_is_real=True,
                                                  is_disc=True),
            f'{name}_d_fake': 0.5 * self.loss_gan(split_scales(pred, b, 2 * b),
                                                  target_is_real=False, is_disc=True),
        }

    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> dict[str, torch.Tensor]:
        """One generator step (D frozen), then one discriminator step."""
        has_d = check_gan_optim_wrapper(self, optim_wrapper,
                                        self.sketch_discriminator is not None)
        data = self.data_preprocessor(data, True)
        photo, real = data['photo'], data['sketch']
        with optim_wrapper['generator'].optim_context(self.image_to_sketch):
            fake = self.image_to_sketch(photo)
            ctx = frozen(self.sketch_discriminator) if has_d else contextlib.nullcontext()
            with ctx:
                g_losses = self.generator_losses(fake, real, photo)
        d_losses = None
        if has_d:
            with optim_wrapper['discriminator'].optim_context(self.sketch_discriminator):
                d_losses = self.discriminator_losses(fake, real, photo)
        return update_generator_and_discriminator(self, optim_wrapper, g_losses, d_losses)

    # ------------------------------------------------------------------ inference
    def forward(self, photo: torch.Tensor, sketch: torch.Tensor | None = None,
                mode: str = 'tensor', **batch):
        """``'tensor'``: the generated sketches; ``'predict'``: per-sample ``pred``, ``gt``
        (the data set's sketch), name, index; ``'loss'``: the G- and D-side terms."""
        fake = self.image_to_sketch(photo)
        if mode == 'tensor':
            return fake
        if mode == 'loss':
            losses = self.generator_losses(fake, sketch, photo)
            if self.sketch_discriminator is not None:
                losses.update(self.discriminator_losses(fake, sketch, photo))
            return losses
        if mode == 'predict':
            outputs = []
            for i in range(photo.shape[0]):
                out = dict(pred=fake[i].detach().cpu())
                if sketch is not None:
                    out['gt'] = sketch[i].detach().cpu()
                for key in ('name', 'index'):
                    if key in batch:
                        v = batch[key][i]
                        out[key] = v.item() if torch.is_tensor(v) else v
                outputs.append(out)
            return outputs
        raise ValueError(f'{type(self).__name__}.forward: unknown mode {mode!r}')

    def get_visuals(self, data: dict) -> dict[str, list[torch.Tensor]]:
        """Photo | true sketch | generated sketch."""
        data = self.data_preprocessor(data, False)
        return {'image_to_sketch': [data['photo'], data['sketch'],
                                    self.image_to_sketch(data['photo'])]}


__all__ = ['ImageToSketch']
