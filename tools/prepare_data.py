"""Prepare the project's HDF5 face file from a folder of photos.

    python tools/prepare_data.py SRC --out data/faces-512.h5 --size 512 [--align]
        [--layout folder|ffhq|celebamask-hq] [--split 0.9 0.05 0.05] [--seed 0]
        [--workers N] [--min-size 128] [--sketch-config FILE_OR_JSON] [--retry-skipped]

The command's code (options, what it does) is ``facedisentangle/cli/prepare_data.py``.
"""
import sys

from facedisentangle.cli.prepare_data import main

if __name__ == '__main__':
    sys.exit(main())
