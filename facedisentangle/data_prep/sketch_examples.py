"""Side-by-side pictures of the sketch extractor for docs/sketch_extraction.md.

    python -m facedisentangle.data_prep.sketch_examples --out docs/images

Writes ``sketch_<photo>.png`` (photo | our sketch | Canny) for scikit-image's sample photos
(the astronaut's face aligned with :class:`FaceAligner` when dlib is installed, the cat, the
coffee cup) and ``sketch_parameters.png`` (the face under a few parameter changes).
"""
from __future__ import annotations

import argparse
import os

import cv2
import numpy as np

from .sketch import SketchExtractor

PANEL = 256


def canny_drawing(photo: np.ndarray) -> np.ndarray:
    """Canny edges (thresholds 0.66x / 1.33x the median intensity), black on white."""
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    gray = cv2.GaussianBlur(gray, (0, 0), 1.0)
    med = float(np.median(gray))
    edges = cv2.Canny(gray, int(max(0, 0.66 * med)), int(min(255, 1.33 * med)))
    return 255 - edges


def _labelled(img: np.ndarray, text: str) -> np.ndarray:
    img = img if img.ndim == 3 else np.repeat(img[..., None], 3, 2)
    bar = np.full((22, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], 0)


def comparison(photo: np.ndarray, extractor: SketchExtractor | None = None) -> np.ndarray:
    """photo | sketch | Canny, each ``PANEL`` px, with titles (RGB uint8)."""
    extractor = extractor or SketchExtractor()
    photo = cv2.resize(photo, (PANEL, PANEL), interpolation=cv2.INTER_AREA)
    panels = [_labelled(photo, 'photo'), _labelled(extractor(photo), 'our sketch (XDoG)'),
              _labelled(canny_drawing(photo), 'Canny edges')]
    sep = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
    return np.concatenate([panels[0], sep, panels[1], sep, panels[2]], 1)


def sample_photos() -> dict[str, np.ndarray]:
    """Square RGB photos from scikit-image's data (no download)."""
    from skimage import data

    photos = {}
    astronaut = data.astronaut()
    try:
        from .alignment import FaceAligner

        face = FaceAligner(size=PANEL).align(astronaut)
    except ImportError:
        face = None
    photos['face'] = face.image if face is not None else astronaut[30:230, 130:330]
    photos['cat'] = data.chelsea()[:, 75:375]
    photos['coffee'] = data.coffee()[:, 100:500]
    return photos


def parameter_grid(photo: np.ndarray) -> np.ndarray:
    """The sketch of ``photo`` under the defaults and a few parameter changes."""
    photo = cv2.resize(photo, (PANEL, PANEL), interpolation=cv2.INTER_AREA)
    variants = [('defaults', {}), ('sigma=1.6', dict(sigma=1.6)),
                ('epsilon=-0.02', dict(epsilon=-0.02)), ('phi=20', dict(phi=20.0)),
                ('min_component_area=0', dict(min_component_area=0)),
                ('thin=True', dict(thin=True))]
    tiles = [_labelled(SketchExtractor(**kw)(photo), name) for name, kw in variants]
    sep = np.full((tiles[0].shape[0], 4, 3), 255, np.uint8)
    rows = []
    for i in range(0, len(tiles), 3):
        rows.append(np.concatenate([tiles[i], sep, tiles[i + 1], sep, tiles[i + 2]], 1))
    gap = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([rows[0], gap, rows[1]], 0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='docs/images', help='output folder')
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    photos = sample_photos()
    for name, photo in photos.items():
        path = os.path.join(args.out, f'sketch_{name}.png')
        cv2.imwrite(path, comparison(photo)[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(path)
    path = os.path.join(args.out, 'sketch_parameters.png')
    cv2.imwrite(path, parameter_grid(photos['face'])[..., ::-1],
                [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(path)


if __name__ == '__main__':
    main()
