"""What ``predict`` returns: one dict per sample of the batch, for the evaluators."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

#: batch entries copied into every sample's output (when the batch has them)
SAMPLE_KEYS = ('name', 'appearance_name', 'index', 'pair')


def batch_item(value, i: int):
    """Sample ``i`` of a collated batch entry (tensor, list or tuple): a tensor on the CPU, a
    Python number for a 0-d tensor, the element itself otherwise."""
    v = value[i]
    if torch.is_tensor(v):
        v = v.detach().cpu()
        return v.item() if v.dim() == 0 else v
    return v


def per_sample_outputs(per_group: Mapping[str, Mapping[str, torch.Tensor]], batch_size: int,
                       batch: Mapping, keys: Sequence[str] = SAMPLE_KEYS,
                       partner_keys: Sequence[str] = ()) -> list[dict]:
    """``{group: {key: (B, ...) tensor}}`` -> one dict per sample with keys ``group/key``
    (``key`` for group ``''``), detached, on the CPU; plus the batch entries ``keys`` of the
    sample and the entries ``partner_keys`` of sample ``i - 1`` (the appearance source of stage
    3's pairs, I2 = the batch rolled by one) as ``partner_<key>``."""
    outputs = []
    for i in range(batch_size):
        sample = {f'{g}/{k}' if g else k: v[i].detach().cpu()
                  for g, d in per_group.items() for k, v in d.items()}
        sample.update({k: batch_item(batch[k], i) for k in keys if k in batch})
        j = (i - 1) % batch_size
        sample.update({f'partner_{k}': batch_item(batch[k], j)
                       for k in partner_keys if k in batch})
        outputs.append(sample)
    return outputs
