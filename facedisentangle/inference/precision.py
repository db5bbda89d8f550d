"""How each inference network runs: number format and memory layout ("execution form").

A precision is given per network role (``sketch_encoder``, ``image_encoder``,
``sketch_decoder``, ``generator``, ``fusion_generator``, ``image_to_sketch``) as a string
``'<dtype>[-nchw|-channels-last]'`` with dtype ``float32`` or ``bfloat16``:

* ``float32``: float32 weights and activations, contiguous (NCHW) layout, PyTorch's own
  instance norm (statistics accumulated in double on CPU). The exact path.
* ``bfloat16``: bfloat16 weights and activations in the channels-last layout, with instance
  norms computed by the group-norm kernel (:mod:`~facedisentangle.inference.fast_norm`):
  float32 statistics, one rounding per normalised value. On this CPU (AVX-512 BF16 / AMX)
  oneDNN's bfloat16 convolutions are several times faster channels-last than NCHW.
* ``bfloat16-nchw`` / ``float32-channels-last``: the other layouts, for measurements.

``precision`` may be one string for every role, a dict ``{role: string, 'default': string}``,
or ``'auto'`` (:data:`AUTO_PRECISION`, the fast path chosen from the measurements in
docs/benchmarks.md).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn as nn

from .fast_norm import use_group_norm
from .inplace_activation import inplace_relu_enabled, inplace_relus
from .prepacked_conv import prepack_convolutions, prepack_enabled

ROLES = ('sketch_encoder', 'image_encoder', 'sketch_decoder', 'generator', 'fusion_generator',
         'image_to_sketch')
DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16}
# The default: everything in bfloat16, channels-last (see docs/benchmarks.md, "Inference").
AUTO_PRECISION: dict[str, str] = {'default': 'bfloat16'}


@dataclass(frozen=True)
class ExecutionForm:
    """Number format and memory layout of one network's weights and activations."""

    dtype: torch.dtype = torch.float32
    channels_last: bool = False

    @property
    def name(self) -> str:
        dt = 'float32' if self.dtype == torch.float32 else 'bfloat16'
        default_cl = self.dtype != torch.float32
        if self.channels_last == default_cl:
            return dt
        return f'{dt}-channels-last' if self.channels_last else f'{dt}-nchw'

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def tensor(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in this form's dtype and layout (no copy when it already is)."""
        if x.dtype != self.dtype:
            x = x.to(self.dtype)
        if x.dim() == 4:
            x = x.contiguous(memory_format=self.memory_format)
        return x

    def matches(self, t: torch.Tensor) -> bool:
        """Whether a stored weight already has this form's dtype and layout."""
        dtype = self.dtype if t.is_floating_point() else t.dtype
        fmt = torch.channels_last if (t.dim() == 4 and self.channels_last) else \
            torch.contiguous_format
        return t.dtype == dtype and t.is_contiguous(memory_format=fmt)

    def parameter(self, t: torch.Tensor) -> torch.Tensor:
        """A weight in this form: ``t`` itself when it already is (a memory-mapped weight is
        then used in place, without a copy), else a converted copy (4-D weights in the
        form's layout)."""
        if self.matches(t):
            return t
        fmt = torch.channels_last if (t.dim() == 4 and self.channels_last) else \
            torch.contiguous_format
        dtype = self.dtype if t.is_floating_point() else t.dtype
        # one allocation, one copy (converting then re-laying out would fragment the heap)
        return torch.empty(t.shape, dtype=dtype, memory_format=fmt).copy_(t)

    def prepare(self, net: nn.Module) -> nn.Module:
        """Eval mode, no gradients; when channels-last: the group-norm instance norms and
        in-place ReLUs (:mod:`~facedisentangle.inference.inplace_activation`), and for
        bfloat16 on a CPU the wide convolutions prepacked for oneDNN
        (:mod:`~facedisentangle.inference.prepacked_conv`) where :func:`prepack_enabled`."""
        net.eval()
        net.requires_grad_(False)
        if self.channels_last:
            use_group_norm(net)
            if inplace_relu_enabled():
                inplace_relus(net)
            on_cpu = all(p.device.type == 'cpu' for p in net.parameters())
            if self.dtype == torch.bfloat16 and on_cpu and prepack_enabled():
                prepack_convolutions(net)
        return net


def parse_form(text: str, where: str = 'precision') -> ExecutionForm:
    """``'float32'``, ``'bfloat16'``, optionally suffixed ``-nchw`` or ``-channels-last``."""
    if not isinstance(text, str):
        raise ValueError(f'{where}: expected a string, got {text!r}')
    base, layout = text, None
    for suffix in ('-nchw', '-channels-last'):
        if text.endswith(suffix):
            base, layout = text[:-len(suffix)], suffix[1:]
    if base not in DTYPES:
        raise ValueError(f"{where}: unknown precision {text!r}; use 'float32', 'bfloat16', "
                         "optionally with '-nchw' or '-channels-last', or 'auto'")
    dtype = DTYPES[base]
    channels_last = (dtype != torch.float32) if layout is None else layout == 'channels-last'
    return ExecutionForm(dtype, channels_last)


def resolve_precision(precision: str | Mapping[str, str] | None = 'auto',
                      device: str | torch.device | None = None) -> dict[str, ExecutionForm]:
    """``{role: ExecutionForm}`` for every role from a precision string or dict.

    ``'auto'`` is the measured CPU fast path; on another device (a GPU) it is float32: on an
    H200 a 512 edit is launch-bound (about 20 ms), autocast gained nothing there and the
    bfloat16-weights path is CPU-only (docs/benchmarks.md, GPU check)."""
    if (precision is None or precision == 'auto') and device is not None \
            and torch.device(device).type != 'cpu':
        precision = 'float32'
    if precision is None or precision == 'auto':
        precision = AUTO_PRECISION
    if isinstance(precision, str):
        form = parse_form(precision)
        return {role: form for role in ROLES}
    if not isinstance(precision, Mapping):
        raise ValueError(f'precision must be a string or a dict, got {precision!r}')
    unknown = set(precision) - set(ROLES) - {'default'}
    if unknown:
        raise ValueError(f'precision: unknown roles {sorted(unknown)}; roles are '
                         f'{list(ROLES)} and "default"')
    default = precision.get('default', AUTO_PRECISION['default'])
    if default == 'auto':
        default = AUTO_PRECISION['default']
    return {role: parse_form(precision.get(role, default), f'precision[{role!r}]')
            for role in ROLES}


def describe_precision(forms: Mapping[str, ExecutionForm]) -> str:
    """A short text such as ``'bfloat16'`` or ``'bfloat16, generator=float32'``."""
    names = [forms[r].name for r in ROLES]
    common = max(set(names), key=names.count)
    rest = [f'{r}={forms[r].name}' for r in ROLES if forms[r].name != common]
    return ', '.join([common, *rest])
