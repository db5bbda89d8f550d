"""Write image grids during training through MMEngine's visualizer backends."""
from __future__ import annotations

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from facedisentangle.registry import HOOKS
from facedisentangle.visualization import to_uint8_grid


@HOOKS.register_module()
class FaceVisualizationHook(Hook):
    """Every ``interval`` training iterations (and at the end) draw the model's visuals.

    The model implements ``get_visuals(data_batch) -> {name: [columns]}`` where every column
    is a (B, 3, H, W) tensor in [-1, 1]; e.g. stage 1 gives, per component, ``[sketch,
    reconstruction]``. Each name becomes one grid image (a row per sample) written with
    ``runner.visualizer.add_image`` (``LocalVisBackend``: ``<work_dir>/<timestamp>/vis_data/
    vis_image/<name>_<iter>.png``; TensorBoard/W&B backends work the same way).
    """

    priority = 'LOW'

    def __init__(self, interval: int = 500, max_samples: int = 4):
        if interval <= 0:
            raise ValueError(f'FaceVisualizationHook: interval must be > 0, got {interval}')
        self.interval = interval
        self.max_samples = max_samples

    def _draw(self, runner, data_batch) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'get_visuals'):
            raise AttributeError(f'FaceVisualizationHook: {type(model).__name__} has no '
                                 'get_visuals(data_batch)')
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                visuals = model.get_visuals(data_batch)
        finally:
            model.train(was_training)
        for name, columns in visuals.items():
            runner.visualizer.add_image(name, to_uint8_grid(columns, self.max_samples),
                                        step=runner.iter + 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) or self.is_last_train_iter(runner):
            self._draw(runner, data_batch)
