"""OpenMP threads for CPU training on a machine that something else keeps busy."""
from __future__ import annotations

import os
from collections.abc import Mapping


def busy_cpu_env(environ: Mapping[str, str] | None = None,
                 load: float | None = None) -> tuple[dict[str, str], str | None]:
    """A training subprocess's environment, and why it was changed (None: unchanged).

    When something else keeps the CPU busy (1-minute load average >= 1) and OMP_NUM_THREADS is
    not set, train with one OpenMP thread: with another process on the same 2 cores, two
    threads spin at every barrier and ran stage 1 at 8.6 s per iteration against 0.48 s with
    one (docs/pipeline.md, "Threads on a busy machine"). An idle machine keeps the default.
    """
    env = dict(os.environ if environ is None else environ)
    if 'OMP_NUM_THREADS' in env:
        return env, None
    load = os.getloadavg()[0] if load is None else load
    if load < 1.0:
        return env, None
    env['OMP_NUM_THREADS'] = '1'
    return env, (f'the CPU is busy (load average {load:.1f}): training with OMP_NUM_THREADS=1, '
                 'much faster than two spinning threads on a shared machine; set '
                 'OMP_NUM_THREADS yourself to choose')
