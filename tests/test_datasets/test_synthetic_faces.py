"""Synthetic faces: determinism, factor independence, exact swaps, components inside boxes."""
import cv2
import numpy as np
import pytest

from facedisentangle.datasets.synthetic import (
    APPEARANCE_DIM,
    GEOMETRY_DIM,
    GEOMETRY_RANGES,
    LABELS,
    Appearance,
    Geometry,
    SyntheticFaces,
    default_line_width,
    render_face,
    render_labels,
    render_sketch,
    sample_appearance,
    sample_geometry,
)
from facedisentangle.structures.layout import ComponentLayout


def _inside(mask: np.ndarray, box) -> bool:
    x, y, s = box
    ok = np.zeros_like(mask)
    ok[y:y + s, x:x + s] = True
    return mask.any() and not (mask & ~ok).any()


def test_sampling_and_rendering_are_deterministic():
    assert sample_geometry(7) == sample_geometry(7)
    assert sample_appearance(7) == sample_appearance(7)
    assert sample_geometry(7) != sample_geometry(8)
    a, b = SyntheticFaces(64, seed=3)[2], SyntheticFaces(64, seed=3)[2]
    for k in ('photo', 'sketch', 'label', 'geometry', 'appearance'):
        np.testing.assert_array_equal(a[k], b[k])
    assert (a['name'], a['geometry_seed'], a['appearance_seed']) == \
        (b['name'], b['geometry_seed'], b['appearance_seed'])
    c = SyntheticFaces(64, seed=4)[2]
    assert c['geometry_seed'] != a['geometry_seed'] and not np.array_equal(c['photo'], a['photo'])
    # geometry and appearance streams of one sample are different seeds
    assert a['geometry_seed'] != a['appearance_seed']


def test_sample_contents_and_dtypes():
    s = SyntheticFaces(64, seed=0)[0]
    assert s['photo'].shape == (64, 64, 3) and s['photo'].dtype == np.uint8
    assert s['sketch'].shape == (64, 64) and s['sketch'].dtype == np.uint8
    assert s['label'].shape == (64, 64) and s['label'].dtype == np.uint8
    assert s['geometry'].shape == (GEOMETRY_DIM,) and s['geometry'].dtype == np.float32
    assert s['appearance'].shape == (APPEARANCE_DIM,)
    assert isinstance(s['geometry_seed'], int) and 0 <= s['geometry_seed'] < 2 ** 63
    assert set(GEOMETRY_RANGES) == set(Geometry.field_names())
    g = sample_geometry(0)
    for name, (lo, hi) in GEOMETRY_RANGES.items():
        assert lo <= getattr(g, name) <= hi, name


def test_every_label_present_and_sketch_is_black_lines_on_white():
    out = render_face(sample_geometry(1), sample_appearance(1), 128)
    assert set(np.unique(out['label'])) == set(LABELS.values())
    sk = out['sketch']
    assert np.median(sk) == 255                   # white paper
    assert sk.min() < 30                          # lines reach black
    grey = ((sk > 20) & (sk < 235)).sum()
    assert grey > 100                              # anti-aliased edges


def test_changing_appearance_never_changes_sketch_or_label():
    g = sample_geometry(11)
    outs = [render_face(g, sample_appearance(s), 96) for s in (1, 2, 3)]
    for o in outs[1:]:
        np.testing.assert_array_equal(o['sketch'], outs[0]['sketch'])
        np.testing.assert_array_equal(o['label'], outs[0]['label'])
        assert np.abs(o['photo'].astype(int) - outs[0]['photo']).mean() > 5


def test_changing_geometry_changes_sketch_and_label():
    a = sample_appearance(5)
    o1, o2 = render_face(sample_geometry(1), a, 96), render_face(sample_geometry(2), a, 96)
    assert (o1['sketch'] != o2['sketch']).mean() > 0.01
    assert (o1['label'] != o2['label']).mean() > 0.01
    # one geometry parameter alone moves the sketch too
    g = sample_geometry(1)
    moved = render_sketch(g.replace(mouth_y=g.mouth_y + 0.02), 96)
    assert (moved != o1['sketch']).any()


def test_swap_is_the_exact_ground_truth():
    sf = SyntheticFaces(64, seed=9)
    sw = sf.swap(0, 1)
    ref = render_face(sf.geometry(0), sf.appearance(1), 64)
    for k in ('photo', 'sketch', 'label'):
        np.testing.assert_array_equal(sw[k], ref[k])
    np.testing.assert_array_equal(sw['sketch'], sf[0]['sketch'])
    np.testing.assert_array_equal(sf.swap(1, 1)['photo'], sf[1]['photo'])
    assert not np.array_equal(sw['photo'], sf[0]['photo'])


def test_vectors_determine_the_rendering():
    g, a = sample_geometry(4), sample_appearance(4)
    g2, a2 = Geometry.from_vector(g.to_vector()), Appearance.from_vector(a.to_vector())
    np.testing.assert_array_equal(g2.to_vector(), g.to_vector())
    p1 = render_face(g, a, 64)['photo'].astype(int)
    p2 = render_face(g2, a2, 64)['photo'].astype(int)
    assert np.abs(p1 - p2).max() <= 3                # float32 rounding of the vectors only
    with pytest.raises(ValueError, match=f'expected {GEOMETRY_DIM} values'):
        Geometry.from_vector(np.zeros(3))


def test_texture_is_set_by_appearance_parameters():
    g, a = sample_geometry(2), sample_appearance(2).replace(texture_amp=0.05)
    label = render_labels(g, 128)
    skin = label == LABELS['skin']
    near_skin = cv2.dilate(np.isin(label, [LABELS['skin'], LABELS['nose']]).astype(np.uint8),
                           np.ones((5, 5), np.uint8)) > 0
    p1 = render_face(g, a, 128)['photo'].astype(int)
    p0 = render_face(g, a.replace(texture_amp=0.0), 128)['photo'].astype(int)
    pp = render_face(g, a.replace(texture_phase1=a.texture_phase1 + 1.0), 128)['photo']
    assert np.abs(p1 - p0)[skin].mean() > 1.0
    assert np.abs(p1 - pp.astype(int))[skin].mean() > 1.0
    assert np.abs(p1 - p0)[~near_skin].max() == 0      # texture stays on the skin


def test_small_details_differ_between_appearance_seeds():
    g = sample_geometry(0)
    label = render_labels(g, 128)
    photos = [render_face(g, sample_appearance(s), 128)['photo'] for s in range(6)]
    for region in ('irises', 'lips', 'hair', 'brows', 'background'):
        mask = label == LABELS[region]
        means = [p[mask].mean(0) for p in photos]
        diffs = [np.abs(means[i] - means[i + 1]).max() for i in range(5)]
        assert min(diffs) > 6, (region, diffs)        # > 6/255 in some channel, every pair


@pytest.mark.parametrize('size,seeds', [(128, range(40)), (512, range(4)), (64, range(10))])
def test_components_inside_their_boxes(size, seeds):
    layout = ComponentLayout(size)
    cols = np.arange(size)[None, :]
    x_nose, y_nose, s_nose = layout.box('nose')
    visible_nose = (x_nose, y_nose, s_nose)
    for seed in seeds:
        lab = render_labels(sample_geometry(seed), size)
        eyes = np.isin(lab, [LABELS['eye_whites'], LABELS['irises'], LABELS['brows']])
        assert _inside(eyes & (cols < size // 2), layout.box('eye1')), seed
        assert _inside(eyes & (cols >= size // 2), layout.box('eye2')), seed
        nose = lab == LABELS['nose']
        assert _inside(nose, visible_nose), seed
        # ... and above the rows the fusion trims off the nose box
        assert not nose[y_nose + s_nose - layout.trim['nose']:].any(), seed
        assert _inside(lab == LABELS['lips'], layout.box('mouth')), seed


def test_line_width_scales_with_resolution_and_is_a_parameter():
    assert default_line_width(128) == 1.5
    assert default_line_width(512) == 6.0
    g = sample_geometry(3)
    ink = {w: (255 - render_sketch(g, 128, line_width=w).astype(float)).sum() / 255
           for w in (1.5, 3.0)}
    assert 1.6 < ink[3.0] / ink[1.5] < 2.1, ink
    # the default at 256 draws the same picture as 128, twice as large
    ink128 = (255 - render_sketch(g, 128).astype(float)).sum() / 255
    ink256 = (255 - render_sketch(g, 256).astype(float)).sum() / 255
    assert 3.5 < ink256 / ink128 < 4.5


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='size must be an int in'):
        render_face(sample_geometry(0), sample_appearance(0), 600)
    with pytest.raises(ValueError, match='size must be an int in'):
        SyntheticFaces(32)
    with pytest.raises(ValueError, match='seed must be a non-negative int'):
        sample_geometry(-1)
    with pytest.raises(ValueError, match='line_width'):
        render_sketch(sample_geometry(0), 64, line_width=0.1)
    with pytest.raises(TypeError, match='Geometry and an Appearance'):
        render_face(sample_appearance(0), sample_geometry(0), 64)


def _tool():
    from facedisentangle.cli import synthetic_faces

    return synthetic_faces


def test_writer_command_writes_resumes_and_refuses_other_arguments(tmp_path, capsys):
    from facedisentangle.datasets import FaceH5Dataset, read_h5_info
    tool, out = _tool(), str(tmp_path / 's.h5')
    args = ['--num', '5', '--size', '64', '--out', out, '--seed', '2', '--val', '1', '--test',
            '1', '--workers', '2', '--chunk', '2']
    assert tool.main(args) == 0
    info = read_h5_info(out)
    assert info['complete'] and info['split_counts'] == {'train': 3, 'val': 1, 'test': 1}
    assert info['factors'] == dict(appearance=APPEARANCE_DIM, appearance_seed=0,
                                   geometry=GEOMETRY_DIM, geometry_seed=0)
    assert info['has_labels'] and info['layout'] == ComponentLayout(64).to_dict()
    ds = FaceH5Dataset(out, split='val', load_labels=True, resolution=64)
    ref = SyntheticFaces(64, seed=2)[3]
    np.testing.assert_array_equal(ds[0]['photo'].permute(1, 2, 0).numpy(), ref['photo'])
    np.testing.assert_array_equal(ds[0]['label'].numpy(), ref['label'])
    assert ds[0]['appearance_seed'] == ref['appearance_seed']
    capsys.readouterr()
    # a complete file is checked read-only: a data set (or a training run) may hold it open
    assert tool.main(args) == 0
    assert 'nothing to do' in capsys.readouterr().out
    ds.close()
    assert tool.main(args) == 0
    assert 'nothing to do' in capsys.readouterr().out
    assert tool.main(args[:1] + ['6'] + args[2:]) == 2
    assert 'written with other arguments' in capsys.readouterr().err


def test_preview_pictures(tmp_path):
    from facedisentangle.datasets.synthetic.preview import layout_figure, pairs_figure
    img = pairs_figure(64, seed=0, n=2)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[1] > 6 * 64
    assert layout_figure(128).shape == (128, 128, 3)
    assert _tool().main(['--size', '64', '--preview', str(tmp_path / 'p.png')]) == 0
    assert cv2.imread(str(tmp_path / 'p.png')).shape[2] == 3
