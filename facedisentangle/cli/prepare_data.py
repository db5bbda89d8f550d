"""Prepare the project's HDF5 face file from a folder of photos.

    python tools/prepare_data.py SRC --out data/faces-512.h5 --size 512 [--align]
        [--layout folder|ffhq|celebamask-hq] [--split 0.9 0.05 0.05] [--seed 0]
        [--workers N] [--min-size 128] [--sketch-config FILE_OR_JSON] [--retry-skipped]

Photos are read (grayscale, RGBA, CMYK and 16-bit files are converted), optionally aligned
(FFHQ recipe, dlib landmarks), resized, sketched and written with their names and a seeded
split. Inputs that cannot be used are skipped and listed, with the reason, in the summary and
in ``<out>.skipped.tsv``. Interrupt it at any time: the same command continues. The file is
marked complete once every input is handled. docs/prepare_data.md has the details.

Exit status: 0 when the file is complete, 1 on an error, 130 when interrupted.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

SKETCH_KEY = 'sketch'
ALIGN_KEY = 'align'


def load_options(value: str | None, what: str, key: str) -> dict | None:
    """A config dict from a JSON string or a .json/.yaml/.py file (its ``key`` entry if any)."""
    if value is None:
        return None
    if os.path.isfile(value):
        if value.endswith('.json'):
            with open(value, encoding='utf-8') as f:
                try:
                    cfg = json.load(f)
                except json.JSONDecodeError as e:
                    raise SystemExit(f'{what}: {value} is not valid JSON ({e})') from None
        else:
            from mmengine.config import Config

            cfg = Config.fromfile(value).to_dict()
        if isinstance(cfg, dict) and key in cfg and isinstance(cfg[key], dict):
            cfg = cfg[key]
    else:
        try:
            cfg = json.loads(value)
        except json.JSONDecodeError:
            raise SystemExit(f'{what}: {value!r} is neither a file nor a JSON object') from None
    if not isinstance(cfg, dict):
        raise SystemExit(f'{what}: expected a dict of options, got {type(cfg).__name__}')
    return cfg


def build_parser(**defaults) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description='Photo folder -> facedisentangle HDF5 face file (aligned photos, sketches, '
                    'split). Resumable: rerun the same command after an interruption.')
    p.add_argument('src', help='folder of photos (searched recursively), or the FFHQ / '
                               'CelebAMask-HQ root with --layout')
    p.add_argument('--out', required=True, help='output .h5 file (the skip log is '
                                                '<out>.skipped.tsv)')
    p.add_argument('--size', type=int, default=512, help='output resolution (default 512)')
    p.add_argument('--align', action='store_true',
                   help='detect and align faces (FFHQ recipe; needs pip install -e .[align]); '
                        'photos without a usable face are skipped')
    p.add_argument('--layout', default='folder', choices=['folder', 'ffhq', 'celebamask-hq'],
                   help='how SRC is organised (default folder)')
    p.add_argument('--split', type=float, nargs=3, default=(0.9, 0.05, 0.05),
                   metavar=('TRAIN', 'VAL', 'TEST'), help='split fractions (default 0.9 0.05 '
                                                          '0.05)')
    p.add_argument('--seed', type=int, default=0, help='split seed (default 0)')
    p.add_argument('--workers', type=int, default=min(4, os.cpu_count() or 1),
                   help='worker processes; 0 = in the main process (default min(4, CPUs))')
    p.add_argument('--min-size', type=int, default=128,
                   help='skip photos whose shorter side is below this (default 128)')
    p.add_argument('--alpha', default='white', choices=['white', 'drop'],
                   help='transparent photos: composite on white (default) or drop alpha')
    p.add_argument('--sketch-config', default=None,
                   help='SketchExtractor options: a JSON object or a .json/.yaml/.py file '
                        '(its "sketch" dict if it has one); see docs/sketch_extraction.md')
    p.add_argument('--align-config', default=None,
                   help='FaceAligner options, like --sketch-config (its "align" dict)')
    p.add_argument('--chunk-flush', type=int, default=64,
                   help='samples per HDF5 flush (default 64)')
    p.add_argument('--retry-skipped', action='store_true',
                   help='process again the inputs listed in the skip log')
    p.add_argument('--limit', type=int, default=None,
                   help='only the first N inputs (to try settings)')
    p.add_argument('--show-skipped', type=int, default=100,
                   help='list at most this many skipped inputs in the summary (default 100)')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    p.set_defaults(**defaults)
    return p


def main(argv: list[str] | None = None, **defaults) -> int:
    args = build_parser(**defaults).parse_args(argv)
    from rich.console import Console
    from rich.markup import escape

    from facedisentangle.data_prep import PrepareOptions, prepare_dataset
    from facedisentangle.data_prep.report import print_summary

    console = Console()
    try:
        options = PrepareOptions(
            size=args.size, source_layout=args.layout, align=args.align,
            align_config=load_options(args.align_config, '--align-config', ALIGN_KEY),
            sketch_config=load_options(args.sketch_config, '--sketch-config', SKETCH_KEY),
            split=args.split, seed=args.seed, workers=args.workers, min_size=args.min_size,
            alpha=args.alpha, chunk_flush=args.chunk_flush, retry_skipped=args.retry_skipped,
            limit=args.limit)
        summary = prepare_dataset(args.src, args.out, options,
                                  progress=not args.no_progress, console=console)
    except (ValueError, OSError, ImportError) as e:
        console.print(f'[bold red]error:[/] {escape(str(e))}')
        return 1
    print_summary(summary, console, max_skipped_rows=args.show_skipped)
    if summary.interrupted:
        return 130
    return 0 if summary.complete else 1


if __name__ == '__main__':
    sys.exit(main())
