"""The README's main job: make the embedded synthetic data set, then train on it.

    python tools/quickstart.py [--config CONFIG] [--work-dir DIR] [train.py options]

Idempotent: the data set is written once (an interrupted write resumes), and training resumes
from the last good checkpoint of the work dir (``--resume auto``), so running it again after
it finished or was interrupted does only what is left.
"""
from __future__ import annotations

import argparse
import os.path as osp
import subprocess
import sys

from facedisentangle.utils.threads import busy_cpu_env

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)
DEFAULT_CONFIG = 'configs/deepfaceediting/pipeline_synthetic-128.py'
DATA = dict(file='data/synthetic-128.h5', num=2000, size=128, val=200, test=200)


def run(cmd: list[str], env: dict | None = None) -> None:
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, cwd=REPO, check=True, env=env)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--work-dir', default=None)
    args, train_args = parser.parse_known_args(argv)
    py = sys.executable
    run([py, 'tools/dataset_converters/synthetic_faces.py', '--num', str(DATA['num']),
         '--size', str(DATA['size']), '--val', str(DATA['val']), '--test', str(DATA['test']),
         '--out', DATA['file']])
    work_dir = args.work_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    env, why = busy_cpu_env()
    if why:
        print(f'quickstart: {why}', flush=True)
    run([py, 'tools/train.py', args.config, '--work-dir', work_dir, '--resume', *train_args],
        env=env)
    print(f'done: checkpoints, logs and image grids are in {work_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
