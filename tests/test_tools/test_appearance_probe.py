"""The linear probe of a stage-3 model's appearance codes (facedisentangle.cli.appearance_probe
and its command line, tools/analysis/appearance_probe.py) on a tiny model and tiny synthetic
faces with their colour factors."""
import json

import h5py
import numpy as np
import pytest
import torch
from conftest import REPO, run_tool, write_factor_faces

from facedisentangle.apis import init_model
from facedisentangle.cli import appearance_probe as probe
from facedisentangle.datasets.synthetic import (
    Appearance,
)

torch.set_num_threads(1)
STAGE3 = str(REPO / 'configs' / 'deepfaceediting' / 'stage3_local-disentanglement_synthetic-128.py')
OPTIONS = {'model.components': ['eye1', 'nose'], 'model.generator.ngf': 4,
           'model.generator.n_blocks': 1, 'model.image_encoder.ngf': 4,
           'model.image_encoder.n_blocks': 1, 'model.sketch_encoder.ngf': 4,
           'model.discriminator.ndf': 4, 'model.discriminator.n_layers': 2,
           'model.discriminator.num_D': 1}
# the same sizes as the command line's --cfg-options
CLI_OPTIONS = ["model.components=['eye1','nose']"] + [
    f'{k}={v}' for k, v in OPTIONS.items() if k != 'model.components']


@pytest.fixture(scope='module')
def faces_h5(tmp_path_factory):
    """8 train, 4 val, 4 test synthetic faces at 128 px with labels and factors."""
    return write_factor_faces(tmp_path_factory.mktemp('data') / 'synthetic-128.h5',
                              {'train': 8, 'val': 4, 'test': 4})


@pytest.fixture(scope='module')
def stage3_checkpoint(tmp_path_factory):
    """A tiny randomly initialised stage-3 checkpoint."""
    torch.manual_seed(0)
    model = init_model(STAGE3, cfg_options=OPTIONS)
    path = tmp_path_factory.mktemp('stage3') / 'iter_2.pth'
    torch.save(dict(meta=dict(iter=2), state_dict=model.state_dict()), path)
    return str(path)


def test_probe_report_rows_and_json(faces_h5, stage3_checkpoint, tmp_path):
    """8 faces fit, 4 scored; every encoder row and colour group; the JSON is the report."""
    report = probe.run(probe.parse_args([
        STAGE3, stage3_checkpoint, '--data', faces_h5, '--random-reference',
        '--supervised-steps', '2', '--out', str(tmp_path / 'probe.json'),
        '--cfg-options', *CLI_OPTIONS]))
    assert report['fit_faces'] == 8 and report['eval_faces'] == 4
    rows = ['trained', 'random', 'trained+supervised', 'random+supervised', 'region mean']
    assert report['encoders'] == rows
    # the supervised copies are copies: the checkpoint's encoder is what the probe measured
    assert report['r2']['eye1/trained/skin_r'] != report['r2']['eye1/trained+supervised/skin_r']
    for c in ('eye1', 'nose'):
        for which in rows:
            for g in probe.COLOUR_GROUPS:
                v = report['r2'][f'{c}/{which}/{g}']
                assert v is None or v <= 1.0
    assert json.load(open(tmp_path / 'probe.json'))['r2'] == report['r2']
    assert '| eye1 | random |' in probe.format_table(report)


def test_probe_command_line(faces_h5, stage3_checkpoint, tmp_path):
    out = tmp_path / 'cli.json'
    proc = run_tool(['tools/analysis/appearance_probe.py', STAGE3, stage3_checkpoint,
                     '--data', faces_h5, '--eval-split', 'val', '--out', str(out),
                     '--cfg-options', *CLI_OPTIONS])
    assert 'fitted on 8 train faces, scored on 4 val faces' in proc.stdout
    assert '| nose | trained |' in proc.stdout and f'wrote {out}' in proc.stdout
    assert json.load(open(out))['encoders'] == ['trained', 'region mean']


def test_probe_ridge_and_colour_factors(faces_h5):
    """R^2 is 1 for a colour the codes hold linearly, about 0 or below for one they do not;
    the colours are the file's stored appearance factors."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6))
    y = np.c_[x @ np.array([1.0, -2.0, 0.5, 0, 0, 0]) + 3, rng.normal(size=200)]
    r2 = probe.ridge_r2(x[:150], y[:150], x[150:], y[150:], ridge=1e-6)
    # (eval features are clipped to the fit range, so an exact linear fit loses a little)
    assert r2[0] == pytest.approx(1.0, abs=1e-2) and r2[1] < 0.1
    assert np.isnan(probe.ridge_r2(x[:150], y[:150], x[150:], np.ones((50, 2)), 1.0)).all()
    # a unit that fires on one fit face and strongly on an eval face must not wreck the fit
    x[:, 5] = 0.0
    x[3, 5], x[160, 5] = 1e-6, 50.0
    r2 = probe.ridge_r2(x[:150], y[:150], x[150:], y[150:], ridge=1e-6)
    assert r2[0] == pytest.approx(1.0, abs=1e-2) and -0.5 < r2[1] < 0.1
    photos, seeds, labels = probe.faces(faces_h5, 'val', 128, None)
    assert photos.shape == (4, 3, 128, 128) and photos.dtype == torch.uint8
    assert labels.shape == (4, 128, 128)
    colours, names = probe.appearance_colours(seeds)
    stored = h5py.File(faces_h5, 'r')['appearance'][8:12]
    fields = list(Appearance.field_names())
    assert np.allclose(colours, stored[:, [fields.index(n) for n in names]], atol=1e-6)
    with pytest.raises(ValueError, match='at least 2'):
        probe.faces(faces_h5, 'val', 128, 1)
