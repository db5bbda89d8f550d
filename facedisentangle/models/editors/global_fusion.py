"""Stage 4 of DeepFaceEditing: Global Fusion of the component feature maps into one face."""
from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

import torch
from mmengine.optim import OptimWrapperDict

from facedisentangle.registry import BACKBONES, MODELS

from .base import DeepFaceEditingBase
from .gan_stage import (
    PerComponentNetworks,
    build_image_discriminator,
    check_gan_optim_wrapper,
    frozen,
    split_scales,
    update_generator_and_discriminator,
)
from .local_disentanglement import per_sample_outputs, swap_codes


@MODELS.register_module()
class GlobalFusion(DeepFaceEditingBase):
    """Stage 4: fuse the frozen LD module's component feature maps into a face::

        F_c    = G_syn^c-features(E_I(I_c), E_A(I_c))        (64 x crop, per component c)
        F      = fuse(F_bg, F_mouth, F_nose[:-trim], F_eye1, F_eye2)   (layout paste order)
        I_out  = G_fuse(F)
        L      = L_GAN(D(I_out)) + lambda_FM L_FM(I_out, I) + lambda_VGG L_VGG(I_out, I)
                 (+ an optional pixel L1, off by default)

    Self-reconstruction only (no swapping); every LD network (E_I, E_s, G_syn with E_A, and
    D_sketch when configured) is loaded from the previous stages and frozen. ``sketch_prob``
    (default 0, as in the paper) lets some training faces take their geometry from E_s(S)
    instead, for sketch-to-face quality.

    Args:
        fusion_generator: backbone config of G_fuse (``GlobalGenerator``, ``input_nc`` = the
            component generators' feature channels).
        fusion_discriminator: backbone config of the multi-scale discriminator on the face, or
            None when ``loss_gan`` is off.
        generator, image_encoder, sketch_encoder: configs of stage 3's networks.
        sketch_decoder: config of stage 1's D_sketch, kept so the final checkpoint holds every
            network inference needs (``to_sketch``); None leaves it out.
        stage3_checkpoint: LD checkpoint (generators, image and sketch encoders).
        sketch_decoder_checkpoint: checkpoint holding ``sketch_decoders`` (stage 1 or 2).
            Both are read by ``init_weights`` (before training), not when the model is built.
        loss_gan, loss_feat, loss_vgg, loss_rec: loss configs (None or weight 0 = off).
    """

    LD_NETWORKS = ('generators', 'image_encoders', 'sketch_encoders')
    supports_swap = True

    def __init__(self, fusion_generator: Mapping, generator: Mapping, image_encoder: Mapping,
                 sketch_encoder: Mapping, fusion_discriminator: Mapping | None = None,
                 sketch_decoder: Mapping | None = None, stage3_checkpoint: str | None = None,
                 sketch_decoder_checkpoint: str | None = None, sketch_prob: float = 0.0,
                 loss_gan: Mapping | None = dict(type='GANLoss', gan_type='lsgan'),  # noqa: B006
                 loss_feat: Mapping | None = dict(type='FeatureMatchingLoss'),  # noqa: B006
                 loss_vgg: Mapping | None = dict(type='PerceptualLoss'),  # noqa: B006
                 loss_rec: Mapping | None = None,
                 layout: Mapping | None = None, components: Sequence[str] | None = None,
                 data_preprocessor: Mapping | None = None, init_cfg: Mapping | None = None):
        super().__init__(layout=layout, components=components,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        name = type(self).__name__
        if self.layout.base not in self.components:
            raise ValueError(f'{name}: fusion needs the whole-face component '
                             f'{self.layout.base!r}; components are {self.components}')
        if not 0.0 <= float(sketch_prob) <= 1.0:
            raise ValueError(f'{name}: sketch_prob must be in [0, 1], got {sketch_prob!r}')
        self.sketch_prob = float(sketch_prob)
        # the trained networks first (EMA by position), then the frozen LD module
        self.fusion_generator = BACKBONES.build(dict(fusion_generator))
        self.loss_gan = self.build_loss(loss_gan)
        self.loss_feat = self.build_loss(loss_feat)
        self.loss_vgg = self.build_loss(loss_vgg)
        self.loss_rec = self.build_loss(loss_rec)
        self.fusion_discriminator = build_image_discriminator(self, 'fusion_discriminator', fusion_discriminator)

        self.generators = PerComponentNetworks(self.build_per_component(generator, 'generator'))
        self.image_encoders = self.build_per_component(image_encoder, 'image_encoder')
        self.sketch_encoders = self.build_per_component(sketch_encoder, 'sketch_encoder')
        self.sketch_decoders = (self.build_per_component(sketch_decoder, 'sketch_decoder')
                                if sketch_decoder is not None else None)
        self.check_stride(self.image_encoders)
        channels = {c: g.feature_channels for c, g in self.generators.items()}
        if len(set(channels.values())) != 1:
            raise ValueError(f'{name}: component feature maps must have equal channels to be '
                             f'fused, got {channels}')
        in_nc = self.fusion_generator.input_nc
        if in_nc != next(iter(channels.values())):
            raise ValueError(f'{name}: fusion_generator takes {in_nc} channels, the component '
                             f'generators give {next(iter(channels.values()))} '
                             '(set fusion_generator.input_nc)')

        self.from_earlier_stage('stage3_checkpoint', stage3_checkpoint, self.LD_NETWORKS)
        if self.sketch_decoders is not None:
            self.from_earlier_stage('sketch_decoder_checkpoint', sketch_decoder_checkpoint,
                                    ['sketch_decoders'])

    # ------------------------------------------------------------------ synthesis
    @torch.no_grad()
    def component_features(self, photo: torch.Tensor, sketch: torch.Tensor | None = None,
                           use_sketch: torch.Tensor | None = None,
                           appearance: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Per component: the frozen LD module's feature map for the geometry of ``photo``
        (E_I; E_s(sketch) where ``use_sketch``) and the appearance of ``appearance``
        (default: the photo itself, i.e. self-reconstruction)."""
        appearance = photo if appearance is None else appearance
        feats = {}
        for c in self.components:
            code = self.image_encoders[c](self.crop(photo, c))
            if use_sketch is not None and sketch is not None and bool(use_sketch.any()):
                code_s = self.sketch_encoders[c](self.crop(sketch, c))
                code = torch.where(use_sketch[:, None, None, None], code_s, code)
            adain = self.generators(c, self.crop(appearance, c), method='enc_style')
            feats[c] = self.generators(c, code, adain, method='decode_feature')
        return feats

    @torch.no_grad()
    def swap(self, geometry: torch.Tensor, appearance: torch.Tensor,
             geometry_from: str = 'photo') -> torch.Tensor:
        """The fused face with the geometry of ``geometry`` (photos, or sketches with
        ``geometry_from='sketch'``) and the appearance of the photos ``appearance``."""
        if geometry_from == 'photo':
            feats = self.component_features(geometry, appearance=appearance)
        elif geometry_from == 'sketch':
            everyone = torch.ones(geometry.shape[0], dtype=torch.bool, device=geometry.device)
            feats = self.component_features(appearance, geometry, everyone, appearance)
        else:
            raise ValueError(f"geometry_from must be 'photo' or 'sketch', got {geometry_from!r}")
        return self.fusion_generator(self.fuse(feats))

    def fuse(self, feats: dict[str, torch.Tensor]) -> torch.Tensor:
        """The 64-channel face feature map: bg overwritten in the layout's paste order."""
        return self.layout.fuse(feats)

    def reconstruct(self, photo: torch.Tensor, sketch: torch.Tensor | None = None,
                    use_sketch: torch.Tensor | None = None) -> torch.Tensor:
        return self.fusion_generator(self.fuse(self.component_features(photo, sketch,
                                                                       use_sketch)))

    # ------------------------------------------------------------------ training
    def generator_losses(self, fake: torch.Tensor, real: torch.Tensor) -> dict:
        losses = {}
        if self.loss_rec is not None:
            losses[self.loss_rec.loss_name] = self.loss_rec(fake, real)
        if self.loss_vgg is not None:
            losses[self.loss_vgg.loss_name] = self.loss_vgg(fake, real)
        if self.fusion_discriminator is not None:
            b = fake.shape[0]
            pred = self.fusion_discriminator(torch.cat([fake, real]))
            losses[f'{self.loss_gan.loss_name}_g'] = self.loss_gan(
                split_scales(pred, 0, b), target_is_real=True, is_disc=False)
            if self.loss_feat is not None:
                real_feats = [[f.detach() for f in s] for s in split_scales(pred, b, 2 * b)]
                losses[self.loss_feat.loss_name] = self.loss_feat(split_scales(pred, 0, b),
                                                                  real_feats)
        return losses

    def discriminator_losses(self, fake: torch.Tensor, real: torch.Tensor) -> dict:
        b = fake.shape[0]
        pred = self.fusion_discriminator(torch.cat([real, fake.detach()]))
        name = self.loss_gan.loss_name
        return {
            f'{name}_d_real': 0.5 * self.loss_gan(split_scales(pred, 0, b), target_is_real=True,
                                                  is_disc=True),
            f'{name}_d_fake': 0.5 * self.loss_gan(split_scales(pred, b, 2 * b),
                                                  target_is_real=False, is_disc=True),
        }

    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> dict[str, torch.Tensor]:
        """One generator step (D frozen) and one discriminator step, like stage 3."""
        has_d = check_gan_optim_wrapper(self, optim_wrapper,
                                        self.fusion_discriminator is not None)
        data = self.data_preprocessor(data, True)
        real, sketch = data['photo'], data.get('sketch')
        use_sketch = None
        if self.sketch_prob > 0:
            use_sketch = torch.rand(real.shape[0], device=real.device) < self.sketch_prob
        feats = self.fuse(self.component_features(real, sketch, use_sketch))
        g_wrapper = optim_wrapper['generator']
        with g_wrapper.optim_context(self.fusion_generator):
            fake = self.fusion_generator(feats)
            ctx = frozen(self.fusion_discriminator) if has_d else contextlib.nullcontext()
            with ctx:
                g_losses = self.generator_losses(fake, real)
        d_losses = {}
        if has_d:
            with optim_wrapper['discriminator'].optim_context(self.fusion_discriminator):
                d_losses = self.discriminator_losses(fake, real)
        return update_generator_and_discriminator(self, optim_wrapper, g_losses,
                                                  d_losses if has_d else None)

    # ------------------------------------------------------------------ inference
    def forward(self, photo: torch.Tensor, sketch: torch.Tensor | None = None,
                mode: str = 'tensor', **batch):
        """``'tensor'``: reconstructed faces; ``'predict'``: per-sample ``pred`` (G_fuse
        output), ``gt`` (the photo), ``sketch_pred`` (geometry from the sketch), name, index
        (with an explicit appearance source ``appearance_photo`` in the batch:
        :meth:`predict_swap`); ``'loss'``: the G- and D-side terms without an update."""
        if mode == 'tensor':
            return self.reconstruct(photo)
        if mode == 'loss':
            fake = self.reconstruct(photo)
            losses = self.generator_losses(fake, photo)
            if self.fusion_discriminator is not None:
                losses.update(self.discriminator_losses(fake, photo))
            return losses
        if mode == 'predict':
            if 'appearance_photo' in batch:
                return self.predict_swap(photo, sketch, **batch)
            pred = self.reconstruct(photo)
            sketch_pred = None
            if sketch is not None:
                everyone = torch.ones(photo.shape[0], dtype=torch.bool, device=photo.device)
                sketch_pred = self.reconstruct(photo, sketch, everyone)
            outputs = []
            for i in range(photo.shape[0]):
                out = dict(pred=pred[i].detach().cpu(), gt=photo[i].detach().cpu())
                if sketch_pred is not None:
                    out['sketch_pred'] = sketch_pred[i].detach().cpu()
                for key in ('name', 'index'):
                    if key in batch:
                        v = batch[key][i]
                        out[key] = v.item() if torch.is_tensor(v) else v
                outputs.append(out)
            return outputs
        raise ValueError(f'{type(self).__name__}.forward: unknown mode {mode!r}')

    def predict_swap(self, photo: torch.Tensor, sketch: torch.Tensor,
                     appearance_photo: torch.Tensor, truth: torch.Tensor | None = None,
                     truth_label: torch.Tensor | None = None, **batch) -> list[dict]:
        """Fused swaps of explicit pairs: geometry of ``photo`` (I_i; its sketch S_i),
        appearance of ``appearance_photo`` (I_j). Per sample (whole faces)::

            geometry    I_i    swap         G_fuse(fuse_c G(E_I(I_i,c), E_A(I_j,c)))
            sketch      S_i    sketch_swap  the same with E_s(S_i,c)
            appearance  I_j    swap_gt      P(g_i, a_j)      label  L(g_i)
            reconstruction     G_fuse(fuse_c G(E_I(I_i,c), E_A(I_i,c)))

        (``swap_gt``/``label`` when the batch has ``truth``/``truth_label``) and, per component
        c, the codes of :func:`swap_codes` of the crops of these faces (``c/swap_code``, ...);
        plus ``name``, ``appearance_name``, ``index``, ``pair``.
        """
        faces = dict(geometry=photo, sketch=sketch, appearance=appearance_photo,
                     swap=self.swap(photo, appearance_photo),
                     sketch_swap=self.swap(sketch, appearance_photo, geometry_from='sketch'),
                     reconstruction=self.swap(photo, photo))
        if truth is not None:
            faces['swap_gt'] = truth
        if truth_label is not None:
            faces['label'] = truth_label
        per_group = {'': faces}
        with torch.no_grad():
            for c in self.components:
                per_group[c] = swap_codes(self, c, {k: self.crop(v, c) for k, v in faces.items()
                                                    if k not in ('label', 'reconstruction')})
        return per_sample_outputs(per_group, photo.shape[0], batch)

    def get_visuals(self, data: dict) -> dict[str, list[torch.Tensor]]:
        """Photo | sketch | fused reconstruction | reconstruction with sketch geometry."""
        data = self.data_preprocessor(data, False)
        photo, sketch = data['photo'], data['sketch']
        everyone = torch.ones(photo.shape[0], dtype=torch.bool, device=photo.device)
        return {'stage4_face': [photo, sketch, self.reconstruct(photo),
                                self.reconstruct(photo, sketch, everyone)]}


__all__ = ['GlobalFusion']
