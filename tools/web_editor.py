"""Serve the interactive sketch-based face editor in the browser.

    python tools/web_editor.py                        # the shipped synthetic-128 model
    python tools/web_editor.py --checkpoint MODEL --port 8000 [--align] [--host 0.0.0.0]
    python tools/web_editor.py --checkpoint MODEL --sketch-embedding CONFIG CHECKPOINT \\
        [--sketch-bank DIR] [--refine-k 15]           # with the "refine" sliders

The command's code (options, what it does) is ``facedisentangle/cli/web_editor.py``.
"""
import sys

from facedisentangle.cli.web_editor import main

if __name__ == '__main__':
    sys.exit(main())
