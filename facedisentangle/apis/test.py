"""The body of ``tools/test.py``."""
from __future__ import annotations

import hashlib
import json
import os.path as osp

from mmengine.config import Config
from mmengine.dist import is_main_process


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def _jsonable(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def print_metrics(metrics: dict, title: str = 'metrics') -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column('metric')
    table.add_column('value', justify='right')
    for key, value in metrics.items():
        table.add_row(key, f'{value:.4f}' if isinstance(value, float) else str(value))
    Console().print(table)


def main(args) -> int:
    from facedisentangle.apis.train import build_runner
    from facedisentangle.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    runner = build_runner(cfg)
    metrics = runner.test()
    if is_main_process():
        metrics = {k: _jsonable(v) for k, v in (metrics or {}).items()}
        print_metrics(metrics, title=f'{osp.basename(args.config)} @ '
                                     f'{osp.basename(args.checkpoint)}')
        out = args.out or osp.join(cfg.work_dir, 'test_results.json')
        with open(out, 'w') as f:
            json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                           checkpoint_sha256=sha256_of(args.checkpoint), metrics=metrics,
                           config_text=cfg.pretty_text), f, indent=2)
        print(f'results written to {out}')
    return 0
