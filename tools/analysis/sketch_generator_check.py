"""Photo -> sketch on synthetic faces: the image-to-sketch generator against the extraction
pipeline, both compared with the faces' true sketches.

    python tools/analysis/sketch_generator_check.py [-c GENERATOR_CHECKPOINT]
        [--data data/synthetic-128.h5] [--split test] [--num 100] [--out-dir DIR]
        [--grid PNG]

The command's code (options, what it does) is ``facedisentangle/cli/sketch_generator_check.py``.
"""
import sys

from facedisentangle.cli.sketch_generator_check import main

if __name__ == '__main__':
    sys.exit(main())
