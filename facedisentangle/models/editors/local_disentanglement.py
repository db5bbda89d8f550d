"""Stage 3 of DeepFaceEditing: Local Disentanglement (LD) of geometry and appearance."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from facedisentangle.models.losses.utils import check_region_weights, region_weight_map
from facedisentangle.registry import MODELS

from .gan_stage import GANStage, PerComponentNetworks, discriminate, roll_scales, swap_codes
from .sample_outputs import per_sample_outputs
from .sub_network_ema import SubNetworkEMA  # noqa: F401  (registers ema_type='SubNetworkEMA')


@MODELS.register_module()
class LocalDisentanglement(GANStage):
    """Stage 3: per component c, disentangle geometry and appearance (docs/method.md sections 3-4).

    Pairs ``(I1, I2)``: ``I2`` is the batch ``I1`` rolled by one sample (sample k takes the
    appearance of sample k-1; every sample is paired with another one when the batch has at
    least 2 samples, and the shuffling sampler makes new pairs every epoch). With probability
    ``sketch_prob`` (per sample and component) the geometry of I1 comes from its sketch,
    ``E_s(S1)``, instead of ``E_I(I1)``; write ``g1`` for the code used. E_I and E_s are frozen
    (loaded from stage 2); the generator G (with its appearance encoder E_A as ``enc_style``)
    and the multi-scale discriminator D are trained::

        self-reconstruction   I_rec   = G(g1, E_A(I1))
            L_rec        = || I_rec - I1 ||_1                                (loss_rec)
            L_FM         = sum_k,i w_i || D_k^i(I_rec) - D_k^i(I1) ||_1      (loss_feat)
            L_VGG        = sum_l w_l || phi_l(I_rec) - phi_l(I1) ||_1        (loss_vgg)
        cyclic swapping       I_mix   = G(g1, E_A(I2))
                              I_cycle = G(E_I(I2), E_A(I_mix))
            L_Geo        = || E_I(I_mix) - g1 ||_1                           (loss_geo)
            L_Cycle      = || I_cycle - I2 ||_1                              (loss_cycle)
                           + L_FM(I_cycle, I2)                               (loss_cycle_feat)
                           + L_VGG(I_cycle, I2)                              (loss_cycle_vgg)
        adversarial (fakes F = [I_rec; I_mix], LSGAN by default)
            G side       L_GAN(D(F), real)                                   (loss_gan -> _g)
            D side       0.5 L_GAN(D(I1), real) + 0.5 L_GAN(D(F), fake)      (_d_real, _d_fake)

    Each term is a loss module from the config (its weight is inside it) and is logged as
    ``<component>/<loss_name>``; ``None`` or ``loss_weight=0`` switches a term off and the
    model then does not compute it (nor ``I_mix`` / ``I_cycle`` when nothing needs them).
    Without ``loss_gan`` there is no discriminator (``discriminator=None``, and no
    feature-matching terms, which need a trained discriminator).

    ``train_step`` is :class:`GANStage`'s: every loss computed and checked (NaN/Inf stops
    training before any optimiser step), then G updated with ``optim_wrapper['generator']``
    (D frozen; the adversarial and feature-matching terms use D before its update, as
    pix2pixHD) and D with ``optim_wrapper['discriminator']`` (on the same fakes, detached).

    Args:
        generator: backbone config of G_syn (``ComponentGenerator``, E_A nested as
            ``enc_style``); one for all components or ``{component: config}``.
        image_encoder, sketch_encoder: backbone configs of stage 2's E_I and E_s (must match
            ``stage2_checkpoint``).
        discriminator: backbone config of D (``MultiScaleDiscriminator``), or None when
            ``loss_gan`` is off.
        stage2_checkpoint: checkpoint of stage 2 (``ImageGeometryEncoderTrainer``); E_I and E_s
            are frozen and loaded from it by ``init_weights`` (before training). None keeps
            them random (tests only; warns).
        sketch_prob: probability that I1's geometry comes from its sketch (default (ours)
            0.5).
        appearance_shift: in training, every image the appearance encoder reads (I1, and
            I_mix in the cycle) is first shifted by a random whole number of pixels in
            ``[-s, s]`` on each axis, per sample (reflect padding); 0 (default) reads them
            as they are, as the paper. Ours, not in the paper: a code that must reconstruct
            I1 from a shifted copy cannot tie a region's colour to where the region is.
        loss_*: loss configs (losses registry), see above.
        region_weights: ours, off (None) by default: ``[dict(labels=[...], weight=w), ...]``
            weighs each pixel of ``L_rec`` by its region in I1's label map and each pixel of
            ``L_Cycle``'s L1 by its region in I2's (w = 1 outside the listed regions), e.g.
            ``[dict(labels=[5], weight=10.0)]`` for the irises of the synthetic faces. The
            train data set then needs ``load_labels=True``.
        layout, components, data_preprocessor, init_cfg: see :class:`DeepFaceEditingBase`.
    """

    GENERATOR = 'generators'
    DISCRIMINATOR = 'discriminators'

    def __init__(self, generator: Mapping, image_encoder: Mapping, sketch_encoder: Mapping,
                 discriminator: Mapping | None = None, stage2_checkpoint: str | None = None,
                 sketch_prob: float = 0.5, appearance_shift: int = 0,
                 loss_rec: Mapping | None = dict(type='ReconstructionLoss'),  # noqa: B006
                 loss_feat: Mapping | None = dict(type='FeatureMatchingLoss'),  # noqa: B006
                 loss_vgg: Mapping | None = dict(type='PerceptualLoss'),  # noqa: B006
                 loss_geo: Mapping | None = dict(type='GeometryConsistencyLoss'),  # noqa: B006
                 loss_cycle: Mapping | None = dict(type='CycleConsistencyLoss'),  # noqa: B006
                 loss_cycle_feat: Mapping | None = dict(  # noqa: B006
                     type='FeatureMatchingLoss', loss_name='loss_cycle_feat'),
                 loss_cycle_vgg: Mapping | None = dict(  # noqa: B006
                     type='PerceptualLoss', loss_name='loss_cycle_vgg'),
                 loss_gan: Mapping | None = dict(type='GANLoss', gan_type='lsgan'),  # noqa: B006
                 region_weights: Sequence[Mapping] | None = None,
                 layout: Mapping | None = None, components: Sequence[str] | None = None,
                 data_preprocessor: Mapping | None = None, init_cfg: Mapping | None = None):
        super().__init__(layout=layout, components=components,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        name = type(self).__name__
        self.region_weights = check_region_weights(region_weights, name)
        if not 0.0 <= float(sketch_prob) <= 1.0:
            raise ValueError(f'{name}: sketch_prob must be in [0, 1], got {sketch_prob!r}')
        self.sketch_prob = float(sketch_prob)
        if isinstance(appearance_shift, bool) or not isinstance(appearance_shift, int) \
                or appearance_shift < 0:
            raise ValueError(f'{name}: appearance_shift must be an integer >= 0 (pixels), got '
                             f'{appearance_shift!r}')
        self.appearance_shift = appearance_shift

        # The generators are registered first: SubNetworkEMA (EMAHook) needs their parameters
        # to come first in self.parameters().
        self.generators = PerComponentNetworks(self.build_per_component(generator, 'generator'))
        self.loss_gan = self.build_loss(loss_gan)
        self.loss_feat = self.build_loss(loss_feat)
        self.loss_cycle_feat = self.build_loss(loss_cycle_feat)
        if self.loss_gan is None:
            if discriminator is not None:
                raise ValueError(f'{name}: loss_gan is off, so nothing trains the '
                                 'discriminator; set discriminator=None too (and drop the '
                                 "'discriminator' optimiser from optim_wrapper)")
            on = [k for k in ('loss_feat', 'loss_cycle_feat') if getattr(self, k) is not None]
            if on:
                raise ValueError(f'{name}: {on} match discriminator features, but loss_gan is '
                                 'off and there is no trained discriminator; switch them off '
                                 'too')
            self.discriminators = None
        else:
            if discriminator is None:
                raise ValueError(f'{name}: loss_gan is on but discriminator is None')
            self.discriminators = PerComponentNetworks(
                self.build_per_component(discriminator, 'discriminator'))
        self.image_encoders = self.build_per_component(image_encoder, 'image_encoder')
        self.sketch_encoders = self.build_per_component(sketch_encoder, 'sketch_encoder')
        self.check_stride(self.image_encoders)
        self.check_stride(self.sketch_encoders)
        self._check_networks()

        self.loss_rec = self.build_loss(loss_rec)
        self.loss_vgg = self.build_loss(loss_vgg)
        self.loss_geo = self.build_loss(loss_geo)
        self.loss_cycle = self.build_loss(loss_cycle)
        self.loss_cycle_vgg = self.build_loss(loss_cycle_vgg)
        if not any(getattr(self, k) is not None for k in self.GENERATOR_LOSSES):
            raise ValueError(f'{name}: every generator loss is off ({self.GENERATOR_LOSSES})')
        logged: dict[str, str] = {}
        for key in self.GENERATOR_LOSSES:  # two terms under one name would hide one of them
            loss = getattr(self, key)
            if loss is not None and loss.loss_name in logged:
                raise ValueError(f'{name}: {key} and {logged[loss.loss_name]} are both logged as '
                                 f"{loss.loss_name!r}; give one of them another loss_name "
                                 f"(e.g. loss_name='{key}')")
            if loss is not None:
                logged[loss.loss_name] = key

        self.from_earlier_stage('stage2_checkpoint', stage2_checkpoint,
                                ['image_encoders', 'sketch_encoders'])

    supports_swap = True

    GENERATOR_LOSSES = ('loss_rec', 'loss_feat', 'loss_vgg', 'loss_geo', 'loss_cycle',
                        'loss_cycle_feat', 'loss_cycle_vgg', 'loss_gan')

    def _check_networks(self) -> None:
        """Codes, strides and minimum input sizes agree for every component."""
        name = type(self).__name__
        for c in self.components:
            gen, size = self.generators[c], self.layout.size(c)
            for what, enc in (('image_encoder', self.image_encoders[c]),
                              ('sketch_encoder', self.sketch_encoders[c])):
                if enc.out_channels != gen.in_channels:
                    raise ValueError(f'{name}: {c}: {what} gives {enc.out_channels}-channel '
                                     f'codes, the generator takes {gen.in_channels}')
                if enc.stride != gen.in_channels // gen.feature_channels:
                    raise ValueError(f'{name}: {c}: {what} down-samples by {enc.stride}, the '
                                     'generator up-samples by '
                                     f'{gen.in_channels // gen.feature_channels}')
            if size < gen.enc_style.min_size:
                raise ValueError(f'{name}: {c}: the {size} px crop is smaller than the '
                                 f'appearance encoder minimum {gen.enc_style.min_size} px '
                                 '(fewer app_n_downsampling)')
            if self.discriminators is not None and size < self.discriminators[c].min_size:
                raise ValueError(f'{name}: {c}: the {size} px crop is smaller than the '
                                 f'discriminator minimum {self.discriminators[c].min_size} px '
                                 '(fewer n_layers or num_D)')

    # ------------------------------------------------------------------ what is needed
    @property
    def needs_mix(self) -> bool:
        return any(getattr(self, k) is not None for k in
                   ('loss_geo', 'loss_cycle', 'loss_cycle_feat', 'loss_cycle_vgg', 'loss_gan'))

    @property
    def needs_labels(self) -> bool:
        """Whether the pixel terms weigh regions of the label map (``region_weights``)."""
        return self.region_weights is not None and any(
            getattr(self, k) is not None for k in ('loss_rec', 'loss_cycle'))

    @property
    def needs_cycle(self) -> bool:
        return any(getattr(self, k) is not None for k in
                   ('loss_cycle', 'loss_cycle_feat', 'loss_cycle_vgg'))

    # ------------------------------------------------------------------ synthesis
    @staticmethod
    def partner(x: torch.Tensor) -> torch.Tensor:
        """I2 of every pair: the batch rolled by one (sample k gets sample k-1)."""
        return x.roll(1, dims=0)

    def draw_sketch_mask(self, batch_size: int, device) -> torch.Tensor | None:
        """Per sample, True where I1's geometry comes from its sketch (``sketch_prob``)."""
        if self.sketch_prob == 0:
            return None
        return torch.rand(batch_size, device=device) < self.sketch_prob

    def synthesize(self, photo: torch.Tensor, sketch: torch.Tensor, comp: str,
                   use_sketch: torch.Tensor | None = None, mix: bool = True,
                   cycle: bool = True, label: torch.Tensor | None = None,
                   augment: bool = False) -> dict[str, torch.Tensor]:
        """The stage-3 images of component ``comp`` for full-face batches ``photo, sketch``.

        Returns a dict with ``i1, i2, s1`` (crops), ``code_photo = E_I(I1)``, ``code1 = g1``,
        ``rec = G(g1, E_A(I1))`` and, if asked, ``mix = G(g1, E_A(I2))`` and
        ``cycle = G(E_I(I2), E_A(I_mix))``. ``use_sketch`` (B,) selects ``g1 = E_s(S1)``.
        ``label`` (full-face label maps ``(B, H, W)``, optional) adds their crops ``label1``
        and ``label2`` (I2's), for the ``region_weights``. ``augment`` shifts what the
        appearance encoder reads by up to ``appearance_shift`` pixels (training only).
        """
        i1, s1 = self.crop(photo, comp), self.crop(sketch, comp)
        b = i1.shape[0]
        if mix and b < 2:
            raise ValueError(f'{type(self).__name__}: cyclic swapping pairs each sample with '
                             'another one of its batch; batch size must be >= 2, got 1')
        with torch.no_grad():  # E_I and E_s are frozen
            code_photo = self.image_encoders[comp](i1)
            code1 = code_photo
            if use_sketch is not None and bool(use_sketch.any()):
                code_sketch = self.sketch_encoders[comp](s1)
                code1 = torch.where(use_sketch[:, None, None, None], code_sketch, code_photo)
        out = dict(i1=i1, i2=self.partner(i1), s1=s1, code_photo=code_photo, code1=code1)
        if label is not None:
            out['label1'] = self.crop(label, comp)
            out['label2'] = self.partner(out['label1'])
        shift = self.shift_appearance if augment else (lambda x: x)
        app1 = self.generators(comp, shift(i1), method='enc_style')  # AdaIN params of E_A(I1)
        if mix:  # one pass for [I_rec; I_mix]
            images = self.generators(comp, torch.cat([code1, code1]),
                                     adain_params=torch.cat([app1, self.partner(app1)]))
            out['rec'], out['mix'] = images[:b], images[b:]
        else:
            out['rec'] = self.generators(comp, code1, adain_params=app1)
        if mix and cycle:
            out['cycle'] = self.generators(comp, self.partner(code_photo),
                                           appearance_image=shift(out['mix']))
        return out

    def shift_appearance(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (B, C, H, W) with each sample shifted by its own random ``(dy, dx)`` in
        ``[-s, s]`` pixels (``s = appearance_shift``), the edges filled by reflection."""
        s = self.appearance_shift
        if s == 0:
            return x
        b, _, h, w = x.shape
        if s >= min(h, w):
            raise ValueError(f'{type(self).__name__}: appearance_shift={s} must be smaller than '
                             f'the component crop ({h}x{w})')
        padded = F.pad(x, (s, s, s, s), mode='reflect')
        offsets = torch.randint(0, 2 * s + 1, (b, 2)).tolist()
        return torch.stack([padded[i, :, dy:dy + h, dx:dx + w]
                            for i, (dy, dx) in enumerate(offsets)])

    def swap(self, geometry_source: torch.Tensor, appearance_source: torch.Tensor, comp: str,
             from_sketch: bool = False) -> torch.Tensor:
        """``G(E_I(A_c), E_A(B_c))`` (or ``G(E_s(A_c), E_A(B_c))`` with ``from_sketch``) for
        full-face batches ``A = geometry_source`` (photos, or sketches) and
        ``B = appearance_source`` of the same size; returns the component image."""
        encoders = self.sketch_encoders if from_sketch else self.image_encoders
        code = encoders[comp](self.crop(geometry_source, comp))
        return self.generators(comp, code, appearance_image=self.crop(appearance_source, comp))

    # ------------------------------------------------------------------ losses
    def _key(self, comp: str, loss: nn.Module, suffix: str = '') -> str:
        return f'{comp}/{loss.loss_name}{suffix}'

    def pixel_weight(self, label: torch.Tensor | None, like: torch.Tensor
                     ) -> torch.Tensor | None:
        """The ``region_weights`` map ``(B, 1, h, w)`` of a label crop (``label1``, I1's, for
        I_rec; ``label2``, I2's, for I_cycle), in the dtype and device of the image ``like``;
        None without region weights."""
        if self.region_weights is None:
            return None
        return region_weight_map(label, self.region_weights, like, type(self).__name__)

    def component_generator_losses(self, comp: str, out: dict[str, torch.Tensor]) -> dict:
        """The G-side terms of component ``comp`` (D is used, not trained)."""
        losses = {}
        i1, i2, rec = out['i1'], out['i2'], out['rec']
        mix, cyc = out.get('mix'), out.get('cycle')
        if self.loss_rec is not None:
            losses[self._key(comp, self.loss_rec)] = self.loss_rec(
                rec, i1, self.pixel_weight(out.get('label1'), rec))
        if self.loss_vgg is not None:
            losses[self._key(comp, self.loss_vgg)] = self.loss_vgg(rec, i1)
        if self.loss_geo is not None:
            code_mix = self.image_encoders[comp](mix)  # frozen E_I; gradient reaches I_mix
            losses[self._key(comp, self.loss_geo)] = self.loss_geo(code_mix, out['code1'])
        if self.loss_cycle is not None:
            losses[self._key(comp, self.loss_cycle)] = self.loss_cycle(
                cyc, i2, self.pixel_weight(out.get('label2'), cyc))
        if self.loss_cycle_vgg is not None:
            losses[self._key(comp, self.loss_cycle_vgg)] = self.loss_cycle_vgg(cyc, i2)
        if self.discriminators is None:
            return losses
        # one discriminator pass over the fakes this step needs: [I_rec; I_mix; I_cycle]
        fakes = dict(rec=rec)
        if mix is not None:
            fakes['mix'] = mix
        if self.loss_cycle_feat is not None:
            fakes['cycle'] = cyc
        pred = discriminate(self.discriminators, fakes, comp)
        if self.loss_gan is not None:
            losses[self._key(comp, self.loss_gan, '_g')] = self.loss_gan(
                pred[[k for k in ('rec', 'mix') if k in fakes]], target_is_real=True,
                is_disc=False)
        if self.loss_feat is not None or self.loss_cycle_feat is not None:
            with torch.no_grad():
                pred_real = self.discriminators(comp, i1)
            if self.loss_feat is not None:
                losses[self._key(comp, self.loss_feat)] = self.loss_feat(pred['rec'], pred_real)
            if self.loss_cycle_feat is not None:  # D(I2) is D(I1) rolled (per-sample D)
                losses[self._key(comp, self.loss_cycle_feat)] = self.loss_cycle_feat(
                    pred['cycle'], roll_scales(pred_real))
        return losses

    def component_discriminator_losses(self, comp: str, out: dict[str, torch.Tensor]) -> dict:
        """The D-side terms of component ``comp`` on I1 (real) and the detached fakes."""
        images = dict(real=out['i1'], rec=out['rec'].detach())
        if 'mix' in out:
            images['mix'] = out['mix'].detach()
        pred = discriminate(self.discriminators, images, comp)
        return {
            self._key(comp, self.loss_gan, '_d_real'):
                0.5 * self.loss_gan(pred['real'], target_is_real=True, is_disc=True),
            self._key(comp, self.loss_gan, '_d_fake'):
                0.5 * self.loss_gan(pred[list(images)[1:]], target_is_real=False,
                                    is_disc=True),
        }

    def generator_losses(self, outs: dict[str, dict]) -> dict:
        losses = {}
        for c in self.components:
            losses.update(self.component_generator_losses(c, outs[c]))
        return losses

    def discriminator_losses(self, outs: dict[str, dict]) -> dict:
        losses = {}
        for c in self.components:
            losses.update(self.component_discriminator_losses(c, outs[c]))
        return losses

    def generate(self, inputs: dict, training: bool) -> dict[str, dict]:
        """:meth:`synthesize` for every component: ``{component: images}`` (in training the
        geometry of some samples from the sketch, ``sketch_prob``, and shifted appearance)."""
        photo, sketch, label = inputs['photo'], inputs['sketch'], inputs.get('label')
        outs = {}
        for c in self.components:
            use_sketch = self.draw_sketch_mask(photo.shape[0], photo.device) if training \
                else None
            outs[c] = self.synthesize(photo, sketch, c, use_sketch, mix=self.needs_mix,
                                      cycle=self.needs_cycle,
                                      label=label if self.needs_labels else None,
                                      augment=training)
        return outs

    # ------------------------------------------------------------------ inference
    def forward(self, photo: torch.Tensor, sketch: torch.Tensor, mode: str = 'tensor', **batch):
        """``'loss'``: every G- and D-side term (no update); ``'predict'``: per-sample swap
        results for metrics; ``'tensor'``: ``{component: {'rec', 'mix', 'cycle'}}``."""
        if mode == 'loss':
            return self.gan_losses(dict(batch, photo=photo, sketch=sketch), self.training)
        if mode == 'tensor':
            outs = self.generate(dict(photo=photo, sketch=sketch), training=False)
            return {c: {k: v for k, v in o.items() if k in ('rec', 'mix', 'cycle')}
                    for c, o in outs.items()}
        if mode == 'predict':
            return self.predict(photo, sketch, **batch)
        raise ValueError(f'{type(self).__name__}.forward: unknown mode {mode!r} '
                         "(expected 'loss', 'predict' or 'tensor')")

    PARTNER_KEYS = ('name', 'index', 'geometry_seed', 'appearance_seed')

    def predict(self, photo: torch.Tensor, sketch: torch.Tensor, **batch) -> list[dict]:
        """Per sample k and component c (I2 = sample k-1 of the batch)::

            c/photo  I1 crop          c/rec         G(E_I(I1), E_A(I1))
            c/app    I2 crop          c/mix         G(E_I(I1), E_A(I2))
            c/sketch S1 crop          c/sketch_mix  G(E_s(S1), E_A(I2))
            c/code   E_I(I1)          c/mix_code    E_I(I_mix)   (L_Geo as a measure)

        plus ``name``, ``index``, ``label`` (of I1, when in the batch) and the same keys of the
        appearance source prefixed ``partner_`` (``partner_appearance_seed`` gives the
        synthetic ground truth ``P(g1, a2)``). A batch of one sample pairs it with itself.
        A batch with an explicit appearance source (``appearance_photo``, from
        ``SwapPairDataset``) gives :meth:`predict_swap`'s outputs instead.
        """
        if 'appearance_photo' in batch:
            return self.predict_swap(photo, sketch, **batch)
        per_comp = {}
        for c in self.components:
            out = self.synthesize(photo, sketch, c, mix=photo.shape[0] > 1, cycle=False)
            mix = out.get('mix', out['rec'])
            sketch_mix = self.swap(sketch, self.partner(photo), c, from_sketch=True)
            per_comp[c] = dict(photo=out['i1'], rec=out['rec'], app=out['i2'], mix=mix,
                               sketch=out['s1'], sketch_mix=sketch_mix,
                               code=out['code_photo'], mix_code=self.image_encoders[c](mix))
        if 'label' in batch:
            per_comp[''] = dict(label=batch['label'])
        return per_sample_outputs(per_comp, photo.shape[0], batch, keys=self.PARTNER_KEYS,
                                  partner_keys=self.PARTNER_KEYS)

    def predict_swap(self, photo: torch.Tensor, sketch: torch.Tensor,
                     appearance_photo: torch.Tensor, truth: torch.Tensor | None = None,
                     truth_label: torch.Tensor | None = None, **batch) -> list[dict]:
        """Swaps of explicit pairs: geometry of ``photo`` (I_i; its sketch S_i), appearance of
        ``appearance_photo`` (I_j). Per sample and component c (crops)::

            c/geometry  I_i     c/swap           G(E_I(I_i), E_A(I_j))   c/swap_gt  P(g_i, a_j)
            c/sketch    S_i     c/sketch_swap    G(E_s(S_i), E_A(I_j))   c/label    L(g_i)
            c/appearance I_j    c/reconstruction G(E_I(I_i), E_A(I_i))

        (``swap_gt``/``label`` when the batch has ``truth``/``truth_label``) and the codes of
        :func:`~.gan_stage.swap_codes`; plus ``name``, ``appearance_name``, ``index``,
        ``pair``.
        """
        per_comp = {}
        for c in self.components:
            images = dict(geometry=self.crop(photo, c), sketch=self.crop(sketch, c),
                          appearance=self.crop(appearance_photo, c),
                          swap=self.swap(photo, appearance_photo, c),
                          sketch_swap=self.swap(sketch, appearance_photo, c, from_sketch=True),
                          reconstruction=self.swap(photo, photo, c))
            if truth is not None:
                images['swap_gt'] = self.crop(truth, c)
            if truth_label is not None:
                images['label'] = self.crop(truth_label, c)
            per_comp[c] = dict(images, **swap_codes(self, c, images))
        return per_sample_outputs(per_comp, photo.shape[0], batch)

    def get_visuals(self, data: dict) -> dict[str, list[torch.Tensor]]:
        """Per component: I1 | S1 | I2 | I_mix | I_rec | G(E_s(S1), E_A(I2))."""
        data = self.data_preprocessor(data, False)
        photo, sketch = data['photo'], data['sketch']
        visuals = {}
        for c in self.components:
            out = self.synthesize(photo, sketch, c, mix=photo.shape[0] > 1, cycle=False)
            sketch_mix = self.swap(sketch, self.partner(photo), c, from_sketch=True)
            visuals[f'stage3_{c}'] = [out['i1'], out['s1'], out['i2'],
                                      out.get('mix', out['rec']), out['rec'], sketch_mix]
        return visuals

