"""The two independent factors of a synthetic face: geometry g and appearance a.

A synthetic face is ``P(g, a)`` (photo), ``S(g)`` (sketch) and ``L(g)`` (region labels). The
geometry is drawn from a geometry seed, the appearance from an appearance seed, independently,
so any pair ``(g_i, a_j)`` is a valid face and its photo is the exact ground truth of the swap
"geometry of face i with the appearance of face j".

Every factor is a flat list of floats (``to_vector`` / ``from_vector``): the vector determines
the rendering completely (no hidden random state), so a model's codes can be compared with it.
Geometry is in image units (x right, y down, the image is [0, 1]^2), independent of resolution;
the ranges keep eyes and brows inside docs/method.md's eye boxes, the nose inside the visible part
of the nose box and the lips inside the mouth box.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

_RGB = ('r', 'g', 'b')


_SKIN_TONES = np.array([(0.98, 0.87, 0.78), (0.94, 0.76, 0.63), (0.80, 0.59, 0.45),
                        (0.60, 0.41, 0.29), (0.38, 0.25, 0.17)])
_HAIR = np.array([(0.06, 0.05, 0.05), (0.22, 0.14, 0.09), (0.42, 0.28, 0.16),
                  (0.80, 0.66, 0.40), (0.55, 0.22, 0.10), (0.70, 0.70, 0.70),
                  (0.92, 0.85, 0.70), (0.35, 0.30, 0.55)])
_IRIS = np.array([(0.25, 0.14, 0.07), (0.45, 0.28, 0.12), (0.45, 0.42, 0.18),
                  (0.20, 0.45, 0.25), (0.25, 0.45, 0.75), (0.50, 0.55, 0.60),
                  (0.12, 0.25, 0.55)])
_LIPS = np.array([(0.85, 0.50, 0.50), (0.75, 0.30, 0.32), (0.60, 0.15, 0.20),
                  (0.70, 0.40, 0.35), (0.50, 0.28, 0.25), (0.90, 0.35, 0.55)])


class _Factor:
    """Shared vector conversion of the factor dataclasses (all fields are floats)."""

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def dim(cls) -> int:
        return len(dataclasses.fields(cls))

    def to_vector(self) -> np.ndarray:
        return np.array([getattr(self, n) for n in self.field_names()], dtype=np.float32)

    @classmethod
    def from_vector(cls, v):
        v = np.asarray(v, dtype=np.float64).reshape(-1)
        if v.shape[0] != cls.dim():
            raise ValueError(f'{cls.__name__}.from_vector: expected {cls.dim()} values, got '
                             f'{v.shape[0]}')
        return cls(**{n: float(x) for n, x in zip(cls.field_names(), v)})

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def _p(low: float, high: float):
    """A geometry parameter drawn uniformly from [low, high]."""
    return field(metadata={'range': (low, high)})


@dataclass(frozen=True)
class Geometry(_Factor):
    """Geometry g of a synthetic face: it alone determines the sketch S(g) and labels L(g).

    Image units (x right, y down, the image is [0, 1]^2); each field is drawn uniformly from
    the range written next to it (``GEOMETRY_RANGES``).
    """
    # face outline (skin): mid-line, half-width at the cheekbones, top, chin, jaw shape
    face_cx: float = _p(0.485, 0.500)
    face_half_width: float = _p(0.250, 0.320)
    face_top: float = _p(0.12, 0.17)
    cheek_y: float = _p(0.40, 0.52)
    chin_y: float = _p(0.84, 0.93)
    jaw_power: float = _p(1.8, 3.6)  # 2 = round jaw, larger = squarer
    chin_narrow: float = _p(0.0, 0.45)  # narrows the lower face towards the chin
    ear_y: float = _p(0.45, 0.52)
    ear_size: float = _p(0.045, 0.065)
    neck_half_width: float = _p(0.11, 0.15)
    # eyes (both eyes mirror each other)
    eye_y: float = _p(0.415, 0.445)
    eye_spacing: float = _p(0.135, 0.150)  # half the distance between eye centres
    eye_half_width: float = _p(0.045, 0.060)
    eye_upper: float = _p(0.35, 0.62)  # upper lid height / eye half-width
    eye_lower: float = _p(0.22, 0.40)  # lower lid depth / eye half-width
    eye_tilt: float = _p(-0.10, 0.16)  # radians, outer corner up
    eye_peak: float = _p(-0.25, 0.25)  # where the upper lid is highest (- inner, + outer)
    iris_radius: float = _p(0.42, 0.56)  # / eye half-width
    pupil_radius: float = _p(0.35, 0.50)  # / iris radius
    gaze_x: float = _p(-0.25, 0.25)  # iris offset / eye half-width (image x)
    crease: float = _p(0.12, 0.35)  # lid crease height / eye half-width
    # brows
    brow_gap: float = _p(0.045, 0.062)  # eye centre to brow middle
    brow_half_length: float = _p(0.045, 0.063)
    brow_thickness: float = _p(0.008, 0.016)
    brow_arch: float = _p(0.0, 0.014)
    brow_tilt: float = _p(-0.010, 0.010)  # outer end up (+)
    brow_shift: float = _p(0.0, 0.010)  # brow centre moved outwards
    # nose
    nose_top: float = _p(0.475, 0.50)
    nose_bottom: float = _p(0.595, 0.655)
    nose_bridge: float = _p(0.012, 0.022)  # half-width at the top
    nose_width: float = _p(0.038, 0.058)  # half-width of the alae
    nostril: float = _p(0.35, 0.65)  # nostril size / nose width
    # mouth
    mouth_y: float = _p(0.725, 0.785)
    mouth_half_width: float = _p(0.068, 0.098)
    upper_lip: float = _p(0.014, 0.028)
    lower_lip: float = _p(0.018, 0.034)
    smile: float = _p(-0.010, 0.016)  # corners up (+)
    cupid_bow: float = _p(0.0, 0.007)
    # hair outline
    hair_top: float = _p(0.05, 0.11)
    hair_volume: float = _p(0.015, 0.075)  # hair half-width beyond the face
    hair_length: float = _p(0.40, 0.98)  # y where the side hair ends
    hair_flare: float = _p(-0.02, 0.05)  # side hair moves outwards (+) towards its end
    hairline_y: float = _p(0.175, 0.245)
    hairline_curve: float = _p(0.0, 0.06)  # hairline drops at the temples
    hairline_tilt: float = _p(-0.05, 0.05)  # side-swept fringe
    fringe_wave: float = _p(0.0, 0.012)  # amplitude of the fringe's wave
    fringe_freq: float = _p(2.0, 6.0)  # waves across the forehead
    parting: float = _p(-0.08, 0.08)  # parting x relative to the mid-line
    strand_curl: float = _p(-0.6, 0.6)


GEOMETRY_RANGES: dict[str, tuple[float, float]] = {
    f.name: f.metadata['range'] for f in dataclasses.fields(Geometry)}


@dataclass(frozen=True)
class Appearance(_Factor):
    """Appearance a of a synthetic face: colours, light, shading and skin texture.

    Colours are 0..1 RGB. The skin texture is the fixed pattern family
    ``T(u, v) = 1 + amp * sin(2 pi f u + phase1) * sin(2 pi 1.7 f v + phase2)``, (u, v) the
    image coordinates rotated by ``texture_angle``: five numbers fix it completely, so a 64-d
    appearance code can carry it (a random-field texture could not be). Never changes S or L.
    """
    skin_r: float
    skin_g: float
    skin_b: float
    hair_r: float
    hair_g: float
    hair_b: float
    brow_r: float
    brow_g: float
    brow_b: float
    iris_r: float
    iris_g: float
    iris_b: float
    lip_r: float
    lip_g: float
    lip_b: float
    sclera_r: float
    sclera_g: float
    sclera_b: float
    bg_r: float              # background colour at the top-left
    bg_g: float
    bg_b: float
    bg2_r: float             # background colour at the bottom-right
    bg2_g: float
    bg2_b: float
    light_x: float           # light direction, -1 (from the left) .. 1
    light_y: float           # -1 (from above) .. 0.3
    shading: float           # strength of the shading of skin and hair
    blush: float             # cheek redness
    hair_shine: float        # hair highlight strength
    lash: float              # darkness of the lash line
    texture_amp: float
    texture_freq: float      # cycles per image width
    texture_angle: float
    texture_phase1: float
    texture_phase2: float


def derive_seed(seed: int, index: int, stream: int) -> int:
    """A 62-bit seed for sample ``index`` of a data set seeded ``seed`` (stream 0 geometry,
    1 appearance): independent streams, stable across platforms and numpy versions."""
    hi, lo = np.random.SeedSequence([int(seed), int(index), int(stream)]).generate_state(
        2, dtype=np.uint32)
    return int((int(hi) & 0x3FFFFFFF) << 32 | int(lo))


def _check_seed(seed, what: str) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f'{what}: seed must be a non-negative int, got {seed!r}')
    return int(seed)


def sample_geometry(seed: int) -> Geometry:
    """The geometry drawn from ``seed`` (uniform in ``GEOMETRY_RANGES``)."""
    rng = np.random.default_rng(_check_seed(seed, 'sample_geometry'))
    u = rng.random(len(GEOMETRY_RANGES))
    return Geometry(**{k: float(lo + (hi - lo) * x)
                       for (k, (lo, hi)), x in zip(GEOMETRY_RANGES.items(), u)})


def _palette(rng: np.random.Generator, palette: np.ndarray, jitter: float) -> np.ndarray:
    a, b = rng.integers(len(palette), size=2)
    t = rng.random() * 0.5
    c = (1 - t) * palette[a] + t * palette[b] + rng.uniform(-jitter, jitter, 3)
    return np.clip(c, 0.02, 0.98)


def sample_appearance(seed: int) -> Appearance:
    """The appearance drawn from ``seed``: palette colours mixed and jittered, shading, texture."""
    rng = np.random.default_rng(_check_seed(seed, 'sample_appearance'))
    tone = rng.random() * (len(_SKIN_TONES) - 1)
    i = int(tone)
    skin = _SKIN_TONES[i] + (tone - i) * (_SKIN_TONES[min(i + 1, len(_SKIN_TONES) - 1)]
                                          - _SKIN_TONES[i])
    skin = np.clip(skin + rng.uniform(-0.03, 0.03, 3), 0.05, 0.98)
    hair = _palette(rng, _HAIR, 0.05)
    brow = np.clip(hair * rng.uniform(0.55, 0.95) + rng.uniform(-0.04, 0.04, 3), 0.02, 0.9)
    iris = _palette(rng, _IRIS, 0.06)
    lip = _palette(rng, _LIPS, 0.06)
    sclera = np.clip(np.array([0.95, 0.93, 0.90]) + rng.uniform(-0.06, 0.03, 3), 0.7, 1.0)
    bg = rng.random(3) * 0.9 + 0.05
    bg = np.clip(bg + (bg.mean() - bg) * rng.random() * 0.7, 0.02, 0.98)
    bg2 = np.clip(bg + rng.uniform(-0.25, 0.25, 3), 0.02, 0.98)
    scalars = dict(
        light_x=rng.uniform(-1, 1), light_y=rng.uniform(-1, 0.3), shading=rng.uniform(0.1, 0.45),
        blush=rng.uniform(0, 0.35), hair_shine=rng.uniform(0, 0.35), lash=rng.uniform(0.4, 1.0),
        texture_amp=rng.uniform(0.0, 0.05), texture_freq=rng.uniform(12.0, 30.0),
        texture_angle=rng.uniform(0, np.pi), texture_phase1=rng.uniform(0, 2 * np.pi),
        texture_phase2=rng.uniform(0, 2 * np.pi))
    values = {}
    for name, c in (('skin', skin), ('hair', hair), ('brow', brow), ('iris', iris),
                    ('lip', lip), ('sclera', sclera), ('bg', bg), ('bg2', bg2)):
        values.update({f'{name}_{ch}': float(v) for ch, v in zip(_RGB, c)})
    values.update({k: float(v) for k, v in scalars.items()})
    return Appearance(**values)


def colour(app: Appearance, name: str) -> np.ndarray:
    """``(r, g, b)`` of colour ``name`` ('skin', 'hair', ...) of an appearance."""
    return np.array([getattr(app, f'{name}_{c}') for c in _RGB], dtype=np.float32)


GEOMETRY_DIM = Geometry.dim()
APPEARANCE_DIM = Appearance.dim()
