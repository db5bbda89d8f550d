"""Convert the official DeepFaceEditing (Jittor) weights into a facedisentangle export file.

    python tools/convert_official_weights.py --src DeepFaceEditing-Jittor/checkPoints --out official.pth

The command's code (options, what it does) is ``facedisentangle/cli/convert_official_weights.py``.
"""
import sys

from facedisentangle.cli.convert_official_weights import main

if __name__ == '__main__':
    sys.exit(main())
