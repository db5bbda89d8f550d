"""Validate once before the first training iteration: the baseline every later value is
compared with (e.g. "the validation L1 falls by half from its first value")."""
from __future__ import annotations

from mmengine.hooks import Hook

from facedisentangle.registry import HOOKS


@HOOKS.register_module()
class ValidateAtStartHook(Hook):
    """Run the validation loop at iteration 0 of a fresh run (not when resuming)."""

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        if runner.iter == 0 and runner.val_loop is not None:
            runner.val_loop.run()
