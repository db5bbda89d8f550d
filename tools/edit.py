"""Edit faces with a trained (or converted official) DeepFaceEditing model.

    python tools/edit.py swap        -c MODEL --geometry A.png --appearance B.png -o out.png
    python tools/edit.py sketch2face -c MODEL --sketch S.png --appearance B.png -o out.png
    python tools/edit.py mix         -c MODEL --base C.png --part eye1 A.png B.png \\
                                     --part mouth D.png D.png -o out.png
    python tools/edit.py interpolate -c MODEL --a A.png --b B.png --steps 5 \\
                                     --what appearance -o frames/
    python tools/edit.py reconstruct -c MODEL --input photos/ -o recon/
    python tools/edit.py to-sketch   -c MODEL --input A.png -o sketch.png --grid

``MODEL`` is an export file (tools/export.py, tools/convert_official_weights.py), a stage-4
checkpoint or a work directory. Any image argument may be a folder: its images are processed
one by one (two folders are paired by file name; a single file is used with every image of a
folder), with a progress bar, in batches of ``--batch-size``. ``-o`` is a PNG file for a single
result, otherwise a folder. ``--grid`` also writes ``<name>_grid.png``: the inputs and the
result side by side (interpolate: both inputs, then the frames). See docs/editing.md.

A missing file, an unreadable image or a checkpoint of the wrong kind stops with a one-line
error naming it and exit code 2.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from pathlib import Path

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a clone

IMAGE_EXTS = {'.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff'}


class EditError(Exception):
    """A user error reported as one line with exit code 2."""


# ------------------------------------------------------------------------------ arguments
def parse_args(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('-c', '--checkpoint', required=True,
                        help='export file, stage-4 checkpoint or work directory')
    common.add_argument('-o', '--out', required=True,
                        help='output PNG (single result) or folder')
    common.add_argument('--grid', action='store_true',
                        help='also write <name>_grid.png: inputs and result side by side')
    common.add_argument('--precision', default='auto',
                        help="'auto' (fast, bfloat16), 'float32' or 'bfloat16'")
    common.add_argument('--device', default='cpu')
    common.add_argument('--threads', type=int, help='torch CPU threads (default: torch\'s)')
    common.add_argument('--batch-size', type=int, default=4, help='images per forward pass')
    common.add_argument('--low-memory', action=argparse.BooleanOptionalAction, default=None,
                        help='free the geometry encoders after each use (default: when their '
                             'weights are used in place, i.e. on a CPU with the conversion '
                             'cache or a bfloat16 export; see docs/editing.md)')
    common.add_argument('--convert-cache', default=None, metavar='DIR|off',
                        help='folder for the once-converted (bfloat16) copy of a float32 model '
                             '(default on a CPU: ~/.cache/facedisentangle/converted or '
                             '$FACEDISENTANGLE_CACHE_DIR); "off": convert in memory at every '
                             'start')

    ap = argparse.ArgumentParser(description='Edit faces with DeepFaceEditing')
    sub = ap.add_subparsers(dest='command', required=True)
    p = sub.add_parser('swap', parents=[common],
                       help='geometry of one image, appearance of another')
    p.add_argument('--geometry', required=True, help='photo (or sketch) file or folder')
    p.add_argument('--appearance', required=True, help='photo file or folder')
    p.add_argument('--geometry-from', choices=['photo', 'sketch'], default='photo')
    p = sub.add_parser('sketch2face', parents=[common],
                       help='a face from a sketch and the appearance of a photo')
    p.add_argument('--sketch', required=True, help='sketch file or folder')
    p.add_argument('--appearance', required=True, help='photo file or folder')
    p = sub.add_parser('mix', parents=[common],
                       help='per-component geometry and appearance sources')
    p.add_argument('--base', required=True,
                   help='photo (file or folder) giving every component not in --part')
    p.add_argument('--part', nargs=3, action='append', default=[],
                   metavar=('COMPONENT', 'GEOMETRY', 'APPEARANCE'),
                   help='e.g. --part eye1 a.png b.png (repeatable)')
    p.add_argument('--geometry-from', choices=['photo', 'sketch'], default='photo',
                   help='how the --part geometry images are read')
    p = sub.add_parser('interpolate', parents=[common], help='faces between two images')
    p.add_argument('--a', required=True, help='start photo (file or folder)')
    p.add_argument('--b', required=True, help='end photo (file or folder)')
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--what', choices=['appearance', 'geometry', 'both'], default='appearance')
    p = sub.add_parser('reconstruct', parents=[common], help='a photo through the model')
    p.add_argument('--input', required=True, help='photo file or folder')
    p = sub.add_parser('to-sketch', parents=[common], help='the sketch of a photo')
    p.add_argument('--input', required=True, help='photo file or folder')
    p.add_argument('--method', choices=['auto', 'decoder', 'generator'], default='auto')
    return ap.parse_args(argv)


# ------------------------------------------------------------------------------ inputs
def list_images(path: str) -> list[Path] | None:
    """The images of a folder (sorted), ``None`` for a file; missing paths are an error."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_EXTS and f.is_file())
        if not files:
            raise EditError(f'{p}: folder without images ({", ".join(sorted(IMAGE_EXTS))})')
        return files
    if not p.is_file():
        raise EditError(f'{p}: no such file or directory')
    return None


def pair_sources(named: dict[str, str]) -> list[dict[str, Path]]:
    """Jobs from several image arguments: folders paired by file stem, files broadcast."""
    lists = {k: list_images(v) for k, v in named.items()}
    folders = {k: v for k, v in lists.items() if v is not None}
    if not folders:
        return [{k: Path(v) for k, v in named.items()}]
    stems = None
    for files in folders.values():
        s = {f.stem for f in files}
        stems = s if stems is None else stems & s
    if len(folders) > 1 and not stems:
        raise EditError('no file names in common between the folders ' +
                        ', '.join(named[k] for k in folders))
    first = next(iter(folders.values()))
    order = [f.stem for f in first if f.stem in stems]
    by_stem = {k: {f.stem: f for f in v} for k, v in folders.items()}
    return [{k: (by_stem[k][s] if k in folders else Path(named[k])) for k in named}
            for s in order]


# ------------------------------------------------------------------------------ output
def output_path(out: str, name: str, single: bool) -> Path:
    o = Path(out)
    if single and o.suffix.lower() in IMAGE_EXTS:
        return o
    return o / f'{name}.png'


def save(image, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)


def grid_image(inputs: list, result, resolution: int):
    """Inputs (read and resized like the model reads them) and results side by side."""
    import numpy as np

    from facedisentangle.inference.images import fit_resolution, read_rgb

    tiles = [fit_resolution(read_rgb(p)[0], resolution, str(p)) for p in inputs]
    results = result if isinstance(result, list) else [result]
    return np.concatenate(tiles + results, axis=1)


def stem(p: Path) -> str:
    return Path(p).stem


# ------------------------------------------------------------------------------ commands
def build_jobs(args) -> list[dict]:
    """``[{'name', 'inputs' (for the grid), 'call' kwargs}]`` per result."""
    cmd = args.command
    if cmd in ('swap', 'sketch2face'):
        geo_key = 'geometry' if cmd == 'swap' else 'sketch'
        pairs = pair_sources({'geometry': getattr(args, geo_key),
                              'appearance': args.appearance})
        return [dict(name=f"{stem(p['geometry'])}__{stem(p['appearance'])}",
                     inputs=[p['geometry'], p['appearance']], call=p) for p in pairs]
    if cmd == 'mix':
        for comp, geo, app in args.part:
            for f in (geo, app):
                if not Path(f).is_file():
                    raise EditError(f'{f}: no such file')
        bases = list_images(args.base) or [Path(args.base)]
        parts = {comp: (Path(g), Path(a)) for comp, g, a in args.part}
        return [dict(name=f'{stem(b)}__mix', inputs=[b, *[p for ga in parts.values()
                                                          for p in ga]],
                     call=dict(base=b, parts=parts)) for b in bases]
    if cmd == 'interpolate':
        pairs = pair_sources({'a': args.a, 'b': args.b})
        return [dict(name=f"{stem(p['a'])}__{stem(p['b'])}", inputs=[p['a'], p['b']], call=p)
                for p in pairs]
    files = list_images(args.input) or [Path(args.input)]
    return [dict(name=stem(f), inputs=[f], call=dict(image=f)) for f in files]


def run_batch(editor, args, jobs: list[dict]) -> list:
    """Results for a batch of jobs (one entry per job; interpolate: a list of frames)."""
    calls = [j['call'] for j in jobs]
    cmd = args.command
    if cmd == 'swap':
        return editor.swap([c['geometry'] for c in calls], [c['appearance'] for c in calls],
                           geometry_from=args.geometry_from)
    if cmd == 'sketch2face':
        return editor.sketch_to_face([c['geometry'] for c in calls],
                                     [c['appearance'] for c in calls])
    if cmd == 'mix':
        # the part sources are single files, used with every base image of the batch
        return editor.mix(dict(calls[0]['parts']), base=[c['base'] for c in calls],
                          geometry_from=args.geometry_from)
    if cmd == 'interpolate':
        frames = editor.interpolate([c['a'] for c in calls], [c['b'] for c in calls],
                                    steps=args.steps, what=args.what)
        return [[f[i] for f in frames] for i in range(len(calls))]
    if cmd == 'reconstruct':
        return editor.reconstruct([c['image'] for c in calls])
    return editor.to_sketch([c['image'] for c in calls], method=args.method)


def write_results(args, job: dict, result, single: bool, resolution: int) -> list[Path]:
    written = []
    if args.command == 'interpolate':
        for i, frame in enumerate(result):
            path = output_path(args.out, f"{job['name']}_{i:02d}", False)
            save(frame, path)
            written.append(path)
    else:
        path = output_path(args.out, job['name'], single)
        save(result, path)
        written.append(path)
    if args.grid:
        name = job['name'] if args.command == 'interpolate' else written[0].stem
        grid_path = written[0].with_name(f'{name}_grid.png')
        save(grid_image(job['inputs'], result, resolution), grid_path)
        written.append(grid_path)
    return written


def run(args) -> list[Path]:
    jobs = build_jobs(args)
    import torch
    from rich.progress import Progress

    from facedisentangle.apis import FaceEditor

    if args.threads:
        torch.set_num_threads(args.threads)
    convert_cache = {None: None, 'off': False}.get(args.convert_cache, args.convert_cache)
    editor = FaceEditor.from_checkpoint(args.checkpoint, device=args.device,
                                        precision=args.precision, low_memory=args.low_memory,
                                        convert_cache=convert_cache)
    single = len(jobs) == 1
    written: list[Path] = []
    with Progress(disable=single or not sys.stderr.isatty()) as progress:
        task = progress.add_task(args.command, total=len(jobs))
        for start in range(0, len(jobs), max(1, args.batch_size)):
            batch = jobs[start:start + max(1, args.batch_size)]
            results = run_batch(editor, args, batch)
            for job, result in zip(batch, results):
                written += write_results(args, job, result, single, editor.resolution)
            progress.advance(task, len(batch))
    return written


def main(argv=None) -> int:
    args = parse_args(argv)
    from facedisentangle.inference import CheckpointKindError, InputImageError

    try:
        written = run(args)
    except (EditError, FileNotFoundError, InputImageError, CheckpointKindError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f'edit.py: error: {msg}', file=sys.stderr)
        return 2
    except ValueError as e:  # bad combination of arguments (batch sizes, components, ...)
        print(f'edit.py: error: {str(e).splitlines()[0]}', file=sys.stderr)
        return 2
    print(f'wrote {len(written)} file(s)' + (f' to {os.path.dirname(written[0]) or "."}'
                                            if written else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
