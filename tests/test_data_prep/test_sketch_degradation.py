"""SketchDegradation: seeded hand-drawing degradation of clean sketches."""
import cv2
import numpy as np
import pytest

from facedisentangle.data_prep.sketch_degradation import SketchDegradation, degrade_sketch
from facedisentangle.datasets.synthetic import render_sketch, sample_geometry

OFF = dict(offset=0, shift=0, drop_prob=0, break_rate=0, width_range=1, wobble=0)


@pytest.fixture(scope='module')
def sketch():
    return render_sketch(sample_geometry(3), 128)


def ink(s):
    return (255.0 - s.astype(np.float64)).sum() / 255.0


def dist_to_strokes(s):
    return cv2.distanceTransform((s >= 128).astype(np.uint8), cv2.DIST_L2, 3)


def test_seeded_and_shape(sketch):
    a, b, c = degrade_sketch(sketch, 5), degrade_sketch(sketch, 5), degrade_sketch(sketch, 6)
    assert a.dtype == np.uint8 and a.shape == sketch.shape
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, sketch)
    rgb = np.repeat(sketch[..., None], 3, 2)
    assert np.array_equal(degrade_sketch(rgb, 5), a)     # channel 0 of a 3-channel sketch


def test_all_off_redraws_the_clean_sketch(sketch):
    out = degrade_sketch(sketch, 0, **OFF)
    assert abs(ink(out) / ink(sketch) - 1) < 0.05
    assert np.abs(out.astype(int) - sketch).mean() < 8
    # every clean stroke pixel is within a pixel of a redrawn stroke
    assert (dist_to_strokes(out)[sketch < 128] <= 1.0).mean() > 0.99


def test_offsets_move_strokes_by_a_few_pixels(sketch):
    out = degrade_sketch(sketch, 1, **{**OFF, 'offset': 3.0})
    d = dist_to_strokes(out)[sketch < 128]
    assert d.max() <= 3 * np.sqrt(2) + 1.5                # never more than the offset
    assert (d > 1.0).mean() > 0.2                         # but strokes did move


def test_wobble_and_shift_are_small(sketch):
    out = degrade_sketch(sketch, 2, **{**OFF, 'wobble': 1.0, 'shift': 1.0})
    d = dist_to_strokes(out)[sketch < 128]
    assert np.median(d) <= 2.5 and (d > 0.5).mean() > 0.1


def test_dropped_and_broken_strokes_remove_ink(sketch):
    dropped = [ink(degrade_sketch(sketch, s, **{**OFF, 'drop_prob': 0.5})) for s in range(4)]
    outline = ink(degrade_sketch(sketch, 0, **{**OFF, 'drop_prob': 0.999}))
    assert outline > 0.3 * ink(sketch)                    # the long outline is never dropped
    assert ink(degrade_sketch(sketch, 0, **{**OFF, 'drop_prob': 0.999,
                                           'drop_max_fraction': 1.0})) < outline
    assert max(dropped) < ink(sketch) * 0.98 and min(dropped) > 0
    broken = degrade_sketch(sketch, 0, **{**OFF, 'break_rate': 20.0, 'gap_length': 3.0})
    n_clean = cv2.connectedComponents((sketch < 128).astype(np.uint8), connectivity=8)[0]
    n_broken = cv2.connectedComponents((broken < 128).astype(np.uint8), connectivity=8)[0]
    assert n_broken > n_clean + 5
    # nothing is dropped entirely with drop_prob just below 1: one stroke always stays
    assert ink(degrade_sketch(sketch, 0, **{**OFF, 'drop_prob': 0.999})) > 0


def test_width_range_makes_thicker_and_thinner_lines(sketch):
    ratios = [ink(degrade_sketch(sketch, s, **{**OFF, 'width_range': 2.0})) / ink(sketch)
              for s in range(8)]
    assert min(ratios) < 0.9 and max(ratios) > 1.1


def test_scale_with_resolution():
    big = render_sketch(sample_geometry(3), 256)
    out = degrade_sketch(big, 1, **{**OFF, 'offset': 3.0})    # 6 px at 256
    d = dist_to_strokes(out)[big < 128]
    assert d.max() <= 6 * np.sqrt(2) + 2.5 and (d > 2.0).mean() > 0.1


def test_blank_and_bad_input():
    blank = np.full((32, 32), 255, np.uint8)
    assert np.array_equal(degrade_sketch(blank, 0), blank)
    with pytest.raises(ValueError, match='uint8'):
        degrade_sketch(np.zeros((8, 8), np.float32))
    with pytest.raises(ValueError, match='drop_prob'):
        SketchDegradation(drop_prob=1.0)
    with pytest.raises(ValueError, match="unknown option.*'jitter'"):
        SketchDegradation.from_config(dict(jitter=2))
