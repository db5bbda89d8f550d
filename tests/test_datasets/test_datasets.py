"""HDF5 face files (writer, resume, checks), FaceH5Dataset and FaceFolderDataset."""
import json
import os

import cv2
import h5py
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from facedisentangle.datasets import (
    FaceFolderDataset,
    FaceH5Dataset,
    H5FaceWriter,
    H5FormatError,
    read_h5_info,
)
from facedisentangle.datasets.h5_format import split_rows
from facedisentangle.datasets.synthetic import (
    APPEARANCE_DIM,
    GEOMETRY_DIM,
    SyntheticFaces,
)
from facedisentangle.registry import DATASETS
from facedisentangle.structures.layout import ComponentLayout

RES = 64
FACTORS = dict(geometry_seed=0, appearance_seed=0, geometry=GEOMETRY_DIM,
               appearance=APPEARANCE_DIM)
SPLITS = ['train', 'train', 'train', 'val', 'test', 'train']


@pytest.fixture(scope='module')
def faces():
    sf = SyntheticFaces(RES, seed=1)
    return [sf[i] for i in range(len(SPLITS))]


def _append(w, s, split):
    w.append(s['photo'], s['sketch'], s['name'], split, label=s['label'],
             **{k: s[k] for k in FACTORS})


def _write(path, faces, n=None, finalize=True, **kw):
    kw.setdefault('chunk_flush', 4)
    with H5FaceWriter(path, RES, layout=ComponentLayout(RES), source='test', with_labels=True,
                      factor_dims=FACTORS, **kw) as w:
        for s, split in list(zip(faces, SPLITS))[:n]:
            _append(w, s, split)
        if finalize:
            w.finalize()
    return str(path)


@pytest.fixture(scope='module')
def h5file(tmp_path_factory, faces):
    return _write(tmp_path_factory.mktemp('h5') / 'faces.h5', faces)


@pytest.fixture
def scope():
    DefaultScope.get_instance(f'test-datasets-{os.getpid()}-{id(object())}',
                              scope_name='facedisentangle')


# ---------------------------------------------------------------------- format and writer
def test_info_and_layout(h5file):
    info = read_h5_info(h5file)
    assert info['format'] == 'facedisentangle-faces' and info['version'] == 1
    assert info['resolution'] == RES and info['complete'] and info['source'] == 'test'
    assert info['num_samples'] == 6
    assert info['split_counts'] == {'train': 4, 'val': 1, 'test': 1}
    assert info['has_labels'] and info['factors'] == FACTORS
    assert info['layout'] == ComponentLayout(RES).to_dict()
    with h5py.File(h5file) as f:
        assert f['photos'].chunks == (1, RES, RES, 3) and f['photos'].maxshape[0] is None
        assert f['sketches'].shape == (6, RES, RES) and f['sketches'].dtype == np.uint8
        assert f['geometry_seed'].dtype == np.int64 and f['geometry'].dtype == np.float32
        assert json.loads(f.attrs['split_names']) == ['train', 'val', 'test']
        assert split_rows(f, 'train').tolist() == [0, 1, 2, 5]
        assert split_rows(f, 'test').tolist() == [4]
        with pytest.raises(ValueError, match=r"no split 'tset' \(its splits: \['train', "):
            split_rows(f, 'tset')


def test_writer_validates_samples_by_name(tmp_path, faces):
    s = faces[0]
    with H5FaceWriter(tmp_path / 'v.h5', RES, with_labels=True, factor_dims=FACTORS) as w:
        f = {k: s[k] for k in FACTORS}
        with pytest.raises(ValueError, match=r"sample 'a'.*photo has shape"):
            w.append(s['photo'][:32], s['sketch'], 'a', label=s['label'], **f)
        with pytest.raises(TypeError, match=r"sample 'b'.*sketch must be uint8"):
            w.append(s['photo'], s['sketch'].astype(np.float32), 'b', label=s['label'], **f)
        with pytest.raises(ValueError, match=r"sample 'c'.*label is missing"):
            w.append(s['photo'], s['sketch'], 'c', **f)
        with pytest.raises(ValueError, match=r"sample 'd'.*split 'dev'"):
            w.append(s['photo'], s['sketch'], 'd', 'dev', label=s['label'], **f)
        with pytest.raises(ValueError, match=r"sample 'e'.*missing \['geometry'\]"):
            w.append(s['photo'], s['sketch'], 'e', label=s['label'],
                     **{k: v for k, v in f.items() if k != 'geometry'})
        w.append(s['photo'], s['sketch'], 'ok', label=s['label'], **f)
        with pytest.raises(ValueError, match="sample 'ok' is already in the file"):
            w.append(s['photo'], s['sketch'], 'ok', label=s['label'], **f)
    assert read_h5_info(tmp_path / 'v.h5')['num_samples'] == 1


def test_writer_resumes_after_a_crash(tmp_path, faces):
    path = tmp_path / 'r.h5'
    w = H5FaceWriter(path, RES, with_labels=True, factor_dims=FACTORS, chunk_flush=2)
    for s, split in list(zip(faces, SPLITS))[:5]:
        _append(w, s, split)
    # crash: the handle goes away without flushing the buffer (sample 4 is lost)
    w._f.close()
    w._f = None
    # rows of a flush interrupted half-way are beyond num_samples
    with h5py.File(path, 'r+') as f:
        f['photos'].resize(7, axis=0)
    info = read_h5_info(path)
    assert info['num_samples'] == 4 and not info['complete']
    with pytest.raises(H5FormatError, match='incomplete'):
        FaceH5Dataset(str(path), split=None)
    with pytest.raises(H5FormatError, match=r'r\.h5: resolution is 64, expected 128'):
        H5FaceWriter(path, 128, with_labels=True, factor_dims=FACTORS)
    with pytest.raises(H5FormatError, match='with_labels=False'):
        H5FaceWriter(path, RES, factor_dims=FACTORS)
    with H5FaceWriter(path, RES, with_labels=True, factor_dims=FACTORS, chunk_flush=2) as w:
        assert w.names_done() == {s['name'] for s in faces[:4]}
        for s, split in zip(faces, SPLITS):
            if s['name'] not in w.names_done():
                _append(w, s, split)
        w.finalize()
    info = read_h5_info(path)
    assert info['num_samples'] == 6 and info['complete']
    ds = FaceH5Dataset(str(path), split=None, load_labels=True)
    assert [ds.get_data_info(i)['name'] for i in range(len(ds))] == [s['name'] for s in faces]
    np.testing.assert_array_equal(ds[5]['photo'].permute(1, 2, 0).numpy(), faces[5]['photo'])


# ---------------------------------------------------------------------- FaceH5Dataset
def test_h5_dataset_samples(h5file, faces):
    train = FaceH5Dataset(h5file, split='train', load_labels=True, resolution=RES)
    assert len(train) == 4
    s = train[3]                       # the 4th train sample is row 5
    ref = faces[5]
    assert s['index'] == 5 and s['name'] == ref['name'] and s['split'] == 'train'
    assert s['photo'].dtype == torch.uint8 and s['photo'].shape == (3, RES, RES)
    np.testing.assert_array_equal(s['photo'].permute(1, 2, 0).numpy(), ref['photo'])
    assert s['sketch'].shape == (3, RES, RES)
    for c in range(3):
        np.testing.assert_array_equal(s['sketch'][c].numpy(), ref['sketch'])
    np.testing.assert_array_equal(s['label'].numpy(), ref['label'])
    assert s['geometry_seed'] == ref['geometry_seed']
    assert s['appearance_seed'] == ref['appearance_seed']
    val = FaceH5Dataset(h5file, split='val')
    assert [val.get_data_info(i)['name'] for i in range(len(val))] == [faces[3]['name']] and 'label' not in val[0]
    assert len(FaceH5Dataset(h5file, split=None)) == 6
    assert len(FaceH5Dataset(h5file, split='train', indices=2)) == 2
    assert train.metainfo['resolution'] == RES and train.metainfo['source'] == 'test'


@pytest.mark.parametrize('num_workers', [0, 2])
def test_h5_dataset_in_runner_dataloader(h5file, faces, scope, num_workers):
    loader = Runner.build_dataloader(dict(
        batch_size=2, num_workers=num_workers, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='FaceH5Dataset', ann_file=h5file, split=None, load_labels=True,
                     resolution=RES)), seed=0)
    loader.dataset[0]                  # a handle opened in the parent before the fork
    by_name = {s['name']: s for s in faces}
    seen = []
    for batch in loader:
        assert batch['photo'].shape == (2, 3, RES, RES)
        for k, name in enumerate(batch['name']):
            ref = by_name[name]
            np.testing.assert_array_equal(batch['photo'][k].permute(1, 2, 0).numpy(),
                                          ref['photo'])
            np.testing.assert_array_equal(batch['sketch'][k, 0].numpy(), ref['sketch'])
            np.testing.assert_array_equal(batch['label'][k].numpy(), ref['label'])
            assert int(batch['geometry_seed'][k]) == ref['geometry_seed']
            seen.append(name)
    assert sorted(seen) == sorted(by_name)


def test_bad_files_are_named(tmp_path, faces, h5file):
    junk = tmp_path / 'junk.h5'
    junk.write_bytes(b'not an hdf5 file' * 64)
    with pytest.raises(H5FormatError, match=r'junk\.h5: cannot be opened as an HDF5 file'):
        FaceH5Dataset(str(junk))
    with pytest.raises(FileNotFoundError, match='nothere.h5'):
        read_h5_info(tmp_path / 'nothere.h5')
    other = tmp_path / 'other.h5'
    with h5py.File(other, 'w') as f:
        f['photos'] = np.zeros((1, 4, 4, 3), np.uint8)
    with pytest.raises(H5FormatError, match=r'other\.h5: not a facedisentangle face file'):
        read_h5_info(other)
    with pytest.raises(H5FormatError, match=r'faces\.h5: resolution is 64, expected 128'):
        FaceH5Dataset(h5file, resolution=128)
    with pytest.raises(ValueError, match="split 'dev' is not one of"):
        FaceH5Dataset(h5file, split='dev')
    only_train = _write(tmp_path / 'only_train.h5', faces[:3])
    with pytest.raises(ValueError, match=r"only_train\.h5\): split 'val' has no samples"):
        FaceH5Dataset(only_train, split='val')

    def broken(name, edit):
        path = _write(tmp_path / name, faces)
        with h5py.File(path, 'r+') as f:
            edit(f)
        return path

    missing = broken('missing.h5', lambda f: f.__delitem__('sketches'))
    with pytest.raises(H5FormatError, match=r"missing\.h5: missing dataset\(s\) \['sketches'\]"):
        FaceH5Dataset(missing)
    short = broken('short.h5', lambda f: f['photos'].resize(4, axis=0))
    with pytest.raises(H5FormatError, match=r"short\.h5: dataset 'photos' holds 4 samples, the "
                                            r'file has 6 \(truncated\)'):
        FaceH5Dataset(short)
    nolabels = broken('nolabels.h5', lambda f: f.__delitem__('labels'))
    with pytest.raises(H5FormatError, match=r"nolabels\.h5: load_labels=True.*'labels'"):
        FaceH5Dataset(nolabels, load_labels=True)

    def wrong_size(f):
        del f['sketches']
        f.create_dataset('sketches', data=np.zeros((6, RES, RES // 2), np.uint8))
    narrow = broken('narrow.h5', wrong_size)
    with pytest.raises(H5FormatError, match=r"narrow\.h5: dataset 'sketches' has sample shape"):
        FaceH5Dataset(narrow)
    noattr = broken('noattr.h5', lambda f: f.attrs.__delitem__('resolution'))
    with pytest.raises(H5FormatError, match=r"noattr\.h5: missing file attribute\(s\) "
                                            r"\['resolution'\]"):
        read_h5_info(noattr)


def test_corrupt_sample_is_named(tmp_path, faces):
    path = _write(tmp_path / 'corrupt.h5', faces)
    with h5py.File(path) as f:
        chunk = f['photos'].id.get_chunk_info(2)
    with open(path, 'r+b') as fh:
        fh.seek(chunk.byte_offset)
        fh.write(b'\xff' * chunk.size)
    ds = FaceH5Dataset(path, split=None)
    ds[1]
    with pytest.raises(H5FormatError, match=r"corrupt\.h5: cannot read sample 2 \('synth1_"
                                            r"0000002'\) from dataset 'photos'"):
        ds[2]


# ---------------------------------------------------------------------- FaceFolderDataset
def _folder(root, faces, names=('a', 'b', 'c')):
    os.makedirs(root / 'photos', exist_ok=True)
    os.makedirs(root / 'sketches', exist_ok=True)
    a, b, c = faces[:3]
    cv2.imwrite(str(root / 'photos' / f'{names[0]}.png'), a['photo'][..., ::-1])
    cv2.imwrite(str(root / 'sketches' / f'{names[0]}.png'), a['sketch'])
    # grayscale photo (jpg is lossy: use png) and an RGB sketch
    cv2.imwrite(str(root / 'photos' / f'{names[1]}.png'), b['sketch'])
    cv2.imwrite(str(root / 'sketches' / f'{names[1]}.png'),
                np.repeat(b['sketch'][..., None], 3, 2))
    # RGBA photo (opaque) and a sketch with a transparent background (strokes opaque)
    cv2.imwrite(str(root / 'photos' / f'{names[2]}.png'),
                np.concatenate([c['photo'][..., ::-1], np.full((RES, RES, 1), 255, np.uint8)], 2))
    alpha = 255 - c['sketch']
    cv2.imwrite(str(root / 'sketches' / f'{names[2]}.png'),
                np.stack([np.zeros_like(alpha)] * 3 + [alpha], 2))
    return str(root)


def test_folder_dataset_matches_and_converts(tmp_path, faces, scope):
    root = _folder(tmp_path, faces)
    cv2.imwrite(str(tmp_path / 'sketches' / 'orphan.png'), faces[0]['sketch'])
    (tmp_path / 'photos' / 'notes.txt').write_text('ignored')
    ds = DATASETS.build(dict(type='FaceFolderDataset', data_root=root, resolution=RES))
    assert [ds.get_data_info(i)['name'] for i in range(len(ds))] == ['a', 'b', 'c']
    a, b, c = ds[0], ds[1], ds[2]
    assert a['index'] == 0 and a['split'] == 'test' and a['photo'].shape == (3, RES, RES)
    np.testing.assert_array_equal(a['photo'].permute(1, 2, 0).numpy(), faces[0]['photo'])
    np.testing.assert_array_equal(a['sketch'][2].numpy(), faces[0]['sketch'])
    for ch in range(3):                              # grayscale photo -> 3 equal channels
        np.testing.assert_array_equal(b['photo'][ch].numpy(), faces[1]['sketch'])
    np.testing.assert_array_equal(b['sketch'][0].numpy(), faces[1]['sketch'])
    np.testing.assert_array_equal(c['photo'].permute(1, 2, 0).numpy(), faces[2]['photo'])
    # transparent sketch composited over white: the strokes come back
    assert np.abs(c['sketch'][0].numpy().astype(int) - faces[2]['sketch']).max() <= 1
    loader = torch.utils.data.DataLoader(ds, batch_size=3)
    assert next(iter(loader))['photo'].shape == (3, 3, RES, RES)


def test_folder_dataset_errors_name_the_file(tmp_path, faces):
    root = _folder(tmp_path, faces)
    cv2.imwrite(str(tmp_path / 'photos' / 'lonely.png'), faces[0]['photo'])
    with pytest.raises(FileNotFoundError, match=r'no sketch .* for photo\(s\) .*lonely\.png'):
        FaceFolderDataset(root)
    os.remove(tmp_path / 'photos' / 'lonely.png')
    with pytest.raises(ValueError, match=r'b\.png is 64x64, expected 32x32'):
        FaceFolderDataset(root, resolution=32)[1]
    small = FaceFolderDataset(root, resolution=32, resize=True)[1]
    assert small['photo'].shape == (3, 32, 32) and small['sketch'].shape == (3, 32, 32)
    cv2.imwrite(str(tmp_path / 'sketches' / 'a.jpg'), faces[0]['sketch'])
    with pytest.raises(ValueError, match=r'a\.jpg and .*a\.png have the same name|a\.png and '
                                         r'.*a\.jpg have the same name'):
        FaceFolderDataset(root)
    os.remove(tmp_path / 'sketches' / 'a.jpg')
    (tmp_path / 'photos' / 'a.png').write_bytes(b'garbage')
    with pytest.raises(ValueError, match=r'cannot decode image .*photos/a\.png'):
        FaceFolderDataset(root)[0]
    cv2.imwrite(str(tmp_path / 'photos' / 'a.png'), faces[0]['photo'][:32])
    with pytest.raises(ValueError, match=r'photo .*a\.png is 64x32 but its sketch .*a\.png is '
                                         '64x64'):
        FaceFolderDataset(root)[0]
    with pytest.raises(FileNotFoundError, match='photo folder .*nowhere'):
        FaceFolderDataset(str(tmp_path / 'nowhere'))
