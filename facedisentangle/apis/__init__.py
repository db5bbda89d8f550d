"""User-facing APIs: training and testing bodies (``apis.train``, ``apis.test``) and the
face editor."""
from .face_editor import FaceEditor
from .input_reader import NoFaceError

__all__ = ['FaceEditor', 'NoFaceError']
