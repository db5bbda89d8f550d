"""The synthetic model shipped in the package: present, loads without executing anything,
and edits the bundled faces usably right after the install (no training)."""
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO
from PIL import Image

from facedisentangle.model_zoo import MODELS, default_checkpoint


def _truth(geometry_seed: int, appearance_seed: int) -> np.ndarray:
    from facedisentangle.datasets.synthetic import render_face, sample_appearance, sample_geometry

    out = render_face(sample_geometry(geometry_seed), sample_appearance(appearance_seed), 128)
    return out['photo'].astype(np.float32)


def test_shipped_file_is_small_and_loads_with_weights_only():
    path = Path(default_checkpoint())
    # 27.2 M parameters (ngf 16 at 128): 4-bit encoders and sketch decoders, 8-bit generators
    # and G_fuse, bfloat16 1-D weights: 21.9 MB (bfloat16 throughout would be 54.6 MB)
    assert path.stat().st_size < 22 * 10**6
    state = torch.load(path, map_location='cpu', weights_only=True)  # no pickle code runs
    assert isinstance(state, dict) and state['format_version'] == 2
    bits = {e['bits'] for e in state['quantized'].values()}
    assert bits == {4, 8}
    assert all(not k.startswith(('generators.', 'fusion_generator.')) for k, e in
               state['quantized'].items() if e['bits'] == 4)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(KeyError, match='shipped'):
        default_checkpoint('nope')
    assert set(MODELS) == {'synthetic-128'}


def test_shipped_model_swaps_the_demo_faces_towards_the_truth():
    """Geometry of face k with the appearance of face k+1 (demo/README.md's seeds) is closer to
    the rendered truth P(g_k, a_k+1) than either input image is."""
    from facedisentangle.apis import FaceEditor

    editor = FaceEditor.from_pretrained()
    faces = [np.asarray(Image.open(REPO / 'demo' / 'faces' / f'face{k}.png').convert('RGB'))
             for k in range(4)]
    for k in range(3):
        swap = np.asarray(editor.swap(faces[k], faces[k + 1]), dtype=np.float32)
        truth = _truth(900001 + k, 910002 + k)
        geometry = faces[k].astype(np.float32)
        # closer to the truth than the geometry image, and its mean colour is the appearance
        # source's (the truth's), not the geometry source's
        assert np.abs(swap - truth).mean() < np.abs(geometry - truth).mean()
        colour = lambda x: x.reshape(-1, 3).mean(0)  # noqa: E731
        assert (np.abs(colour(swap) - colour(truth)).mean()
                < np.abs(colour(geometry) - colour(truth)).mean())
