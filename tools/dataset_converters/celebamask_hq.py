"""CelebAMask-HQ (as downloaded) -> the project's HDF5 face file:
``prepare_data.py --layout celebamask-hq``.

    python tools/dataset_converters/celebamask_hq.py /data/CelebAMask-HQ \
        --out data/celebamask-hq-512.h5 [--size 512] [--workers N] [--split 0.9 0.05 0.05]
        [--seed 0] [any other prepare_data.py option]

``/data/CelebAMask-HQ`` holds ``CelebA-HQ-img/0.jpg`` ... ``29999.jpg`` (or give that folder
itself); the masks are not used. The 1024 photos are aligned already (no ``--align``); they
are area-resized to ``--size``, sketched, split by name and seed, and named by their number
(``0``). Resumable: rerun the same command after an interruption. See docs/prepare_data.md.
"""
import sys

from facedisentangle.cli.prepare_data import main

if __name__ == '__main__':
    sys.exit(main(layout='celebamask-hq'))
