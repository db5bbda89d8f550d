"""Edit faces with a trained (or converted official) DeepFaceEditing model.

    python tools/edit.py {swap,sketch2face,mix,interpolate,reconstruct,to-sketch,cache} ...

Usage per command (``--help``), options and what each does: ``facedisentangle/cli/edit.py``.
"""
import sys

from facedisentangle.cli.edit import main

if __name__ == '__main__':
    sys.exit(main())
