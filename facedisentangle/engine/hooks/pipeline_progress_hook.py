"""Where a multi-stage pipeline run stands: ``stage k/n`` and an ETA for all stages.

The ETA counts iterations, each stage weighted by its ``max_iters``: with T seconds since the
pipeline started in this process and D iterations trained in it (earlier stages and this one;
stages finished by an earlier run count neither),

    ETA = T / D * R,    R = iterations left in this stage + max_iters of every later stage.

Stages differ in cost per iteration (stage 3 and 4 train several networks), so the ETA of an
early stage is a rough one that improves as later stages run.
"""
from __future__ import annotations

import datetime
import time

from mmengine.hooks import Hook

from facedisentangle.registry import HOOKS


def format_seconds(seconds: float) -> str:
    return str(datetime.timedelta(seconds=max(0, int(round(seconds)))))


def overall_eta(elapsed: float, done: int, remaining: int) -> str:
    """``T / D * R`` formatted, or a note when nothing was trained yet."""
    if done <= 0:
        return 'after the first logged iterations'
    return format_seconds(elapsed / done * remaining)


@HOOKS.register_module()
class PipelineProgressHook(Hook):
    """Log ``pipeline: stage k/n (name) iter i/N; all stages ...; ETA ...`` every
    ``interval`` iterations and at the last one (:mod:`facedisentangle.apis.pipeline` adds it
    to each stage's runner; it is not meant for configs).

    Args:
        stage: 1-based index of this stage; ``num_stages``: how many the pipeline has.
        name: the stage's name.
        later_iters: ``max_iters`` summed over the stages after this one.
        done_before: iterations trained in this process by earlier stages.
        started: ``time.time()`` when the pipeline started in this process.
        interval: iterations between two lines (the logger hook's interval).
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, stage: int, num_stages: int, name: str, later_iters: int,
                 done_before: int, started: float, interval: int = 50):
        self.stage, self.num_stages, self.name = stage, num_stages, name
        self.later_iters, self.done_before = int(later_iters), int(done_before)
        self.started, self.interval = float(started), max(1, int(interval))
        self.first_iter = 0
        self.trained = 0  # iterations trained by this stage in this process

    def before_train(self, runner) -> None:
        self.first_iter = runner.iter  # > 0 when resumed

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self.trained = runner.iter + 1 - self.first_iter
        last = runner.iter + 1 >= runner.max_iters
        if not (self.every_n_train_iters(runner, self.interval) or last):
            return
        done = self.done_before + self.trained
        remaining = runner.max_iters - runner.iter - 1 + self.later_iters
        elapsed = time.time() - self.started
        runner.logger.info(
            f'pipeline: stage {self.stage}/{self.num_stages} ({self.name}) iter '
            f'{runner.iter + 1}/{runner.max_iters}; all stages: {done} of {done + remaining} '
            f'iterations of this run done, {format_seconds(elapsed)} elapsed, ETA '
            f'{overall_eta(elapsed, done, remaining)}')
