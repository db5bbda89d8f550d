"""Evaluate a trained facedisentangle model: ``python tools/test.py CONFIG CHECKPOINT``.

The command's code (options, what it does) is ``facedisentangle/cli/test.py``.
"""
import sys

from facedisentangle.cli.test import main

if __name__ == '__main__':
    sys.exit(main())
