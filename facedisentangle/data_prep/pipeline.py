"""Photo folder -> the project's HDF5 face file, resumable, in several processes.

    find the photos (folder / FFHQ / CelebAMask-HQ layout)
    drop those already handled: names in the file, sources in <out>.skipped.tsv
    workers: SampleProcessor (read, convert, align or crop, resize, sketch)   [Pool.imap]
    main process, in input order: H5FaceWriter.append  or  SkipLog.add
    every input handled -> H5FaceWriter.finalize() (the file is marked complete)

The writer flushes every ``chunk_flush`` samples (and when the run stops, also on an error or
Ctrl-C); skips are written to the log as they happen. Running the same command again
continues: finished names are not processed again. The settings that shape the samples
(size, alignment, sketch, split) are stored in the file's ``source`` attribute and a resumed
run must use the same ones.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from facedisentangle.datasets.h5_format import H5FaceWriter, read_h5_info
from facedisentangle.structures.layout import ComponentLayout

from .processor import SampleProcessor, SampleResult
from .sketch import build_sketch_extractor
from .skip_log import SkipLog, category, skip_log_path
from .sources import LAYOUTS, find_sources
from .split import check_fractions, split_of

TOOL = 'facedisentangle.data_prep'
#: settings that change the samples; a resumed run must repeat them
CONTENT_SETTINGS = ('size', 'source_layout', 'align', 'sketch', 'split')


@dataclass
class PrepareOptions:
    """Options of :func:`prepare_dataset` (the CLI flags of tools/prepare_data.py).

    Args:
        size: output resolution (``--size``).
        source_layout: ``folder``, ``ffhq`` or ``celebamask-hq`` (``--layout``).
        align: align faces with :class:`FaceAligner` (``--align``).
        align_config: FaceAligner options (``--align-config``).
        sketch_config: SketchExtractor options (``--sketch-config``).
        split: train / val / test fractions (``--split``).
        seed: split seed (``--seed``).
        workers: worker processes; 0 processes in the main process (``--workers``).
        min_size: skip inputs whose shorter side is smaller (``--min-size``).
        alpha: ``white`` or ``drop`` for transparent images (``--alpha``).
        chunk_flush: samples per HDF5 flush (``--chunk-flush``).
        retry_skipped: process again the inputs of the skip log (``--retry-skipped``).
        limit: only the first ``limit`` inputs (``--limit``), e.g. to try the settings.
    """
    size: int = 512
    source_layout: str = 'folder'
    align: bool = False
    align_config: dict | None = None
    sketch_config: dict | None = None
    split: Sequence[float] = (0.9, 0.05, 0.05)
    seed: int = 0
    workers: int = 0
    min_size: int = 128
    alpha: str = 'white'
    chunk_flush: int = 64
    retry_skipped: bool = False
    limit: int | None = None

    def __post_init__(self):
        if self.size <= 0:
            raise ValueError(f'--size must be positive, got {self.size}')
        if self.source_layout not in LAYOUTS:
            raise ValueError(f'--layout must be one of {list(LAYOUTS)}, got '
                             f'{self.source_layout!r}')
        self.split = check_fractions(self.split)
        if self.workers < 0:
            raise ValueError(f'--workers must be >= 0, got {self.workers}')
        if self.min_size < 1:
            raise ValueError(f'--min-size must be >= 1, got {self.min_size}')
        if self.alpha not in ('white', 'drop'):
            raise ValueError(f"--alpha must be 'white' or 'drop', got {self.alpha!r}")
        if self.limit is not None and self.limit < 0:
            raise ValueError(f'--limit must be >= 0, got {self.limit}')

    def content_settings(self) -> dict:
        """The settings stored in the file and compared on resume."""
        align = None
        if self.align:
            from .alignment import FaceAligner

            a = FaceAligner.from_config(self.align_config, size=self.size)
            align = {k: v for k, v in asdict(a).items()
                     if not k.startswith('_') and k not in ('predictor_path', 'layout')}
            align['upsample'] = list(align['upsample'])
            align['layout'] = a.layout.to_dict()
        return dict(size=self.size, source_layout=self.source_layout, align=align,
                    sketch=build_sketch_extractor(self.sketch_config).to_dict(),
                    split=dict(fractions=list(self.split), seed=int(self.seed)))


@dataclass
class SkippedInput:
    name: str
    source: str
    reason: str
    earlier: bool = False  # recorded by an earlier run


@dataclass
class PrepareSummary:
    """What a run did. ``processed`` lists the names processed by this run, in order."""
    out: str
    skip_log: str
    found: int = 0
    ignored_files: int = 0
    already_written: int = 0
    written: int = 0
    skipped: list[SkippedInput] = field(default_factory=list)
    converted: Counter = field(default_factory=Counter)
    processed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    complete: bool = False
    interrupted: bool = False
    num_samples: int = 0
    split_counts: dict = field(default_factory=dict)

    @property
    def skipped_now(self) -> list[SkippedInput]:
        return [s for s in self.skipped if not s.earlier]

    @property
    def skipped_earlier(self) -> list[SkippedInput]:
        return [s for s in self.skipped if s.earlier]

    @property
    def rate(self) -> float:
        return len(self.processed) / self.seconds if self.seconds > 0 else 0.0

    def skip_counts(self, earlier: bool = False) -> Counter:
        return Counter(category(s.reason) for s in self.skipped if s.earlier == earlier)


# ---------------------------------------------------------------------- worker processes
_PROCESSOR: SampleProcessor | None = None


def _init_worker(kwargs: dict) -> None:
    global _PROCESSOR
    import signal

    import cv2

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    cv2.setNumThreads(1)
    _PROCESSOR = SampleProcessor(**kwargs)


def _run(task: tuple[str, str, str]) -> SampleResult:
    return _PROCESSOR(*task)


def _make_pool(workers: int, worker_kwargs: dict):
    """A process pool whose workers start clean.

    Not ``fork``: a forked child of a process that already ran OpenCV (or dlib, torch) inherits
    their thread pools without the threads and can hang on its first call into them. The
    ``forkserver`` (``spawn`` where there is none) starts from a fresh process that has only
    imported this module.
    """
    methods = mp.get_all_start_methods()
    ctx = mp.get_context('forkserver' if 'forkserver' in methods else 'spawn')
    if ctx.get_start_method() == 'forkserver':
        ctx.set_forkserver_preload([__name__])
    return ctx.Pool(workers, initializer=_init_worker, initargs=(worker_kwargs,))


def _check_resume(out: str, settings: dict) -> None:
    if not os.path.exists(out):
        return
    info = read_h5_info(out)
    try:
        stored = json.loads(info['source'])
    except (TypeError, ValueError):
        stored = None
    if not isinstance(stored, dict) or stored.get('tool') != TOOL:
        raise ValueError(f'{out} exists and was not made by prepare_data (its source attribute '
                         f'is {info["source"][:80]!r}); choose another --out')
    diff = [f'{k}: file {a!r}, now {b!r}' for key in CONTENT_SETTINGS
            for k, a, b in _diff(key, stored.get(key), settings[key])]
    if diff:
        raise ValueError(f'{out} was prepared with other settings ({"; ".join(diff)}). Rerun '
                         'with the same options to continue it, or write to another --out.')


def _diff(key: str, a, b) -> list[tuple[str, object, object]]:
    """``[(dotted key, a value, b value)]`` where the (nested) settings ``a`` and ``b`` differ."""
    if isinstance(a, dict) != isinstance(b, dict) and None in (a, b):  # e.g. align off / on
        return [(key, 'off' if a is None else 'on', 'off' if b is None else 'on')]
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in _diff(f'{key}.{k}', a.get(k), b.get(k))]
    return [] if a == b else [(key, a, b)]


def prepare_dataset(src: str | os.PathLike, out: str | os.PathLike,
                    options: PrepareOptions | None = None, *,
                    progress: bool = True, console=None,
                    on_result: Callable[[SampleResult], None] | None = None,
                    **overrides) -> PrepareSummary:
    """Prepare (or continue preparing) the face file ``out`` from the photos in ``src``.

    Args:
        src: the folder of photos (or the FFHQ / CelebAMask-HQ root, see ``source_layout``).
        out: the ``.h5`` file; ``<out>.skipped.tsv`` is the skip log.
        options: :class:`PrepareOptions`; ``overrides`` are applied on top of them.
        progress: show a rich progress bar.
        console: a ``rich.console.Console`` for the progress bar.
        on_result: called in the main process after each input is handled (written or
            skipped) with its :class:`SampleResult`; an exception from it stops the run like
            an interruption (what was handled is kept).

    Returns:
        a :class:`PrepareSummary`. Ctrl-C stops the run cleanly (``interrupted=True``).
    """
    if options is None:
        options = PrepareOptions(**overrides)
    elif overrides:
        options = PrepareOptions(**{**asdict(options), **overrides})
    out = os.fspath(out)
    t0 = time.perf_counter()
    settings = options.content_settings()
    _check_resume(out, settings)

    sources = find_sources(src, options.source_layout)
    images = sources.images
    duplicates = sources.duplicates
    if options.limit is not None:
        images = images[:options.limit]
        keep = {i.name for i in images}
        duplicates = [d for d in duplicates if d[0].name in keep]

    summary = PrepareSummary(out=out, skip_log=skip_log_path(out),
                             found=len(images) + len(duplicates),
                             ignored_files=sources.ignored)
    log = SkipLog(summary.skip_log)
    earlier = log.read()
    if options.retry_skipped and earlier:
        log.reset()
        earlier = {}

    def abspath(p: str) -> str:
        return os.path.abspath(p)

    for p, (name, reason) in earlier.items():
        summary.skipped.append(SkippedInput(name, p, reason, earlier=True))

    worker_kwargs = dict(size=options.size, sketch=settings['sketch'],
                         align=(options.align_config or {}) if options.align else None,
                         min_size=options.min_size, alpha=options.alpha)
    pool = None
    try:
        if options.workers > 0:
            pool = _make_pool(options.workers, worker_kwargs)
        src_json = json.dumps(dict(tool=TOOL, src=os.path.abspath(os.fspath(src)),
                                   **settings))
        with H5FaceWriter(out, options.size, layout=ComponentLayout(options.size),
                          source=src_json, chunk_flush=options.chunk_flush) as writer, log:
            done = writer.names_done()
            summary.already_written = sum(1 for i in images if i.name in done)
            for dup, kept in duplicates:
                if abspath(dup.path) not in earlier:
                    reason = f'duplicate name: {dup.name!r} is also {kept}'
                    log.add(dup.name, abspath(dup.path), reason)
                    summary.skipped.append(SkippedInput(dup.name, abspath(dup.path), reason))
            tasks = [(i.name, i.path, split_of(i.name, options.seed, options.split))
                     for i in images
                     if i.name not in done and abspath(i.path) not in earlier]
            if pool is not None:
                results = pool.imap(_run, tasks, chunksize=1)
            else:
                processor = SampleProcessor(**worker_kwargs)
                results = (processor(*t) for t in tasks)
            try:
                with _progress(progress, console, len(tasks)) as bar:
                    for res in results:
                        if res.ok:
                            writer.append(res.photo, res.sketch, res.name, res.split)
                            summary.written += 1
                        else:
                            log.add(res.name, abspath(res.path), res.reason)
                            summary.skipped.append(
                                SkippedInput(res.name, abspath(res.path), res.reason))
                        summary.converted.update(res.notes)
                        summary.processed.append(res.name)
                        bar.advance()
                        if on_result is not None:
                            on_result(res)
                writer.finalize()
            except KeyboardInterrupt:
                summary.interrupted = True
            summary.complete = writer.complete
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        summary.seconds = time.perf_counter() - t0
    info = read_h5_info(out)
    summary.num_samples = info['num_samples']
    summary.split_counts = info['split_counts']
    return summary


class _NoBar:
    def advance(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _progress(enabled: bool, console, total: int):
    if not enabled:
        return _NoBar()
    from .progress import ProgressBar

    return ProgressBar(total, console=console)
