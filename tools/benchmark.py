"""Inference benchmark: one full 512 px DeepFaceEditing edit per geometry mode (photo, sketch).

    python tools/benchmark.py --threads 2 --write-doc docs/benchmarks.md

The command's code (options, what it does) is ``facedisentangle/cli/benchmark.py``.
"""
import sys

from facedisentangle.cli.benchmark import main

if __name__ == '__main__':
    sys.exit(main())
