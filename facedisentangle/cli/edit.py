"""Edit faces with a trained (or converted official) DeepFaceEditing model.

    python tools/edit.py swap        -c MODEL --geometry A.png --appearance B.png -o out.png
    python tools/edit.py sketch2face -c MODEL --sketch S.png --appearance B.png -o out.png
    python tools/edit.py mix         -c MODEL --base C.png --part eye1 A.png B.png \\
                                     --part mouth D.png D.png -o out.png
    python tools/edit.py interpolate -c MODEL --a A.png --b B.png --steps 5 \\
                                     --what appearance -o frames/
    python tools/edit.py reconstruct -c MODEL --input photos/ -o recon/
    python tools/edit.py to-sketch   -c MODEL --input A.png -o sketch.png --grid
    python tools/edit.py cache [--clear]      # size of the converted-weights cache / empty it

``MODEL`` is an export file (tools/export.py, tools/convert_official_weights.py), a stage-4
checkpoint or a work directory; without ``-c``, the synthetic-128 model shipped in the package
(facedisentangle/model_zoo). Any image argument may be a folder: its images are processed
one by one (two folders are paired by file name; a single file is used with every image of a
folder), with a progress bar, in batches of ``--batch-size``. ``-o`` is a PNG file for a single
result, otherwise a folder. ``--grid`` also writes ``<name>_grid.png``: the inputs and the
result side by side (interpolate: both inputs, then the frames). ``--align``: photos are first
aligned like ``tools/prepare_data.py --align`` (in-the-wild photos). See docs/editing.md.

No input is ever overwritten: an output path equal to an input, or an output folder that is
an input folder, is refused unless ``--overwrite`` is given.

Exit codes: 0 done; 2 a one-line error naming the file (a missing file, an unreadable image or
one without a face with a single input, a checkpoint of the wrong kind, an output that would
overwrite an input); 1 a folder run that wrote every usable result and then listed, each with
its reason, the inputs it could not use.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from pathlib import Path

IMAGE_EXTS = {'.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff'}


class EditError(Exception):
    """A user error reported as one line with exit code 2."""


#: errors of one input (reported per image in a folder run, exit code 2 for a single one)
def input_errors() -> tuple[type[BaseException], ...]:
    from facedisentangle.inference import InputImageError

    return InputImageError, FileNotFoundError


# ------------------------------------------------------------------------------ arguments
def refine_strength(text: str):
    """``0.7`` (every component) or ``eye1=1,mouth=0.5`` -> float or dict."""
    try:
        if '=' not in text:
            return float(text)
        pairs = [item.split('=', 1) for item in text.split(',') if item.strip()]
        return {k.strip(): float(v) for k, v in pairs}
    except ValueError:
        raise argparse.ArgumentTypeError(f'--refine-sketch: expected a number or '
                                         f'component=number,..., got {text!r}') from None


def add_refine_arguments(p) -> None:
    """Manifold projection of hand-drawn sketches (docs/sketch_projection.md)."""
    p.add_argument('--refine-sketch', type=refine_strength, default=None, metavar='S|C=S,..',
                   help='project each component of the sketch towards the training sketches: '
                        'strength 0..1 for all components, or e.g. eye1=1,mouth=0.5; needs '
                        '--sketch-embedding')
    p.add_argument('--refine-k', type=int, default=None,
                   help='neighbours of the projection (default 15)')
    p.add_argument('--sketch-embedding', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                   help='trained sketch embedding (configs/deepfaceediting/sketch-embedding_*)')
    p.add_argument('--sketch-bank', default=None,
                   help='bank folder (default: <embedding checkpoint folder>/sketch_bank)')


def parse_args(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('-c', '--checkpoint', default=None,
                        help='export file, stage-4 checkpoint or work directory (default: the '
                             'synthetic-128 model shipped in the package)')
    common.add_argument('-o', '--out', required=True,
                        help='output PNG (single result) or folder')
    common.add_argument('--overwrite', action='store_true',
                        help='allow an output path equal to an input, or writing into an input '
                             'folder (refused by default)')
    common.add_argument('--align', action='store_true',
                        help='align photos (not sketches) like prepare_data.py --align: for '
                             'in-the-wild photos (needs pip install -e .[align])')
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
    add_refine_arguments(p)
    p = sub.add_parser('sketch2face', parents=[common],
                       help='a face from a sketch and the appearance of a photo')
    p.add_argument('--sketch', required=True, help='sketch file or folder')
    p.add_argument('--appearance', required=True, help='photo file or folder')
    add_refine_arguments(p)
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
    p = sub.add_parser('cache', help='size of the converted-weights cache, or --clear it')
    p.add_argument('--info', action='store_true', help='list the files and their sizes '
                                                      '(the default)')
    p.add_argument('--clear', action='store_true', help='delete every converted copy (always '
                                                       'safe: a later load converts again)')
    p.add_argument('--dir', default=None, help='cache folder (default: $FACEDISENTANGLE_CACHE_'
                                               'DIR or ~/.cache/facedisentangle/converted)')
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


def grid_image(editor, inputs: list[tuple[Path, bool]], result):
    """Inputs (as the model reads them: resized or aligned) and results side by side."""
    import numpy as np

    tiles = [editor.prepare(p, photo) for p, photo in inputs]
    results = result if isinstance(result, list) else [result]
    return np.concatenate(tiles + results, axis=1)


def result_paths(args, job: dict, single: bool) -> list[Path]:
    """Every file a job writes: its result(s), then its grid with ``--grid``."""
    if args.command == 'interpolate':
        paths = [output_path(args.out, f"{job['name']}_{i:02d}", False)
                 for i in range(args.steps)]
    else:
        paths = [output_path(args.out, job['name'], single)]
    if args.grid:
        name = job['name'] if args.command == 'interpolate' else paths[0].stem
        paths.append(paths[0].with_name(f'{name}_grid.png'))
    return paths


def input_folders(args) -> list[str]:
    keys = {'swap': ('geometry', 'appearance'), 'sketch2face': ('sketch', 'appearance'),
            'mix': ('base',), 'interpolate': ('a', 'b')}.get(args.command, ('input',))
    return [getattr(args, k) for k in keys if Path(getattr(args, k)).is_dir()]


def check_overwrite(args, jobs: list[dict], single: bool) -> None:
    """Refuse (EditError) an output that is an input file, or an output folder that is an
    input folder, unless ``--overwrite``."""
    if args.overwrite:
        return
    real = os.path.realpath
    out_dir = Path(args.out) if not (single and Path(args.out).suffix.lower() in IMAGE_EXTS) \
        else None
    for folder in input_folders(args):
        if out_dir is not None and real(out_dir) == real(folder):
            raise EditError(f'{args.out}: the output folder is the input folder {folder}; the '
                            'results would mix with (or replace) the inputs: choose another -o, '
                            'or pass --overwrite')
    inputs = {real(p): p for job in jobs for p, _ in job['inputs']}
    for job in jobs:
        for path in result_paths(args, job, single):
            if real(path) in inputs:
                raise EditError(f'{path}: would overwrite the input {inputs[real(path)]}; '
                                'choose another -o, or pass --overwrite')


def stem(p: Path) -> str:
    return Path(p).stem


# ------------------------------------------------------------------------------ commands
def build_jobs(args) -> list[dict]:
    """``[{'name', 'inputs' ((path, is a photo) for the grid), 'call' kwargs}]`` per result."""
    cmd = args.command
    if cmd in ('swap', 'sketch2face'):
        geo_key = 'geometry' if cmd == 'swap' else 'sketch'
        geo_photo = cmd == 'swap' and args.geometry_from == 'photo'
        pairs = pair_sources({'geometry': getattr(args, geo_key),
                              'appearance': args.appearance})
        return [dict(name=f"{stem(p['geometry'])}__{stem(p['appearance'])}",
                     inputs=[(p['geometry'], geo_photo), (p['appearance'], True)], call=p)
                for p in pairs]
    if cmd == 'mix':
        for comp, geo, app in args.part:
            for f in (geo, app):
                if not Path(f).is_file():
                    raise EditError(f'{f}: no such file')
        bases = list_images(args.base) or [Path(args.base)]
        parts = {comp: (Path(g), Path(a)) for comp, g, a in args.part}
        geo_photo = args.geometry_from == 'photo'
        part_inputs = [x for g, a in parts.values() for x in ((g, geo_photo), (a, True))]
        return [dict(name=f'{stem(b)}__mix', inputs=[(b, True), *part_inputs],
                     call=dict(base=b, parts=parts)) for b in bases]
    if cmd == 'interpolate':
        pairs = pair_sources({'a': args.a, 'b': args.b})
        return [dict(name=f"{stem(p['a'])}__{stem(p['b'])}",
                     inputs=[(p['a'], True), (p['b'], True)], call=p) for p in pairs]
    files = list_images(args.input) or [Path(args.input)]
    return [dict(name=stem(f), inputs=[(f, True)], call=dict(image=f)) for f in files]


def run_batch(editor, args, jobs: list[dict]) -> list:
    """Results for a batch of jobs (one entry per job; interpolate: a list of frames)."""
    calls = [j['call'] for j in jobs]
    cmd = args.command
    if cmd == 'swap':
        return editor.swap([c['geometry'] for c in calls], [c['appearance'] for c in calls],
                           geometry_from=args.geometry_from, **refine_kwargs(args))
    if cmd == 'sketch2face':
        return editor.sketch_to_face([c['geometry'] for c in calls],
                                     [c['appearance'] for c in calls], **refine_kwargs(args))
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


def write_results(editor, args, job: dict, result, single: bool) -> list[Path]:
    paths = result_paths(args, job, single)
    frames = result if args.command == 'interpolate' else [result]
    for frame, path in zip(frames, paths):
        save(frame, path)
    if args.grid:
        save(grid_image(editor, job['inputs'], result), paths[-1])
    return paths


def shared_inputs(jobs: list[dict]) -> list[tuple[Path, bool]]:
    """Inputs used by every job of a folder run (a file next to a folder, mix parts)."""
    if len(jobs) < 2:
        return []
    common = set(jobs[0]['inputs'])
    for job in jobs[1:]:
        common &= set(job['inputs'])
    return [x for x in jobs[0]['inputs'] if x in common]


def refine_kwargs(args) -> dict:
    if getattr(args, 'refine_sketch', None) is None:
        return {}
    return dict(refine_sketch=args.refine_sketch, refine_k=args.refine_k)


def load_sketch_refiner(args):
    """The SketchRefiner of --sketch-embedding / --sketch-bank, or None."""
    if getattr(args, 'refine_sketch', None) is None:
        if getattr(args, 'sketch_embedding', None):
            raise EditError('--sketch-embedding is used with --refine-sketch')
        return None
    if not args.sketch_embedding:
        raise EditError('--refine-sketch needs --sketch-embedding CONFIG CHECKPOINT (a trained '
                        'sketch embedding; docs/sketch_projection.md)')
    from facedisentangle.inference.sketch_refiner import DEFAULT_K, SketchRefiner

    config, checkpoint = args.sketch_embedding
    for f in (config, checkpoint):
        if not osp.isfile(f):
            raise EditError(f'--sketch-embedding: {f} not found')
    try:
        return SketchRefiner.from_files(config, checkpoint, banks=args.sketch_bank,
                                        k=args.refine_k or DEFAULT_K, device=args.device)
    except (RuntimeError, KeyError) as e:
        raise EditError(f'--sketch-embedding: {first_line(e)}') from e


def load_editor(args):
    from .open_editor import open_face_editor

    convert_cache = {None: None, 'off': False}.get(args.convert_cache, args.convert_cache)
    editor, _ = open_face_editor(args, low_memory=args.low_memory,
                                 convert_cache=convert_cache, align=args.align)
    editor.sketch_refiner = load_sketch_refiner(args)
    # every input of a batch (and its mix parts) stays remembered until its grid is written
    editor.reader.memo_size = max(editor.reader.memo_size, 4 * max(1, args.batch_size) + 16)
    return editor


def run(args) -> tuple[list[Path], list[str], int]:
    """Edit every job; returns (files written, messages of the inputs that could not be used,
    number of jobs). A single job raises instead of listing."""
    jobs = build_jobs(args)
    single = len(jobs) == 1
    check_overwrite(args, jobs, single)
    from rich.progress import Progress

    editor = load_editor(args)
    for path, photo in shared_inputs(jobs):  # a bad shared file fails every job: stop now
        editor.prepare(path, photo)
    errors = input_errors()
    written: list[Path] = []
    failed: list[str] = []
    step = max(1, args.batch_size)
    with Progress(disable=single or not sys.stderr.isatty()) as progress:
        task = progress.add_task(args.command, total=len(jobs))
        for start in range(0, len(jobs), step):
            batch = jobs[start:start + step]
            try:
                done = list(zip(batch, run_batch(editor, args, batch)))
            except errors:
                if single:
                    raise
                done = []  # one job at a time, to keep every usable one
                for job in batch:
                    try:
                        done.append((job, run_batch(editor, args, [job])[0]))
                    except errors as e:
                        failed.append(first_line(e))
            for job, result in done:
                written += write_results(editor, args, job, result, single)
            progress.advance(task, len(batch))
    return written, failed, len(jobs)


def first_line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def run_cache(args) -> int:
    from facedisentangle.inference.converted_cache import report

    print(report(args.dir, clear=args.clear))
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.command == 'cache':
        return run_cache(args)
    from facedisentangle.inference import CheckpointKindError

    try:
        written, failed, total = run(args)
    except (EditError, CheckpointKindError, ImportError, *input_errors()) as e:
        print(f'edit.py: error: {first_line(e)}', file=sys.stderr)
        return 2
    except ValueError as e:  # bad combination of arguments (batch sizes, components, ...)
        print(f'edit.py: error: {first_line(e)}', file=sys.stderr)
        return 2
    print(f'wrote {len(written)} file(s)' + (f' to {os.path.dirname(written[0]) or "."}'
                                            if written else ''))
    if failed:
        print(f'edit.py: {len(failed)} of {total} input(s) could not be used:', file=sys.stderr)
        for msg in failed:
            print(f'  {msg}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
