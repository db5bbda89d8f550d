"""Stage 4 of DeepFaceEditing: Global Fusion of the component feature maps into one face."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from facedisentangle.registry import BACKBONES, MODELS

from .gan_stage import ImageGANStage, PerComponentNetworks, swap_codes
from .sample_outputs import per_sample_outputs


@MODELS.register_module()
class GlobalFusion(ImageGANStage):
    """Stage 4: fuse the frozen LD module's component feature maps into a face::

        F_c    = G_syn^c-features(E_I(I_c), E_A(I_c))        (64 x crop, per component c)
        F      = fuse(F_bg, F_mouth, F_nose[:-trim], F_eye1, F_eye2)   (layout paste order)
        I_out  = G_fuse(F)
        L      = L_GAN(D(I_out)) + lambda_FM L_FM(I_out, I) + lambda_VGG L_VGG(I_out, I)
                 (+ an optional pixel L1, off by default)

    Self-reconstruction only (no swapping), trained by :class:`ImageGANStage`'s step and terms
    (fake = I_out, real = I); every LD network (E_I, E_s, G_syn with E_A, and
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
    GENERATOR = 'fusion_generator'
    DISCRIMINATOR = 'fusion_discriminator'
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
        self.build_gan(fusion_discriminator, loss_gan, loss_feat, loss_vgg, loss_rec)

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
    def gan_inputs(self, data: dict, training: bool) -> dict:
        """The fused feature maps of the frozen LD module (in training with the geometry of
        ``sketch_prob`` of the faces from their sketches) and the photos (the targets)."""
        real, sketch = data['photo'], data.get('sketch')
        use_sketch = None
        if training and self.sketch_prob > 0:
            use_sketch = torch.rand(real.shape[0], device=real.device) < self.sketch_prob
        return dict(real=real, features=self.fuse(self.component_features(real, sketch,
                                                                          use_sketch)))

    def generate(self, inputs: dict, training: bool) -> dict:
        return dict(inputs, fake=self.fusion_generator(inputs['features']))

    # ------------------------------------------------------------------ inference
    def forward(self, photo: torch.Tensor, sketch: torch.Tensor | None = None,
                mode: str = 'tensor', **batch):
        """``'tensor'``: reconstructed faces; ``'predict'``: per-sample ``pred`` (G_fuse
        output), ``gt`` (the photo), ``sketch_pred`` (geometry from the sketch), name, index
        (with an explicit appearance source ``appearance_photo`` in the batch:
        :meth:`predict_swap`); ``'loss'``: the G- and D-side terms without an update."""
        if mode == 'tensor':
            return self.reconstruct(photo)
        if mode == 'loss':  # the photos' own geometry (no sketch_prob)
            return self.gan_losses(dict(photo=photo), training=False)
        if mode == 'predict':
            if 'appearance_photo' in batch:
                return self.predict_swap(photo, sketch, **batch)
            faces = dict(pred=self.reconstruct(photo), gt=photo)
            if sketch is not None:
                everyone = torch.ones(photo.shape[0], dtype=torch.bool, device=photo.device)
                faces['sketch_pred'] = self.reconstruct(photo, sketch, everyone)
            return per_sample_outputs({'': faces}, photo.shape[0], batch, keys=('name', 'index'))
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
        c, the codes of :func:`~.gan_stage.swap_codes` of the crops of these faces (``c/swap_code``, ...);
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
