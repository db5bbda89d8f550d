"""The web editor's HTTP server: one FastAPI app, one page, one shared model.

    app = create_app(FaceEditor.from_checkpoint(path))      # tools/web_editor.py serves it

Routes (``{sid}``: the session id the page gets from ``POST /api/session``):

====================================  =========================================================
``GET /``, ``GET /editor.js``         the page (``facedisentangle/web/static/``)
``POST /api/session``                 a new session: id, resolution, components, boxes, limits
``POST /api/{sid}/reference``         upload a reference photo (multipart ``file``)
``GET /api/{sid}/reference/{k}.png``  that reference as the model sees it (aligned, resized)
``DELETE /api/{sid}/reference/{k}``   remove it
``POST /api/{sid}/canvas/reference/{k}``  the canvas starts from reference k's sketch (PNG;
                                      ``?method=model``: ``to_sketch``, ``extract``: lines)
``POST /api/{sid}/canvas/upload``     ... from an uploaded sketch (multipart ``file``) (PNG)
``POST /api/{sid}/canvas/blank``      ... from a blank sheet (PNG)
``POST /api/{sid}/edit``              the face (PNG) for the canvas (multipart ``sketch``,
                                      optional) and the choices (multipart ``choices``, JSON)
====================================  =========================================================

Errors are JSON ``{"error": message}`` with a 4xx status; the page shows the message, and a
refused request changes nothing in the session. A well-formed ``choices`` with a bad value
(an unknown component, a reference index out of range, ``t`` or a projection strength outside
[0, 1], projection strengths on a server without a projection model) is answered 422 with
``{"error": message, "field": "projection.eye1"}``.

Projection (docs/sketch_projection.md): when the editor has a sketch embedding and its banks
(``editor.sketch_refiner``; ``tools/web_editor.py --sketch-embedding CONFIG CHECKPOINT``),
``POST /api/session`` lists the components it projects and K under ``projection`` (else
``null``: the page hides its sliders), and ``choices.projection`` = ``{component: strength}``
projects those components of the sketch before their E_sketch reads them.

Safety: the page sends only image bytes and JSON choices (never a path or a pickle); request
bodies above the upload limit are refused by :class:`BodyLimit` before they are parsed (a
POST must state its length); uploads are decoded by
:func:`~facedisentangle.web.uploads.decode_upload` (bytes, pixels, format checked). The one
model is shared by every session behind a lock; sessions are kept in a least-recently-used
map of at most ``max_sessions`` (each holding at most ``max_references`` photos and two
sketches at the model's resolution), so memory stays bounded however many pages connect.
"""
from __future__ import annotations

import io
import json
import secrets
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import anyio
import numpy as np
from fastapi import FastAPI, File, Form, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from PIL import Image

from facedisentangle.apis import FaceEditor

from .session import (
    SKETCH_METHODS,
    ChoiceError,
    EditSession,
    model_draws_sketches,
    parse_choices,
    photo_sketch,
    projectable_components,
    render,
)
from .uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, UploadError, decode_upload

STATIC = Path(__file__).resolve().parent / 'static'
MULTIPART_OVERHEAD = 64 << 10  # form boundaries, headers and the choices field


class BodyLimit:
    """ASGI middleware: refuse a POST/PUT body larger than ``max_bytes`` before parsing it.

    The stated ``Content-Length`` decides (a POST without one is refused: 411); an oversized
    body is read and dropped (up to ``drain_bytes``, so that the client reads the answer
    instead of a reset connection), then answered 413 with a JSON message."""

    def __init__(self, app, max_bytes: int, drain_bytes: int = 128 << 20):
        self.app, self.max_bytes, self.drain_bytes = app, max_bytes, drain_bytes

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http' or scope['method'] not in ('POST', 'PUT', 'PATCH'):
            return await self.app(scope, receive, send)
        headers = dict(scope['headers'])
        length = headers.get(b'content-length')
        if length is None or not length.isdigit():
            return await _json(send, 411, 'the request must state its Content-Length')
        length = int(length)
        if length <= self.max_bytes:
            return await self.app(scope, receive, send)
        drained, more = 0, True
        while more and drained <= self.drain_bytes:
            message = await receive()
            drained += len(message.get('body', b''))
            more = message.get('more_body', False)
        return await _json(send, 413, f'the upload is {length / 2**20:.1f} MB, more than the '
                                      f'{self.max_bytes / 2**20:.0f} MB limit')


async def _json(send, status: int, error: str):
    body = json.dumps({'error': error}).encode()
    await send({'type': 'http.response.start', 'status': status,
                'headers': [(b'content-type', b'application/json'),
                            (b'content-length', str(len(body)).encode()),
                            (b'connection', b'close')]})
    await send({'type': 'http.response.body', 'body': body})


class SessionStore:
    """At most ``max_sessions`` sessions; the least recently used one is dropped first."""

    def __init__(self, resolution: int, max_sessions: int = 16, max_references: int = 4):
        self.resolution, self.max_sessions = resolution, max_sessions
        self.max_references = max_references
        self._items: OrderedDict[str, tuple[EditSession, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    def new(self) -> str:
        sid = secrets.token_urlsafe(16)
        with self._lock:
            self._items[sid] = (EditSession(self.resolution, self.max_references),
                                threading.Lock())
            while len(self._items) > self.max_sessions:
                self._items.popitem(last=False)
        return sid

    def get(self, sid: str) -> tuple[EditSession, threading.Lock] | None:
        with self._lock:
            item = self._items.get(sid)
            if item is not None:
                self._items.move_to_end(sid)
            return item

    def __len__(self) -> int:
        return len(self._items)


@contextmanager
def serve_in_background(app, host: str = '127.0.0.1', port: int = 0, timeout: float = 30):
    """Run ``app`` with uvicorn in a thread of this process; yields its ``http://host:port``
    (``port=0``: a free one) and stops it on exit (tests, the screenshot script)."""
    import time

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level='warning',
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + timeout
    while not server.started:
        if not thread.is_alive() or time.time() > deadline:
            raise RuntimeError(f'the web editor did not start on {host}:{port}')
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f'http://{host}:{bound}'
    finally:
        server.should_exit = True
        thread.join(timeout)


def png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format='PNG', compress_level=1)
    return buf.getvalue()


def create_app(editor: FaceEditor, max_sessions: int = 16, max_references: int = 4,
               max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS,
               aligner=None):
    """The FastAPI app serving ``editor`` (see the module docstring).

    Args:
        aligner: a :class:`~facedisentangle.data_prep.alignment.FaceAligner` (``--align``):
            reference photos are aligned before use; ``None``: used as uploaded (resized).
    """
    res = editor.resolution
    layout = editor.model.layout
    projectable = projectable_components(editor)  # () without a sketch projection model
    projection = None if not projectable else {'components': list(projectable),
                                                'k': editor.sketch_refiner.k}
    store = SessionStore(res, max_sessions, max_references)
    model_lock = threading.Lock()
    app = FastAPI(title='facedisentangle web editor', docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.store, app.state.editor, app.state.model_lock = store, editor, model_lock

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({'error': message}, status_code=status)

    def png(rgb: np.ndarray) -> Response:
        return Response(png_bytes(rgb), media_type='image/png',
                        headers={'Cache-Control': 'no-store'})

    def session_or_error(sid: str):
        item = store.get(sid)
        if item is None:
            return (None, None), error(
                404, 'this editing session has expired (the server keeps the '
                     f'{max_sessions} most recent ones): reload the page')
        return item, None

    async def read_upload(upload: UploadFile, what: str) -> bytes:
        data = await upload.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise UploadError(f'{what}: more than the {max_bytes / 2**20:.0f} MB upload limit')
        return data

    async def in_thread(fn, *args):  # CPU work off the event loop
        return await anyio.to_thread.run_sync(fn, *args)

    def upload_name(upload: UploadFile, what: str) -> str:
        name = Path(upload.filename or '').name[:80]  # for messages only, never opened
        return f'{what} {name!r}' if name else what

    @app.middleware('http')
    async def security_headers(request, call_next):
        response = await call_next(request)
        response.headers['Content-Security-Policy'] = (
            "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'")
        response.headers['X-Content-Type-Options'] = 'nosniff'
        return response

    @app.get('/')
    def index():
        return FileResponse(STATIC / 'index.html', media_type='text/html')

    @app.get('/editor.js')
    def script():
        return FileResponse(STATIC / 'editor.js', media_type='text/javascript')

    @app.post('/api/session')
    def new_session():
        boxes = {c: list(layout.box(c)) for c in editor.components}
        return {'session': store.new(), 'resolution': res, 'components': list(editor.components),
                'base_component': layout.base, 'boxes': boxes,
                'photo_geometry': 'photo' in editor.supported(),
                'model_sketch': model_draws_sketches(editor),
                'max_references': max_references, 'max_bytes': max_bytes,
                'max_pixels': max_pixels, 'align': aligner is not None,
                'projection': projection}

    @app.post('/api/{sid}/reference')
    async def add_reference(sid: str, file: UploadFile = File(...)):
        (session, lock), err = session_or_error(sid)
        if err:
            return err
        what = upload_name(file, 'reference photo')

        def decode(data):
            rgb = decode_upload(data, what, None if aligner else res, max_bytes, max_pixels)
            if aligner is not None:
                from facedisentangle.data_prep.alignment import FaceNotFoundError
                try:
                    rgb = aligner.align(rgb, strict=True).image
                except FaceNotFoundError as e:
                    raise UploadError(f'{what}: cannot align it ({e})') from None
            return rgb

        try:
            rgb = await in_thread(decode, await read_upload(file, what))
        except UploadError as e:
            return error(400, str(e))
        with lock:
            try:
                index = session.add_reference(rgb)
            except ValueError as e:
                return error(400, str(e))
            return {'index': index, 'count': len(session.references)}

    @app.get('/api/{sid}/reference/{k}.png')
    def reference_image(sid: str, k: int):
        (session, lock), err = session_or_error(sid)
        if err:
            return err
        with lock:
            if not 0 <= k < len(session.references):
                return error(404, f'no reference {k}')
            return png(session.references[k])

    @app.delete('/api/{sid}/reference/{k}')
    def remove_reference(sid: str, k: int):
        (session, lock), err = session_or_error(sid)
        if err:
            return err
        with lock:
            try:
                session.remove_reference(k)
            except ValueError as e:
                return error(404, str(e))
            return {'count': len(session.references)}

    @app.post('/api/{sid}/canvas/reference/{k}')
    def canvas_from_reference(sid: str, k: int, method: str = 'model'):
        (session, lock), err = session_or_error(sid)
        if err:
            return err
        if method not in SKETCH_METHODS:
            return error(400, f'method must be one of {list(SKETCH_METHODS)}, got {method!r}')
        if method == 'model' and not model_draws_sketches(editor):
            return error(400, "this model cannot draw a photo's sketch (it has no sketch "
                              'decoders): choose the line extraction, upload a sketch or '
                              'start blank')
        with lock:
            if not 0 <= k < len(session.references):
                return error(404, f'no reference {k}')
            with model_lock:
                sketch = photo_sketch(editor, session.references[k], method)
            session.set_base(sketch)
            return png(sketch)

    @app.post('/api/{sid}/canvas/upload')
    async def canvas_from_upload(sid: str, file: UploadFile = File(...)):
        (session, lock), err = session_or_error(sid)
        if err:
            return err
        what = upload_name(file, 'sketch')
        try:
            sketch = await in_thread(decode_upload, await read_upload(file, what), what, res,
                                     max_bytes, max_pixels)
        except UploadError as e:
            return error(400, str(e))
        with lock:
            session.set_base(sketch)
        return png(sketch)

    @app.post('/api/{sid}/canvas/blank')
    def canvas_blank(sid: str):
        (session, lock), err = session_or_error(sid)
        if err:
            return err
        with lock:
            session.set_base(session.blank)
        return png(session.blank)

    @app.post('/api/{sid}/edit')
    async def edit(sid: str, sketch: UploadFile | None = File(None),
                   choices: str = Form('{}')):
        (session, lock), err = session_or_error(sid)
        if err:
            return err
        try:
            canvas = None
            if sketch is not None:
                canvas = await in_thread(decode_upload, await read_upload(sketch, 'canvas'),
                                         'canvas', res, max_bytes, max_pixels)
            raw = json.loads(choices)
        except UploadError as e:
            return error(400, str(e))
        except json.JSONDecodeError as e:
            return error(400, f'choices: not JSON ({e.msg})')
        return await _render(session, lock, canvas, raw)

    async def _render(session, lock, canvas, raw):
        def work():
            with lock:
                try:
                    parsed = parse_choices(raw, editor.components, len(session.references),
                                           projectable)
                except ChoiceError as e:
                    return JSONResponse({'error': str(e), 'field': e.field}, status_code=422)
                if canvas is not None:
                    session.sketch = canvas
                try:
                    with model_lock:
                        face = render(editor, session, parsed)
                except ValueError as e:
                    return error(400, str(e))
                return png(face)

        return await in_thread(work)

    return BodyLimit(app, max_bytes + MULTIPART_OVERHEAD)
