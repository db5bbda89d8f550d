"""SwapPairDataset (fixed seeded pairs, rendered truth) and the models' swap predictions."""
import numpy as np
import pytest
import torch

from facedisentangle.datasets import (
    FaceH5Dataset,
    H5FaceWriter,
    RendererMismatchError,
    SwapPairDataset,
    make_swap_pairs,
)
from facedisentangle.datasets import swap_pairs as swap_pairs_module
from facedisentangle.datasets.synthetic import render_face, sample_appearance, sample_geometry
from facedisentangle.registry import MODELS
from facedisentangle.utils import register_all_modules

register_all_modules()
torch.set_num_threads(1)


# ---------------------------------------------------------------------------- the pair list
def test_pair_list_is_deterministic_and_never_pairs_a_face_with_itself():
    pairs = make_swap_pairs(50, seed=3, split='test')
    assert pairs == make_swap_pairs(50, seed=3, split='test')
    assert len(pairs) == 50 and all(i != j for i, j in pairs)
    assert [i for i, _ in pairs] == list(range(50))          # every face is a geometry source
    assert all(0 <= j < 50 for _, j in pairs)
    assert len({j for _, j in pairs}) > 20                     # appearance sources vary
    assert make_swap_pairs(50, seed=4, split='test') != pairs
    assert make_swap_pairs(50, seed=3, split='val') != pairs
    # a prefix of a longer list; more pairs than faces cycle the geometry sources
    longer = make_swap_pairs(50, num_pairs=120, seed=3, split='test')
    assert longer[:50] == pairs and make_swap_pairs(50, 10, 3, 'test') == pairs[:10]
    assert [i for i, _ in longer[100:]] == list(range(20)) and all(i != j for i, j in longer)
    assert make_swap_pairs(2) == [(0, 1), (1, 0)]             # the only possible pairing


def test_pair_list_rejects_too_few_faces_or_pairs():
    with pytest.raises(ValueError, match='two different faces'):
        make_swap_pairs(1)
    with pytest.raises(ValueError, match='num_pairs'):
        make_swap_pairs(5, num_pairs=0)


# ---------------------------------------------------------------------------- the data set
def test_samples_are_the_pair_and_the_rendered_truth(tiny_synthetic_h5):
    faces = FaceH5Dataset(tiny_synthetic_h5, split='test')
    ds = SwapPairDataset(tiny_synthetic_h5, split='test', seed=0)
    assert ds.has_truth and len(ds) == len(faces) == 4
    assert ds.pairs == make_swap_pairs(4, None, 0, 'test')
    assert SwapPairDataset(tiny_synthetic_h5, split='test', seed=0).pairs == ds.pairs
    for k, (i, j) in enumerate(ds.pairs):
        s, fi, fj = ds[k], faces[i], faces[j]
        assert s['index'] == k and s['pair'].tolist() == [i, j]
        assert s['name'] == fi['name'] and s['appearance_name'] == fj['name']
        assert torch.equal(s['photo'], fi['photo']) and torch.equal(s['sketch'], fi['sketch'])
        assert torch.equal(s['appearance_photo'], fj['photo'])
        # the truth is P(g_i, a_j), L(g_i) from the seeds stored in the file
        want = render_face(sample_geometry(fi['geometry_seed']),
                           sample_appearance(fj['appearance_seed']), 128)
        assert s['truth'].dtype == torch.uint8 and s['truth'].shape == (3, 128, 128)
        assert np.array_equal(s['truth'].permute(1, 2, 0).numpy(), want['photo'])
        assert np.array_equal(s['truth_label'].numpy(), want['label'])
        # a real swap: the truth is neither source
        assert not torch.equal(s['truth'], s['photo'])
        assert not torch.equal(s['truth'], s['appearance_photo'])
    records = ds.pair_records()
    assert [(r['geometry'], r['appearance']) for r in records] == ds.pairs
    assert records[0]['geometry_row'] == faces.get_data_info(ds.pairs[0][0])['index']


def test_num_pairs_seed_and_no_truth(tiny_synthetic_h5):
    ds = SwapPairDataset(tiny_synthetic_h5, split='val', num_pairs=7, seed=5)
    assert ds.pairs == make_swap_pairs(4, 7, 5, 'val') and len(ds) == 7
    plain = SwapPairDataset(tiny_synthetic_h5, split='val', render_truth=False)
    assert not plain.has_truth and 'truth' not in plain[0] and 'truth_label' not in plain[0]


def test_file_without_factor_seeds_has_no_truth(tmp_path):
    path = tmp_path / 'photos.h5'
    rng = np.random.default_rng(0)
    with H5FaceWriter(path, 64, source='test') as w:
        for k in range(3):
            w.append(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
                     rng.integers(0, 256, (64, 64), dtype=np.uint8), f'face{k}', split='test')
        w.finalize()
    ds = SwapPairDataset(str(path))
    assert not ds.has_truth and 'truth' not in ds[0] and ds[0]['appearance_photo'].shape[-1] == 64
    with pytest.raises(ValueError, match=r"photos\.h5\): split 'val' has no samples"):
        SwapPairDataset(str(path), split='val')


def test_changed_renderer_is_refused(tiny_synthetic_h5, monkeypatch):
    real = swap_pairs_module.render_swap_truth

    def shifted(g, a, size):
        out = real(g, a, size)
        return dict(photo=np.clip(out['photo'].astype(int) + 9, 0, 255).astype(np.uint8),
                    label=out['label'])

    monkeypatch.setattr(swap_pairs_module, 'render_swap_truth', shifted)
    with pytest.raises(RendererMismatchError, match='regenerate the file') as e:
        SwapPairDataset(tiny_synthetic_h5)
    assert tiny_synthetic_h5 in str(e.value)


def test_runner_dataloader_and_preprocessor_map_every_image(tiny_synthetic_h5):
    from mmengine.runner import Runner

    loader = Runner.build_dataloader(dict(
        batch_size=3, num_workers=0, collate_fn=dict(type='default_collate'),
        sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
        dataset=dict(type='SwapPairDataset', ann_file=tiny_synthetic_h5, split='test')))
    batch = next(iter(loader))
    pre = MODELS.build(dict(type='FaceDataPreprocessor',
                            image_keys=('photo', 'sketch', 'appearance_photo', 'truth')))
    out = pre(batch)
    for key in ('photo', 'sketch', 'appearance_photo', 'truth'):
        assert out[key].dtype == torch.float32 and out[key].shape == (3, 3, 128, 128)
        assert torch.allclose(out[key], batch[key].float() / 127.5 - 1)
    assert out['truth_label'].dtype == torch.uint8 and out['pair'].shape == (3, 2)
    assert out['name'] == [batch['name'][k] for k in range(3)]


# ---------------------------------------------------------------------------- the models
RES = 64
PRE = dict(type='FaceDataPreprocessor', image_keys=('photo', 'sketch', 'appearance_photo',
                                                     'truth'))
NETS = dict(
    generator=dict(type='ComponentGenerator', ngf=4, n_downsampling=2, n_blocks=1, app_dim=4,
                   app_n_downsampling=3, style_dim=16),
    image_encoder=dict(type='ImageGeometryEncoder', ngf=4, n_downsampling=2, n_blocks=1),
    sketch_encoder=dict(type='SketchEncoder', ngf=4, n_downsampling=2, n_blocks=1),
)


def pair_batch(n=3, seed=0):
    g = torch.Generator().manual_seed(seed)

    def img():
        return torch.randint(0, 256, (n, 3, RES, RES), dtype=torch.uint8, generator=g)

    return dict(photo=img(), sketch=img(), appearance_photo=img(), truth=img(),
                truth_label=torch.randint(0, 8, (n, RES, RES), dtype=torch.uint8, generator=g),
                index=torch.arange(n), pair=torch.stack([torch.arange(n), torch.arange(n) + 1], 1),
                name=[f'g{k}' for k in range(n)], appearance_name=[f'a{k}' for k in range(n)])


def float_images(b):
    return {k: b[k].float() / 127.5 - 1 for k in ('photo', 'sketch', 'appearance_photo',
                                                  'truth')}


def test_local_disentanglement_predicts_swaps_of_explicit_pairs():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='LocalDisentanglement', layout=dict(resolution=RES),
                              components=['eye1', 'nose'], discriminator=None, loss_gan=None,
                              loss_feat=None, loss_cycle_feat=None, loss_vgg=None,
                              loss_cycle_vgg=None, data_preprocessor=PRE, **NETS)).eval()
    b = pair_batch()
    out = model.test_step(b)
    f = float_images(b)
    with torch.no_grad():
        swap = model.swap(f['photo'], f['appearance_photo'], 'nose')
        sketch_swap = model.swap(f['sketch'], f['appearance_photo'], 'nose', from_sketch=True)
        code = model.image_encoders['nose'](swap)
    crop = model.layout.crop
    assert len(out) == 3
    for k, s in enumerate(out):
        assert torch.allclose(s['nose/swap'], swap[k], atol=1e-5)
        assert torch.allclose(s['nose/sketch_swap'], sketch_swap[k], atol=1e-5)
        assert torch.equal(s['nose/swap_gt'], crop(f['truth'], 'nose')[k])
        assert torch.equal(s['nose/geometry'], crop(f['photo'], 'nose')[k])
        assert torch.equal(s['nose/appearance'], crop(f['appearance_photo'], 'nose')[k])
        assert torch.equal(s['nose/label'], crop(b['truth_label'], 'nose')[k])
        assert torch.allclose(s['nose/swap_code'], code[k], atol=1e-5)
        assert s['eye1/appearance_code'].shape == s['eye1/swap_appearance_code'].shape == (16,)
        assert s['name'] == f'g{k}' and s['appearance_name'] == f'a{k}' and s['index'] == k
        assert s['pair'].tolist() == [k, k + 1]
    # without an appearance source: the in-batch pairs, as before
    plain = model.test_step(dict(photo=b['photo'], sketch=b['sketch']))
    assert 'nose/mix' in plain[0] and 'nose/swap' not in plain[0]


def test_global_fusion_predicts_fused_swaps_of_explicit_pairs():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='GlobalFusion', layout=dict(resolution=RES), components=['bg', 'eye1', 'nose'],
        fusion_generator=dict(type='GlobalGenerator', input_nc=4, ngf=4, n_downsampling=2,
                              n_blocks=1),
        fusion_discriminator=None, loss_gan=None, loss_feat=None, loss_vgg=None,
        loss_rec=dict(type='ReconstructionLoss'), data_preprocessor=PRE, **NETS)).eval()
    b = pair_batch(2, seed=1)
    out = model.test_step(b)
    f = float_images(b)
    swap = model.swap(f['photo'], f['appearance_photo'])
    sketch_swap = model.swap(f['sketch'], f['appearance_photo'], geometry_from='sketch')
    for k, s in enumerate(out):
        assert torch.allclose(s['swap'], swap[k], atol=1e-5)
        assert torch.allclose(s['sketch_swap'], sketch_swap[k], atol=1e-5)
        assert torch.equal(s['swap_gt'], f['truth'][k]) and torch.equal(s['label'],
                                                                        b['truth_label'][k])
        assert torch.equal(s['geometry'], f['photo'][k])
        for c in ('bg', 'eye1', 'nose'):
            with torch.no_grad():
                want = model.image_encoders[c](model.layout.crop(swap, c))
            assert torch.allclose(s[f'{c}/swap_code'], want[k], atol=1e-5)
            assert f'{c}/sketch_swap_appearance_code' in s
    plain = model.test_step(dict(photo=b['photo'], sketch=b['sketch']))
    assert set(plain[0]) == {'pred', 'gt', 'sketch_pred'}
