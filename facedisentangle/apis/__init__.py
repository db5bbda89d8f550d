"""User-facing APIs: training and testing bodies (``apis.train``, ``apis.test``), building a
trained model (``init_model``) and the face editor."""
from .face_editor import FaceEditor
from .init_model import init_model
from .input_reader import NoFaceError

__all__ = ['FaceEditor', 'NoFaceError', 'init_model']
