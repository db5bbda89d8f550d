"""Convolutions with their weights reordered once into oneDNN's blocked layout ("prepacked").

PyTorch's CPU convolution hands oneDNN the weight in its plain (channels-last) layout, and
oneDNN reorders it into the blocked layout its kernels read (``AcdB16b32a2b`` with AMX,
``AcdB64a2b`` with AVX-512 BF16, as ``ONEDNN_VERBOSE=1`` shows) on **every call**. For the
wide, low-resolution convolutions of the bottlenecks (1024 channels at 8 x 8 to 32 x 32 px
in the component generators, 32 x 32 in G_fuse) that reorder reads and writes the whole
weight (18.9 MB in bfloat16 for a 1024 -> 1024 3x3 convolution) for only
``2 * weight * H_out * W_out`` FLOPs, so it is a large share of the layer's time: its cost
relative to the convolution is about ``bytes per weight / (H_out W_out)`` per FLOP.

:class:`PrepackedConv2d` (a ``Conv2d``, same attributes and parameters, so ``state_dict``
and :class:`~facedisentangle.inference.incremental_fusion.IncrementalFusion` see a plain
convolution) runs its first call as a plain convolution; at its second call it reorders its
weight once, with that call's input size as oneDNN's hint, keeps the blocked copy, and calls
``torch.ops.mkldnn._convolution_pointwise`` with it from then on. The result is the same
computation (the same kernel, the same summation order). A network used once (the
low-memory default rebuilds the geometry encoders for every new input) is thus never packed;
the resident ones (G_syn with its appearance encoder, G_fuse) are, from the second edit on.
The plain weight stays the module's parameter. Only a weight that is a view of a
memory-mapped weights file (the conversion cache, a bfloat16 export) is packed, and its
pages are dropped from the process after the reorder (re-read from the page cache if ever
touched again), so the blocked copy takes their place in memory instead of adding to it; a
weight held in ordinary memory is left unpacked.

Used for the channels-last bfloat16 networks on a CPU with oneDNN bfloat16 support
(:func:`prepack_enabled`); only convolutions with at least :data:`MIN_WEIGHTS` weights are
packed (the narrow, high-resolution ones gain nothing measurable). ``FACEDISENTANGLE_PREPACK=0``
switches it off, ``=1`` forces it on where oneDNN is available.
"""
from __future__ import annotations

import bisect
import ctypes
import os
import sys

import torch
import torch.nn as nn

MIN_WEIGHTS = 256 * 256 * 9  # 3x3 convolutions from 256 channels up
ENV = 'FACEDISENTANGLE_PREPACK'
_LIBC = ctypes.CDLL(None) if sys.platform.startswith('linux') else None


def onednn_ready() -> bool:
    """Whether this PyTorch can run prepacked bfloat16 convolutions on this CPU."""
    try:
        return (torch.backends.mkldnn.is_available()
                and hasattr(torch.ops.mkldnn, '_convolution_pointwise')
                and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()))
    except (AttributeError, RuntimeError):
        return False


def prepack_enabled() -> bool:
    """Prepacking on or off for this process: ``FACEDISENTANGLE_PREPACK`` when set (``0`` /
    ``1``), else on wherever oneDNN runs bfloat16 (measured faster with and without AMX, see
    docs/benchmarks.md "Prepacked convolutions")."""
    value = os.environ.get(ENV, '').strip()
    if value not in ('', '0', '1'):
        raise ValueError(f'{ENV} must be 0 or 1, got {value!r}')
    if value == '0':
        return False
    return onednn_ready()


class _FileMappings:
    """Address ranges of this process's private file mappings (from /proc/self/maps)."""

    def __init__(self):
        self.starts: list[int] = []
        self.ends: list[int] = []
        try:
            with open('/proc/self/maps') as f:
                lines = f.read().splitlines()
        except OSError:
            return
        for line in lines:
            parts = line.split(None, 5)
            if len(parts) < 6 or not parts[5].startswith('/') or parts[1][3] != 'p':
                continue  # anonymous, special ([heap], [stack]) or shared mappings
            lo, hi = (int(v, 16) for v in parts[0].split('-'))
            self.starts.append(lo)
            self.ends.append(hi)

    def holds(self, t: torch.Tensor) -> bool:
        start = t.data_ptr()
        i = bisect.bisect_right(self.starts, start) - 1
        return i >= 0 and start + t.numel() * t.element_size() <= self.ends[i]


def _trim_heap() -> None:
    """``malloc_trim(0)``: hand the heap's free pages back to the system. The reorder goes
    through a temporary oneDNN copy of the weight; freed between the packed weights, these
    copies stayed in the process (about 0.45 GB over G_syn and G_fuse at 512 px, measured)."""
    if _LIBC is not None and hasattr(_LIBC, 'malloc_trim'):
        _LIBC.malloc_trim(0)


def in_file_mapping(t: torch.Tensor) -> bool:
    """Whether ``t`` lies in a private file mapping (a view of a memory-mapped weights file)."""
    return t.device.type == 'cpu' and t.numel() > 0 and _FileMappings().holds(t)


def release_if_mapped(t: torch.Tensor) -> bool:
    """Drop the pages of ``t`` from the process when ``t`` lies in a private file mapping
    (a never-written view of a weights file); returns whether it did."""
    from .checkpoint_reader import _drop_mapped_pages

    if not in_file_mapping(t):
        return False
    _drop_mapped_pages(t)
    return True


class PrepackedConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose weight is reordered for oneDNN once, at its second call."""

    def _pack(self, x: torch.Tensor) -> bool:
        """Reorder the weight for ``x``'s size and drop the plain weight's mapped pages;
        False (and no packing, ever) when the weight is not a view of a weights file, since
        the blocked copy would then double its memory."""
        w = self.weight.detach()
        if not in_file_mapping(w):
            self._packed = False
            return False
        with torch.inference_mode(False), torch.no_grad():
            packed = torch._C._nn.mkldnn_reorder_conv2d_weight(
                w.to_mkldnn(), list(self.padding), list(self.stride), list(self.dilation),
                self.groups, list(x.shape))
        self._packed = (packed, x.dtype)
        release_if_mapped(w)
        _trim_heap()
        return True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        packed = self._packed
        if (packed is False or self.padding_mode != 'zeros' or x.device.type != 'cpu'
                or x.dim() != 4 or x.dtype != self.weight.dtype
                or isinstance(self.padding, str)):
            return super().forward(x)
        if packed is None or packed[1] != x.dtype:
            # the first call runs as before: a network used once (the low-memory default
            # rebuilds the geometry encoders for every input) is never packed
            self._calls = getattr(self, '_calls', 0) + 1
            if self._calls < 2 or not self._pack(x):
                return super().forward(x)
            packed = self._packed
        if not x.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)
        return torch.ops.mkldnn._convolution_pointwise(
            x, packed[0], self.bias, list(self.padding), list(self.stride),
            list(self.dilation), self.groups, 'none', [], '')

    def _apply(self, fn, recurse=True):
        self._packed, self._calls = None, 0  # a new device or dtype: decide again
        return super()._apply(fn, recurse)


def prepack_convolutions(net: nn.Module, min_weights: int = MIN_WEIGHTS) -> int:
    """Turn, in place, every plain ``nn.Conv2d`` of ``net`` with at least ``min_weights``
    weights into a :class:`PrepackedConv2d` (the same object, its class changed: parameters,
    hooks and names are kept). Returns how many."""
    n = 0
    for m in net.modules():
        if type(m) is nn.Conv2d and m.weight.numel() >= min_weights:
            m.__class__ = PrepackedConv2d
            m._packed, m._calls = None, 0
            n += 1
    return n


