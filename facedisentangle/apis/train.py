"""The body of ``tools/train.py``: config in, trained run out."""
from __future__ import annotations

import logging
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.logging import print_log

from facedisentangle.engine import build_runner, set_amp
from facedisentangle.utils.cfg_merge import merge_cfg_options


def stage_configs(cfg: Config) -> list[tuple[str, Config]]:
    """``[(stage name, its config with the stage's own cfg_options)]`` of a pipeline config."""
    from facedisentangle.apis.pipeline import stage_config

    return [(f"{stage['name']} ({stage['config']})", stage_config(cfg, stage))
            for stage in cfg.pipeline.get('stages') or []]


def check_options(cfg: Config, options: dict) -> None:
    """Refuse ``--cfg-options`` keys the config cannot take (UnknownConfigKeyError naming each
    and the closest valid key; :mod:`facedisentangle.utils.cfg_options`). In a pipeline
    config, ``pipeline.*`` keys are checked against it, every other key (applied to every
    stage) against each stage's config."""
    from facedisentangle.utils.cfg_options import UnknownConfigKeyError, check_key

    if not options:
        return
    problems: dict[str, tuple[str, list[str]]] = {}  # key -> (message, where)
    if 'pipeline' in cfg:
        targets = [('', cfg, [k for k in options if str(k).split('.')[0] == 'pipeline'])]
        rest = [k for k in options if str(k).split('.')[0] != 'pipeline']
        targets += [(name, c, rest) for name, c in stage_configs(cfg)] if rest else []
    else:
        targets = [('', cfg, list(options))]
    for where, target, keys in targets:
        plain = target.to_dict()
        for key in keys:
            msg = check_key(plain, str(key))
            if msg:
                problems.setdefault(str(key), (msg, []))[1].append(where)
    if problems:
        parts = []
        for msg, where in problems.values():
            where = [w for w in where if w]
            parts.append(msg + (f" in stage{'s' if len(where) > 1 else ''} {', '.join(where)}"
                                if where else ''))
        raise UnknownConfigKeyError(
            f"--cfg-options: {'; '.join(parts)}. Nothing was run; pass --allow-new-keys to "
            'add keys on purpose')


def load_config(args, check_keys: bool = False) -> Config:
    """The config of ``args.config`` with the flags shared by train and test applied:
    ``--launcher``, ``--cfg-options`` (first checked with ``check_keys``, see
    :func:`check_options`) and ``--work-dir`` (default ``./work_dirs/<config name>`` unless
    the config sets one)."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    if check_keys:
        check_options(cfg, args.cfg_options)
    cfg.launcher = args.launcher
    merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_train_cfg(args) -> Config:
    """Load the config and apply the command-line flags (``--cfg-options`` keys checked unless
    ``--allow-new-keys``)."""
    cfg = load_config(args, check_keys=not getattr(args, 'allow_new_keys', False))
    if getattr(args, 'verbose', False):
        cfg.verbose = True  # FDRunner: MMEngine's environment/config/hook listings on the console
    if args.amp and 'pipeline' not in cfg:  # a pipeline sets it per stage
        set_amp(cfg)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


#: errors of the user's files and options: one ``error:`` line on stderr, exit code 2
def user_errors() -> tuple[type[BaseException], ...]:
    from facedisentangle.datasets import H5FormatError
    from facedisentangle.datasets.face_h5_dataset import SplitError
    from facedisentangle.utils.cfg_options import UnknownConfigKeyError

    return FileNotFoundError, UnknownConfigKeyError, SplitError, H5FormatError


def main(args) -> int:
    from facedisentangle.models.editors.base import NonFiniteLossError
    from facedisentangle.utils import register_all_modules
    from facedisentangle.utils.messages import one_line

    register_all_modules(init_default_scope=False)
    try:
        return _train(args)
    except user_errors() as e:
        print(f'error: {one_line(e)}', file=sys.stderr)
        return 2
    except NonFiniteLossError as e:
        print_log(str(e), logger='current', level=logging.ERROR)
        print(f'error: {e}', file=sys.stderr)
        return 1


def _train(args) -> int:
    cfg = build_train_cfg(args)
    if 'pipeline' in cfg:
        from facedisentangle.apis.pipeline import run_pipeline

        run_pipeline(cfg, args)
    else:
        build_runner(cfg).train()
    return 0
