"""Sketch banks: building them from a face file (API and tool), reading ours, .npy and the
official .bin banks."""
import hashlib
import json

import h5py
import numpy as np
import pytest
import torch
from conftest import REPO, run_tool

from facedisentangle.apis.sketch_bank import build_sketch_banks, load_sketch_embedding
from facedisentangle.inference.sketch_bank import (
    SketchBankError,
    find_banks,
    load_bank,
    save_bank,
)
from facedisentangle.registry import MODELS
from facedisentangle.utils.setup_env import register_all_modules

TINY = dict(drawing_encoder=dict(channels=[4, 8, 8], latent_dim=8),
            drawing_decoder=dict(channels=[8, 8, 4, 4], latent_dim=8))


def tiny_model():
    register_all_modules()
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='SketchEmbedding', layout=dict(resolution=128),
        drawing_encoder=dict(type='DrawingEncoder', **TINY['drawing_encoder']),
        drawing_decoder=dict(type='DrawingDecoder', **TINY['drawing_decoder']))).eval()


def test_build_banks_encodes_every_training_sketch(tiny_synthetic_h5, tmp_path):
    model = tiny_model()
    files = build_sketch_banks(model, tiny_synthetic_h5, tmp_path / 'bank', batch_size=5)
    assert set(files) == {'bg', 'eye1', 'eye2', 'nose', 'mouth'}
    with h5py.File(tiny_synthetic_h5, 'r') as f:
        rows = np.nonzero(f['split'][()] == 0)[0]
        sk = f['sketches'][rows]
        names = [n.decode() for n in f['names'][rows]]
    x = torch.from_numpy(sk).float().div(127.5).sub(1)[:, None]
    for c in files:
        bank = load_bank(files[c], latent_dim=8, component=c)
        assert bank.vectors.shape == (16, 8) and bank.component == c
        with torch.no_grad():
            assert np.allclose(bank.vectors, model.encode(x, c).numpy(), atol=1e-5)
        assert bank.meta['names'] == names
        ds = bank.meta['dataset']
        assert ds['split'] == 'train' and ds['num_samples'] == 16 and ds['resolution'] == 128
        assert ds['sketches_sha1'] == hashlib.sha1(np.ascontiguousarray(sk).tobytes()).hexdigest()
    summary = json.loads((tmp_path / 'bank' / 'bank.json').read_text())
    assert summary['dataset']['num_samples'] == 16
    with pytest.raises(ValueError, match="no split 'training'"):
        build_sketch_banks(model, tiny_synthetic_h5, tmp_path / 'b2', split='training')


def test_tool_writes_banks_with_the_checkpoint_identity(tiny_synthetic_h5, tmp_path):
    model = tiny_model()
    ckpt = tmp_path / 'emb.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        f"_base_ = ['{REPO}/configs/deepfaceediting/sketch-embedding_synthetic-128.py']\n"
        f"model = dict(drawing_encoder={TINY['drawing_encoder']!r}, "
        f"drawing_decoder={TINY['drawing_decoder']!r})\n")
    run_tool(['tools/build_sketch_bank.py', str(cfg), str(ckpt), '--data', tiny_synthetic_h5,
              '--split', 'val'])
    bank = load_bank(tmp_path / 'sketch_bank' / 'nose.h5', latent_dim=8)
    assert len(bank) == 4 and bank.meta['dataset']['split'] == 'val'
    assert bank.meta['checkpoint']['sha256'] == hashlib.sha256(ckpt.read_bytes()).hexdigest()
    bad = run_tool(['tools/build_sketch_bank.py', str(cfg), str(tmp_path / 'none.pth'),
                    '--data', tiny_synthetic_h5], check=False)
    assert bad.returncode == 2 and 'none.pth' in bad.stderr


def test_load_sketch_embedding_checks_the_model_and_the_checkpoint(tmp_path):
    """Through init_model: the weights round trip, in eval mode; a config of another model, a
    checkpoint lacking weights and one of another size are refused, naming the file."""
    model = tiny_model()
    ckpt = tmp_path / 'emb.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        f"_base_ = ['{REPO}/configs/deepfaceediting/sketch-embedding_synthetic-128.py']\n"
        f"model = dict(drawing_encoder={TINY['drawing_encoder']!r}, "
        f"drawing_decoder={TINY['drawing_decoder']!r})\n")
    loaded = load_sketch_embedding(cfg, ckpt)
    assert not loaded.training
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in loaded.state_dict().items())
    stage1 = REPO / 'configs' / 'deepfaceediting' / 'stage1_sketch-ae_synthetic-128.py'
    with pytest.raises(ValueError, match='the model is SketchAutoEncoder, a sketch bank needs'):
        load_sketch_embedding(stage1, ckpt)
    partial = tmp_path / 'partial.pth'
    torch.save({'state_dict': {k: v for k, v in model.state_dict().items()
                               if not k.startswith('drawing_decoders.nose.')}}, partial)
    with pytest.raises(KeyError, match=r"partial.pth' lacks .*drawing_decoders\.nose"):
        load_sketch_embedding(cfg, partial)
    wide = tmp_path / 'wide.py'
    wide.write_text(cfg.read_text().replace('latent_dim=8', 'latent_dim=16')
                    .replace("'latent_dim': 8", "'latent_dim': 16"))
    with pytest.raises(RuntimeError, match="emb.pth' does not match the SketchEmbedding"):
        load_sketch_embedding(wide, ckpt)


def test_official_bin_npy_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    vec = rng.standard_normal((7, 512)).astype(np.float32)
    vec.tofile(tmp_path / 'female_nose_feature.bin')
    bank = load_bank(tmp_path / 'female_nose_feature.bin', latent_dim=512)
    assert np.array_equal(bank.vectors, vec) and bank.component == 'nose'
    assert bank.meta['official'] == {'set': 'female'}
    with pytest.raises(SketchBankError, match='not a whole number of float32 rows of 500'):
        load_bank(tmp_path / 'female_nose_feature.bin', latent_dim=500)
    with pytest.raises(SketchBankError, match='give latent_dim'):
        load_bank(tmp_path / 'female_nose_feature.bin')
    with pytest.raises(SketchBankError, match="bank of 'nose', not 'mouth'"):
        load_bank(tmp_path / 'female_nose_feature.bin', latent_dim=512, component='mouth')
    np.save(tmp_path / 'eye1.npy', vec[:, :8])
    assert load_bank(tmp_path / 'eye1.npy', latent_dim=8).vectors.shape == (7, 8)
    with pytest.raises(SketchBankError, match='8 dimensions, the sketch embedding has 16'):
        load_bank(tmp_path / 'eye1.npy', latent_dim=16)
    save_bank(tmp_path / 'nose.h5', vec[:, :8], 'nose')
    assert find_banks(tmp_path, ['nose', 'eye1']) == {'nose': tmp_path / 'nose.h5',
                                                      'eye1': tmp_path / 'eye1.npy'}
    with pytest.raises(FileNotFoundError, match="no bank for 'mouth'"):
        find_banks(tmp_path, ['mouth'])
    with pytest.raises(SketchBankError, match='NaN'):
        save_bank(tmp_path / 'x.h5', np.full((2, 3), np.nan), 'x')
    (tmp_path / 'junk.h5').write_bytes(b'not hdf5')
    with pytest.raises(SketchBankError, match='junk.h5'):
        load_bank(tmp_path / 'junk.h5')
