"""Mixed precision on a CPU: bfloat16 autocast for the forward passes of a training step.

MMEngine 0.10.7's ``AmpOptimWrapper`` asserts a CUDA/NPU/MLU/MUSA device, so ``--amp`` on a
CPU would otherwise have to fall back to float32. On an Intel Xeon with AMX the whole-face
networks trained about twice as fast in bfloat16 (0.45x the float32 step time); small crops
gain little, and CPUs without AMX gain less (``docs/benchmarks.md``, "Training steps: float32
and --amp"). bfloat16 has float32's
exponent range, so no loss scaling is needed: the weights, the gradients and the optimiser
state stay float32, only the operations autocast lists run in bfloat16 (convolutions, matrix
products); the norms and the losses stay float32.

``tools/train.py --amp`` selects this wrapper when no GPU is present; a config can also ask
for it explicitly::

    optim_wrapper = dict(type='CPUAutocastOptimWrapper', optimizer=...)
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from facedisentangle.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose :meth:`optim_context` also enters
    ``torch.autocast('cpu', dtype)``.

    Args:
        dtype (str | torch.dtype): ``'bfloat16'`` (default) or ``'float16'``.
        **kwargs: passed to ``OptimWrapper`` (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self, dtype: str | torch.dtype = 'bfloat16', **kwargs):
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in ('bfloat16', 'float16'):
                raise ValueError(f'CPUAutocastOptimWrapper: dtype={dtype!r}, expected '
                                 "'bfloat16' or 'float16'")
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype

    @contextlib.contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
