"""The progress bar of the data preparation (rich): images done, rate and ETA."""
from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Images per second."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text('  -- img/s' if speed is None else f'{speed:5.1f} img/s', style='cyan')


class ProgressBar:
    """A rich progress bar over ``total`` images with rate and ETA."""

    def __init__(self, total: int, console: Console | None = None,
                 description: str = 'preparing'):
        self._progress = Progress(
            TextColumn('[bold]{task.description}'), BarColumn(), MofNCompleteColumn(),
            RateColumn(), TextColumn('elapsed'), TimeElapsedColumn(), TextColumn('ETA'),
            TimeRemainingColumn(), console=console, speed_estimate_period=60.0)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc) -> bool:
        self._progress.stop()
        return False
