"""Projection of hand-drawn sketches in the editing path: FaceEditor(refine_sketch=...) and
tools/edit.py --refine-sketch."""
import numpy as np
import pytest
import torch
from conftest import REPO, run_tool
from inference_helpers import write_tiny_export

from facedisentangle.apis import FaceEditor
from facedisentangle.inference.sketch_bank import save_bank
from facedisentangle.inference.sketch_refiner import SketchRefiner
from facedisentangle.registry import MODELS
from facedisentangle.utils.setup_env import register_all_modules

EMB = dict(drawing_encoder=dict(channels=[4, 8], latent_dim=8),
           drawing_decoder=dict(channels=[8, 4, 4], latent_dim=8))
COMPONENTS = ('bg', 'eye1', 'eye2', 'nose', 'mouth')


def embedding(seed=0):
    register_all_modules()
    torch.manual_seed(seed)
    return MODELS.build(dict(
        type='SketchEmbedding', layout=dict(resolution=64),
        drawing_encoder=dict(type='DrawingEncoder', init_type='xavier', init_gain=1.0,
                             **EMB['drawing_encoder']),
        drawing_decoder=dict(type='DrawingDecoder', init_type='xavier', init_gain=1.0,
                             **EMB['drawing_decoder']))).eval()


@pytest.fixture(scope='module')
def export(tmp_path_factory):
    return write_tiny_export(tmp_path_factory.mktemp('refine') / 'tiny.pth')


@pytest.fixture(scope='module')
def sketch():
    rng = np.random.default_rng(0)
    s = np.full((64, 64, 3), 255, np.uint8)
    s[rng.random((64, 64)) < 0.1] = 0
    return s


@pytest.fixture(scope='module')
def photo():
    return np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def banks(n=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {c: torch.randn(n, 8, generator=g) for c in COMPONENTS}


def test_refine_changes_only_the_projected_components(export, sketch, photo):
    emb = embedding()
    editor = FaceEditor.from_checkpoint(export, precision='float32',
                                        sketch_refiner=None)
    plain = editor.sketch_to_face(sketch, photo)
    with pytest.raises(ValueError, match='needs a sketch embedding'):
        editor.sketch_to_face(sketch, photo, refine_sketch=0.5)
    editor.sketch_refiner = SketchRefiner(emb, banks(), k=5)
    assert np.array_equal(editor.sketch_to_face(sketch, photo, refine_sketch=0.0), plain)
    eyes = editor.sketch_to_face(sketch, photo, refine_sketch=dict(eye1=1.0))
    assert not np.array_equal(eyes, plain)
    # by hand: eye1's code from the sketch whose eye1 box is the decoded projection
    x = torch.from_numpy(sketch).permute(2, 0, 1)[None].float() / 127.5 - 1
    crop = emb.refine_crops(x, editor.sketch_refiner.banks, dict(eye1=1.0), k=5)['eye1']
    m = editor.model
    codes = m.encode_geometry(x, 'sketch')
    xx = x.clone()
    bx, by, s = m.layout.box('eye1')
    xx[..., by:by + s, bx:bx + s] = crop
    codes['eye1'] = m.encode_geometry(xx, 'sketch', ['eye1'])['eye1']
    want = m.compose(codes, m.encode_appearance(torch.from_numpy(photo).permute(2, 0, 1)[None]
                                                .float() / 127.5 - 1))
    want = ((want[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    assert np.abs(eyes.astype(int) - want).max() <= 1
    # strength and K reach the projection
    assert not np.array_equal(editor.sketch_to_face(sketch, photo, refine_sketch=0.5),
                              editor.sketch_to_face(sketch, photo, refine_sketch=1.0))
    assert not np.array_equal(editor.sketch_to_face(sketch, photo, refine_sketch=1.0, refine_k=2),
                              editor.sketch_to_face(sketch, photo, refine_sketch=1.0, refine_k=9))


def test_refine_errors_are_named(export, sketch, photo):
    editor = FaceEditor.from_checkpoint(export, precision='float32',
                                        sketch_refiner=SketchRefiner(embedding(), banks(), k=5))
    with pytest.raises(ValueError, match=r"refine_sketch\['nose'\] must be a number in \[0, 1\]"):
        editor.sketch_to_face(sketch, photo, refine_sketch=dict(nose=1.5))
    with pytest.raises(ValueError, match="unknown component.*'ear'"):
        editor.sketch_to_face(sketch, photo, refine_sketch=dict(ear=1.0))
    with pytest.raises(ValueError, match='applies to sketches'):
        editor.swap(photo, photo, refine_sketch=0.5)
    with pytest.raises(ValueError, match=r'refine K must be an int in \[1, 20\]'):
        editor.sketch_to_face(sketch, photo, refine_sketch=0.5, refine_k=21)
    with pytest.raises(ValueError, match='8-d'):
        SketchRefiner(embedding(), {'eye1': torch.zeros(5, 3)})


def write_embedding(tmp_path):
    emb = embedding()
    ckpt = tmp_path / 'emb' / 'iter_1.pth'
    ckpt.parent.mkdir()
    torch.save({'state_dict': emb.state_dict()}, ckpt)
    for c, b in banks().items():
        save_bank(ckpt.parent / 'sketch_bank' / f'{c}.h5', b.numpy(), c)
    cfg = tmp_path / 'emb.py'
    cfg.write_text(
        f"_base_ = ['{REPO}/configs/deepfaceediting/sketch-embedding_synthetic-128.py']\n"
        "model = dict(layout=dict(resolution=64), "
        f"drawing_encoder=dict(init_type='xavier', init_gain=1.0, **{EMB['drawing_encoder']!r}), "
        f"drawing_decoder=dict(init_type='xavier', init_gain=1.0, "
        f"**{EMB['drawing_decoder']!r}))\n")
    return cfg, ckpt


def test_refiner_from_files_and_the_cli(export, sketch, photo, tmp_path):
    from PIL import Image

    cfg, ckpt = write_embedding(tmp_path)
    refiner = SketchRefiner.from_files(cfg, ckpt, k=5)
    assert set(refiner.banks) == set(COMPONENTS) and refiner.k == 5
    Image.fromarray(sketch).save(tmp_path / 's.png')
    Image.fromarray(photo).save(tmp_path / 'p.png')
    base = ['tools/edit.py', 'sketch2face', '-c', str(export), '--sketch', str(tmp_path / 's.png'),
            '--appearance', str(tmp_path / 'p.png'), '--precision', 'float32']
    run_tool([*base, '-o', str(tmp_path / 'plain.png')])
    run_tool([*base, '-o', str(tmp_path / 'ref.png'), '--refine-sketch', 'eye1=1,mouth=0.5',
              '--refine-k', '5', '--sketch-embedding', str(cfg), str(ckpt)])
    editor = FaceEditor.from_checkpoint(export, precision='float32', sketch_refiner=refiner)
    want = editor.sketch_to_face(sketch, photo, refine_sketch=dict(eye1=1.0, mouth=0.5))
    got = np.asarray(Image.open(tmp_path / 'ref.png').convert('RGB'))
    assert np.abs(got.astype(int) - want).max() <= 1
    assert not np.array_equal(got, np.asarray(Image.open(tmp_path / 'plain.png').convert('RGB')))
    bad = run_tool([*base, '-o', str(tmp_path / 'x.png'), '--refine-sketch', '0.5'], check=False)
    assert bad.returncode == 2 and '--sketch-embedding' in bad.stderr
    bad = run_tool([*base, '-o', str(tmp_path / 'y.png'), '--refine-sketch', 'eye1=x'],
                   check=False)
    assert bad.returncode == 2 and 'component=number' in bad.stderr
