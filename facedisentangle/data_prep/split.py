"""A seeded train/val/test split that depends only on each sample's name and the seed.

    u(name) = first 8 bytes of sha256(f'{seed}:{name}') / 2**64     uniform in [0, 1)
    split   = the first s with u < fractions[0] + ... + fractions[s]

So a resumed or repeated run puts every name in the same split, whatever the order, the
number of workers, or which other files are present. Split sizes follow the fractions up to
sampling noise (about sqrt(N f (1 - f)) samples).
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from facedisentangle.datasets.h5_format import SPLIT_NAMES


def check_fractions(fractions: Sequence[float], split_names: Sequence[str] = SPLIT_NAMES
                    ) -> tuple[float, ...]:
    """Validate split fractions (one per split, >= 0, summing to 1) and return them."""
    fr = tuple(float(f) for f in fractions)
    if len(fr) != len(split_names):
        raise ValueError(f'--split needs {len(split_names)} fractions ({", ".join(split_names)})'
                         f', got {list(fr)}')
    if any(f < 0 or not math.isfinite(f) for f in fr) or abs(sum(fr) - 1.0) > 1e-6:
        raise ValueError(f'--split fractions must be >= 0 and sum to 1, got {list(fr)} '
                         f'(sum {sum(fr):g})')
    return fr


def split_of(name: str, seed: int = 0, fractions: Sequence[float] = (0.9, 0.05, 0.05),
             split_names: Sequence[str] = SPLIT_NAMES) -> str:
    """The split of sample ``name`` (see the module docstring)."""
    digest = hashlib.sha256(f'{int(seed)}:{name}'.encode('utf-8')).digest()
    u = int.from_bytes(digest[:8], 'big') / 2.0 ** 64
    acc = 0.0
    for split, f in zip(split_names, fractions):
        acc += f
        if u < acc:
            return split
    # rounding at the top end: the last split with a non-zero fraction
    return [s for s, f in zip(split_names, fractions) if f > 0][-1]
