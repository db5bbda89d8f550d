"""Check ``--cfg-options`` keys against the config they override, before anything runs.

MMEngine's ``Config.merge_from_dict`` adds any key it is given, so a typo
(``train_cfg.max_iterz=10``, ``trian_cfg.max_iters=10``) would silently train with the config's
own value. :func:`check_cfg_options` walks each dotted key (list indices included, e.g.
``custom_hooks.0.interval``) down the config and refuses a key only where its parent exists, is
a dict, and neither holds that key nor can take it:

* a dict with a ``type`` takes every parameter of the class (or function) its registry builds
  (``model.components``, ``optim_wrapper.optimizer.weight_decay``, a hook's arguments); a class
  taking ``**kwargs`` takes anything;
* the top level takes every argument of MMEngine's ``Runner`` (``load_from``, ``resume``,
  ``compile``, ...); ``*_dataloader`` dicts those of ``torch.utils.data.DataLoader``;
  ``train_cfg`` / ``val_cfg`` / ``test_cfg`` those of MMEngine's loops; ``env_cfg``,
  ``randomness`` and ``default_hooks`` their documented names;
* free-form dicts take anything: ``env_cfg.dist_cfg`` and, in pipeline configs, each stage's
  ``cfg_options`` and ``init`` (``pipeline``'s own keys are checked: ``stages``, ``amp``,
  ``samples``; a stage's ``name``, ``config``, ``cfg_options``, ``init``, ``amp``).

A refused key is named with the closest valid key (``difflib``). Adding keys on purpose is what
``tools/train.py --allow-new-keys`` is for.

A list of typed dicts (``custom_hooks``, ``param_scheduler``) is addressed by an element's
``type`` as well as by its index: ``custom_hooks.FaceVisualizationHook.interval=100`` sets the
``interval`` of the one ``custom_hooks`` entry whose ``type`` is ``FaceVisualizationHook``,
wherever it sits in the list (:func:`merge_cfg_options` turns the name into its index before
MMEngine merges; a name no entry, or more than one entry, has is refused, naming the types the
list holds).
"""
from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping

# merging (also used where checking is not needed) lives apart: no import circle with
# the apis that merge options
from .cfg_merge import (  # noqa: F401  (re-exported)
    UnknownConfigKeyError,
    _join,
    merge_cfg_options,
    resolve_typed_keys,
    typed_list_index,
)

#: names MMEngine's Runner and setup code read from these dicts (no class to inspect)
ENV_CFG_KEYS = ('cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit')
MP_CFG_KEYS = ('mp_start_method', 'opencv_num_threads')
RANDOMNESS_KEYS = ('seed', 'deterministic', 'diff_rank_seed')
DEFAULT_HOOK_NAMES = ('runtime_info', 'timer', 'sampler_seed', 'logger', 'param_scheduler',
                      'checkpoint', 'visualization')
#: top-level keys read by facedisentangle's runner and tools besides Runner's arguments
EXTRA_TOP_KEYS = ('model_wrapper_cfg', 'runner_type', 'find_unused_parameters',
                  'separate_ddp', 'sync_bn', 'compile', 'pipeline', 'work_dir', 'launcher')
PIPELINE_KEYS = ('stages', 'amp', 'samples')
STAGE_KEYS = ('name', 'config', 'cfg_options', 'init', 'amp')


def _signature_params(fn) -> tuple[set[str], bool] | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    names = {n for n, p in sig.parameters.items()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)} - {'self'}
    return names, any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())


def _params(obj) -> tuple[set[str], bool]:
    """(parameter names, whether it takes any keyword) of a function, or of a class's
    ``__init__`` followed up the base classes while each passes ``**kwargs`` on (up to
    ``torch.nn.Module`` / ``object``, which take none)."""
    if not inspect.isclass(obj):
        got = _signature_params(obj)
        return got if got is not None else (set(), True)  # cannot tell: take anything
    import torch.nn as nn

    names: set[str] = set()
    for klass in obj.__mro__:
        if klass in (object, nn.Module):
            return names, False
        if '__init__' not in vars(klass):
            continue
        got = _signature_params(vars(klass)['__init__'])
        if got is None:
            return names, True
        names |= got[0]
        if not got[1]:
            return names, False
    return names, False


def _resolve_type(type_) -> object | None:
    """What a config's ``type`` builds: looked up in every facedisentangle registry (and
    through them MMEngine's); None when no registry knows it."""
    if not isinstance(type_, str):
        return type_ if callable(type_) else None
    from facedisentangle.registry import ALL_REGISTRIES

    for registry in ALL_REGISTRIES.values():
        try:
            obj = registry.get(type_)
        except KeyError:
            continue
        if obj is not None:
            return obj
    return None


def _loop_params(*names: str) -> set[str]:
    import mmengine.runner.loops as loops

    out = {'type'}
    for n in names:
        out |= _params(getattr(loops, n))[0] - {'runner', 'dataloader', 'evaluator'}
    return out


def allowed_keys(node: Mapping, path: tuple) -> tuple[set[str], bool]:
    """(keys ``node`` can take besides its own, whether it takes any key) at ``path``."""
    if path[:1] == ('pipeline',):
        rest = path[1:]
        if rest == ():
            return set(PIPELINE_KEYS), False
        if len(rest) == 2 and rest[0] == 'stages':
            return set(STAGE_KEYS), False
        if len(rest) >= 3 and rest[0] == 'stages' and rest[2] in ('cfg_options', 'init'):
            return set(), True
        if rest == ('samples',):
            from facedisentangle.apis.samples import write_sample_edits

            names, _ = _params(write_sample_edits)
            return names - {'cfg', 'checkpoint', 'out_dir'}, False
    if 'type' in node:
        target = _resolve_type(node['type'])
        if target is None:
            return set(), True
        names, any_key = _params(target)
        return names, any_key
    if path == ():
        from mmengine.runner import Runner

        return _params(Runner)[0] | set(EXTRA_TOP_KEYS), False
    if len(path) == 1:
        key = path[0]
        if key.endswith('_dataloader'):
            from torch.utils.data import DataLoader

            return _params(DataLoader)[0], False
        if key == 'train_cfg':
            return _loop_params('IterBasedTrainLoop', 'EpochBasedTrainLoop') | {'by_epoch'}, False
        if key in ('val_cfg', 'test_cfg'):
            return _loop_params('ValLoop', 'TestLoop'), False
        if key == 'env_cfg':
            return set(ENV_CFG_KEYS), False
        if key == 'randomness':
            return set(RANDOMNESS_KEYS), False
        if key == 'default_hooks':
            return set(DEFAULT_HOOK_NAMES), False
    if path == ('env_cfg', 'dist_cfg'):
        return set(), True
    if path == ('env_cfg', 'mp_cfg'):
        return set(MP_CFG_KEYS), False
    return set(), False


def _flat_keys(node, prefix: str = '', depth: int = 4) -> list[str]:
    out = []
    if isinstance(node, Mapping) and depth:
        for k, v in node.items():
            key = f'{prefix}{k}'
            out.append(key)
            out += _flat_keys(v, key + '.', depth - 1)
    elif isinstance(node, (list, tuple)) and depth:
        for i, v in enumerate(node):
            out += _flat_keys(v, f'{prefix}{i}.', depth - 1)
    return out


def check_key(cfg: Mapping, key: str) -> str | None:
    """None when ``cfg`` can take the dotted ``key``, else a message naming it and the closest
    valid key."""
    parts = key.split('.')
    node, path = cfg, ()
    for i, part in enumerate(parts):
        if isinstance(node, (list, tuple)):
            if not part.isdigit():  # an element named by its type
                try:
                    part = str(typed_list_index(node, part, _join(path)))
                except UnknownConfigKeyError as e:
                    return f"unknown key '{key}' ({e})"
            if int(part) >= len(node):
                return None  # MMEngine's own list-index rules apply
            node, path = node[int(part)], path + (part,)
            continue
        if not isinstance(node, Mapping):
            return None  # replacing a value: nothing to check
        if part in node:
            node, path = node[part], path + (part,)
            continue
        extra, any_key = allowed_keys(node, path)
        if any_key or part in extra:
            if path == ('default_hooks',) and i < len(parts) - 1:
                pass  # a new hook must be given whole (with its type), not key by key
            else:
                return None
        where = f"'{_join(path)}'" if path else 'the config'
        candidates = sorted(set(map(str, node)) | extra)
        close = difflib.get_close_matches(part, candidates, n=1, cutoff=0.6)
        if close:
            suggestion = _join((*path, close[0], *parts[i + 1:]))
        else:  # e.g. a top-level 'max_iter' for 'train_cfg.max_iters'
            flat = [k for k in _flat_keys(cfg) if not key.startswith(k + '.')]
            close = difflib.get_close_matches(key, flat, n=1, cutoff=0.6)
            suggestion = close[0] if close else None
        hint = (f"closest valid key: '{suggestion}'" if suggestion else
                f"{where} has: {', '.join(candidates[:12])}{' ...' if len(candidates) > 12 else ''}")
        return f"unknown key '{key}' ({where} has no '{part}'; {hint})"
    return None


def check_cfg_options(cfg: Mapping, options: Mapping, where: str = '') -> list[str]:
    """Messages for every key of ``options`` (``--cfg-options``) that ``cfg`` cannot take."""
    out = []
    for key in options:
        msg = check_key(cfg, str(key))
        if msg:
            out.append(f'{msg} in {where}' if where else msg)
    return out
