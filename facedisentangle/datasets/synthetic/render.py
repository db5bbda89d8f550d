"""Render a synthetic face: photo P(g, a), sketch S(g) and label map L(g).

    L(g)    regions of :func:`~.shapes.face_shapes` painted in order, hard edges (LABELS)
    S(g)    black lines on white: the boundaries of L(g) (except skin|nose) plus the interior
            strokes (lash line, crease, pupils, nostrils, alae, mouth line, hair strands, jaw
            line over the neck), anti-aliased, ``line_width`` px wide (default 1.5 px at 128,
            scaled with the resolution)
    P(g, a) the same regions as soft (anti-aliased) masks, filled with the appearance's colours,
            shading, blush, skin texture, catch-lights and lash lines

S and L never read the appearance: changing a leaves them bit-identical. Everything is drawn
with OpenCV on numpy at the output size (the sketch on a 2-4x finer grid, then area-averaged,
so that 1.5 px lines have exact width), deterministic for a given (g, a, size, line_width).
"""
from __future__ import annotations

import cv2
import numpy as np

from .factors import Appearance, Geometry, colour
from .shapes import FaceShapes, Region, Stroke, face_shapes

LABELS: dict[str, int] = {
    'background': 0, 'hair': 1, 'skin': 2, 'brows': 3, 'eye_whites': 4, 'irises': 5,
    'nose': 6, 'lips': 7,
}
LABEL_NAMES: tuple[str, ...] = tuple(sorted(LABELS, key=LABELS.get))
#: colours to show a label map (RGB uint8), index = label
LABEL_PALETTE = np.array([(0, 0, 0), (128, 64, 0), (230, 190, 160), (90, 50, 20),
                          (255, 255, 255), (40, 110, 220), (230, 120, 60), (200, 30, 60)],
                         dtype=np.uint8)

MIN_SIZE, MAX_SIZE = 64, 512
_SHIFT = 4          # cv2 sub-pixel bits
# labels whose common boundaries the sketch does not draw get the same edge class: the nose
# region is shading, its outline is not a line a person draws (the nose is drawn by the
# ala/nostril/tip strokes)
_EDGE_CLASS = np.arange(len(LABELS), dtype=np.uint8)
_EDGE_CLASS[LABELS['nose']] = LABELS['skin']


def default_line_width(size: int) -> float:
    """1.5 px at 128, scaled with the resolution (thinner lines made the sketch AE collapse)."""
    return 1.5 * size / 128


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or \
            not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f'synthetic faces: size must be an int in [{MIN_SIZE}, {MAX_SIZE}], '
                         f'got {size!r}')
    return int(size)


# ---------------------------------------------------------------------- rasterisation
def _px(pts: np.ndarray, scale: int) -> np.ndarray:
    """Image units -> cv2 fixed-point pixel coordinates (pixel i covers [i, i + 1))."""
    return np.round((np.asarray(pts) * scale - 0.5) * (1 << _SHIFT)).astype(np.int32)


def _fill(polys, scale: int, aa: bool) -> np.ndarray:
    m = np.zeros((scale, scale), np.uint8)
    for p in polys:
        cv2.fillPoly(m, [_px(p, scale)], 255, cv2.LINE_AA if aa else cv2.LINE_8, _SHIFT)
    return m


def _draw_strokes(canvas: np.ndarray, strokes, scale: int, width_px: float) -> None:
    for s in strokes:
        pts = [_px(s.points, scale)]
        if s.filled:
            cv2.fillPoly(canvas, pts, 255, cv2.LINE_AA, _SHIFT)
        else:
            cv2.polylines(canvas, pts, s.closed, 255, max(1, int(round(width_px * s.width))),
                          cv2.LINE_AA, _SHIFT)


def _region_masks(shapes: FaceShapes, scale: int, aa: bool) -> dict[str, np.ndarray]:
    """Mask of every region at ``scale`` (bool if not aa, float 0..1 if aa), clips applied."""
    masks: dict[str, np.ndarray] = {}
    for r in shapes.regions:
        m = _fill(r.polygons, scale, aa)
        m = m.astype(np.float32) / 255 if aa else m > 0
        if r.clip is not None:
            m = m * masks[r.clip] if aa else m & masks[r.clip]
        masks[r.name] = m
    return masks


def _paint_labels(regions: list[Region], masks: dict[str, np.ndarray], scale: int) -> np.ndarray:
    lab = np.zeros((scale, scale), np.uint8)
    for r in regions:
        lab[masks[r.name]] = r.label
    return lab


# ---------------------------------------------------------------------- L(g), S(g)
def render_labels(geometry: Geometry, size: int, shapes: FaceShapes | None = None
                  ) -> np.ndarray:
    """The label map L(g): uint8 (size, size), values in ``LABELS``."""
    size = _check_size(size)
    shapes = shapes or face_shapes(geometry)
    return _paint_labels(shapes.regions, _region_masks(shapes, size, aa=False), size)


def _edges(lab: np.ndarray) -> np.ndarray:
    """Pixels on both sides of every drawn label boundary (``_EDGE_CLASS`` merges the others)."""
    cls = _EDGE_CLASS[lab]
    out = np.zeros(lab.shape, bool)
    e = cls[:, :-1] != cls[:, 1:]
    out[:, :-1] |= e
    out[:, 1:] |= e
    e = cls[:-1, :] != cls[1:, :]
    out[:-1, :] |= e
    out[1:, :] |= e
    return out


def render_sketch(geometry: Geometry, size: int, line_width: float | None = None,
                  shapes: FaceShapes | None = None) -> np.ndarray:
    """The sketch S(g): uint8 (size, size), black (0) anti-aliased lines on white (255)."""
    size = _check_size(size)
    w = default_line_width(size) if line_width is None else float(line_width)
    if not 0.5 <= w <= size / 16:
        raise ValueError(f'synthetic faces: line_width must be in [0.5, {size / 16}] px at '
                         f'size {size}, got {line_width!r}')
    shapes = shapes or face_shapes(geometry)
    ss = int(min(4, max(2, np.ceil(6 / w))))        # finer grid: line widths to 1/ss px
    big = size * ss
    lab = _paint_labels(shapes.regions, _region_masks(shapes, big, aa=False), big)
    dist = cv2.distanceTransform((~_edges(lab)).astype(np.uint8), cv2.DIST_L2,
                                 cv2.DIST_MASK_5)
    ink = np.clip(w * ss / 2 - dist, 0, 1).astype(np.float32)
    groups: dict[tuple[int, ...], list[Stroke]] = {}
    for s in shapes.strokes:
        groups.setdefault(tuple(s.within), []).append(s)
    for within, strokes in groups.items():
        canvas = np.zeros((big, big), np.uint8)
        _draw_strokes(canvas, strokes, big, w * ss)
        m = canvas.astype(np.float32) / 255
        if within:
            m *= np.isin(lab, within)
        np.maximum(ink, m, out=ink)
    ink = cv2.resize(ink, (size, size), interpolation=cv2.INTER_AREA)
    return np.clip(255.0 * (1.0 - ink) + 0.5, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------- P(g, a)
def _over(img: np.ndarray, col, alpha: np.ndarray) -> None:
    """img <- img + alpha (col - img), in place."""
    img += (np.asarray(col, np.float32) - img) * alpha[..., None]


def _line_mask(points_list, size: int, width_px: float, closed=False) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    cv2.polylines(m, [_px(p, size) for p in points_list], closed, 255,
                  max(1, int(round(width_px))), cv2.LINE_AA, _SHIFT)
    return m.astype(np.float32) / 255


def _gauss(xx, yy, cx, cy, sigma) -> np.ndarray:
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma ** 2)).astype(np.float32)


def render_photo(geometry: Geometry, appearance: Appearance, size: int,
                 shapes: FaceShapes | None = None, label: np.ndarray | None = None
                 ) -> np.ndarray:
    """The photo P(g, a): uint8 (size, size, 3) RGB."""
    size = _check_size(size)
    g, a = geometry, appearance
    shapes = shapes or face_shapes(g)
    if label is None:
        label = render_labels(g, size, shapes)
    m = _region_masks(shapes, size, aa=True)
    anchors = shapes.anchors
    yy, xx = (np.mgrid[0:size, 0:size].astype(np.float32) + 0.5) / size
    lx, ly = a.light_x, a.light_y

    # background: a two-colour diagonal gradient
    t = np.clip((xx + yy) / 2, 0, 1)[..., None]
    img = (1 - t) * colour(a, 'bg') + t * colour(a, 'bg2')

    # hair: shaded by the light, a shine band near the top of the head
    hc, hr = anchors['hair_centre'], anchors['hair_radii']
    dxh, dyh = (xx - hc[0]) / hr[0], (yy - hc[1]) / hr[1]
    rho_h = np.sqrt(dxh ** 2 + dyh ** 2)
    hair_shade = 1 - a.shading * (0.5 + 0.5 * np.clip(lx * dxh + ly * dyh, -1, 1)) * 0.8
    shine = a.hair_shine * np.exp(-((rho_h - 0.72) / 0.09) ** 2) * (dyh < 0)
    hair = np.clip(colour(a, 'hair') * hair_shade[..., None] + shine[..., None] * 0.6, 0, 1)
    _over(img, hair, m['hair'])

    # skin: shading (rim darkening + directional light), parametric texture, blush
    hd, hrad = anchors['head'], anchors['head_radii']
    dx, dy = (xx - hd[0]) / hrad[0], (yy - hd[1]) / (0.5 * hrad[1])
    rho2 = np.clip(dx ** 2 + dy ** 2, 0, 1.5)
    shade = 1 - a.shading * (0.45 * rho2 ** 2 + 0.35 * np.clip(lx * dx + ly * dy, -1.5, 1.5))
    ca, sa = np.cos(a.texture_angle), np.sin(a.texture_angle)
    u, v = xx * ca + yy * sa, -xx * sa + yy * ca
    texture = 1 + a.texture_amp * (np.sin(2 * np.pi * a.texture_freq * u + a.texture_phase1)
                                   * np.sin(2 * np.pi * 1.7 * a.texture_freq * v
                                            + a.texture_phase2))
    skin = colour(a, 'skin') * (shade * texture)[..., None]
    blush = sum(_gauss(xx, yy, c[0], c[1], 0.045) for c in anchors['cheeks']) * a.blush
    skin = np.clip(skin + (np.array([0.85, 0.30, 0.35], np.float32) - skin) * blush[..., None],
                   0, 1)
    _over(img, skin * 0.80, m['neck'])
    _over(img, skin * 0.92, m['ears'])
    _over(img, skin, m['face'])
    # nose: darker sides, highlight on the tip
    nt = anchors['nose_tip']
    nose = skin * (0.93 + 0.12 * _gauss(xx, yy, nt[0], nt[1], 0.02))[..., None]
    soft = cv2.GaussianBlur(m['nose'], (0, 0), 0.012 * size) * m['face']
    _over(img, np.clip(nose, 0, 1), soft)

    _over(img, colour(a, 'brow'), 0.92 * m['brows'])

    # eyes
    ew = m['eye_whites']
    _over(img, colour(a, 'sclera'), ew)
    ir = float(anchors['iris_radius'][0])
    r_iris = np.min([np.sqrt((xx - c[0]) ** 2 + (yy - c[1]) ** 2)
                     for c in anchors['iris_centres']], axis=0) / ir
    iris = colour(a, 'iris') * np.clip(1.15 - 0.55 * r_iris ** 3, 0.3, 1.2)[..., None]
    _over(img, np.clip(iris, 0, 1), m['irises'])
    pupils = _fill([s.points for s in shapes.strokes if s.name.startswith('pupil')], size, True)
    _over(img, (0.03, 0.03, 0.04), pupils.astype(np.float32) / 255 * m['irises'])
    for c in anchors['iris_centres']:
        cl = _gauss(xx, yy, c[0] - 0.35 * ir * lx, c[1] + 0.35 * ir * ly, 0.18 * ir)
        _over(img, (1.0, 1.0, 1.0), 0.9 * cl * ew)
    lash = colour(a, 'brow') * (1 - a.lash) * 0.6
    _over(img, lash, _line_mask(anchors['lash_lines'], size, 0.009 * size))
    _over(img, skin * 0.72, 0.6 * _line_mask(anchors['creases'], size, 0.004 * size))

    # nose strokes: nostrils dark, alae shaded
    nostrils = _fill([s.points for s in shapes.strokes if s.name.startswith('nostril')],
                     size, True)
    _over(img, skin * 0.35, nostrils.astype(np.float32) / 255)
    alae = [s.points for s in shapes.strokes if s.name.startswith('ala')]
    _over(img, skin * 0.75, 0.5 * _line_mask(alae, size, 0.006 * size))

    # lips: upper darker, lower with a highlight, dark mouth line
    lip = colour(a, 'lip')
    upper, lower = shapes.region('lips').polygons
    ll = anchors['lower_lip_centre']
    lower_col = np.clip(lip * (1 + 0.35 * _gauss(xx, yy, ll[0], ll[1], 0.012))[..., None], 0, 1)
    _over(img, lip * 0.85, _fill([upper], size, True).astype(np.float32) / 255)
    _over(img, lower_col, _fill([lower], size, True).astype(np.float32) / 255)
    _over(img, lip * 0.35, _line_mask([anchors['mouth_line']], size, 0.006 * size))

    # fringe over the forehead, strands in the visible hair
    _over(img, hair, m['fringe'])
    strands = [s.points for s in shapes.strokes if s.name.startswith(('strand', 'parting'))]
    visible_hair = (label == LABELS['hair']).astype(np.float32)
    _over(img, hair * 0.7, 0.6 * _line_mask(strands, size, 0.005 * size) * visible_hair)
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


def render_face(geometry: Geometry, appearance: Appearance, size: int = 128,
                line_width: float | None = None) -> dict[str, np.ndarray]:
    """Render P(g, a), S(g) and L(g) at ``size`` (64..512).

    Returns ``dict(photo=uint8 (size, size, 3) RGB, sketch=uint8 (size, size), label=uint8
    (size, size))``; ``line_width`` in px, default 1.5 px at 128 scaled with ``size``.
    """
    if not isinstance(geometry, Geometry) or not isinstance(appearance, Appearance):
        raise TypeError('render_face(geometry, appearance): expected a Geometry and an '
                        f'Appearance, got {type(geometry).__name__}, {type(appearance).__name__}')
    size = _check_size(size)
    shapes = face_shapes(geometry)
    label = render_labels(geometry, size, shapes)
    return dict(photo=render_photo(geometry, appearance, size, shapes, label),
                sketch=render_sketch(geometry, size, line_width, shapes),
                label=label)


def colorize_labels(label: np.ndarray) -> np.ndarray:
    """An RGB picture of a label map (``LABEL_PALETTE``)."""
    return LABEL_PALETTE[np.asarray(label)]
