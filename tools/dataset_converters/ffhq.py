"""FFHQ (as downloaded) -> the project's HDF5 face file: ``prepare_data.py --layout ffhq``.

    python tools/dataset_converters/ffhq.py /data/ffhq --out data/ffhq-512.h5 [--size 512]
        [--workers N] [--split 0.9 0.05 0.05] [--seed 0] [any other prepare_data.py option]

``/data/ffhq`` holds ``images1024x1024/00000/00000.png`` ... (or give that folder itself).
The photos are FFHQ-aligned already (no ``--align``); they are area-resized to ``--size``,
sketched, split by name and seed, and named by their number (``00000``). Resumable: rerun the
same command after an interruption. See docs/prepare_data.md.
"""
import sys

from facedisentangle.cli.prepare_data import main

if __name__ == '__main__':
    sys.exit(main(layout='ffhq'))
