from .visualization_hook import FaceVisualizationHook

__all__ = ['FaceVisualizationHook']
