"""prepare_data with a trained image-to-sketch network instead of the XDoG extraction."""
import h5py
import numpy as np
import pytest
from inference_helpers import tiny_model, write_tiny_export
from PIL import Image

from facedisentangle.apis import FaceEditor
from facedisentangle.data_prep import prepare_dataset
from facedisentangle.data_prep.sketch import build_sketch_extractor

I2S = dict(type='ImageToSketchGenerator', ngf=4, n_downsampling=2, n_blocks=1)


@pytest.fixture(scope='module')
def generator(tmp_path_factory):
    return write_tiny_export(tmp_path_factory.mktemp('i2s') / 'i2s.pth',
                             model_cfg=tiny_model(image_to_sketch=I2S))


def test_prepare_with_the_generator(generator, tmp_path):
    src = tmp_path / 'photos'
    src.mkdir()
    rng = np.random.default_rng(0)
    photos = {f'p{k}': rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for k in range(3)}
    for n, p in photos.items():
        Image.fromarray(p).save(src / f'{n}.png')
    cfg = {'type': 'generator', 'checkpoint': str(generator)}
    for workers, out in ((0, tmp_path / 'a.h5'), (2, tmp_path / 'b.h5')):
        s = prepare_dataset(src, out, progress=False, size=64, min_size=32, workers=workers,
                            sketch_config=cfg)
        assert s.complete and s.written == 3
    editor = FaceEditor.from_checkpoint(generator, precision='float32')
    with h5py.File(tmp_path / 'a.h5') as fa, h5py.File(tmp_path / 'b.h5') as fb:
        names = list(fa['names'].asstr()[:])
        np.testing.assert_array_equal(fa['sketches'][:], fb['sketches'][:])
        for i, n in enumerate(names):
            want = editor.to_sketch(photos[n], method='generator')[..., 0]
            assert np.abs(fa['sketches'][i].astype(int) - want).max() <= 1
    sk = build_sketch_extractor(cfg)
    assert sk.to_dict()['type'] == 'generator' and len(sk.to_dict()['sha256']) == 64
    with pytest.raises(ValueError, match='64 px sketches, the data set is 128 px'):
        prepare_dataset(src, tmp_path / 'c.h5', progress=False, size=128, min_size=32,
                        sketch_config=cfg)
    with pytest.raises(FileNotFoundError, match='none.pth'):
        build_sketch_extractor({'type': 'generator', 'checkpoint': str(tmp_path / 'none.pth')})
    with pytest.raises(ValueError, match='options are checkpoint'):
        build_sketch_extractor({'type': 'generator', 'ckpt': 'x'})
