"""Serve the interactive sketch-based face editor in the browser.

    python tools/web_editor.py                        # the shipped synthetic-128 model
    python tools/web_editor.py --checkpoint MODEL --port 8000 [--align] [--host 0.0.0.0]
    python tools/web_editor.py --checkpoint MODEL --sketch-embedding CONFIG CHECKPOINT \
        [--sketch-bank DIR] [--refine-k 15]           # with the "refine" sliders

``MODEL`` is anything ``FaceEditor.from_checkpoint`` loads (an export file, a stage-4
checkpoint, a work directory, converted official weights). Open the printed address in a
browser. It listens on 127.0.0.1 (this machine only) unless ``--host`` says otherwise, with a
warning, since the editor has no login: for a remote machine, use an SSH tunnel instead
(docs/web_editor.md). ``--align`` aligns uploaded reference photos like
``tools/prepare_data.py --align`` (needs the ``align`` extra). Needs the ``web`` extra
(``pip install -e '.[web]'``). ``--sketch-embedding`` (a trained sketch embedding and its banks,
docs/sketch_projection.md) adds one "refine" slider per component: the projection of the drawn
sketch towards the training sketches, as in DeepFaceDrawing's interface.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

# OpenMP threads that sleep while they wait: a busy machine (other processes on the same
# cores) otherwise makes each update many times slower (docs/web_editor.md, "Speed")
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

LOOPBACK = ('127.0.0.1', 'localhost', '::1')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('-c', '--checkpoint', default=None,
                   help='export file, stage-4 checkpoint or work directory (default: the '
                        'synthetic-128 model shipped in the package)')
    p.add_argument('--host', default='127.0.0.1',
                   help='address to listen on (default 127.0.0.1: this machine only)')
    p.add_argument('--port', type=int, default=7860, help='port (default 7860; 0: any free)')
    p.add_argument('--align', action='store_true',
                   help='align uploaded reference photos (in-the-wild photos; needs dlib)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--precision', default='auto',
                   help="'auto' (default), 'float32' or 'bfloat16'")
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s)')
    p.add_argument('--low-memory', action='store_true',
                   help='free the geometry encoders after each use (less memory, slower '
                        'updates; default: every network the edits use stays loaded)')
    p.add_argument('--max-sessions', type=int, default=16,
                   help='sessions kept (least recently used dropped first; default 16)')
    p.add_argument('--max-upload-mb', type=float, default=8.0,
                   help='largest accepted upload in MB (default 8)')
    p.add_argument('--max-upload-megapixels', type=float, default=16.8,
                   help='largest accepted upload in megapixels (default 16.8 = 4096x4096)')
    # the names of tools/edit.py's projection options (docs/sketch_projection.md)
    p.add_argument('--sketch-embedding', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                   help='trained sketch embedding (configs/deepfaceediting/sketch-embedding_*): '
                        'the page gets one "refine" (projection) slider per component')
    p.add_argument('--sketch-bank', default=None,
                   help='bank folder (default: <embedding checkpoint folder>/sketch_bank)')
    p.add_argument('--refine-k', type=int, default=None,
                   help='neighbours of the projection (default 15)')
    return p.parse_args(argv)


def load_sketch_refiner(args, resolution: int):
    """The SketchRefiner of ``--sketch-embedding`` / ``--sketch-bank`` / ``--refine-k``, or
    ``None`` without ``--sketch-embedding``; a ``ValueError`` naming the option otherwise."""
    if not args.sketch_embedding:
        for flag, value in (('--sketch-bank', args.sketch_bank), ('--refine-k', args.refine_k)):
            if value is not None:
                raise ValueError(f'{flag} is used with --sketch-embedding CONFIG CHECKPOINT')
        return None
    from facedisentangle.inference.sketch_refiner import DEFAULT_K, SketchRefiner

    config, checkpoint = args.sketch_embedding
    for f in (config, checkpoint):
        if not osp.isfile(f):
            raise ValueError(f'--sketch-embedding: {f} not found')
    try:
        refiner = SketchRefiner.from_files(config, checkpoint, banks=args.sketch_bank,
                                           k=DEFAULT_K if args.refine_k is None
                                           else args.refine_k, device=args.device)
    except (RuntimeError, KeyError, FileNotFoundError, ValueError) as e:
        flag = '--refine-k' if str(e).startswith('refine K') else '--sketch-embedding'
        raise ValueError(f'{flag}: {str(e).splitlines()[0]}') from e
    size = refiner.embedding.layout.resolution
    if size != resolution:
        raise ValueError(f'--sketch-embedding: the embedding is for {size} px sketches, the '
                         f'model edits {resolution} px faces')
    return refiner


def build_app(args):
    from facedisentangle.web.server import create_app

    from .open_editor import open_face_editor

    # all resident by default: an interactive editor re-uses the same encoders on every
    # update (docs/benchmarks.md, "Web editor": 1.6 s per 512 px stroke with low memory on
    # against 1.0 s off, in one run)
    editor, checkpoint = open_face_editor(args, low_memory=True if args.low_memory else False)
    editor.sketch_refiner = load_sketch_refiner(args, editor.resolution)
    aligner = None
    if args.align:
        from facedisentangle.data_prep.alignment import FaceAligner

        aligner = FaceAligner(size=editor.resolution, layout=editor.model.layout)
        aligner.load_models()
    app = create_app(editor, max_sessions=args.max_sessions,
                     max_bytes=int(args.max_upload_mb * 2**20),
                     max_pixels=int(args.max_upload_megapixels * 1e6), aligner=aligner)
    return app, editor, checkpoint


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import uvicorn
    except ImportError:
        print("error: the web editor needs the 'web' extra: pip install -e '.[web]'",
              file=sys.stderr)
        return 2
    try:
        app, editor, checkpoint = build_app(args)
    except (FileNotFoundError, ValueError, ImportError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    if args.host not in LOOPBACK:
        print(f'WARNING: listening on {args.host}: anyone who can reach this address can use '
              'the editor (there is no login). Prefer the default 127.0.0.1 with an SSH '
              'tunnel (docs/web_editor.md).', file=sys.stderr, flush=True)
    print(f'model: {checkpoint} ({editor.resolution} px, {", ".join(editor.supported())})',
          flush=True)
    if editor.sketch_refiner is not None:
        print(f'sketch projection: {", ".join(editor.sketch_refiner.components)} '
              f'(K = {editor.sketch_refiner.k})', flush=True)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level='warning',
                            access_log=False)
    server = uvicorn.Server(config)

    # print the address once the socket is bound (port 0 gets a free port)
    import threading
    import time

    def announce():
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        for s in server.servers:
            for sock in s.sockets:
                host, port = sock.getsockname()[:2]
                shown = f'[{host}]' if ':' in host else host
                print(f'web editor at http://{shown}:{port}/  (Ctrl+C stops it)', flush=True)
                return

    threading.Thread(target=announce, daemon=True).start()
    server.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
