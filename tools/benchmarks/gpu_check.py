"""GPU check: training steps of the four stages at 512 and the editing benchmark, one script.

    python tools/benchmarks/gpu_check.py --out work_dirs/gpu_check [--time-budget 420]
        [--peak-tflops 989] [--iters 20] [--warmup 5] [--stages 1 2 3 4]
        [--train-precisions amp float32] [--dry-run]

The command's code (options, what it does) is ``facedisentangle/cli/gpu_check.py``.
"""
import sys

from facedisentangle.cli.gpu_check import main

if __name__ == '__main__':
    sys.exit(main())
