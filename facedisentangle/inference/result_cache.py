"""Remember per-component results by the content of their inputs (partial recompute).

When one component's input changes, only that component's geometry code, appearance and
feature map are recomputed: every other component finds its results here, keyed by a digest of
the exact input tensors (blake2b of the bytes, with shape and dtype), so a changed pixel is a
changed key and a stale result can never be returned. Least recently used entries are dropped
beyond ``max_bytes``.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable

import torch


def tensor_digest(t: torch.Tensor) -> str:
    """A 128-bit digest of a tensor's values, shape and dtype (layout-independent)."""
    t = t.detach()
    if t.device.type != 'cpu':
        t = t.cpu()
    t = t.contiguous()
    h = hashlib.blake2b(digest_size=16)
    h.update(f'{t.dtype}{tuple(t.shape)}'.encode())
    if t.numel():
        h.update(t.reshape(-1).view(torch.uint8).numpy().data)
    return h.hexdigest()


def _nbytes(value) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 0


class ResultCache:
    """A byte-bounded LRU map from hashable keys to tensors (or tuples/dicts of tensors).

    Args:
        max_bytes: total size of the cached tensors; 0 switches caching off.
    """

    def __init__(self, max_bytes: int = 512 << 20):
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], object]):
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key][0]
        self.misses += 1
        value = compute()
        size = _nbytes(value)
        if 0 < self.max_bytes and size <= self.max_bytes:
            self._items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, old) = self._items.popitem(last=False)
                self.bytes -= old
        return value

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)
