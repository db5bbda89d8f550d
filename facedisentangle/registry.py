"""Registries of facedisentangle, one per kind of object a config can name.

Every registry is scoped ``facedisentangle``. Those the MMEngine ``Runner`` builds itself
(models, datasets, transforms, metrics, hooks, visualizers, optimiser-wrapper constructors,
...) are children of MMEngine's root registries, so a config with
``default_scope = 'facedisentangle'`` finds our classes and MMEngine's by ``type=`` name.
Backbones and losses are built by our own models, so they are registries of their own.

An unknown ``type`` fails with a ``KeyError`` that names the registry and lists close names.
"""
from __future__ import annotations

import difflib

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry as _MMRegistry

SCOPE = 'facedisentangle'


class Registry(_MMRegistry):
    """MMEngine registry whose failed look-ups name the registry and suggest close names."""

    def _all_names(self) -> list[str]:
        names: set[str] = set()
        reg = self
        while reg is not None:
            names.update(reg.module_dict.keys())
            reg = reg.parent
        return sorted(names)

    def __contains__(self, key) -> bool:
        try:
            return super().get(key) is not None
        except KeyError:
            return False

    def get(self, key):
        obj = super().get(key)
        if obj is None and isinstance(key, str):
            scope, real_key = self.split_scope_key(key)
            if scope is None or scope == self.scope:
                names = self._all_names()
                close = difflib.get_close_matches(real_key, names, n=5, cutoff=0.5)
                hint = (f' Close names: {", ".join(close)}.' if close else
                        f' It holds: {", ".join(names[:40])}{" ..." if len(names) > 40 else ""}.')
                raise KeyError(
                    f"type '{key}' is not in the {self.scope}::{self.name} registry.{hint} "
                    'Check the spelling, or that the module defining it is imported '
                    '(facedisentangle.utils.register_all_modules()).')
        return obj


def _child(name: str, parent, location: str) -> Registry:
    return Registry(name, parent=parent, scope=SCOPE, locations=[location])


# Built by our own models (not by the Runner): registries of their own.
BACKBONES = Registry('backbone', scope=SCOPE, locations=['facedisentangle.models.backbones'])
LOSSES = Registry('loss', scope=SCOPE, locations=['facedisentangle.models.losses'])

# Built by MMEngine's Runner: children of MMEngine's root registries.
MODELS = _child('model', MMENGINE_MODELS, 'facedisentangle.models')
DATASETS = _child('dataset', MMENGINE_DATASETS, 'facedisentangle.datasets')
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, 'facedisentangle.datasets')  # MMEngine's
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS, 'facedisentangle.datasets')
METRICS = _child('metric', MMENGINE_METRICS, 'facedisentangle.evaluation')
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR, 'facedisentangle.evaluation')
HOOKS = _child('hook', MMENGINE_HOOKS, 'facedisentangle.engine')
LOOPS = _child('loop', MMENGINE_LOOPS, 'facedisentangle.engine')
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS, 'facedisentangle.visualization')
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS, 'facedisentangle.visualization')
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS, 'facedisentangle.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, 'facedisentangle.engine')
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, 'facedisentangle.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS,
                          'facedisentangle.engine')
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS, 'facedisentangle.engine')
RUNNERS = _child('runner', MMENGINE_RUNNERS, 'facedisentangle.engine')
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS, 'facedisentangle.engine')
WEIGHT_INITIALIZERS = _child('weight initializer', MMENGINE_WEIGHT_INITIALIZERS,
                             'facedisentangle.models')

ALL_REGISTRIES = {
    'backbones': BACKBONES, 'losses': LOSSES, 'models': MODELS, 'datasets': DATASETS,
    'transforms': TRANSFORMS, 'data_samplers': DATA_SAMPLERS, 'metrics': METRICS,
    'evaluator': EVALUATOR, 'hooks': HOOKS, 'loops': LOOPS, 'visualizers': VISUALIZERS,
    'vis_backends': VISBACKENDS, 'optim_wrappers': OPTIM_WRAPPERS,
    'optim_wrapper_constructors': OPTIM_WRAPPER_CONSTRUCTORS, 'optimizers': OPTIMIZERS,
    'param_schedulers': PARAM_SCHEDULERS, 'model_wrappers': MODEL_WRAPPERS,
    'runners': RUNNERS, 'log_processors': LOG_PROCESSORS, 'weight_initializers': WEIGHT_INITIALIZERS,
}
