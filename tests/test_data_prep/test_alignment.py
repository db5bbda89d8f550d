"""FaceAligner: dlib landmarks + the FFHQ recipe put the eyes and mouth in the layout boxes."""
import importlib.util
import sys

import cv2
import numpy as np
import pytest
from skimage import data

from facedisentangle.data_prep import alignment
from facedisentangle.data_prep.alignment import FaceAligner, FaceNotFoundError, ffhq_quad
from facedisentangle.structures.layout import ComponentLayout

HAVE_DLIB = (importlib.util.find_spec('dlib') is not None
             and importlib.util.find_spec('face_recognition_models') is not None)
needs_dlib = pytest.mark.skipif(
    not HAVE_DLIB, reason='dlib / face-recognition-models not installed (pip install -e .[align])')


def inside(p, box):
    x, y, s = box
    return x <= p[0] + 0.5 < x + s and y <= p[1] + 0.5 < y + s


def canonical_landmarks(center=(200.0, 180.0), eye_dist=60.0, angle_deg=0.0):
    """68 points: eyes as 6-point rings, mouth corners, the rest at the centre."""
    lm = np.tile(np.asarray(center, np.float64), (68, 1))
    t = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    ring = np.stack([np.cos(np.linspace(0, 2 * np.pi, 6, endpoint=False)),
                     np.sin(np.linspace(0, 2 * np.pi, 6, endpoint=False))], 1) * 5
    e = eye_dist / 2
    lm[36:42] = center + (ring + [-e, 0]) @ rot.T
    lm[42:48] = center + (ring + [e, 0]) @ rot.T
    lm[48] = center + np.array([-0.5 * e, 1.15 * eye_dist]) @ rot.T
    lm[54] = center + np.array([0.5 * e, 1.15 * eye_dist]) @ rot.T
    return lm


def test_ffhq_quad_is_an_oriented_square():
    lm = canonical_landmarks(angle_deg=25.0)
    q = ffhq_quad(lm)
    sides = [np.linalg.norm(q[(i + 1) % 4] - q[i]) for i in range(4)]
    np.testing.assert_allclose(sides, sides[0], rtol=1e-9)
    np.testing.assert_allclose(np.dot(q[1] - q[0], q[3] - q[0]), 0, atol=1e-6)
    top = q[3] - q[0]
    assert abs(np.degrees(np.arctan2(top[1], top[0])) - 25.0) < 1e-6
    with pytest.raises(ValueError, match='68'):
        ffhq_quad(lm[:5])


@pytest.mark.parametrize('size', [512, 256, 128])
def test_warp_matrix_matches_image_content(size):
    """A dot drawn at a landmark lands where the returned matrix maps the landmark."""
    lm = canonical_landmarks(center=(300.0, 260.0), eye_dist=90.0, angle_deg=-15.0)
    img = np.full((600, 640, 3), 128, np.uint8)
    eye = lm[42:48].mean(0)
    cv2.circle(img, tuple(int(round(v * 16)) for v in eye), 4 * 16, (255, 255, 255), -1,
               lineType=cv2.LINE_AA, shift=4)                   # sub-pixel centre
    a = FaceAligner(size=size)
    face = a.align_landmarks(img, lm)
    assert face.image.shape == (size, size, 3) and face.image.dtype == np.uint8
    g = face.image[..., 0].astype(np.float64) - 128
    g[g < 20] = 0
    ys, xs = np.mgrid[:size, :size]
    blob = np.array([(xs * g).sum(), (ys * g).sum()]) / g.sum()
    np.testing.assert_allclose(blob, face.eye_centres()[1], atol=0.6 * max(1, 512 / size))
    # canonical geometry: eyes level and inside their boxes, mouth inside its box
    e1, e2 = face.eye_centres()
    assert abs(e1[1] - e2[1]) < 1e-3 * size
    assert a.outside_boxes(face) == []


@needs_dlib
@pytest.mark.parametrize('size', [512, 256])
def test_astronaut_eyes_and_mouth_fall_in_the_boxes(size):
    face = FaceAligner(size=size).align(data.astronaut())
    assert face is not None
    layout = ComponentLayout(size)
    e1, e2 = face.eye_centres()
    assert inside(e1, layout.box('eye1')), (e1, layout.box('eye1'))
    assert inside(e2, layout.box('eye2')), (e2, layout.box('eye2'))
    assert inside(face.mouth_centre(), layout.box('mouth'))
    assert face.image.shape == (size, size, 3) and face.landmarks.shape == (68, 2)
    assert abs(e1[1] - e2[1]) < 0.02 * size                     # eyes level


@needs_dlib
def test_rotated_and_grayscale_photos_align_the_same():
    img = data.astronaut()
    ref = FaceAligner(size=256).align(img)
    m = cv2.getRotationMatrix2D((256, 256), 20, 1.0)
    rot = cv2.warpAffine(img, m, (512, 512), borderMode=cv2.BORDER_REFLECT)
    face = FaceAligner(size=256).align(rot)
    assert face is not None
    np.testing.assert_allclose(face.eye_centres(), ref.eye_centres(), atol=3.0)
    gray = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, 2)
    assert FaceAligner(size=256).align(gray) is not None


@needs_dlib
def test_no_face():
    a = FaceAligner(size=128)
    assert a.align(data.chelsea()) is None
    with pytest.raises(FaceNotFoundError, match='no face'):
        a.align(data.chelsea(), strict=True)


def test_bad_input_and_options():
    with pytest.raises(ValueError, match='RGB uint8'):
        FaceAligner(size=64).align_landmarks(np.zeros((8, 8), np.uint8), np.zeros((68, 2)))
    with pytest.raises(ValueError, match='select'):
        FaceAligner(select='first')
    with pytest.raises(ValueError, match='eye_scale'):
        FaceAligner.from_config(dict(eye_scale=2))
    with pytest.raises(FileNotFoundError, match='nowhere.dat'):
        alignment.find_predictor('/nowhere.dat')


def test_missing_dlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'dlib', None)       # makes `import dlib` fail
    monkeypatch.setattr(alignment, '_dlib_models', alignment._dlib_models.__wrapped__)
    with pytest.raises(ImportError, match=r'pip install -e \.\[align\]'):
        FaceAligner(size=64).detect(np.zeros((64, 64, 3), np.uint8))
