"""Put the networks of some components, trained in another run, into a stage checkpoint (the
body of ``tools/merge_components.py``).

Stages 1 to 3 train every component on its own (no loss couples two components), so a run of
a few components gives the same networks as the full run would for those components.
:func:`merge` writes ``BASE`` with every per-component network of the chosen components
(default: all of PART's) taken from ``PART``: ``state_dict`` (the EMA weights when the runs kept
an EMA) and ``ema_state_dict`` when both have it. The result is for the next stage and for
inference; it is not resumable (optimiser, scheduler and message-hub states are left out, since
they would mix two runs). Both files are read with ``weights_only=True``; the networks must have
the same architecture (every key and shape of a replaced network must match, else the error
names it). ``meta['merged_components']`` records what came from where.
"""
from __future__ import annotations

import os.path as osp

from facedisentangle.structures.networks import component_of


def merge_states(base: dict, part: dict, components: list[str], what: str) -> dict:
    """``base`` with the keys of ``components`` from ``part`` (same keys and shapes)."""
    from facedisentangle.inference.network_build import check_state

    theirs = {k: v for k, v in part.items() if component_of(k) in components}
    ours = {k: tuple(v.shape) for k, v in base.items() if component_of(k) in components}
    check_state(ours, theirs, f'merge_components: {what} of {components} from the part '
                              '(the same architecture as the base\'s?)')
    merged = dict(base)
    merged.update(theirs)
    return merged


def model_components(ckpt: dict, path: str) -> list[str]:
    found = []
    for k in ckpt['state_dict']:
        c = component_of(k)
        if c is not None and c not in found:
            found.append(c)
    if not found:
        raise ValueError(f'merge_components: {path} has no per-component networks')
    return found


def merge(base_path: str, part_path: str, out: str, components: list[str] | None = None) -> dict:
    from facedisentangle.engine.checkpoint import atomic_torch_save, safe_load_checkpoint

    for p in (base_path, part_path):
        if not osp.isfile(p):
            raise FileNotFoundError(f'merge_components: checkpoint {p!r} not found')
    base, part = safe_load_checkpoint(base_path), safe_load_checkpoint(part_path)
    for p, ck in ((base_path, base), (part_path, part)):
        if not isinstance(ck, dict) or not isinstance(ck.get('state_dict'), dict):
            raise ValueError(f'merge_components: {p} is not a training checkpoint '
                             '(no state_dict)')
    available = model_components(part, part_path)
    components = list(components or available)
    unknown = [c for c in components if c not in available]
    if unknown:
        raise ValueError(f'merge_components: {part_path} has no networks of {unknown} '
                         f'(it has {available})')
    base_components = model_components(base, base_path)
    unknown = [c for c in components if c not in base_components]
    if unknown:
        raise ValueError(f'merge_components: {base_path} has no networks of {unknown} '
                         f'(it has {base_components})')
    out_ckpt = dict(meta=dict(base.get('meta') or {}),
                    state_dict=merge_states(base['state_dict'], part['state_dict'],
                                            components, 'state_dict'))
    if 'ema_state_dict' in base and 'ema_state_dict' in part:
        out_ckpt['ema_state_dict'] = merge_states(base['ema_state_dict'],
                                                  part['ema_state_dict'], components,
                                                  'ema_state_dict')
    part_iter = (part.get('meta') or {}).get('iter')
    out_ckpt['meta']['merged_components'] = {
        c: dict(source=osp.abspath(part_path), iter=part_iter) for c in components}
    atomic_torch_save(out_ckpt, out)
    return dict(out=out, components=components, base=base_path, part=part_path,
                replaced=sum(component_of(k) in components for k in out_ckpt['state_dict']))
