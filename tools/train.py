"""Train a facedisentangle model: ``python tools/train.py CONFIG [options]``.

The command's code (options, what it does) is ``facedisentangle/cli/train.py``.
"""
import sys

from facedisentangle.cli.train import main

if __name__ == '__main__':
    sys.exit(main())
