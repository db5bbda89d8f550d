from .pipeline_progress_hook import PipelineProgressHook
from .validate_at_start_hook import ValidateAtStartHook
from .visualization_hook import FaceVisualizationHook

__all__ = ['FaceVisualizationHook', 'PipelineProgressHook', 'ValidateAtStartHook']
