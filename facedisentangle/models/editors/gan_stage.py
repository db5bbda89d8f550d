"""The GAN stages (3: Local Disentanglement, 4: Global Fusion, the image-to-sketch generator):
their one training step and the pieces they share."""
from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapperDict

from .base import DeepFaceEditingBase


class PerComponentNetworks(nn.ModuleDict):
    """One network per component, called through ``forward(component, ...)``.

    ``MMSeparateDistributedDataParallel`` replaces every trainable child of the model by a
    DDP wrapper, and DDP synchronises gradients only for calls that go through the wrapper's
    ``forward``: ``self.generators['eye1'](...)`` would fail on the wrapper, and
    ``self.generators.module['eye1'](...)`` would silently skip the all-reduce. So the
    per-component networks are called as ``self.generators('eye1', *args, **kwargs)``;
    ``method='name'`` calls another method (or sub-module) of that component's network
    instead of its ``forward``. State-dict keys are those of a plain ``nn.ModuleDict``
    (``generators.eye1.*``).
    """

    def forward(self, component: str, *args, method: str | None = None, **kwargs):
        if component not in self:
            raise KeyError(f'no network for component {component!r}; have {list(self)}')
        net = self[component]
        fn = net if method is None else getattr(net, method)
        return fn(*args, **kwargs)


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Parameters of ``module`` do not require gradients inside the block (restored after)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def split_scales(pred: list, start: int, stop: int) -> list[list[torch.Tensor]]:
    """Samples ``start:stop`` of a multi-scale discriminator output (per scale, per layer)."""
    return [[f[start:stop] for f in scale] for scale in pred]


def roll_scales(pred: list) -> list[list[torch.Tensor]]:
    return [[f.roll(1, dims=0) for f in scale] for scale in pred]


class DiscriminatorOutputs:
    """A multi-scale discriminator's outputs for several named batches judged in one pass,
    read back by name: ``outs['rec']`` is the prediction for the batch ``rec`` (per scale, per
    layer, as the discriminator returns it), ``outs['rec', 'mix']`` that of adjacent batches
    together (one loss over both, as over their concatenation)."""

    def __init__(self, pred: list, sizes: Mapping[str, int]):
        self.pred = pred
        self.names = list(sizes)
        self.spans, start = {}, 0
        for name, n in sizes.items():
            self.spans[name] = (start, start + n)
            start += n

    def __getitem__(self, names: str | Sequence[str]) -> list[list[torch.Tensor]]:
        names = [names] if isinstance(names, str) else list(names)
        first = self.names.index(names[0]) if names and names[0] in self.names else -1
        if first < 0 or self.names[first:first + len(names)] != names:
            raise KeyError(f'discriminator outputs: {names} are not adjacent batches of '
                           f'{self.names}')
        return split_scales(self.pred, self.spans[names[0]][0], self.spans[names[-1]][1])


def discriminate(discriminator: nn.Module, batches: Mapping[str, torch.Tensor],
                 *args) -> DiscriminatorOutputs:
    """``discriminator(*args, x)`` on the named ``batches`` concatenated in their order (one
    pass: one call through a DDP wrapper), read back by name."""
    pred = discriminator(*args, torch.cat(list(batches.values())))
    return DiscriminatorOutputs(pred, {k: v.shape[0] for k, v in batches.items()})


class GANStage(DeepFaceEditingBase):
    """A stage trained as a conditional GAN, pix2pixHD's step (stages 3 and 4, and the
    image-to-sketch generator)::

        inputs = gan_inputs(data)            what the frozen networks give (no optimiser yet)
        outs   = generate(inputs)            the trained generator's images
        L_G    = generator_losses(outs)      the discriminator used, not trained (frozen)
        L_D    = discriminator_losses(outs)  on the same images, detached
        every term checked (NaN/Inf stops training before any step), then a step of the
        generator (``optim_wrapper['generator']``) and one of the discriminator
        (``optim_wrapper['discriminator']``)

    The adversarial and feature-matching terms of G use D before its update, as pix2pixHD.
    A subclass names its trained generator and discriminator (``GENERATOR``,
    ``DISCRIMINATOR``: attribute names; the discriminator is None when ``loss_gan`` is off,
    and then there is no D step and no ``'discriminator'`` optimiser) and provides the four
    methods above; ``forward(mode='loss')`` is :meth:`gan_losses`.
    """

    GENERATOR: str
    DISCRIMINATOR: str

    @property
    def discriminator(self) -> nn.Module | None:
        return getattr(self, self.DISCRIMINATOR)

    # ------------------------------------------------------------------ what differs
    def gan_inputs(self, data: dict, training: bool) -> dict:
        """Inputs of :meth:`generate` from the preprocessed batch (frozen networks' work)."""
        return data

    @abstractmethod
    def generate(self, inputs: dict, training: bool) -> dict:
        """The generator's images (and what the losses need) from :meth:`gan_inputs`."""

    @abstractmethod
    def generator_losses(self, outs: dict) -> dict[str, torch.Tensor]:
        """The G-side terms (the discriminator used, not trained)."""

    @abstractmethod
    def discriminator_losses(self, outs: dict) -> dict[str, torch.Tensor]:
        """The D-side terms on the detached fakes of ``outs``."""

    # ------------------------------------------------------------------ the step
    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> dict[str, torch.Tensor]:
        """One generator step (D frozen), then one discriminator step (see the class)."""
        disc = self.discriminator
        has_d = self.check_optim_wrapper(optim_wrapper)
        data = self.data_preprocessor(data, True)
        inputs = self.gan_inputs(data, training=True)
        with optim_wrapper['generator'].optim_context(getattr(self, self.GENERATOR)):
            with frozen(disc) if has_d else contextlib.nullcontext():
                outs = self.generate(inputs, training=True)
                g_losses = self.generator_losses(outs)
        d_losses = None
        if has_d:
            with optim_wrapper['discriminator'].optim_context(disc):
                d_losses = self.discriminator_losses(outs)
        return self.update(optim_wrapper, g_losses, d_losses)

    def gan_losses(self, data: dict, training: bool) -> dict[str, torch.Tensor]:
        """Every G- and D-side term of the preprocessed batch ``data``, without an update."""
        outs = self.generate(self.gan_inputs(data, training), training)
        losses = self.generator_losses(outs)
        if self.discriminator is not None:
            losses.update(self.discriminator_losses(outs))
        return losses

    def check_optim_wrapper(self, optim_wrapper) -> bool:
        """The optimisers a GAN stage needs: ``generator``, and ``discriminator`` exactly when
        the model has one. Returns whether there is a discriminator step."""
        name = type(self).__name__
        if not isinstance(optim_wrapper, OptimWrapperDict) or \
                'generator' not in optim_wrapper.keys():
            raise KeyError(f"{name}.train_step needs optim_wrapper['generator'] (and "
                           "['discriminator'] when loss_gan is on): build optim_wrapper with "
                           "constructor='PerNetworkOptimWrapperConstructor'")
        has_d = 'discriminator' in optim_wrapper.keys()
        if has_d != (self.discriminator is not None):
            raise KeyError(f"{name}: optim_wrapper {'has' if has_d else 'lacks'} a "
                           f"'discriminator' optimiser but the model "
                           f"{'has no' if has_d else 'has a'} discriminator (loss_gan "
                           f"{'off' if has_d else 'on'})")
        return has_d

    def update(self, optim_wrapper: OptimWrapperDict, g_losses: dict,
               d_losses: dict | None) -> dict[str, torch.Tensor]:
        """Check every term (``parse_losses``: NaN/Inf stops training before any step), then
        step the generator, then the discriminator. Returns the detached log values, with the
        sums logged as ``loss_g`` and ``loss_d``."""
        g_loss, log_vars = self.parse_losses(g_losses)
        log_vars['loss_g'] = log_vars.pop('loss')
        if d_losses is not None:
            d_loss, d_log = self.parse_losses(d_losses)
            d_log['loss_d'] = d_log.pop('loss')
            log_vars.update(d_log)
        optim_wrapper['generator'].update_params(g_loss)
        if d_losses is not None:
            optim_wrapper['discriminator'].update_params(d_loss)
        return {k: v.detach() for k, v in log_vars.items()}


class ImageGANStage(GANStage):
    """A GAN stage whose generator makes one image per sample, judged whole (Global Fusion,
    image-to-sketch): :meth:`generate` gives ``outs['fake']`` for the target ``outs['real']``,
    and the terms are pix2pixHD's::

        L_G = L_GAN(D(fake), real) + L_FM(D(fake), D(real)) + L_VGG(fake, real)
              (+ a pixel L1 || fake - real ||_1, ours)
        L_D = 1/2 L_GAN(D(real), real) + 1/2 L_GAN(D(fake), fake)

    (each a loss module: ``loss_gan``, ``loss_feat``, ``loss_vgg``, ``loss_rec``; None = off).
    :meth:`discriminator_input` gives what D sees of an image (a conditional D also sees the
    input).
    """

    def build_gan(self, discriminator: Mapping | None, loss_gan: Mapping | None,
                  loss_feat: Mapping | None, loss_vgg: Mapping | None,
                  loss_rec: Mapping | None) -> None:
        """Build the four terms and the discriminator (``DISCRIMINATOR``; registered after the
        terms) from their configs: with ``loss_gan`` off there is no discriminator, which then
        allows no discriminator config and no feature matching; at least one generator term
        must be on."""
        from facedisentangle.registry import BACKBONES

        name, attr = type(self).__name__, self.DISCRIMINATOR
        self.loss_gan = self.build_loss(loss_gan)
        self.loss_feat = self.build_loss(loss_feat)
        self.loss_vgg = self.build_loss(loss_vgg)
        self.loss_rec = self.build_loss(loss_rec)
        if self.loss_gan is None:
            if discriminator is not None or self.loss_feat is not None:
                raise ValueError(f'{name}: loss_gan is off: set {attr}=None and '
                                 'loss_feat=None too (nothing would train the discriminator)')
            built = None
        else:
            if discriminator is None:
                raise ValueError(f'{name}: loss_gan is on but {attr} is None')
            built = BACKBONES.build(dict(discriminator))
        setattr(self, attr, built)
        if not any(x is not None for x in (self.loss_gan, self.loss_vgg, self.loss_rec)):
            raise ValueError(f'{name}: every generator loss is off')

    def discriminator_input(self, image: torch.Tensor, outs: dict) -> torch.Tensor:
        return image

    def judge(self, outs: dict, **images: torch.Tensor) -> DiscriminatorOutputs:
        return discriminate(self.discriminator, {
            k: self.discriminator_input(v, outs) for k, v in images.items()})

    def generator_losses(self, outs: dict) -> dict[str, torch.Tensor]:
        fake, real = outs['fake'], outs['real']
        losses = {}
        if self.loss_rec is not None:
            losses[self.loss_rec.loss_name] = self.loss_rec(fake, real)
        if self.loss_vgg is not None:
            losses[self.loss_vgg.loss_name] = self.loss_vgg(fake, real)
        if self.discriminator is not None:
            pred = self.judge(outs, fake=fake, real=real)
            losses[f'{self.loss_gan.loss_name}_g'] = self.loss_gan(
                pred['fake'], target_is_real=True, is_disc=False)
            if self.loss_feat is not None:
                real_feats = [[f.detach() for f in s] for s in pred['real']]
                losses[self.loss_feat.loss_name] = self.loss_feat(pred['fake'], real_feats)
        return losses

    def discriminator_losses(self, outs: dict) -> dict[str, torch.Tensor]:
        pred = self.judge(outs, real=outs['real'], fake=outs['fake'].detach())
        name = self.loss_gan.loss_name
        return {
            f'{name}_d_real': 0.5 * self.loss_gan(pred['real'], target_is_real=True,
                                                  is_disc=True),
            f'{name}_d_fake': 0.5 * self.loss_gan(pred['fake'], target_is_real=False,
                                                  is_disc=True),
        }


SWAP_OUTPUTS = ('swap', 'sketch_swap')


def swap_codes(model: GANStage, comp: str, images: dict[str, torch.Tensor]
               ) -> dict[str, torch.Tensor]:
    """Codes of the crops of component ``comp`` for the consistency metrics of the swaps of
    stages 3 and 4: geometry ``geometry_code = E_I(I_i)``, ``{o}_code = E_I(o)`` and appearance
    (the vector of E_A) ``appearance_code = E_A(I_j)``, ``{o}_appearance_code = E_A(o)`` for
    each output ``o`` of ``SWAP_OUTPUTS`` in ``images``."""
    def app(img):
        return model.generators(comp, img, method='encode_appearance')

    encode = model.image_encoders[comp]
    codes = dict(geometry_code=encode(images['geometry']),
                 appearance_code=app(images['appearance']))
    for out in SWAP_OUTPUTS:
        if out in images:
            codes[f'{out}_code'] = encode(images[out])
            codes[f'{out}_appearance_code'] = app(images[out])
    return codes
