"""Streaming feature statistics that stay correct when a distributed sampler pads the data.

``RunningMoments`` keeps ``sum x``, ``sum x x^T`` and ``n`` in float64, so memory does not
grow with the number of samples; mean and (unbiased, ``np.cov``) covariance follow:

    mu = S1 / n,    Sigma = (S2 - n mu mu^T) / (n - 1)

Padding: MMEngine's ``DefaultSampler(round_up=True)`` makes every process see the same number
of samples by appending the first samples of the data set again; process ``r`` of ``W`` gets
the global positions ``r, r + W, r + 2W, ...``, so the padded copies (positions >= the data set
size) are at most one per process and always that process's *last* sample. ``BaseMetric``
drops them by truncating the interleaved per-sample result lists to the data set size; running
sums cannot be truncated, so ``HeldBackMoments`` folds every sample but the most recent one
into the sums and keeps the most recent one apart until the end. ``kept_last_samples`` applies
MMEngine's truncation rule to the per-process sample counts and says which held-back samples
count; a padded sample anywhere else raises an error instead of being counted twice.
"""
from __future__ import annotations

from itertools import chain, zip_longest

import numpy as np


class RunningMoments:
    """Float64 running ``sum x``, ``sum x x^T`` and count of feature vectors."""

    def __init__(self):
        self.sum: np.ndarray | None = None
        self.outer: np.ndarray | None = None
        self.count = 0

    def add(self, x: np.ndarray) -> None:
        """Add the rows of ``x`` (k, d)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f'RunningMoments.add expects features (k, d), got {x.shape}.')
        if x.shape[0] == 0:
            return
        if self.sum is None:
            d = x.shape[1]
            self.sum, self.outer = np.zeros(d), np.zeros((d, d))
        elif x.shape[1] != self.sum.shape[0]:
            raise ValueError(f'RunningMoments.add: features of dimension {x.shape[1]}, expected '
                             f'{self.sum.shape[0]}.')
        self.sum += x.sum(axis=0)
        self.outer += x.T @ x
        self.count += x.shape[0]

    def merge(self, other: RunningMoments) -> RunningMoments:
        """Add another accumulator's moments into this one; returns self."""
        if other.count == 0:
            return self
        if self.sum is None:
            self.sum, self.outer = other.sum.copy(), other.outer.copy()
        else:
            if other.sum.shape != self.sum.shape:
                raise ValueError(f'RunningMoments.merge: dimension {other.sum.shape[0]} vs '
                                 f'{self.sum.shape[0]}.')
            self.sum += other.sum
            self.outer += other.outer
        self.count += other.count
        return self

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean (d,) and unbiased covariance (d, d), as ``np.mean(x, 0)`` and ``np.cov(x.T)``."""
        if self.count < 2:
            raise ValueError(f'mean and covariance need at least 2 samples, got {self.count}.')
        mu = self.sum / self.count
        sigma = (self.outer - self.count * np.outer(mu, mu)) / (self.count - 1)
        return mu, (sigma + sigma.T) / 2


class HeldBackMoments:
    """``RunningMoments`` of one process's samples with its last sample held back.

    ``add`` folds the previous held-back row and all new rows but the last into the sums
    (one matrix product per batch); ``result(keep_last)`` returns the moments with or without
    the held-back row.
    """

    def __init__(self):
        self.moments = RunningMoments()
        self.last: np.ndarray | None = None

    def add(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f'HeldBackMoments.add expects features (k, d), got {x.shape}.')
        if x.shape[0] == 0:
            return
        rows = x if self.last is None else np.concatenate([self.last[None], x])
        self.moments.add(rows[:-1])
        self.last = rows[-1].copy()

    def result(self, keep_last: bool = True) -> RunningMoments:
        out = RunningMoments().merge(self.moments)
        if keep_last and self.last is not None:
            out.add(self.last[None])
        return out


def kept_last_samples(counts: list[int], size: int) -> list[bool]:
    """Which process's last sample counts, by MMEngine's rule (``collect_results``).

    The per-process sample lists are interleaved (process 0's first, process 1's first, ...)
    and cut to ``size``. Returns, per process, whether its last sample survives the cut.

    Raises:
        RuntimeError: when the cut removes a sample that is not some process's last one (more
            samples were processed than a padding sampler adds).
    """
    order = [p for p in chain.from_iterable(zip_longest(
        *[[(r, k) for k in range(n)] for r, n in enumerate(counts)])) if p is not None]
    keep = [n > 0 for n in counts]
    for r, k in order[size:]:
        if k != counts[r] - 1:
            raise RuntimeError(
                f'{sum(counts)} samples were processed for a data set of size {size} '
                f'(per process: {counts}); only one padded sample per process (the last) can be '
                'left out of running sums. Use the DefaultSampler (round_up=True or False) for '
                'validation, or call evaluate() with the number of samples processed.')
        keep[r] = False
    return keep


def check_unique(indices, what: str) -> None:
    """Raise if a sample index occurs twice among the samples that are counted."""
    seen: set = set()
    dups = []
    for i in indices:
        if i is None:
            continue
        if i in seen:
            dups.append(i)
        seen.add(i)
    if dups:
        raise RuntimeError(
            f'{what}: sample index {dups[:10]} counted more than once after removing the '
            "sampler's padding. The validation sampler is not MMEngine's DefaultSampler "
            "(or the samples' index values are not unique); use DefaultSampler for evaluation.")
