"""Component generator G_syn (official ``Part_Generator``), with its appearance encoder.

    F = G_feat(z_geo; AdaIN(E_app(x_app)))       component feature map, (B, ngf, H, W)
    I = tanh(conv7x7(F))                          component image, (B, output_nc, H, W)

``z_geo`` is a geometry code ``(B, ngf * 2^n, H / 2^n, W / 2^n)`` from E_sketch or E_image;
``F`` (64 channels at crop resolution for ngf 64) is what Global Fusion pastes, ``I`` is the
local image used in the disentanglement (LD) stage.

Structure (one flat ``model`` Sequential + ``enc_style``)::

    model.0 .. model.(b-1)      n_blocks x ResnetBlock(ngf * 2^n, AdaIN in both convs)
    next 3n layers               n x [ConvTranspose 3x3 s2 (C -> C/2), AdaIN(C/2), ReLU]
    model.(b+3n) .. +2           ReflectionPad2d(3), Conv2d(ngf, output_nc, 7), Tanh
    enc_style                    AppearanceEncoder(num_adain_params)

At ngf 64, n 4, b 4 these are ``model.0..3``, ``model.4/5/6`` ... ``13/14/15`` and
``model.16/17/18``; the AdaIN layers need ``2 * ngf * ((2 b + 1) 2^n - 1)`` = 18,304 values.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from facedisentangle.registry import BACKBONES

from ._checks import check_feature_map
from .adain import assign_adain_params, clear_adain_params, num_adain_params, unit_adain_params
from .appearance_encoder import AppearanceEncoder
from .resnet_block import ResnetBlock
from .sampling import check_sizes, head_layers, upsampling_layers
from .weight_init import WeightInitMixin, init_weights


@BACKBONES.register_module()
class ComponentGenerator(WeightInitMixin, nn.Module):
    """Geometry code + appearance -> component feature map and image.

    Args:
        ngf: channels of the output feature map (the code has ``ngf * 2 ** n_downsampling``).
        n_downsampling: up-samplings (must match the geometry encoder).
        n_blocks: AdaIN ResnetBlocks at the code resolution (4).
        output_nc: image channels (3).
        style_dim: appearance vector size (64).
        app_dim, app_n_downsampling: ``dim`` and ``n_downsampling`` of the
            :class:`~.appearance_encoder.AppearanceEncoder` (16 and 5).
        padding: padding inside the ResnetBlocks.
        init_type, init_gain: see :func:`~.weight_init.init_weights`.
        adain_init: initial AdaIN parameters, set through the bias of the appearance
            encoder's 1x1 head (the paper leaves training initialisation open; released
            weights replace it). ``'unit'`` (default, ours): ``w = 1, b = 0`` plus the small
            ``N(0, init_gain)`` head weights, so every AdaIN starts as a plain instance norm,
            like pix2pixHD's affine norms start at weight 1 (N(1, 0.02)). ``'zero'``: head
            bias 0, so ``w`` starts near 0 and every AdaIN layer nearly silences its input:
            the stage-3 generator then learns much more slowly (docs/local_disentanglement.md).
        up_norm: norm of the up-sampling layers: ``'adain'`` (official G_syn) or ``'in'``
            (affine instance norm: the release's ``Drawing/part_gen_*``, whose AdaIN is only in
            the ResnetBlocks).
        appearance_init: ``init_type`` of the appearance encoder's convolutions (not of its
            1x1 head). ``'kaiming'`` (default, ours; MUNIT's choice for this encoder): it has
            no normalisation, so with ``N(0, 0.02)`` weights each of its six ReLU
            convolutions shrinks the signal about 5x and the appearance vector starts near
            1e-4 with vanishing gradients. ``None``: the same ``init_type`` as the rest.

    Attributes:
        num_adain_params, style_dim, in_channels (code channels), feature_channels (ngf).
    """

    def __init__(self, ngf: int = 64, n_downsampling: int = 4, n_blocks: int = 4,
                 output_nc: int = 3, style_dim: int = 64, app_dim: int = 16,
                 app_n_downsampling: int = 5, padding: str = 'reflect',
                 init_type: str = 'normal', init_gain: float = 0.02, adain_init: str = 'unit',
                 appearance_init: str | None = 'kaiming', up_norm: str = 'adain'):
        super().__init__()
        check_sizes(type(self).__name__, ngf, n_downsampling, n_blocks)
        if adain_init not in ('unit', 'zero'):
            raise ValueError(f"{type(self).__name__}: adain_init must be 'unit' or 'zero', "
                             f'got {adain_init!r}')
        self.adain_init = adain_init
        self.appearance_init = appearance_init
        self.in_channels = ngf * 2 ** n_downsampling
        self.feature_channels = ngf
        self.style_dim = style_dim
        layers: list[nn.Module] = [ResnetBlock(self.in_channels, norm='adain', padding=padding)
                                   for _ in range(n_blocks)]
        if up_norm not in ('adain', 'in'):
            raise ValueError(f"{type(self).__name__}: up_norm must be 'adain' or 'in', got "
                             f'{up_norm!r}')
        layers += upsampling_layers(ngf, n_downsampling, up_norm)
        self._head_start = len(layers)
        layers += head_layers(ngf, output_nc)
        self.model = nn.Sequential(*layers)
        self.num_adain_params = num_adain_params(self.model)
        self.enc_style = AppearanceEncoder(self.num_adain_params, dim=app_dim,
                                           n_downsampling=app_n_downsampling,
                                           style_dim=style_dim, padding=padding,
                                           init_type=init_type, init_gain=init_gain)
        self.init_type, self.init_gain = init_type, init_gain
        self.init_weights()

    def init_weights(self, init_type: str | None = None, gain: float | None = None) -> None:
        """Every layer as :func:`~.weight_init.init_weights`, the appearance encoder's
        convolutions as ``appearance_init`` says, the AdaIN head bias as ``adain_init`` says."""
        super().init_weights(init_type, gain)
        head = self.enc_style.adain_head
        if self.appearance_init is not None:
            init_weights(self.enc_style.trunk, self.appearance_init,
                         self.init_gain if gain is None else gain)
        with torch.no_grad():
            if self.adain_init == 'unit':
                head.bias.copy_(unit_adain_params(self.model))
            else:
                head.bias.zero_()

    # appearance -------------------------------------------------------------------------
    def encode_appearance(self, image: torch.Tensor) -> torch.Tensor:
        """Component image -> ``(B, style_dim)`` appearance vector."""
        return self.enc_style.encode(image)

    def adain_params(self, vector: torch.Tensor) -> torch.Tensor:
        """Appearance vector ``(B, style_dim)`` -> ``(B, num_adain_params)``."""
        return self.enc_style.adain_params(vector)

    # synthesis --------------------------------------------------------------------------
    def decode(self, code: torch.Tensor, adain_params: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(feature, image)``: the ``(B, ngf, H, W)`` feature map after the last
        up-sampling ReLU and the ``(B, output_nc, H, W)`` image in [-1, 1].

        ``adain_params`` is ``(B, num_adain_params)`` or ``(1, num_adain_params)`` (one
        appearance for the whole batch). The AdaIN layers are cleared afterwards.
        """
        feature = self.decode_feature(code, adain_params)
        return feature, self.to_image(feature)

    def decode_feature(self, code: torch.Tensor, adain_params: torch.Tensor) -> torch.Tensor:
        """Only the ``(B, ngf, H, W)`` feature map (what Global Fusion pastes)."""
        check_feature_map(code, self.in_channels, who=type(self).__name__,
                          what='geometry code')
        assign_adain_params(adain_params, self.model)
        try:
            x = code
            for layer in self.model[:self._head_start]:
                x = layer(x)
        finally:
            clear_adain_params(self.model)
        return x

    def to_image(self, feature: torch.Tensor) -> torch.Tensor:
        """Feature map ``(B, ngf, H, W)`` -> image ``(B, output_nc, H, W)`` (7x7 head, tanh)."""
        check_feature_map(feature, self.feature_channels, who=type(self).__name__,
                          what='feature map')
        return self.model[self._head_start:](feature)

    def forward(self, geometry_code: torch.Tensor, appearance_image: torch.Tensor | None = None,
                adain_params: torch.Tensor | None = None,
                appearance_vector: torch.Tensor | None = None, return_feature: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Synthesise a component from its geometry code and ONE appearance source.

        Args:
            geometry_code: ``(B, ngf * 2^n, h, w)``.
            appearance_image: component image ``(B, 3, H, W)`` encoded by ``enc_style``;
            adain_params: or ready AdaIN parameters ``(B, num_adain_params)``;
            appearance_vector: or an appearance vector ``(B, style_dim)`` (e.g. interpolated).
            return_feature: also return the feature map.

        Returns:
            the image ``(B, output_nc, 2^n h, 2^n w)`` in [-1, 1], or ``(image, feature)``.
        """
        given = [n for n, v in (('appearance_image', appearance_image),
                                ('adain_params', adain_params),
                                ('appearance_vector', appearance_vector)) if v is not None]
        if len(given) != 1:
            raise ValueError(f'{type(self).__name__}.forward needs exactly one of '
                             'appearance_image, adain_params, appearance_vector; got '
                             f'{", ".join(given) or "none"}')
        if appearance_image is not None:
            adain_params = self.enc_style(appearance_image)
        elif appearance_vector is not None:
            adain_params = self.adain_params(appearance_vector)
        feature, image = self.decode(geometry_code, adain_params)
        return (image, feature) if return_feature else image
