"""The sketch embedding for manifold projection (DeepFaceDrawing's component embedding).

For every component c, a DrawingEncoder E_draw^c maps the sketch crop to a vector and a
DrawingDecoder D_draw^c maps it back; trained as an auto-encoder on the training sketches::

    L_emb = sum_c || D_draw^c(E_draw^c(S_c)) - S_c ||_1        (S_c: channel 0 of the crop)

Once trained, the training sketches' vectors form the bank of each component
(``tools/build_sketch_bank.py``) and a hand-drawn sketch is refined by encoding it, projecting
its vector onto the bank (:mod:`facedisentangle.inference.manifold_projection`) and decoding
(:meth:`SketchEmbedding.refine_crops`). docs/sketch_projection.md.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch

from facedisentangle.inference.manifold_projection import project_vectors
from facedisentangle.registry import MODELS

from .base import DeepFaceEditingBase
from .sketch_autoencoder import reconstruction_outputs


@MODELS.register_module()
class SketchEmbedding(DeepFaceEditingBase):
    """Per-component sketch auto-encoders (E_draw, D_draw) with an L1 reconstruction loss.

    Args:
        drawing_encoder: backbone config of E_draw (``DrawingEncoder``); ``image_size`` is
            filled in from the component's box when absent. One config or ``{component: cfg}``.
        drawing_decoder: backbone config of D_draw (``DrawingDecoder``, ``output_nc=1``).
        loss_rec: the reconstruction loss (losses registry).
        layout, components, data_preprocessor, init_cfg: see :class:`DeepFaceEditingBase`.
    """

    def __init__(self, drawing_encoder: Mapping, drawing_decoder: Mapping,
                 loss_rec: Mapping = dict(type='ReconstructionLoss', loss_weight=1.0),  # noqa: B006
                 layout: Mapping | None = None, components: Sequence[str] | None = None,
                 data_preprocessor: Mapping | None = None, init_cfg: Mapping | None = None):
        super().__init__(layout=layout, components=components,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.drawing_encoders = self.build_per_component(
            self._sized(drawing_encoder), 'drawing_encoder')
        self.drawing_decoders = self.build_per_component(
            self._sized(drawing_decoder), 'drawing_decoder')
        for c in self.components:
            if self.drawing_decoders[c].output_nc != 1:
                raise ValueError(f'SketchEmbedding: drawing_decoder of {c!r} must reconstruct the '
                                 f'sketch (output_nc=1), got {self.drawing_decoders[c].output_nc}')
        self.loss_rec = self.build_loss(loss_rec)
        if self.loss_rec is None:
            raise ValueError('SketchEmbedding: loss_rec is the only loss and cannot be off')

    def _sized(self, cfg: Mapping) -> dict:
        """Per-component configs with ``image_size`` = the component's box side if unset."""
        if not isinstance(cfg, Mapping):
            raise TypeError(f'SketchEmbedding: expected a config dict, got {cfg!r}')
        out = {}
        for c in self.components:
            sub = copy.deepcopy(dict(cfg if 'type' in cfg else cfg.get(c, {})))
            if not sub:
                raise KeyError(f'SketchEmbedding: no config for component {c!r} '
                               f'(keys: {list(cfg)})')
            sub.setdefault('image_size', self.layout.size(c))
            out[c] = sub
        return out

    # ------------------------------------------------------------------ embedding
    def target(self, sketch: torch.Tensor, comp: str) -> torch.Tensor:
        """Channel 0 of the component's crop, ``(B, 1, s, s)`` in [-1, 1]."""
        return self.crop(sketch, comp)[:, :1]

    def encode(self, sketch: torch.Tensor, comp: str) -> torch.Tensor:
        """Full-face sketch batch -> the component's vectors ``(B, latent_dim)``."""
        return self.drawing_encoders[comp](self.target(sketch, comp))

    def decode(self, vectors: torch.Tensor, comp: str) -> torch.Tensor:
        return self.drawing_decoders[comp](vectors)

    def reconstruct(self, sketch: torch.Tensor) -> dict[str, torch.Tensor]:
        return {c: self.decode(self.encode(sketch, c), c) for c in self.components}

    @torch.no_grad()
    def refine_crops(self, sketch: torch.Tensor, banks: Mapping[str, torch.Tensor],
                     strength: float | Mapping[str, float], k: int = 15, method: str = 'lle'
                     ) -> dict[str, torch.Tensor]:
        """``{c: D_draw^c(project(E_draw^c(S_c)))}`` for every component with strength > 0.

        ``strength`` (``refine_sketch``) is one number for every component or a dict (a
        component missing from it keeps its sketch); each refined crop is ``(B, C, s, s)`` in
        [-1, 1] with the sketch's C channels, meant for that component's own E_sketch (crops
        of neighbouring boxes overlap, so they are not pasted into one sketch).
        """
        if isinstance(strength, Mapping):
            unknown = sorted(set(strength) - set(self.components))
            if unknown:
                raise ValueError(f'refine_sketch: unknown component(s) {unknown}; this sketch '
                                 f'embedding has {list(self.components)}')
            strengths = {c: float(strength.get(c, 0.0)) for c in self.components}
        else:
            strengths = dict.fromkeys(self.components, float(strength))
        out = {}
        for c, lam in strengths.items():
            if lam == 0.0:
                continue
            if c not in banks:
                raise KeyError(f'refine_sketch: no sketch bank for component {c!r} (banks: '
                               f'{sorted(banks)})')
            v = project_vectors(self.encode(sketch, c), banks[c], lam, k=k, method=method)
            out[c] = self.decode(v, c).clamp(-1, 1).expand(-1, sketch.shape[1], -1, -1)
        return out

    # ------------------------------------------------------------------ training
    def forward(self, sketch: torch.Tensor, mode: str = 'tensor', **batch):
        """``mode='loss'``: per-component losses; ``'predict'``: per-sample outputs for the
        metrics; ``'tensor'``: ``{component: reconstructed crop}``."""
        recon = self.reconstruct(sketch)
        if mode == 'tensor':
            return recon
        targets = {c: self.target(sketch, c) for c in self.components}
        return reconstruction_outputs(self, recon, targets, mode, batch)

    def get_visuals(self, data: dict) -> dict[str, list[torch.Tensor]]:
        """Per component: columns sketch crop | reconstruction."""
        data = self.data_preprocessor(data, False)
        recon = self.reconstruct(data['sketch'])
        return {f'embedding_{c}': [self.target(data['sketch'], c), recon[c]]
                for c in self.components}
