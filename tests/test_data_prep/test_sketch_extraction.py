"""SketchExtractor: a black-on-white line drawing from a photo (XDoG)."""
import cv2
import numpy as np
import pytest
from skimage import data

from facedisentangle.data_prep.sketch import SketchExtractor, build_sketch_extractor


@pytest.fixture(scope='module')
def photo():
    return cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)


def square_image(size=128, lo=40, hi=230):
    img = np.full((size, size, 3), hi, np.uint8)
    img[size // 4:3 * size // 4, size // 4:3 * size // 4] = lo
    return img


def test_output_is_uint8_mostly_white(photo):
    sk = SketchExtractor()(photo)
    assert sk.dtype == np.uint8 and sk.shape == photo.shape[:2]
    dark = (sk < 128).mean()
    assert 0.005 < dark < 0.2, dark          # strokes exist, but the page is mostly white
    assert (sk == 255).mean() > 0.7
    assert sk.min() == 0                     # black strokes


def test_strokes_follow_strong_edges():
    img = square_image()
    sk = SketchExtractor()(img)
    edge = np.zeros(img.shape[:2], np.uint8)
    cv2.rectangle(edge, (32, 32), (95, 95), 1, 1)        # the square's outline
    dist = cv2.distanceTransform(1 - edge, cv2.DIST_L2, 3)
    to_stroke = cv2.distanceTransform((sk >= 128).astype(np.uint8), cv2.DIST_L2, 3)
    assert (to_stroke[edge == 1] <= 3).mean() > 0.95     # a stroke all along the outline
    assert (sk[dist > 8] == 255).all()                   # nothing in flat regions


def test_strokes_lie_on_photo_edges(photo):
    sk = SketchExtractor()(photo)
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mag = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    strong = (mag > np.percentile(mag, 80)).astype(np.uint8)
    near_strong = cv2.dilate(strong, np.ones((7, 7), np.uint8)).astype(bool)
    strokes = sk < 128
    assert near_strong[strokes].mean() > 0.9


def test_deterministic(photo):
    a = SketchExtractor()(photo)
    b = SketchExtractor()(photo.copy())
    c = build_sketch_extractor(None)(photo)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize('change', [dict(sigma=2.0), dict(epsilon=-0.05), dict(thin=True),
                                    dict(min_component_area=400), dict(normalize=0),
                                    dict(bilateral_sigma=0), dict(phi=5.0)])
def test_parameters_change_the_sketch(photo, change):
    base = SketchExtractor()(photo)
    other = SketchExtractor(**change)(photo)
    assert (base != other).mean() > 0.002, change


def test_parameter_directions(photo):
    dark = {k: (SketchExtractor(**kw)(photo) < 128).sum() for k, kw in {
        'base': {}, 'strict': dict(epsilon=-0.05), 'clean': dict(min_component_area=400),
        'no_clean': dict(min_component_area=0)}.items()}
    assert dark['strict'] < dark['base']           # more negative threshold: fewer strokes
    assert dark['clean'] < dark['base'] < dark['no_clean']


def test_thinning_gives_uniform_thin_lines(photo):
    thick = SketchExtractor(sigma=1.5, thin=False)(photo) < 128
    thin1 = SketchExtractor(sigma=1.5, thin=True, line_width=1)(photo) < 128
    thin3 = SketchExtractor(sigma=1.5, thin=True, line_width=6)(photo) < 128
    assert thin1.sum() < thick.sum()
    assert thin1.sum() < thin3.sum()


def test_speckles_removed():
    rng = np.random.default_rng(0)
    img = np.full((128, 128), 220, np.uint8)
    ys, xs = rng.integers(4, 124, (2, 60))
    img[ys, xs] = 0                                  # isolated dark pixels: noise
    img[60:68, 10:118] = 0                           # one long bar: a real stroke
    kept = SketchExtractor(min_component_area=0, bilateral_sigma=0)(img) < 128
    clean = SketchExtractor(min_component_area=60, bilateral_sigma=0)(img) < 128
    n_kept = cv2.connectedComponents(kept.astype(np.uint8), connectivity=8)[0]
    n_clean = cv2.connectedComponents(clean.astype(np.uint8), connectivity=8)[0]
    assert n_kept > 20 and n_clean <= 3
    assert clean[56:72, 20:100].any()                # the bar survives


def test_gray_input_and_scale_invariance(photo):
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(SketchExtractor()(gray), SketchExtractor()(photo))
    # lengths are given at reference_size: the stroke density barely depends on resolution
    big = cv2.resize(photo, (512, 512), interpolation=cv2.INTER_CUBIC)
    d_small = (SketchExtractor()(photo) < 128).mean()
    d_big = (SketchExtractor()(big) < 128).mean()
    assert 0.5 < d_big / d_small < 2.0


def test_bad_config_and_input_are_named():
    with pytest.raises(ValueError, match='sigmaa'):
        SketchExtractor.from_config(dict(sigmaa=1.0))
    with pytest.raises(ValueError, match='sigma'):
        SketchExtractor(sigma=-1.0)
    with pytest.raises(ValueError, match='uint8'):
        SketchExtractor()(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match='shape'):
        SketchExtractor()(np.zeros((8, 8, 4), np.uint8))
    cfg = SketchExtractor(sigma=1.5).to_dict()
    assert SketchExtractor.from_config(cfg) == SketchExtractor(sigma=1.5)
