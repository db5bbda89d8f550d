"""Pictures of synthetic faces: photo/sketch/label triples and the swap matrix P(g_i, a_j)."""
from __future__ import annotations

import cv2
import numpy as np

from .faces import SyntheticFaces
from .render import colorize_labels


def _rgb(a: np.ndarray) -> np.ndarray:
    return np.repeat(a[..., None], 3, 2) if a.ndim == 2 else a


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((18, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], 0)


def _pad(img: np.ndarray, px: int = 2) -> np.ndarray:
    return cv2.copyMakeBorder(img, px, px, px, px, cv2.BORDER_CONSTANT, value=(255, 255, 255))


def triples_figure(faces: SyntheticFaces, indices) -> np.ndarray:
    """One row per face: photo P(g, a), sketch S(g), label map L(g) (RGB uint8)."""
    rows = []
    for i in indices:
        s = faces[i]
        row = [_pad(_caption(_rgb(s['photo']), f'P(g{i},a{i})')),
               _pad(_caption(_rgb(s['sketch']), f'S(g{i})')),
               _pad(_caption(colorize_labels(s['label']), f'L(g{i})'))]
        rows.append(np.concatenate(row, 1))
    return np.concatenate(rows, 0)


def swap_figure(faces: SyntheticFaces, indices) -> np.ndarray:
    """Top row: sketches S(g_i); left column: photos of face j; cell (j, i): P(g_i, a_j)."""
    size = faces.size
    blank = np.full((size, size, 3), 255, np.uint8)
    cv2.putText(blank, 'geometry ->', (4, size // 2 - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(blank, 'appearance v', (4, size // 2 + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                (0, 0, 0), 1, cv2.LINE_AA)
    top = [_pad(_caption(blank, ''))] + [
        _pad(_caption(_rgb(faces[i]['sketch']), f'S(g{i})')) for i in indices]
    rows = [np.concatenate(top, 1)]
    for j in indices:
        row = [_pad(_caption(faces[j]['photo'], f'face {j}'))]
        row += [_pad(_caption(faces.swap(i, j)['photo'], f'P(g{i},a{j})')) for i in indices]
        rows.append(np.concatenate(row, 1))
    return np.concatenate(rows, 0)


def pairs_figure(size: int = 128, seed: int = 0, n: int = 4) -> np.ndarray:
    """Triples of faces 0..n-1 (left) next to their swap matrix (right), RGB uint8."""
    faces = SyntheticFaces(size, seed)
    left = triples_figure(faces, range(n))
    right = swap_figure(faces, range(n))
    h = max(left.shape[0], right.shape[0])
    left = cv2.copyMakeBorder(left, 0, h - left.shape[0], 0, 12, cv2.BORDER_CONSTANT,
                              value=(255, 255, 255))
    right = cv2.copyMakeBorder(right, 0, h - right.shape[0], 0, 0, cv2.BORDER_CONSTANT,
                               value=(255, 255, 255))
    return np.concatenate([left, right], 1)


def layout_figure(size: int = 512, seed: int = 0) -> np.ndarray:
    """A synthetic face with the component boxes of ``ComponentLayout(size)`` drawn on it.

    The nose box is drawn dashed below the rows that fusion trims off (``layout.trim``).
    """
    from facedisentangle.structures.layout import ComponentLayout

    layout = ComponentLayout(size)
    faces = SyntheticFaces(size, seed)
    img = np.ascontiguousarray(faces[0]['photo'])
    colours = dict(eye1=(0, 200, 255), eye2=(0, 120, 255), nose=(255, 220, 0),
                   mouth=(255, 60, 60), bg=(255, 255, 255))
    t = max(1, size // 256)
    for name in layout.paste_order:
        x, y, s = layout.box(name)
        col = colours.get(name, (255, 255, 255))
        keep = s - layout.trim.get(name, 0)
        cv2.rectangle(img, (x, y), (x + s - 1, y + keep - 1), col, t)
        if keep < s:    # trimmed rows: dashed
            for yy in range(y + keep, y + s, 4 * t):
                cv2.line(img, (x, yy), (x, min(yy + 2 * t, y + s - 1)), col, t)
                cv2.line(img, (x + s - 1, yy), (x + s - 1, min(yy + 2 * t, y + s - 1)), col, t)
            for xx in range(x, x + s, 4 * t):
                cv2.line(img, (xx, y + s - 1), (min(xx + 2 * t, x + s - 1), y + s - 1), col, t)
        cv2.putText(img, name, (x + 2 * t, y + 10 * t + 2), cv2.FONT_HERSHEY_SIMPLEX,
                    0.35 * t, col, t, cv2.LINE_AA)
    return img
