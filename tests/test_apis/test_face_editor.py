"""FaceEditor: the Python editing API on a tiny 64 px random model (export file)."""
from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest
import torch
from inference_helpers import random_face, write_stage_checkpoint, write_tiny_export
from PIL import Image

from facedisentangle.apis import FaceEditor
from facedisentangle.inference import InputImageError

torch.set_num_threads(1)


@pytest.fixture(scope='module')
def export(tmp_path_factory):
    return write_tiny_export(tmp_path_factory.mktemp('export') / 'tiny.pth')


@pytest.fixture(scope='module')
def editor(export):
    return FaceEditor.from_checkpoint(export, precision='float32')


A, B, C = random_face(1), random_face(2), random_face(3)


def assert_same(a, b):
    """Equal up to one grey level: batch size and the incremental fusion (which recomputes only
    the changed region of G_fuse's stem) change the float summation order."""
    a, b = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    assert a.shape == b.shape and np.abs(a - b).max() <= 1


def test_swap_shapes_types_and_batches(editor, export):
    out = editor.swap(A, B)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert not np.array_equal(out, editor.swap(B, A))
    batch = editor.swap([A, B], C)  # one appearance for the whole batch
    assert isinstance(batch, list) and len(batch) == 2
    assert_same(batch[0], editor.swap(A, C))
    assert_same(batch[1], editor.swap(B, C))
    pil = FaceEditor.from_checkpoint(export, precision='float32', output='pil').swap(A, B)
    assert isinstance(pil, Image.Image) and pil.size == (64, 64) and pil.mode == 'RGB'
    assert_same(np.asarray(pil), out)
    with pytest.raises(ValueError, match='batch sizes differ'):
        editor.swap([A, B], [A, B, C])


def test_deterministic_across_editors(editor, export):
    first = editor.swap(A, B, geometry_from='sketch')
    np.testing.assert_array_equal(first, editor.sketch_to_face(A, B))
    fresh = FaceEditor.from_checkpoint(export, precision='float32')
    np.testing.assert_array_equal(first, fresh.sketch_to_face(A, B))


def test_input_modes_give_the_same_image(editor, tmp_path):
    ref = editor.swap(A, B)
    gray = A.mean(axis=2).round().astype(np.uint8)
    gray_ref = editor.swap(np.repeat(gray[..., None], 3, axis=2), B)
    # files: RGB, RGBA (opaque), grayscale, 16-bit RGB, palette
    Image.fromarray(A).save(tmp_path / 'a.png')
    Image.fromarray(np.dstack([A, np.full(A.shape[:2], 255, np.uint8)])).save(tmp_path / 'a4.png')
    Image.fromarray(gray).save(tmp_path / 'gray.png')
    cv2.imwrite(str(tmp_path / 'a16.png'), (A[..., ::-1].astype(np.uint16) * 257))
    Image.fromarray(gray).convert('P').save(tmp_path / 'pal.png')
    assert_same(editor.swap(tmp_path / 'a.png', B), ref)
    assert_same(editor.swap(str(tmp_path / 'a4.png'), B), ref)
    assert_same(editor.swap(tmp_path / 'a16.png', B), ref)
    assert_same(editor.swap(tmp_path / 'gray.png', B), gray_ref)
    assert_same(editor.swap(tmp_path / 'pal.png', B), gray_ref)
    # PIL images and arrays of other types
    assert_same(editor.swap(Image.fromarray(A).convert('RGBA'), B), ref)
    assert_same(editor.swap(Image.fromarray(gray), B), gray_ref)
    assert_same(editor.swap(A.astype(np.uint16) * 257, B), ref)
    assert_same(editor.swap(A / 255.0, B), ref)
    assert_same(editor.swap(gray[..., None], B), gray_ref)
    # transparent pixels are composited on white
    clear = np.dstack([A, np.zeros(A.shape[:2], np.uint8)])
    white = np.full_like(A, 255)
    assert_same(editor.swap(clear, B), editor.swap(white, B))


def test_size_mismatch_is_resized_with_a_warning(editor, caplog):
    big = cv2.resize(A, (128, 128), interpolation=cv2.INTER_NEAREST)
    with caplog.at_level(logging.WARNING, logger='facedisentangle.inference'):
        out = editor.swap(big, B)
    assert out.shape == (64, 64, 3)
    assert any('128x128, resized to 64x64' in r.getMessage() and 'geometry photo' in
               r.getMessage() for r in caplog.records)
    assert_same(out, editor.swap(cv2.resize(big, (64, 64),
                                                              interpolation=cv2.INTER_AREA), B))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger='facedisentangle.inference'):
        editor.swap(np.zeros((50, 80, 3), np.uint8), B)
    assert any('not square' in r.getMessage() for r in caplog.records)


def test_bad_inputs_are_named(editor, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.png'):
        editor.swap(tmp_path / 'nope.png', B)
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'\x89PNG\r\n\x1a\n garbage')
    with pytest.raises(InputImageError, match='broken.png: cannot read the image'):
        editor.reconstruct(bad)
    with pytest.raises(InputImageError, match='shape'):
        editor.swap(np.zeros((4, 64, 64, 3), np.uint8), B)
    with pytest.raises(InputImageError, match='expected a path'):
        editor.swap(42, B)


def test_mix(editor):
    comps = editor.components
    assert_same(editor.mix({c: (A, B) for c in comps}), editor.swap(A, B))
    assert_same(editor.mix({}, base=A), editor.reconstruct(A))
    eyes = editor.mix({'eye1': (B, B), 'eye2': {'geometry': B, 'appearance': B}}, base=A)
    assert not np.array_equal(eyes, editor.reconstruct(A))
    assert_same(eyes, editor.mix({'eye1': (B, B), 'eye2': (B, B, 'photo')},
                                                   base=(A, A)))
    with pytest.raises(ValueError, match=r"no source for components \['eye2', 'nose'"):
        editor.mix({'bg': (A, A), 'eye1': (A, A)})
    with pytest.raises(ValueError, match='unknown components'):
        editor.mix({'ear': (A, A)}, base=A)


def test_mix_recomputes_only_the_changed_component(editor, export):
    model = editor.model
    editor.mix({'eye1': (B, C)}, base=A)
    misses = model.cache.misses
    out = editor.mix({'eye1': (C, C)}, base=A)  # only eye1's geometry source changed
    assert model.cache.misses - misses == 2  # eye1's code and feature map
    fresh = FaceEditor.from_checkpoint(export, precision='float32', cache_bytes=0)
    full = fresh.mix({'eye1': (C, C)}, base=A)
    assert np.abs(out.astype(int) - full.astype(int)).max() <= 1


def test_interpolate(editor):
    frames = editor.interpolate(A, B, steps=4, what='appearance')
    assert len(frames) == 4
    assert_same(frames[0], editor.swap(A, A))
    assert_same(frames[-1], editor.swap(A, B))
    geo = editor.interpolate(A, B, steps=3, what='geometry')
    assert_same(geo[0], editor.swap(A, A))
    assert_same(geo[-1], editor.swap(B, A))
    assert not np.array_equal(geo[1], geo[0]) and not np.array_equal(geo[1], geo[2])
    both = editor.interpolate([A, B], [B, A], steps=2, what='both')
    assert len(both) == 2 and len(both[0]) == 2
    assert_same(both[1][0], editor.swap(B, B))
    with pytest.raises(ValueError, match='needs appearance='):
        editor.interpolate(A, B, what='geometry', geometry_from='sketch')
    with pytest.raises(ValueError, match='steps must be >= 2'):
        editor.interpolate(A, B, steps=1)


def test_to_sketch_decodes_each_component_and_fuses(tmp_path):
    ckpts = []
    for stage in (2, 4):
        ckpts.append(write_stage_checkpoint(tmp_path / f'stage{stage}.pth', stage=stage,
                                            seed=stage))
    editor = FaceEditor.from_checkpoint(ckpts, precision='float32')
    assert editor.supported() == ['photo', 'sketch', 'to_sketch']
    sketch = editor.to_sketch([A, B])
    assert len(sketch) == 2 and sketch[0].shape == (64, 64, 3)
    m = editor.model
    x = torch.from_numpy(A).permute(2, 0, 1)[None].float() / 127.5 - 1
    with torch.no_grad():
        parts = {c: m.network(f'sketch_decoders.{c}')(m.network(f'image_encoders.{c}')(
            m.layout.crop(x, c))) for c in m.components}
        ref = m.layout.fuse(parts)
    ref = ((ref[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
    assert_same(sketch[0], ref)
    no_decoder = FaceEditor.from_checkpoint(ckpts[1])
    with pytest.raises(ValueError, match='to_sketch needs image encoders and sketch decoders'):
        no_decoder.to_sketch(A)
