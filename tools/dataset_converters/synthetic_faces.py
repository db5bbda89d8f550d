"""Write a synthetic face data set (photos, sketches, labels, factors) to a face HDF5 file.

    python tools/dataset_converters/synthetic_faces.py --num 2000 --size 128 \\
        --out data/synthetic-128.h5 [--seed 0] [--val 200] [--test 200] [--workers N]
    python tools/dataset_converters/synthetic_faces.py --preview docs/images/synthetic_pairs.png

The command's code (options, what it does) is ``facedisentangle/cli/synthetic_faces.py``.
"""
import sys

from facedisentangle.cli.synthetic_faces import main

if __name__ == '__main__':
    sys.exit(main())
