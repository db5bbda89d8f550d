"""Refine hand-drawn sketches before editing: per-component manifold projection.

A :class:`SketchRefiner` holds a trained sketch embedding (``SketchEmbedding``: a
DrawingEncoder / DrawingDecoder per component) and each component's bank. For a sketch and a
strength ``refine_sketch`` (0..1, one number or ``{component: strength}``), every component
with a strength above 0 gets its own copy of the sketch whose box holds
``D_draw(project(E_draw(S_c)))`` (:mod:`.manifold_projection`); that copy is what the
component's E_sketch reads. Components with strength 0 read the sketch as drawn.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch

from .sketch_bank import find_banks, load_bank

DEFAULT_K = 15


class SketchRefiner:
    """Args:
        embedding: a trained ``SketchEmbedding`` (eval mode is set here).
        banks: ``{component: (N, D) vectors}`` (arrays or tensors).
        k: neighbours of the projection (15 as the release).
        method: ``'lle'`` (ours) or ``'official'`` (see :func:`barycentric_weights`).
    """

    def __init__(self, embedding, banks: Mapping[str, np.ndarray | torch.Tensor],
                 k: int = DEFAULT_K, method: str = 'lle'):
        self.embedding = embedding.eval()
        device = next(embedding.parameters()).device
        self.banks = {c: torch.as_tensor(np.asarray(b, dtype=np.float32), device=device)
                      for c, b in banks.items()}
        for c, b in self.banks.items():
            dim = embedding.drawing_encoders[c].latent_dim if c in embedding.drawing_encoders \
                else None
            if dim is not None and b.shape[1] != dim:
                raise ValueError(f'sketch bank of {c!r} has {b.shape[1]}-d vectors, the sketch '
                                 f'embedding {dim}-d')
        self.k, self.method = self._check_k(k), method

    def _check_k(self, k: int) -> int:
        small = min((len(b) for b in self.banks.values()), default=k)
        if not isinstance(k, int) or not 1 <= k <= small:
            raise ValueError(f'refine K must be an int in [1, {small}] (the smallest bank), '
                             f'got {k!r}')
        return k

    @classmethod
    def from_files(cls, config: str | os.PathLike, checkpoint: str | os.PathLike,
                   banks: str | os.PathLike | None = None, k: int = DEFAULT_K,
                   method: str = 'lle', official_set: str = 'female',
                   device: str | torch.device = 'cpu') -> SketchRefiner:
        """A sketch embedding (config + checkpoint, ``weights_only`` loading) and the banks of
        the folder ``banks`` (default ``<checkpoint folder>/sketch_bank``; see
        :func:`~.sketch_bank.find_banks`)."""
        from facedisentangle.apis.sketch_bank import load_sketch_embedding

        model = load_sketch_embedding(config, checkpoint).to(device)
        folder = banks or os.path.join(os.path.dirname(os.path.abspath(checkpoint)),
                                       'sketch_bank')
        files = find_banks(folder, model.components, official_set)
        vectors = {c: load_bank(p, model.drawing_encoders[c].latent_dim, c).vectors
                   for c, p in files.items()}
        return cls(model, vectors, k=k, method=method)

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(self.embedding.components)

    def strengths(self, refine_sketch: float | Mapping[str, float]) -> dict[str, float]:
        """``{component: strength}`` (all components), checked to be numbers in [0, 1]."""
        if isinstance(refine_sketch, Mapping):
            unknown = sorted(set(refine_sketch) - set(self.components))
            if unknown:
                raise ValueError(f'refine_sketch: unknown component(s) {unknown}; the sketch '
                                 f'embedding has {list(self.components)}')
            out = {c: refine_sketch.get(c, 0.0) for c in self.components}
        else:
            out = dict.fromkeys(self.components, refine_sketch)
        for c, v in out.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ValueError(f'refine_sketch[{c!r}] must be a number in [0, 1], got {v!r}')
        return {c: float(v) for c, v in out.items()}

    @torch.no_grad()
    def refined_sketches(self, sketch: torch.Tensor, refine_sketch: float | Mapping[str, float],
                         k: int | None = None) -> dict[str, torch.Tensor]:
        """``{component: the sketch with that component's box refined}`` for every component
        with a strength above 0; ``sketch`` ``(B, 3, R, R)`` in [-1, 1]."""
        strengths = {c: v for c, v in self.strengths(refine_sketch).items() if v > 0}
        if not strengths:
            return {}
        k = self.k if k is None else self._check_k(k)
        device = next(self.embedding.parameters()).device
        x = sketch.to(device=device, dtype=torch.float32)
        crops = self.embedding.refine_crops(x, self.banks, strengths, k=k, method=self.method)
        layout = self.embedding.layout
        out = {}
        for c, crop in crops.items():
            xc, yc, s = layout.box(c)
            full = x.clone()
            full[..., yc:yc + s, xc:xc + s] = crop
            out[c] = full.to(device=sketch.device, dtype=sketch.dtype)
        return out
