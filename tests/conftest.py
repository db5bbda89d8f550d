"""Shared fixtures: a tiny synthetic data set and a helper to run the tools in a subprocess."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope='session', autouse=True)
def converted_weights_cache(tmp_path_factory) -> Path:
    """The inference conversion cache of this test session (in a temporary folder, never the
    user's ~/.cache; tools run by :func:`run_tool` inherit it through the environment)."""
    path = tmp_path_factory.mktemp('converted-cache')
    old = os.environ.get('FACEDISENTANGLE_CACHE_DIR')
    os.environ['FACEDISENTANGLE_CACHE_DIR'] = str(path)
    yield path
    if old is None:
        os.environ.pop('FACEDISENTANGLE_CACHE_DIR', None)
    else:
        os.environ['FACEDISENTANGLE_CACHE_DIR'] = old


def write_factor_faces(path, splits: dict[str, int], seed: int = 3) -> str:
    """A synthetic face file at 128 px with labels and factor seeds, ``splits`` faces per split
    in order (e.g. ``{'train': 8, 'val': 4, 'test': 4}``)."""
    from facedisentangle.datasets.h5_format import H5FaceWriter
    from facedisentangle.datasets.synthetic import APPEARANCE_DIM, GEOMETRY_DIM, SyntheticFaces
    from facedisentangle.structures.layout import ComponentLayout

    faces = SyntheticFaces(128, seed=seed)
    dims = dict(geometry_seed=0, appearance_seed=0, geometry=GEOMETRY_DIM,
                appearance=APPEARANCE_DIM)
    order = [name for name, n in splits.items() for _ in range(n)]
    with H5FaceWriter(path, 128, layout=ComponentLayout(128), source='test', with_labels=True,
                      factor_dims=dims) as w:
        for i, split in enumerate(order):
            s = faces[i]
            w.append(s['photo'], s['sketch'], s['name'], split, label=s['label'],
                     **{k: s[k] for k in dims})
        w.finalize()
    return str(path)


def tiny_run_options(data_file: str, max_iters: int, interval: int, batch_size: int = 4,
                     model: tuple = ()) -> list[str]:
    """``--cfg-options`` for a tiny tools/train.py run: every split from ``data_file``, no
    worker processes, ``max_iters`` iterations validating, checkpointing and visualising
    every ``interval``, the learning rate decaying over the second half; ``model``: the
    tiny network sizes (``'model.x.ngf=4'``, ...)."""
    return [
        '--cfg-options',
        f'train_dataloader.dataset.ann_file={data_file}',
        f'val_dataloader.dataset.ann_file={data_file}',
        f'test_dataloader.dataset.ann_file={data_file}',
        f'train_dataloader.batch_size={batch_size}', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.batch_size=4',
        *model,
        f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={interval}',
        f'default_hooks.checkpoint.interval={interval}', 'default_hooks.logger.interval=1',
        f'custom_hooks.FaceVisualizationHook.interval={interval}',
        f'param_scheduler.0.begin={max_iters // 2}', f'param_scheduler.0.end={max_iters}',
    ]


@pytest.fixture(scope='session')
def tiny_synthetic_h5(tmp_path_factory) -> str:
    """24 synthetic faces at 128 px (16 train, 4 val, 4 test), with labels and factors."""
    from facedisentangle.cli.synthetic_faces import main as make_faces

    out = tmp_path_factory.mktemp('data') / 'synthetic-128-tiny.h5'
    assert make_faces(['--num', '24', '--size', '128', '--val', '4', '--test', '4',
                       '--workers', '1', '--out', str(out)]) == 0
    return str(out)


def run_tool(args, timeout=600, env=None, check=True, **kwargs):
    """Run ``python <args>`` from the repo root; returns the CompletedProcess."""
    full_env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=full_env, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-5000:]}')
    return proc


def kill_9_once_written(args, path: Path, timeout: float = 300) -> None:
    """Start ``python <args>`` from the repo root and SIGKILL it as soon as ``path`` exists
    (it must not end by itself first)."""
    proc = subprocess.Popen([sys.executable, *args], cwd=REPO,
                            env=dict(os.environ, OMP_NUM_THREADS='1'),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        while not Path(path).exists():
            assert proc.poll() is None, f'{args[0]} ended before {path} was written'
            assert time.time() < deadline, f'{path} not written within {timeout} s'
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
