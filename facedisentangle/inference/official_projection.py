"""The release's sketch-to-face model for hand-drawn sketches (``Combine_Model_Projection``),
run from converted files (``tools/convert_official_weights.py``: ``*_drawing.pth`` and its
``*_banks/{man,female}/``).

Per component c, with the sketch's channel 0 ``S`` and the appearance photo ``A``::

    v    = E_draw^c(S_c)                                   512-d (DrawingEncoder)
    v'   = (1 - lambda_c) v + lambda_c p(v)                manifold projection, K neighbours in
                                                           the chosen bank (man or female)
    m    = D_draw^c(v')                                    32-channel map (DrawingDecoder)
    F_c  = G^c-features(E_geo^c(m), A_c)                   32-channel component features
    I    = G_fuse(fuse_c F_c)                              the face (GlobalGenerator, BN, eval)

The release always passes the sketch through the embedding (lambda 0 still decodes ``v``).
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch

from facedisentangle.structures import build_layout

from .manifold_projection import project_vectors
from .sketch_bank import find_banks, load_bank


class OfficialProjectionModel:
    """Args:
        networks: the converted ``Drawing/`` networks (``load_official_drawing``).
        banks: ``{component: (N, 512) vectors}`` of one bank set.
        layout: the layout config of the converted file.
        k, method: projection neighbours (15) and weights (``'official'``: the release's
            penalty row; ``'lle'``: ours).
    """

    PREFIXES = ('drawing_encoders', 'drawing_decoders', 'drawing_geometry_encoders',
                'drawing_generators')

    def __init__(self, networks: Mapping[str, torch.nn.Module],
                 banks: Mapping[str, np.ndarray | torch.Tensor], layout: Mapping,
                 k: int = 15, method: str = 'official'):
        self.layout = build_layout(layout)
        self.components = tuple(c for c in self.layout.components
                                if all(f'{p}.{c}' in networks for p in self.PREFIXES))
        missing = [c for c in self.layout.components if c not in self.components]
        if missing or 'drawing_fusion_generator' not in networks:
            raise ValueError(f'official projection model: networks missing for {missing} '
                             f'or drawing_fusion_generator (have {sorted(networks)})')
        absent = [c for c in self.components if c not in banks]
        if absent:
            raise ValueError(f'official projection model: no bank for {absent}')
        self.nets = dict(networks)
        self.banks = {c: torch.as_tensor(np.asarray(banks[c], np.float32))
                      for c in self.components}
        self.k, self.method = k, method

    @classmethod
    def from_files(cls, drawing_file: str | os.PathLike, banks: str | os.PathLike,
                   bank_set: str = 'female', k: int = 15, method: str = 'official'
                   ) -> OfficialProjectionModel:
        """``drawing_file`` from the converter; ``banks`` its ``*_banks`` folder (the
        ``bank_set`` sub-folder, ``'man'`` or ``'female'``, is used) or a folder of banks."""
        from facedisentangle.converters.official_drawing import load_official_drawing

        obj = torch.load(drawing_file, map_location='cpu', weights_only=True, mmap=True)
        nets = load_official_drawing(drawing_file)
        folder = os.path.join(banks, bank_set) if os.path.isdir(
            os.path.join(banks, bank_set)) else banks
        files = find_banks(folder, obj['components'], bank_set)
        dim = next(n for name, n in nets.items()
                   if name.startswith('drawing_encoders.')).latent_dim
        vectors = {c: load_bank(p, dim, c).vectors for c, p in files.items()}
        return cls(nets, vectors, obj['layout'], k=k, method=method)

    @torch.no_grad()
    def __call__(self, sketch: torch.Tensor, appearance: torch.Tensor,
                 refine_sketch: float | Mapping[str, float] = 1.0) -> torch.Tensor:
        """``sketch``, ``appearance``: ``(B, 3, R, R)`` in [-1, 1]; returns the face."""
        strengths = (dict(refine_sketch) if isinstance(refine_sketch, Mapping)
                     else dict.fromkeys(self.components, float(refine_sketch)))
        unknown = sorted(set(strengths) - set(self.components))
        if unknown:
            raise ValueError(f'refine_sketch: unknown component(s) {unknown}')
        feats = {}
        for c in self.components:
            crop = self.layout.crop(sketch, c)[:, :1]
            v = self.nets[f'drawing_encoders.{c}'](crop)
            v = project_vectors(v, self.banks[c], float(strengths.get(c, 0.0)), k=self.k,
                                method=self.method)
            geo = self.nets[f'drawing_geometry_encoders.{c}'](
                self.nets[f'drawing_decoders.{c}'](v))
            gen = self.nets[f'drawing_generators.{c}']
            feats[c] = gen.decode_feature(geo, gen.enc_style(self.layout.crop(appearance, c)))
        return self.nets['drawing_fusion_generator'](self.layout.fuse(feats))
