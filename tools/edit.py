"""Edit faces with a trained (or converted official) DeepFaceEditing model.

    python tools/edit.py swap        -c MODEL --geometry A.png --appearance B.png -o out.png
    python tools/edit.py sketch2face -c MODEL --sketch S.png --appearance B.png -o out.png
    python tools/edit.py mix         -c MODEL --base C.png --part eye1 A.png B.png \\
                                     --part mouth D.png D.png -o out.png
    python tools/edit.py interpolate -c MODEL --a A.png --b B.png --steps 5 \\
                                     --what appearance -o frames/
    python tools/edit.py reconstruct -c MODEL --input photos/ -o recon/
    python tools/edit.py to-sketch   -c MODEL --input A.png -o sketch.png --grid
    python tools/edit.py cache [--clear]      # size of the converted-weights cache / empty it

The command's code (options, what it does) is ``facedisentangle/cli/edit.py``.
"""
import sys

from facedisentangle.cli.edit import main

if __name__ == '__main__':
    sys.exit(main())
