"""Weight-only quantisation of export files (smaller files; weights are float again at load).

Round-to-nearest, symmetric, with float scales; activations and arithmetic stay as they are
(the loaded network runs in its usual precision):

* **8 bits, one scale per output channel**: for a weight ``W`` of shape ``(C_out, ...)``
  flattened to ``(C_out, K)``, ``s_c = max_k |W_ck| / 127`` and ``q_ck = round(W_ck / s_c)`` in
  ``[-127, 127]`` (``int8``); ``W_ck ~ s_c q_ck``.
* **4 bits, one scale per group of ``G`` consecutive input weights** (default 64) of an
  output channel: ``s_cg = max |W| / 7`` over the group, ``q`` in ``[-7, 7]``, two values per
  byte (``uint8``, low nibble first, stored as ``q + 8``); ``s_cg`` is that range times the
  ratio in ``CLIP_RATIOS`` with the least squared error over the group; the scales are
  ``float16`` and ``q`` is computed with the rounded scale, so ``s q`` is exactly what is
  reconstructed.

In an export file (``format_version`` 2) the quantised weights leave ``state_dict`` and stand
under ``quantized``::

    'quantized': {'image_encoders.bg.model.10.conv_block.1.weight':
                  {'bits': 4, 'shape': [128, 128, 3, 3], 'group': 64,
                   'q': uint8 tensor, 'scale': float16 tensor}, ...}

plain tensors and builtins, so ``torch.load(weights_only=True)`` reads them. Which weights are
quantised is a policy (:func:`quantize_state_dict`): biases and normalisation parameters (1-D)
are never quantised; ``int8`` quantises every other weight to 8 bits; ``int4`` quantises weights
of at least ``min_numel`` elements to 4 bits, except those of ``int8_networks``, and the
remaining ones to 8 bits.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

MODES = ('int8', 'int4')
# 4 bits: the scale of each group is max|W| / 7 times the ratio (of these) with the least
# squared error over the group (clipping the largest weights can lower the total error)
CLIP_RATIOS = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7)


def quantize_weight(w: torch.Tensor, bits: int, group: int = 64) -> dict:
    """``w`` (at least 2-D, floating point) as a quantised entry (see the module docstring)."""
    if w.dim() < 2 or not w.is_floating_point():
        raise ValueError(f'quantize_weight: needs a floating-point weight of 2 or more '
                         f'dimensions, got {tuple(w.shape)} {w.dtype}')
    shape = list(w.shape)
    flat = w.detach().float().contiguous().reshape(shape[0], -1)
    if bits == 8:
        scale = flat.abs().amax(dim=1) / 127
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        q = torch.round(flat / scale[:, None]).clamp_(-127, 127).to(torch.int8)
        return dict(bits=8, shape=shape, q=q, scale=scale)
    if bits == 4:
        if group < 2 or group % 2:
            raise ValueError(f'quantize_weight: the 4-bit group size must be even, got {group}')
        k = flat.shape[1]
        pad = -k % group
        g = torch.nn.functional.pad(flat, (0, pad)).reshape(shape[0], -1, group)
        amax = g.abs().amax(dim=2)
        best_err = best_scale = None
        for ratio in CLIP_RATIOS:  # per group, the clipping of the range with the least error
            scale = (amax * ratio / 7).to(torch.float16)
            scale = torch.where(scale > 0, scale, torch.ones_like(scale))
            sf = scale.float()[..., None]
            err = ((torch.round(g / sf).clamp_(-7, 7) * sf - g) ** 2).sum(dim=2)
            if best_err is None:
                best_err, best_scale = err, scale
            else:
                better = err < best_err
                best_err = torch.where(better, err, best_err)
                best_scale = torch.where(better, scale, best_scale)
        scale = best_scale
        q = torch.round(g / scale.float()[..., None]).clamp_(-7, 7).to(torch.int16) + 8
        q = q.reshape(shape[0], -1)
        packed = (q[:, 0::2] | (q[:, 1::2] << 4)).to(torch.uint8)
        return dict(bits=4, shape=shape, group=group, q=packed, scale=scale)
    raise ValueError(f'quantize_weight: bits must be 8 or 4, got {bits!r}')


def dequantize_weight(entry: Mapping, where: str = 'weight') -> torch.Tensor:
    """The float32 weight of a quantised entry; a clear error naming ``where`` if malformed."""
    try:
        bits, shape, q, scale = entry['bits'], list(entry['shape']), entry['q'], entry['scale']
    except (KeyError, TypeError):
        raise ValueError(f'{where}: a quantised entry needs bits, shape, q and scale, got '
                         f'{sorted(entry) if isinstance(entry, Mapping) else type(entry)}'
                         ) from None
    rows, k = shape[0], math.prod(shape[1:])
    if bits == 8:
        if q.dtype != torch.int8 or tuple(q.shape) != (rows, k) or scale.numel() != rows:
            raise ValueError(f'{where}: int8 entry does not match its shape {shape}')
        return (q.float() * scale.float().reshape(rows, 1)).reshape(shape)
    if bits == 4:
        group = int(entry.get('group', 0))
        if group < 2 or q.dtype != torch.uint8:
            raise ValueError(f'{where}: 4-bit entry with group {group} and {q.dtype} codes')
        padded = k + (-k % group)
        if tuple(q.shape) != (rows, padded // 2) or tuple(scale.shape) != (rows, padded // group):
            raise ValueError(f'{where}: 4-bit entry does not match its shape {shape}')
        codes = torch.empty(rows, padded, dtype=torch.int16)
        codes[:, 0::2] = (q & 0x0F).to(torch.int16)
        codes[:, 1::2] = (q >> 4).to(torch.int16)
        vals = (codes - 8).float().reshape(rows, -1, group) * scale.float()[..., None]
        return vals.reshape(rows, padded)[:, :k].reshape(shape)
    raise ValueError(f'{where}: quantised entry with bits={bits!r} (8 or 4 are known)')


def bits_for(key: str, w: torch.Tensor, mode: str, min_numel: int = 16384,
             int8_networks: Sequence[str] = ()) -> int | None:
    """How many bits the policy ``mode`` gives the weight ``key`` (None: kept as is).

    ``int8_networks``: network names or prefixes (``fusion_generator``, ``generators``,
    ``generators.eye1``) whose weights get 8 bits under ``int4`` too."""
    if mode not in MODES:
        raise ValueError(f'quantize: unknown mode {mode!r}; known: {list(MODES)}')
    if w.dim() < 2 or not w.is_floating_point():
        return None
    if mode == 'int4' and w.numel() >= min_numel and \
            not any(key.startswith(n + '.') for n in int8_networks):
        return 4
    return 8


def quantize_state_dict(state: Mapping[str, torch.Tensor], mode: str, group: int = 64,
                        min_numel: int = 16384, int8_networks: Sequence[str] = ()
                        ) -> tuple[dict[str, torch.Tensor], dict[str, dict]]:
    """Split ``state`` into ``(kept, quantized)`` by the policy ``mode`` (``int8``/``int4``)."""
    kept: dict[str, torch.Tensor] = {}
    quantized: dict[str, dict] = {}
    for key, w in state.items():
        bits = bits_for(key, w, mode, min_numel, int8_networks)
        if bits is None:
            kept[key] = w
        else:
            quantized[key] = quantize_weight(w, bits, group)
    return kept, quantized


def quantized_bytes(entry: Mapping) -> int:
    """Bytes the entry's tensors take."""
    return sum(t.numel() * t.element_size() for t in (entry['q'], entry['scale']))
