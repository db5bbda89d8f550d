"""Linear probe of a stage-3 model's appearance codes on the synthetic faces' colour factors.

    python tools/analysis/appearance_probe.py CONFIG CHECKPOINT [--data FILE]
        [--fit-split train] [--eval-split test] [--max-fit N] [--ridge 1.0]
        [--random-reference] [--out FILE] [--cfg-options ...]

The command's code (options, what it does) is ``facedisentangle/cli/appearance_probe.py``.
"""
import sys

from facedisentangle.cli.appearance_probe import main

if __name__ == '__main__':
    sys.exit(main())
