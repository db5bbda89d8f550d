"""The interactive sketch-based face editor in the browser (``tools/web_editor.py``).

:mod:`.session` (one user's state and the face it gives, recomputing only the components whose
input changed), :mod:`.uploads` (untrusted images, capped), :mod:`.server` (the FastAPI app)
and :mod:`.browser` (headless Chromium for the tests and the docs' screenshot). Needs the
``web`` extra: ``pip install -e '.[web]'``. How to use it: docs/web_editor.md.
"""
from .session import ChoiceError, Choices, EditSession, parse_choices, render
from .uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, UploadError, decode_upload

__all__ = ['ChoiceError', 'Choices', 'EditSession', 'MAX_UPLOAD_BYTES', 'MAX_UPLOAD_PIXELS',
           'UploadError', 'decode_upload', 'parse_choices', 'render']
