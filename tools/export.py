"""Write one inference checkpoint from a trained DeepFaceEditing model.

    python tools/export.py --src work_dirs/pipeline_synthetic-128 --out deepfaceediting.pth

The command's code (options, what it does) is ``facedisentangle/cli/export.py``.
"""
import sys

from facedisentangle.cli.export import main

if __name__ == '__main__':
    sys.exit(main())
