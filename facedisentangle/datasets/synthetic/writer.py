"""Write the synthetic face data set (photos, sketches, labels, factors) to a face HDF5 file.

Sample i (0-based) is ``SyntheticFaces(size, seed)[i]``; the last ``val + test`` samples are
the val then test split, the rest train. The file stores the labels and the factors (seeds and
vectors) and is finalised at the end. Writing again into the same file resumes an interrupted
one (or does nothing for a complete one); a file written with other arguments is refused
(its ``source`` attribute records them). Faces render in ``workers`` processes when > 1.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable

import cv2

from facedisentangle.datasets.h5_format import H5FaceWriter, read_h5_info
from facedisentangle.structures.layout import ComponentLayout

from .faces import SyntheticFaces
from .factors import APPEARANCE_DIM, GEOMETRY_DIM

_faces: SyntheticFaces | None = None


class SyntheticFileMismatch(ValueError):
    """The output file exists and was written with other arguments."""


def _init_worker(size: int, seed: int, line_width: float | None) -> None:
    global _faces
    cv2.setNumThreads(1)
    _faces = SyntheticFaces(size, seed, line_width=line_width)


def _render(i: int) -> tuple[int, dict]:
    return i, _faces[i]


def split_of(i: int, num: int, val: int, test: int) -> str:
    """The split of sample ``i``: train, then the last ``val``, then the last ``test``."""
    n_train = num - val - test
    return 'train' if i < n_train else 'val' if i < n_train + val else 'test'


def source_string(seed: int, num: int, val: int, test: int, size: int,
                  line_width: float | None) -> str:
    """The file's ``source``: every argument that changes its content."""
    return (f'facedisentangle synthetic faces: seed={seed} num={num} val={val} '
            f'test={test} size={size} line_width={line_width}')


def write_synthetic_faces(out: str, num: int, size: int = 128, seed: int = 0, val: int = 0,
                          test: int = 0, workers: int = 1, line_width: float | None = None,
                          chunk: int = 64, log: Callable[[str], None] = print) -> int | None:
    """Write (or resume) the file ``out``; returns how many faces this call wrote, or None
    when the file was complete already (nothing to do). Progress: a rich bar; messages go
    to ``log``. Raises :class:`SyntheticFileMismatch` for a file of other arguments."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    faces = SyntheticFaces(size, seed, num, line_width)
    source = source_string(seed, num, val, test, size, line_width)
    if os.path.exists(out):
        info = read_h5_info(out)
        if info['source'] != source:
            raise SyntheticFileMismatch(
                f'{out} was written with other arguments:\n  {info["source"]}\n'
                f'this command would write:\n  {source}\nUse another --out or delete the file.')
        if info['complete'] and info['num_samples'] == num:
            # checked read-only: a complete file may be open in a training run right now
            log(f'{out} is complete ({info["num_samples"]} faces); nothing to do.')
            return None
    factor_dims = dict(geometry_seed=0, appearance_seed=0, geometry=GEOMETRY_DIM,
                       appearance=APPEARANCE_DIM)
    with H5FaceWriter(out, size, layout=ComponentLayout(size), source=source,
                      with_labels=True, factor_dims=factor_dims, chunk_flush=chunk) as writer:
        done = writer.names_done()
        todo = [i for i in range(num) if faces.name(i) not in done]
        if not todo and writer.complete:
            log(f'{out} is complete ({len(done)} faces); nothing to do.')
            return None
        if done:
            log(f'resuming {out}: {len(done)} faces already written, {len(todo)} to go')

        def add(i: int, s: dict) -> None:
            writer.append(s['photo'], s['sketch'], s['name'], split_of(i, num, val, test),
                          label=s['label'], geometry_seed=s['geometry_seed'],
                          appearance_seed=s['appearance_seed'], geometry=s['geometry'],
                          appearance=s['appearance'])

        columns = (TextColumn('[bold]synthetic faces'), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns) as progress:
            task = progress.add_task('render', total=len(todo))
            if workers == 1:
                for i in todo:
                    add(i, faces[i])
                    progress.advance(task)
            else:
                import multiprocessing as mp
                ctx = mp.get_context('fork' if sys.platform.startswith('linux') else 'spawn')
                with ctx.Pool(workers, _init_worker, (size, seed, line_width)) as pool:
                    for i, s in pool.imap(_render, todo, chunksize=8):
                        add(i, s)
                        progress.advance(task)
        writer.finalize()
    return len(todo)
