"""Face alignment of in-the-wild photos into the component layout (FFHQ recipe).

Detect the face and its 68 landmarks with dlib (HOG detector + the 68-point predictor of the
``face-recognition-models`` package), then cut an oriented square from the photo, as FFHQ did
(Karras et al., ``recreate_aligned_images`` of the FFHQ data set)::

    e_l, e_r   = mean(lm[36:42]), mean(lm[42:48])          eye centres (image left, right)
    e          = (e_l + e_r) / 2,    m = (lm[48] + lm[54]) / 2   (mouth corners)
    eye_to_eye = e_r - e_l,          eye_to_mouth = m - e
    x  = eye_to_eye - rot90(eye_to_mouth)   normalised, then scaled to
         max(|eye_to_eye| * eye_to_eye_scale, |eye_to_mouth| * eye_to_mouth_scale)   (2.0, 1.8)
    y  = rot90(x)
    c  = e + center_shift * eye_to_mouth                                              (0.1)
    quad = [c - x - y, c - x + y, c + x + y, c + x - y]   ->  the output square

followed by FFHQ's shrink / crop / reflect-pad-and-blur and an anti-aliased resample
(``supersample``). The quad is a similarity transform of the output square (rotation,
uniform scale, translation).

Calibration: DeepFaceEditing's networks are trained on FFHQ-aligned faces, so the defaults
are FFHQ's constants. With them a frontal face lands, at 512, with its eye centres at about
y = 240, x = 256 -+ 64 and its mouth centre at about (256, 384): inside the eye boxes
eye1 (108, 156, 128) and eye2 (255, 156, 128) and the mouth box (169, 301, 192) of docs/method.md.
``require_in_boxes`` (on by default) rejects a face whose aligned eye or mouth centre falls
outside its box of the layout (any resolution, via ``ComponentLayout``), e.g. a profile face.

dlib is imported lazily; ``pip install -e .[align]`` installs it.
"""
from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass, field

import cv2
import numpy as np

from facedisentangle.structures.layout import ComponentLayout

from .options import FromConfigMixin

#: dlib 68-point indices
EYE1_IDX = slice(36, 42)   # eye on the image's left (the subject's right eye)
EYE2_IDX = slice(42, 48)
MOUTH_LEFT, MOUTH_RIGHT = 48, 54

PREDICTOR_FILE = 'shape_predictor_68_face_landmarks.dat'
INSTALL_HINT = ('face alignment needs dlib and its 68-point landmark model: '
                'pip install -e .[align]  (installs dlib-bin and face-recognition-models)')


class FaceNotFoundError(RuntimeError):
    """No usable face in a photo; ``reason`` says why (the skip reason of the preparation)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def import_dlib():
    """Import dlib or raise an ImportError telling how to install it."""
    try:
        import dlib
    except ImportError as e:
        raise ImportError(f'{INSTALL_HINT} ({e})') from e
    return dlib


def find_predictor(path: str | os.PathLike | None = None) -> str:
    """The 68-point predictor file: ``path`` if given, else the one in face-recognition-models.

    The package is located without importing it (its ``__init__`` needs ``pkg_resources``,
    which recent setuptools no longer ship).
    """
    if path is not None:
        p = os.fspath(path)
        if not os.path.isfile(p):
            raise FileNotFoundError(f'landmark predictor {p!r} not found (expected dlib\'s '
                                    f'{PREDICTOR_FILE})')
        return p
    spec = importlib.util.find_spec('face_recognition_models')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f'{INSTALL_HINT} (package face_recognition_models not found)')
    for loc in spec.submodule_search_locations:
        p = os.path.join(loc, 'models', PREDICTOR_FILE)
        if os.path.isfile(p):
            return p
    raise FileNotFoundError(f'{PREDICTOR_FILE} is not in face_recognition_models '
                            f'({list(spec.submodule_search_locations)}); reinstall it: '
                            'pip install --force-reinstall face-recognition-models')


@functools.lru_cache(maxsize=2)
def _dlib_models(predictor_path: str):
    """dlib's face detector and 68-point predictor, loaded once per process (~1 s)."""
    dlib = import_dlib()
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(predictor_path)


@dataclass
class AlignedFace:
    """An aligned face.

    Attributes:
        image: (size, size, 3) uint8 RGB.
        landmarks: (68, 2) float32 landmarks in the aligned image (x, y; pixel centres at
            integers).
        source_landmarks: (68, 2) float32 landmarks in the input photo.
        quad: (4, 2) float32 corners of the cut square in the input photo (top-left,
            bottom-left, bottom-right, top-right).
        matrix: (2, 3) float64 affine map from input-photo to aligned-image coordinates.
        face_box: (left, top, right, bottom) of the detected face in the input photo.
        score: detector score.
    """
    image: np.ndarray
    landmarks: np.ndarray
    source_landmarks: np.ndarray
    quad: np.ndarray
    matrix: np.ndarray
    face_box: tuple[int, int, int, int]
    score: float

    def eye_centres(self) -> tuple[np.ndarray, np.ndarray]:
        return self.landmarks[EYE1_IDX].mean(0), self.landmarks[EYE2_IDX].mean(0)

    def mouth_centre(self) -> np.ndarray:
        return (self.landmarks[MOUTH_LEFT] + self.landmarks[MOUTH_RIGHT]) / 2


def ffhq_quad(lm: np.ndarray, eye_to_eye_scale: float = 2.0, eye_to_mouth_scale: float = 1.8,
              center_shift: float = 0.1) -> np.ndarray:
    """FFHQ's oriented crop square from 68 landmarks: (4, 2) corners TL, BL, BR, TR."""
    lm = np.asarray(lm, dtype=np.float64)
    if lm.shape != (68, 2):
        raise ValueError(f'ffhq_quad: expected (68, 2) landmarks, got {lm.shape}')
    eye_left = lm[EYE1_IDX].mean(0)
    eye_right = lm[EYE2_IDX].mean(0)
    eye_avg = (eye_left + eye_right) * 0.5
    eye_to_eye = eye_right - eye_left
    mouth_avg = (lm[MOUTH_LEFT] + lm[MOUTH_RIGHT]) * 0.5
    eye_to_mouth = mouth_avg - eye_avg
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * eye_to_eye_scale,
             np.hypot(*eye_to_mouth) * eye_to_mouth_scale)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * center_shift
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The affine ``a`` after ``b`` (both 2x3)."""
    a3 = np.vstack([a, [0, 0, 1]])
    b3 = np.vstack([b, [0, 0, 1]])
    return (a3 @ b3)[:2]


def _scale_matrix(k: float) -> np.ndarray:
    # pixel centres at integers: (p + 0.5) * k - 0.5
    return np.array([[k, 0, 0.5 * k - 0.5], [0, k, 0.5 * k - 0.5]], dtype=np.float64)


def _shift_matrix(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float64)


def warp_ffhq(img: np.ndarray, quad: np.ndarray, size: int, supersample: int = 4,
              enable_padding: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``quad`` out of ``img`` into a ``size`` square, FFHQ style.

    Returns the (size, size, 3) uint8 image and the 2x3 affine from ``img`` to it.
    """
    quad = np.asarray(quad, dtype=np.float64).copy()
    qsize = np.hypot(*(quad[3] - quad[0]))
    m = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float64)  # original -> current image

    # shrink (integer factor, area-averaged)
    shrink = int(np.floor(qsize / size * 0.5))
    if shrink > 1:
        h, w = img.shape[:2]
        nw, nh = int(np.rint(w / shrink)), int(np.rint(h / shrink))
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
        m = _compose(_scale_matrix(1.0 / shrink), m)
        qsize /= shrink
    quad = _apply(m, quad)

    # crop around the quad
    border = max(int(np.rint(qsize * 0.1)), 3)
    h, w = img.shape[:2]
    x0 = max(int(np.floor(quad[:, 0].min())) - border, 0)
    y0 = max(int(np.floor(quad[:, 1].min())) - border, 0)
    x1 = min(int(np.ceil(quad[:, 0].max())) + border, w)
    y1 = min(int(np.ceil(quad[:, 1].max())) + border, h)
    if x1 - x0 < w or y1 - y0 < h:
        img = img[y0:y1, x0:x1]
        m = _compose(_shift_matrix(-x0, -y0), m)
        quad = quad - [x0, y0]

    # pad: reflect, blurred towards the median the further from the photo
    h, w = img.shape[:2]
    pad = np.array([max(-int(np.floor(quad[:, 0].min())) + border, 0),
                    max(-int(np.floor(quad[:, 1].min())) + border, 0),
                    max(int(np.ceil(quad[:, 0].max())) - w + border, 0),
                    max(int(np.ceil(quad[:, 1].max())) - h + border, 0)])
    if enable_padding and pad.max() > border - 4:
        pad = np.maximum(pad, int(np.rint(qsize * 0.3)))
        imgf = np.pad(img.astype(np.float32), ((pad[1], pad[3]), (pad[0], pad[2]), (0, 0)),
                      'reflect')
        h, w = imgf.shape[:2]
        yy, xx = np.ogrid[:h, :w]
        xx = xx.astype(np.float32)
        yy = yy.astype(np.float32)
        mask = np.maximum(1.0 - np.minimum(xx / pad[0], (w - 1 - xx) / pad[2]),
                          1.0 - np.minimum(yy / pad[1], (h - 1 - yy) / pad[3]))[..., None]
        blur = qsize * 0.02
        blurred = cv2.GaussianBlur(imgf, (0, 0), sigmaX=blur, borderType=cv2.BORDER_REFLECT)
        imgf += (blurred - imgf) * np.clip(mask * 3.0 + 1.0, 0.0, 1.0)
        imgf += (np.median(imgf, axis=(0, 1)) - imgf) * np.clip(mask, 0.0, 1.0)
        img = np.clip(np.rint(imgf), 0, 255).astype(np.uint8)
        m = _compose(_shift_matrix(pad[0], pad[1]), m)
        quad = quad + pad[:2]

    # quad -> square of side t = size * supersample (similarity), then area down-sampling
    t = size * max(int(supersample), 1)
    q0, q1, q3 = quad[0], quad[1], quad[3]
    # output pixel centre (u + 0.5, v + 0.5) / t in [0, 1]^2  ->  q0 + u' (q3 - q0) + v' (q1 - q0)
    a = np.stack([(q3 - q0) / t, (q1 - q0) / t], axis=1)           # 2x2
    inv = np.concatenate([a, (q0 + a @ [0.5, 0.5])[:, None]], axis=1)  # out -> current img
    out = cv2.warpAffine(img, inv, (t, t), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REFLECT)
    fwd = cv2.invertAffineTransform(inv)
    m = _compose(fwd, m)
    if t != size:
        out = cv2.resize(out, (size, size), interpolation=cv2.INTER_AREA)
        m = _compose(_scale_matrix(size / t), m)
    return out, m


@dataclass
class FaceAligner(FromConfigMixin):
    """Detect a face with dlib and align it FFHQ-style into a ``size`` square.

    Args:
        size: output side (the layout's resolution).
        eye_to_eye_scale, eye_to_mouth_scale, center_shift: FFHQ's constants (see the module
            docstring); change them only together with the layout.
        supersample: resample at ``size * supersample`` then area-down-sample (FFHQ: 4).
        enable_padding: FFHQ's reflect-pad-and-blur outside the photo (else reflect only).
        detect_max_side: the photo is scaled down to this longer side for detection only.
        upsample: dlib detector up-samplings tried in turn until a face is found.
        select: which face when there are several: ``'score'`` (most confident) or
            ``'largest'``.
        min_score: detections below this dlib score are ignored.
        require_in_boxes: reject a face whose aligned eye/mouth centres fall outside the eye1,
            eye2 and mouth boxes of ``layout``.
        layout: the ``ComponentLayout`` (or its config dict) checked by ``require_in_boxes``;
            docs/method.md's at ``size`` by default.
        predictor_path: dlib's 68-point model; face-recognition-models' copy by default.
    """
    size: int = 512
    eye_to_eye_scale: float = 2.0
    eye_to_mouth_scale: float = 1.8
    center_shift: float = 0.1
    supersample: int = 4
    enable_padding: bool = True
    detect_max_side: int = 640
    upsample: tuple[int, ...] = (0, 1)
    select: str = 'score'
    min_score: float = 0.0
    require_in_boxes: bool = True
    layout: object = None
    predictor_path: str | None = None
    _detector: object = field(default=None, init=False, repr=False, compare=False)
    _predictor: object = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.size <= 0:
            raise ValueError(f'FaceAligner: size must be positive, got {self.size}')
        if self.select not in ('score', 'largest'):
            raise ValueError(f"FaceAligner: select must be 'score' or 'largest', got "
                             f'{self.select!r}')
        if isinstance(self.upsample, int):
            self.upsample = (self.upsample,)
        self.upsample = tuple(int(u) for u in self.upsample)
        if not isinstance(self.layout, ComponentLayout):
            from facedisentangle.structures.layout import build_layout
            self.layout = build_layout(self.layout, self.size)
        if self.layout.resolution != self.size:
            raise ValueError(f'FaceAligner: layout is for {self.layout.resolution}px, '
                             f'size is {self.size}')

    # ------------------------------------------------------------------ dlib
    def load_models(self):
        """Load dlib's detector and predictor (once per process); ImportError if missing."""
        if self._detector is None:
            self._detector, self._predictor = _dlib_models(find_predictor(self.predictor_path))
        return self._detector, self._predictor

    def detect(self, img: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
        """Faces in an RGB uint8 photo: ``[((left, top, right, bottom), score), ...]``."""
        detector, _ = self.load_models()
        h, w = img.shape[:2]
        k = min(1.0, self.detect_max_side / max(h, w))
        small = img if k == 1.0 else cv2.resize(img, (max(1, round(w * k)), max(1, round(h * k))),
                                                interpolation=cv2.INTER_AREA)
        small = np.ascontiguousarray(small)
        for up in self.upsample:
            rects, scores, _ = detector.run(small, up, 0.0)
            found = [((int(r.left() / k), int(r.top() / k), int(r.right() / k),
                       int(r.bottom() / k)), float(s))
                     for r, s in zip(rects, scores) if s >= self.min_score]
            if found:
                return found
        return []

    def landmarks(self, img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """(68, 2) float32 landmarks of the face in ``box`` (left, top, right, bottom)."""
        dlib = import_dlib()
        _, predictor = self.load_models()
        shape = predictor(np.ascontiguousarray(img), dlib.rectangle(*box))
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)

    # ------------------------------------------------------------------ align
    def align_landmarks(self, img: np.ndarray, lm: np.ndarray, face_box=(0, 0, 0, 0),
                        score: float = float('nan')) -> AlignedFace:
        """Align ``img`` given its 68 landmarks (no detection)."""
        img = _check_rgb(img)
        quad = ffhq_quad(lm, self.eye_to_eye_scale, self.eye_to_mouth_scale,
                         self.center_shift)
        out, m = warp_ffhq(img, quad, self.size, self.supersample, self.enable_padding)
        lm = np.asarray(lm, dtype=np.float64)
        return AlignedFace(image=out, landmarks=_apply(m, lm).astype(np.float32),
                           source_landmarks=lm.astype(np.float32),
                           quad=quad.astype(np.float32), matrix=m,
                           face_box=tuple(int(v) for v in face_box), score=float(score))

    def outside_boxes(self, face: AlignedFace) -> list[str]:
        """Names of the boxes (eye1, eye2, mouth) that miss their aligned landmark centre."""
        e1, e2 = face.eye_centres()
        bad = []
        for name, p in (('eye1', e1), ('eye2', e2), ('mouth', face.mouth_centre())):
            if name not in self.layout.boxes:
                continue
            x, y, s = self.layout.box(name)
            px, py = p + 0.5  # pixel i covers [i, i + 1)
            if not (x <= px < x + s and y <= py < y + s):
                bad.append(name)
        return bad

    def align(self, img: np.ndarray, strict: bool = False) -> AlignedFace | None:
        """Detect, landmark and align the face of an RGB uint8 photo.

        Returns an :class:`AlignedFace` (``.image`` is the aligned photo, ``.landmarks`` its
        68 landmarks), or None when there is no usable face; with ``strict=True`` raise
        :class:`FaceNotFoundError` saying why instead.
        """
        img = _check_rgb(img)
        try:
            faces = self.detect(img)
            if not faces:
                raise FaceNotFoundError('no face: none detected')
            key = (lambda f: f[1]) if self.select == 'score' else \
                (lambda f: (f[0][2] - f[0][0]) * (f[0][3] - f[0][1]))
            box, score = max(faces, key=key)
            face = self.align_landmarks(img, self.landmarks(img, box), box, score)
            if self.require_in_boxes:
                bad = self.outside_boxes(face)
                if bad:
                    raise FaceNotFoundError(
                        f'not frontal: aligned landmark centres outside the layout boxes {bad}')
            return face
        except FaceNotFoundError:
            if strict:
                raise
            return None


def _check_rgb(img: np.ndarray) -> np.ndarray:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 \
            or img.shape[2] != 3:
        desc = f'{img.dtype} {img.shape}' if isinstance(img, np.ndarray) else type(img).__name__
        raise ValueError(f'FaceAligner: expected an RGB uint8 (H, W, 3) image, got {desc}')
    return img
