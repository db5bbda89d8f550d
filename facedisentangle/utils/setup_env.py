"""Import every module that registers something, and set the default scope."""
from __future__ import annotations

import datetime
import warnings

from mmengine import DefaultScope

_MODULES = (
    'facedisentangle.models',
    'facedisentangle.datasets',
    'facedisentangle.evaluation',
    'facedisentangle.engine',
    'facedisentangle.visualization',
)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import all registering modules of facedisentangle.

    Args:
        init_default_scope: make ``facedisentangle`` the current default scope, so that
            ``type=`` names in configs are looked up in our registries first.
    """
    import importlib

    for name in _MODULES:
        importlib.import_module(name)
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('facedisentangle', scope_name='facedisentangle')
    elif current.scope_name != 'facedisentangle':
        warnings.warn(f'The current default scope "{current.scope_name}" is not '
                      '"facedisentangle"; register_all_modules switches to a new one.')
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')
        DefaultScope.get_instance(f'facedisentangle-{stamp}', scope_name='facedisentangle')
