"""Stage 1 of DeepFaceEditing: the per-component sketch auto-encoder (E_sketch, D_sketch)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from facedisentangle.registry import MODELS

from .base import DeepFaceEditingBase
from .sample_outputs import per_sample_outputs


@MODELS.register_module()
class SketchAutoEncoder(DeepFaceEditingBase):
    """Stage 1: for every component c, ``L_AE = || D_s^c(E_s^c(S_c)) - S_c ||_1``.

    ``S_c`` is the component's crop of the sketch (docs/method.md section 3). The geometry code
    ``E_s^c(S_c)`` is the spatial map later stages align the image geometry encoder with.

    Args:
        sketch_encoder: backbone config of E_sketch (one per component, or a dict of them).
        sketch_decoder: backbone config of D_sketch.
        loss_rec: the reconstruction loss (losses registry).
        layout, components, data_preprocessor, init_cfg: see :class:`DeepFaceEditingBase`.
    """

    def __init__(self, sketch_encoder: Mapping, sketch_decoder: Mapping,
                 loss_rec: Mapping = dict(type='ReconstructionLoss', loss_weight=1.0),  # noqa: B006
                 layout: Mapping | None = None, components: Sequence[str] | None = None,
                 data_preprocessor: Mapping | None = None, init_cfg: Mapping | None = None):
        super().__init__(layout=layout, components=components,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.sketch_encoders = self.build_per_component(sketch_encoder, 'sketch_encoder')
        self.sketch_decoders = self.build_per_component(sketch_decoder, 'sketch_decoder')
        self.check_stride(self.sketch_encoders)
        self.loss_rec = self.build_loss(loss_rec)
        if self.loss_rec is None:
            raise ValueError('SketchAutoEncoder: loss_rec is the only loss and cannot be off')

    def reconstruct(self, sketch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per component: ``D_s(E_s(S_c))`` of the full-face sketch batch ``sketch``."""
        return {c: self.sketch_decoders[c](self.sketch_encoders[c](self.crop(sketch, c)))
                for c in self.components}

    def forward(self, sketch: torch.Tensor, mode: str = 'tensor', **batch):
        """``mode='loss'``: per-component losses; ``'predict'``: per-sample outputs for
        metrics; ``'tensor'``: ``{component: reconstructed crop}``."""
        recon = self.reconstruct(sketch)
        if mode == 'tensor':
            return recon
        targets = {c: self.crop(sketch, c) for c in self.components}
        return reconstruction_outputs(self, recon, targets, mode, batch)

    def get_visuals(self, data: dict) -> dict[str, list[torch.Tensor]]:
        """Per component: columns sketch crop | reconstruction."""
        data = self.data_preprocessor(data, False)
        recon = self.reconstruct(data['sketch'])
        return {f'stage1_{c}': [self.crop(data['sketch'], c), recon[c]] for c in self.components}


def reconstruction_outputs(model, recon: dict, targets: dict, mode: str, batch: dict):
    """``forward`` of a per-component sketch auto-encoder past ``mode='tensor'``: the losses
    ``loss_rec(recon_c, target_c)`` (``'loss'``) or per-sample ``{c}/pred`` / ``{c}/gt`` dicts
    with the batch's ``name`` / ``index`` (``'predict'``)."""
    if mode == 'loss':
        return {f'{c}/{model.loss_rec.loss_name}': model.loss_rec(recon[c], targets[c])
                for c in recon}
    if mode == 'predict':
        return per_sample_outputs({c: dict(pred=recon[c], gt=targets[c]) for c in recon},
                                  next(iter(recon.values())).shape[0], batch,
                                  keys=('name', 'index'))
    raise ValueError(f'{type(model).__name__}.forward: unknown mode {mode!r} '
                     "(expected 'loss', 'predict' or 'tensor')")
