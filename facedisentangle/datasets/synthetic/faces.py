"""``SyntheticFaces``: sample i of a seeded synthetic data set, and any geometry/appearance swap.

Sample i has geometry ``g_i = sample_geometry(derive_seed(seed, i, 0))`` and appearance
``a_i = sample_appearance(derive_seed(seed, i, 1))``; ``swap(i, j)`` renders ``P(g_i, a_j)``,
the exact ground truth of "geometry of i, appearance of j" (the disentanglement metric's
target), with ``S(g_i)`` and ``L(g_i)``.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .factors import Appearance, Geometry, derive_seed, sample_appearance, sample_geometry
from .render import _check_size, render_face

GEOMETRY_STREAM, APPEARANCE_STREAM = 0, 1


class SyntheticFaces:
    """A deterministic, indexable family of synthetic faces.

    Args:
        size: image side (64..512).
        seed: data-set seed; sample i's factor seeds are derived from (seed, i).
        num: length (for ``len`` and iteration); indexing works for any i >= 0.
        line_width: sketch line width in px (default 1.5 px at 128, scaled with ``size``).
    """

    def __init__(self, size: int = 128, seed: int = 0, num: int = 1000,
                 line_width: float | None = None):
        self.size = _check_size(size)
        if int(seed) < 0 or int(num) < 0:
            raise ValueError(f'SyntheticFaces: seed and num must be >= 0, got {seed}, {num}')
        self.seed, self.num, self.line_width = int(seed), int(num), line_width

    def __len__(self) -> int:
        return self.num

    def _check_index(self, i) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0:
            raise IndexError(f'SyntheticFaces: index must be an int >= 0, got {i!r}')
        return int(i)

    def geometry_seed(self, i: int) -> int:
        return derive_seed(self.seed, self._check_index(i), GEOMETRY_STREAM)

    def appearance_seed(self, i: int) -> int:
        return derive_seed(self.seed, self._check_index(i), APPEARANCE_STREAM)

    def geometry(self, i: int) -> Geometry:
        return sample_geometry(self.geometry_seed(i))

    def appearance(self, i: int) -> Appearance:
        return sample_appearance(self.appearance_seed(i))

    def name(self, i: int) -> str:
        return f'synth{self.seed}_{self._check_index(i):07d}'

    def swap(self, i: int, j: int) -> dict:
        """``P(g_i, a_j)``, ``S(g_i)``, ``L(g_i)``: face i's geometry with face j's appearance."""
        return render_face(self.geometry(i), self.appearance(j), self.size, self.line_width)

    def __getitem__(self, i: int) -> dict:
        """Sample i: ``photo, sketch, label`` (numpy uint8), ``name``, both seeds and vectors."""
        g, a = self.geometry(i), self.appearance(i)
        out = render_face(g, a, self.size, self.line_width)
        out.update(name=self.name(i), geometry_seed=self.geometry_seed(i),
                   appearance_seed=self.appearance_seed(i), geometry=g.to_vector(),
                   appearance=a.to_vector())
        return out

    def __iter__(self) -> Iterator[dict]:
        for i in range(self.num):
            yield self[i]
