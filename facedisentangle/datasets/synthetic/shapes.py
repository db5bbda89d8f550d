"""The shapes of a synthetic face: polygons and strokes computed from the geometry g only.

Everything is in image units (x right, y down, image = [0, 1]^2). :func:`face_shapes` returns
the regions in painting order (later ones cover earlier ones), each with its label, and the
interior strokes a sketch artist would draw (lid crease, lash line, nostrils, mouth line, hair
strands, jaw line over the neck). The renderer turns these into the label map, the sketch and
the photo; none of it depends on the appearance.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .factors import Geometry


@dataclass
class Region:
    """A filled region: ``polygons`` (each (K, 2) x, y), painted with ``label``.

    ``clip`` names an earlier region whose area bounds this one (irises inside the eye white,
    fringe inside the hair silhouette).
    """
    name: str
    label: int
    polygons: list[np.ndarray]
    clip: str | None = None


@dataclass
class Stroke:
    """An open (or ``closed``) polyline drawn in the sketch, ``width`` x the line width.

    ``within``: the stroke only shows on pixels whose label is one of these (occlusion).
    ``filled``: fill the polygon instead of stroking it (pupils, nostrils).
    """
    name: str
    points: np.ndarray
    width: float = 1.0
    within: tuple[int, ...] = ()
    closed: bool = False
    filled: bool = False


@dataclass
class FaceShapes:
    regions: list[Region] = field(default_factory=list)
    strokes: list[Stroke] = field(default_factory=list)
    # points the photo shader uses (head centre etc.), all geometry-derived
    anchors: dict[str, np.ndarray] = field(default_factory=dict)

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(f'no region {name!r}; regions are {[r.name for r in self.regions]}')


# label ids (see render.LABELS)
_BG, _HAIR, _SKIN, _BROWS, _EYE, _IRIS, _NOSE, _LIPS = range(8)


def _stack(x, y) -> np.ndarray:
    return np.stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)], axis=1)


def face_half_width_at(g: Geometry, y: np.ndarray | float) -> np.ndarray:
    """Half-width of the face outline at height ``y`` (0 outside the face)."""
    y = np.asarray(y, dtype=np.float64)
    up = g.cheek_y - g.face_top
    low = g.chin_y - g.cheek_y
    out = np.zeros_like(y)
    top = (y >= g.face_top) & (y <= g.cheek_y)
    out[top] = g.face_half_width * np.sqrt(np.clip(1 - ((g.cheek_y - y[top]) / up) ** 2, 0, 1))
    bot = (y > g.cheek_y) & (y <= g.chin_y)
    # lower half: y = cheek + low * sin(t)^(2/p), x = W cos(t)^(2/p) (1 - narrow sin(t)^2)
    s = ((y[bot] - g.cheek_y) / low) ** (g.jaw_power / 2)   # sin(t)
    c = np.sqrt(np.clip(1 - s ** 2, 0, 1))
    out[bot] = g.face_half_width * c ** (2 / g.jaw_power) * (1 - g.chin_narrow * s ** 2)
    return out


def _face_outline(g: Geometry, n: int = 64) -> np.ndarray:
    """Closed outline of the face (skin oval), clockwise from the right cheek."""
    p, w = g.jaw_power, g.face_half_width
    t = np.linspace(0, np.pi / 2, n)
    # lower right quadrant: cheek -> chin
    s, c = np.sin(t), np.cos(t)
    xr = w * c ** (2 / p) * (1 - g.chin_narrow * s ** 2)
    yr = g.cheek_y + (g.chin_y - g.cheek_y) * s ** (2 / p)
    lower = _stack(np.concatenate([g.face_cx + xr, g.face_cx - xr[::-1][1:]]),
                   np.concatenate([yr, yr[::-1][1:]]))
    a = np.linspace(np.pi, 2 * np.pi, 2 * n)[1:-1]     # upper half ellipse, left -> right
    upper = _stack(g.face_cx + w * np.cos(a), g.cheek_y + (g.cheek_y - g.face_top) * np.sin(a))
    return np.concatenate([lower, upper])


def _ellipse(cx, cy, rx, ry, n: int = 32, angle: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x, y = rx * np.cos(t), ry * np.sin(t)
    ca, sa = np.cos(angle), np.sin(angle)
    return _stack(cx + ca * x - sa * y, cy + sa * x + ca * y)


def _eye(g: Geometry, side: int):
    """Eye opening, upper lid, crease, iris and pupil of one eye (side -1 image-left, +1 right).

    Local frame: ``a`` along the eye axis towards the outer corner, ``b`` down; the axis is
    rotated so the outer corner rises by ``eye_tilt``.
    """
    ew = g.eye_half_width
    cx, cy = g.face_cx + side * g.eye_spacing, g.eye_y
    th = g.eye_tilt
    d = np.array([side * np.cos(th), -np.sin(th)])
    nrm = np.array([side * np.sin(th), np.cos(th)])

    def to_img(a, b):
        return np.array([cx, cy]) + np.outer(a, d) + np.outer(b, nrm)

    u = np.linspace(-1, 1, 25)
    # the upper lid peaks at u = eye_peak: warp u so that the bump's top moves there
    uw = np.clip(u - g.eye_peak * (1 - u ** 2), -1, 1)
    upper_b = -g.eye_upper * ew * (1 - uw ** 2) ** 0.75
    lower_b = g.eye_lower * ew * (1 - u ** 2) ** 0.9
    upper = to_img(u * ew, upper_b)
    lower = to_img(u * ew, lower_b)
    opening = np.concatenate([upper, lower[::-1][1:-1]])
    uc = np.linspace(-0.6, 0.95, 16)
    ucw = np.clip(uc - g.eye_peak * (1 - uc ** 2), -1, 1)
    crease = to_img(uc * ew, -g.eye_upper * ew * (1 - ucw ** 2) ** 0.75 - g.crease * ew
                    * (0.4 + 0.6 * (1 - uc ** 2)))
    r_iris = g.iris_radius * ew
    ic = np.array([cx + g.gaze_x * ew, cy - 0.15 * g.eye_upper * ew + 0.1 * g.eye_lower * ew])
    iris = _ellipse(ic[0], ic[1], r_iris, r_iris, 40)
    r_pupil = g.pupil_radius * r_iris
    pupil = _ellipse(ic[0], ic[1], r_pupil, r_pupil, 24)
    return dict(opening=opening, upper=upper, crease=crease, iris=iris, pupil=pupil,
                iris_centre=ic, iris_radius=r_iris, centre=np.array([cx, cy]))


def _brow(g: Geometry, side: int) -> np.ndarray:
    bx = g.face_cx + side * (g.eye_spacing + g.brow_shift)
    by = g.eye_y - g.brow_gap
    t = np.linspace(-1, 1, 21)                 # -1 inner end, +1 outer end
    x = bx + side * t * g.brow_half_length
    yc = by - g.brow_arch * (1 - t ** 2) - g.brow_tilt * t
    half = 0.5 * g.brow_thickness * (1.0 - 0.45 * (t + 1) / 2) * (1 - 0.5 * t ** 8)
    return np.concatenate([_stack(x, yc - half), _stack(x[::-1], (yc + half)[::-1])])


def _nose(g: Geometry):
    cx, top, nb = g.face_cx, g.nose_top, g.nose_bottom
    nw, br = g.nose_width, g.nose_bridge
    base = nb - 0.016
    t = np.linspace(0, 1, 16)
    xs = br + (nw - br) * t ** 2.5
    ys = top + t * (base - top)
    phi = np.linspace(np.pi, 0, 17)[1:-1]
    bottom = _stack(cx + nw * np.cos(phi), base + (nb - base) * np.sin(phi))
    region = np.concatenate([_stack(cx - xs, ys), bottom, _stack(cx + xs[::-1], ys[::-1])])
    strokes = []
    for side in (-1, 1):
        # ala: a C-shaped arc around the nostril wing
        a = np.linspace(-0.75 * np.pi, 0.55 * np.pi, 14)
        r = 0.38 * nw
        ax, ay = cx + side * 0.70 * nw, nb - 0.017
        strokes.append(Stroke(f'ala{side}', _stack(ax + side * r * np.cos(a),
                                                   ay + r * np.sin(a) * 0.9)))
        nx, ny = cx + side * 0.36 * nw, nb - 0.005
        strokes.append(Stroke(f'nostril{side}', _ellipse(
            nx, ny, g.nostril * nw * 0.36, g.nostril * nw * 0.15, 16, angle=side * 0.25),
            filled=True))
    tip = np.linspace(-1, 1, 9)
    strokes.append(Stroke('nose_tip', _stack(cx + 0.22 * nw * tip,
                                             nb - 0.002 + 0.004 * (1 - tip ** 2))))
    return region, strokes


def _mouth(g: Geometry):
    xn = np.linspace(-1, 1, 33)
    x = g.face_cx + g.mouth_half_width * xn
    line = g.mouth_y - g.smile * xn ** 2
    bulge = (1 - xn ** 2) ** 0.6
    top = line - g.upper_lip * bulge + g.cupid_bow * np.exp(-(xn / 0.16) ** 2)
    bottom = line + g.lower_lip * bulge
    upper = np.concatenate([_stack(x, top), _stack(x[::-1][1:-1], line[::-1][1:-1])])
    lower = np.concatenate([_stack(x, line), _stack(x[::-1][1:-1], bottom[::-1][1:-1])])
    return upper, lower, _stack(x, line)


def _hair(g: Geometry, brow_top: float):
    cx, w = g.face_cx, g.face_half_width
    rx = w + g.hair_volume
    yc = g.cheek_y - 0.04
    a = np.linspace(np.pi, 2 * np.pi, 48)
    arc = _stack(cx + rx * np.cos(a), yc + (yc - g.hair_top) * np.sin(a))
    y_end = max(g.hair_length, yc + 0.02)
    s = np.linspace(0, 1, 12)[1:]
    side_x = rx + g.hair_flare * s
    side_y = yc + (y_end - yc) * s
    inner = g.neck_half_width * 0.8
    silhouette = np.concatenate([
        _stack(cx - side_x[::-1], side_y[::-1]), arc, _stack(cx + side_x, side_y),
        _stack([cx + inner, cx - inner], [y_end, y_end])])
    xs = np.linspace(-1.3, 1.3, 53)
    hl = (g.hairline_y + g.hairline_curve * xs ** 2 + g.hairline_tilt * xs
          + g.fringe_wave * np.sin(g.fringe_freq * np.pi * xs))
    hl = np.minimum(hl, brow_top - 0.015)
    fringe = np.concatenate([_stack(cx + w * xs, hl),
                             _stack([cx + 1.5 * w, cx - 1.5 * w], [-0.1, -0.1])])
    # strands: from the parting down and outwards, curled by strand_curl
    px, py = cx + g.parting, g.hair_top + 0.012
    strokes = [Stroke('parting', _stack([px, px + 0.3 * g.parting],
                                        [py, min(hl.min(), py + 0.12)]), within=(_HAIR,))]
    q = np.linspace(0, 1, 12)[:, None]
    for side in (-1, 1):
        for k in range(1, 4):
            p0 = np.array([px + side * 0.015 * k, py + 0.004 * k])
            p2 = np.array([cx + side * (rx + g.hair_flare * 0.3 - 0.018 * k),
                           yc + 0.05 + 0.06 * k])
            p1 = (p0 + p2) / 2 + np.array([side * 0.06 * (1 + g.strand_curl),
                                           -0.05 * (1 - g.strand_curl)])
            curve = (1 - q) ** 2 * p0 + 2 * (1 - q) * q * p1 + q ** 2 * p2
            strokes.append(Stroke(f'strand{side}{k}', curve, width=0.7, within=(_HAIR,)))
    return silhouette, fringe, strokes


def face_shapes(g: Geometry) -> FaceShapes:
    """Regions (painting order) and strokes of the face with geometry ``g``."""
    cx = g.face_cx
    outline = _face_outline(g)
    neck = _stack([cx - g.neck_half_width, cx + g.neck_half_width,
                   cx + 1.15 * g.neck_half_width, cx - 1.15 * g.neck_half_width],
                  [g.cheek_y + 0.1, g.cheek_y + 0.1, 1.02, 1.02])
    ears = []
    for side in (-1, 1):
        ex = cx + side * (float(face_half_width_at(g, np.array([g.ear_y]))[0])
                          - 0.25 * g.ear_size)
        ear = _ellipse(ex, g.ear_y, 0.55 * g.ear_size, g.ear_size, 32)
        ears.append(ear)
    eyes = {side: _eye(g, side) for side in (-1, 1)}
    brows = [_brow(g, side) for side in (-1, 1)]
    brow_top = min(float(b[:, 1].min()) for b in brows)
    nose, nose_strokes = _nose(g)
    upper_lip, lower_lip, mouth_line = _mouth(g)
    silhouette, fringe, hair_strokes = _hair(g, brow_top)

    shapes = FaceShapes()
    shapes.regions = [
        Region('hair', _HAIR, [silhouette]),
        Region('neck', _SKIN, [neck]),
        Region('ears', _SKIN, ears),
        Region('face', _SKIN, [outline]),
        Region('nose', _NOSE, [nose]),
        Region('brows', _BROWS, brows),
        Region('eye_whites', _EYE, [eyes[s]['opening'] for s in (-1, 1)]),
        Region('irises', _IRIS, [eyes[s]['iris'] for s in (-1, 1)], clip='eye_whites'),
        Region('lips', _LIPS, [upper_lip, lower_lip]),
        Region('fringe', _HAIR, [fringe], clip='hair'),
    ]
    strokes = [Stroke('jaw', outline, within=(_SKIN,), closed=True)]
    for s in (-1, 1):
        strokes.append(Stroke(f'lash{s}', eyes[s]['upper'], width=1.3))
        strokes.append(Stroke(f'crease{s}', eyes[s]['crease'], width=0.7, within=(_SKIN,)))
        strokes.append(Stroke(f'pupil{s}', eyes[s]['pupil'], within=(_IRIS,), filled=True))
    strokes += nose_strokes
    strokes.append(Stroke('mouth_line', mouth_line, width=1.2))
    strokes += hair_strokes
    shapes.strokes = strokes
    shapes.anchors = dict(
        head=np.array([cx, g.cheek_y]),
        head_radii=np.array([g.face_half_width, g.chin_y - g.face_top]),
        hair_centre=np.array([cx, g.cheek_y - 0.04]),
        hair_radii=np.array([g.face_half_width + g.hair_volume, g.cheek_y - 0.04 - g.hair_top]),
        cheeks=np.array([[cx - 0.55 * g.face_half_width, g.nose_bottom - 0.02],
                         [cx + 0.55 * g.face_half_width, g.nose_bottom - 0.02]]),
        iris_centres=np.array([eyes[s]['iris_centre'] for s in (-1, 1)]),
        iris_radius=np.array([eyes[-1]['iris_radius']]),
        lash_lines=np.array([eyes[s]['upper'] for s in (-1, 1)]),
        creases=np.array([eyes[s]['crease'] for s in (-1, 1)]),
        mouth_line=mouth_line,
        lower_lip_centre=np.array([cx, g.mouth_y + 0.5 * g.lower_lip]),
        nose_tip=np.array([cx, g.nose_bottom - 0.02]),
    )
    return shapes
