"""Merge ``--cfg-options`` into a config: MMEngine's dotted keys, plus list elements named by
their ``type`` (``custom_hooks.FaceVisualizationHook.interval``). The checks of what keys a
config takes are in :mod:`facedisentangle.utils.cfg_options`."""
from __future__ import annotations

from collections.abc import Mapping, Sequence


class UnknownConfigKeyError(ValueError):
    """``--cfg-options`` names keys the config cannot take; the message names each one and
    the closest valid key."""


def typed_list_index(items: Sequence, name: str, where: str) -> int:
    """The index of the one dict of ``items`` whose ``type`` is ``name``
    (:class:`UnknownConfigKeyError` naming the list's types when none or several are)."""
    found = [i for i, item in enumerate(items) if isinstance(item, Mapping)
             and item.get('type') == name]
    if len(found) == 1:
        return found[0]
    types = [str(item.get('type')) for item in items if isinstance(item, Mapping)]
    what = f'no entry of type {name!r}' if not found else f'{len(found)} entries of type {name!r}'
    raise UnknownConfigKeyError(f"'{where}' has {what}: address it by index (its types: "
                                f"{', '.join(types) or 'none'})")


def resolve_typed_keys(cfg: Mapping, options: Mapping) -> dict:
    """``options`` with every key segment that names an element of a list by its ``type``
    (``custom_hooks.FaceVisualizationHook.interval``) replaced by that element's index
    (``custom_hooks.0.interval``); other keys unchanged."""
    root = cfg if isinstance(cfg, Mapping) else cfg.to_dict()  # an mmengine Config
    out = {}
    for key, value in options.items():
        parts = str(key).split('.')
        node = root
        for i, part in enumerate(parts):
            if isinstance(node, (list, tuple)):
                if not part.isdigit():
                    parts[i] = part = str(typed_list_index(node, part, _join(parts[:i])))
                if int(part) >= len(node):
                    break
                node = node[int(part)]
            elif isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                break
        out[_join(parts)] = value
    return out


def merge_cfg_options(cfg, options: Mapping | None) -> None:
    """``cfg.merge_from_dict(options)`` (MMEngine: dotted keys, list indices) with the list
    elements named by their ``type`` resolved first (:func:`resolve_typed_keys`)."""
    if options:
        cfg.merge_from_dict(resolve_typed_keys(cfg, options))


def _join(parts: Sequence[str]) -> str:
    return '.'.join(str(p) for p in parts)
