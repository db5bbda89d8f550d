"""Checks shared by the loss modules (loss names, weights, reductions, input shapes) and the
region weight maps of the pixel L1 terms."""
from __future__ import annotations

import math

import torch

REDUCTIONS = ('mean', 'sum')


def check_loss_name(loss_name: str, cls: str) -> str:
    """A logging key MMEngine's ``parse_losses`` sums: it must contain ``loss``."""
    if not isinstance(loss_name, str) or 'loss' not in loss_name:
        raise ValueError(
            f'{cls}: loss_name={loss_name!r} must be a string containing "loss", otherwise '
            "MMEngine's parse_losses logs the value but does not add it to the total loss.")
    return loss_name


def check_weight(value, key: str, cls: str) -> float:
    """A finite, non-negative float weight."""
    try:
        w = float(value)
    except (TypeError, ValueError):
        raise ValueError(f'{cls}: {key}={value!r} is not a number.') from None
    if not math.isfinite(w) or w < 0:
        raise ValueError(f'{cls}: {key}={value!r} must be finite and >= 0.')
    return w


def check_choice(value, key: str, allowed: tuple[str, ...], cls: str):
    """``value`` of the option ``key`` if it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f'{cls}: {key}={value!r} is not one of {", ".join(allowed)}.')
    return value


def check_reduction(reduction: str, cls: str, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    return check_choice(reduction, 'reduction', allowed, cls)


def check_same_shape(pred: torch.Tensor, target: torch.Tensor, what: str, cls: str) -> None:
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(f'{cls}: {what} must be tensors, got {type(pred).__name__} and '
                        f'{type(target).__name__}.')
    if pred.shape != target.shape:
        raise ValueError(f'{cls}: {what} have different shapes: {tuple(pred.shape)} vs '
                         f'{tuple(target.shape)}.')


def l1(pred: torch.Tensor, target: torch.Tensor, reduction: str) -> torch.Tensor:
    """Mean (or summed, or element-wise for ``'none'``) absolute difference."""
    return torch.nn.functional.l1_loss(pred, target, reduction=reduction)


def check_region_weights(region_weights, cls: str) -> list[tuple[tuple[int, ...], float]] | None:
    """``[dict(labels=[5], weight=10.0), ...]`` -> ``[((5,), 10.0), ...]`` (None stays None).

    Each entry gives the pixels whose label-map value is one of ``labels`` the weight
    ``weight``; a label may appear in one entry only.
    """
    if region_weights is None:
        return None
    if not isinstance(region_weights, (list, tuple)) or not region_weights:
        raise ValueError(f'{cls}: region_weights={region_weights!r} must be a non-empty list of '
                         'dict(labels=[...], weight=w), or None.')
    out, seen = [], set()
    for k, entry in enumerate(region_weights):
        if not isinstance(entry, dict) or set(entry) != {'labels', 'weight'}:
            raise ValueError(f'{cls}: region_weights[{k}]={entry!r} must be '
                             'dict(labels=[...], weight=w).')
        labels = entry['labels']
        labels = [labels] if isinstance(labels, int) else labels
        if (not isinstance(labels, (list, tuple)) or not labels or
                not all(isinstance(v, int) and 0 <= v <= 255 for v in labels)):
            raise ValueError(f'{cls}: region_weights[{k}].labels={entry["labels"]!r} must be '
                             'label-map values (integers 0..255).')
        twice = seen.intersection(labels)
        if twice:
            raise ValueError(f'{cls}: region_weights: label(s) {sorted(twice)} appear in more '
                             'than one entry.')
        seen.update(labels)
        out.append((tuple(labels), check_weight(entry['weight'], f'region_weights[{k}].weight',
                                                cls)))
    return out


def region_weight_map(label: torch.Tensor, region_weights, like: torch.Tensor,
                      cls: str) -> torch.Tensor:
    """Per-pixel weights ``(B, 1, H, W)`` from a label map ``(B, H, W)``: the weight of the
    entry listing the pixel's label, 1 elsewhere."""
    if not isinstance(label, torch.Tensor):
        raise ValueError(f'{cls}: region_weights needs the label map of the target (a (B, H, W) '
                         'tensor), got none: the batch has no label maps. Set the train data '
                         "set's load_labels=True.")
    if label.dim() == 4 and label.shape[1] == 1:
        label = label[:, 0]
    if label.dim() != 3 or (like.shape[0], *like.shape[2:]) != tuple(label.shape):
        raise ValueError(f'{cls}: label map is {tuple(label.shape)}, the images are '
                         f'{tuple(like.shape)}: expected ({like.shape[0]}, '
                         f'{", ".join(str(s) for s in like.shape[2:])}).')
    weight = torch.ones(label.shape, dtype=like.dtype, device=like.device)
    for labels, w in region_weights:
        mask = torch.isin(label, torch.tensor(labels, dtype=label.dtype, device=label.device))
        weight[mask.to(like.device)] = w
    return weight[:, None]
