"""What MMEngine's logger prints on the console: progress and iteration logs, not listings.

MMEngine's ``Runner`` logs, at INFO, the whole system and runtime environment, the full config
text and the table of hooks: hundreds of lines before the first iteration (and two notices about
its own deprecated file backends). They stay in the
run's log file (``<work_dir>/<timestamp>/<timestamp>.log``); :func:`quiet_console` keeps them
off the console handler only. ``tools/train.py --verbose`` (``cfg.verbose = True``) prints
them as before.
"""
from __future__ import annotations

import logging

#: the starts of the listings kept off the console
LISTING_PREFIXES = (
    '\n' + '-' * 60 + '\nSystem environment:',      # Runner._log_env
    'Config:\n',                                      # Runner._log_env
    'Hooks will be executed in the following order',  # Runner.__init__
    'Distributed training is not used, all SyncBatchNorm',
    # MMEngine's own deprecation notices about its CheckpointHook internals
    '"FileClient" will be deprecated',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


class ListingFilter(logging.Filter):
    """Drops the records of MMEngine's environment, config and hook listings."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg if isinstance(record.msg, str) else str(record.msg)
        return not msg.startswith(LISTING_PREFIXES)


def quiet_console(logger: logging.Logger) -> logging.Logger:
    """Add :class:`ListingFilter` to the logger's console handlers (not its file handlers)."""
    for handler in logger.handlers:
        if (isinstance(handler, logging.StreamHandler)
                and not isinstance(handler, logging.FileHandler)
                and not any(isinstance(f, ListingFilter) for f in handler.filters)):
            handler.addFilter(ListingFilter())
    return logger
