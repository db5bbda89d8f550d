"""Tests of facedisentangle.evaluation: formulas, offline networks, metrics, tables.

No pretrained weights are needed: Inception and AlexNet files are random-weight fakes written
to a temporary ``$TORCH_HOME``; FID/KID metric tests use a tiny random conv net as features.
"""
from __future__ import annotations

import io
import math
import os
import warnings

import cv2
import h5py
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.registry import DefaultScope
from rich.console import Console

from facedisentangle.evaluation import (
    FID,
    KID,
    LPIPS,
    CodeConsistencyMetric,
    ReconstructionMetric,
    SwapGroundTruthMetric,
    format_metrics_table,
    format_swap_table,
    swap_metric_table,
)
from facedisentangle.evaluation.functional import (
    frechet_distance,
    kernel_inception_distance,
    lab_color_transfer,
    mmd2_unbiased,
    ssim,
)
from facedisentangle.evaluation.metrics.swap_ground_truth import colour_correlation
from facedisentangle.evaluation.networks import fid_inception, lpips_network
from facedisentangle.evaluation.reference_cache import ReferenceCache
from facedisentangle.evaluation.running_moments import (
    HeldBackMoments,
    RunningMoments,
    check_unique,
    kept_last_samples,
)
from facedisentangle.registry import METRICS

torch.set_num_threads(1)


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty ``$TORCH_HOME`` (no weights files)."""
    home = tmp_path / 'torch_home'
    (home / 'hub' / 'checkpoints').mkdir(parents=True)
    monkeypatch.setenv('TORCH_HOME', str(home))
    return home / 'hub' / 'checkpoints'


def tiny_extractor(seed=0, dim=12):
    """Random conv features (N, 3, H, W) in [0, 1] -> (N, dim), a stand-in for Inception."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, dim // 4, 3, stride=2), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten()).eval()


def make_samples(n, size=16, seed=0, start=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        gt = torch.rand(3, size, size, generator=g) * 2 - 1
        out.append(dict(index=start + i, name=f's{start + i}', gt=gt,
                        pred=(gt + 0.3 * torch.randn(3, size, size, generator=g)).clamp(-1, 1)))
    return out


def run_metric(metric, samples, batch=3):
    for i in range(0, len(samples), batch):
        metric.process(None, samples[i:i + batch])
    return metric.evaluate(len(samples))


def features_of(net, samples, key):
    x = torch.stack([s[key] for s in samples])
    x = torch.round((x + 1) / 2 * 255) / 255
    with torch.no_grad():
        return net(x).double().numpy()


# ------------------------------------------------------------------------- Fréchet distance
def test_frechet_distance_matches_pytorch_fid():
    rng = np.random.RandomState(0)
    a = rng.randn(400, 16)
    b = rng.randn(300, 16) @ rng.randn(16, 16) * 0.5 + 0.3
    mu1, s1, mu2, s2 = a.mean(0), np.cov(a.T), b.mean(0), np.cov(b.T)
    ours = frechet_distance(mu1, s1, mu2, s2)
    from pytorch_fid.fid_score import calculate_frechet_distance
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            ref = calculate_frechet_distance(mu1, s1, mu2, s2)
    except TypeError as e:   # SciPy >= 1.18 removed sqrtm's `disp`, which pytorch-fid passes
        pytest.skip(f'pytorch-fid does not run with this SciPy: {e}')
    assert ref > 1.0
    assert ours == pytest.approx(ref, rel=1e-6)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    rng = np.random.RandomState(1)
    f = rng.rand(300, 64) * 3
    mu, s = f.mean(0), np.cov(f.T)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-6
    assert frechet_distance(mu, s, mu + 0.1, s) == pytest.approx(64 * 0.01, rel=1e-6)


def test_frechet_distance_singular_covariances_closed_form():
    # Diagonal covariances: d^2 = |mu1-mu2|^2 + sum (sqrt(a) - sqrt(b))^2, zeros included.
    a = np.array([0.0, 1.0, 4.0, 0.0, 2.5])
    b = np.array([1.0, 0.0, 9.0, 0.0, 2.5])
    mu1, mu2 = np.zeros(5), np.arange(5.0)
    want = (mu2 ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    rot = np.linalg.qr(np.random.RandomState(2).randn(5, 5))[0]   # same basis for both
    got = frechet_distance(mu1, rot @ np.diag(a) @ rot.T, mu2, rot @ np.diag(b) @ rot.T)
    # sqrt of a rounding-level eigenvalue (~1e-16) costs ~1e-8 per zero eigenvalue
    assert got == pytest.approx(want, abs=1e-6)


def test_frechet_distance_rank_deficient_is_finite():
    rng = np.random.RandomState(3)
    a, b = rng.randn(10, 64), rng.randn(12, 64) + 0.5    # fewer samples than dimensions
    d = frechet_distance(a.mean(0), np.cov(a.T), b.mean(0), np.cov(b.T))
    assert np.isfinite(d) and d > 0
    s = np.cov(a.T)
    assert abs(frechet_distance(a.mean(0), s, a.mean(0), s)) < 1e-6


def test_frechet_distance_bad_input():
    with pytest.raises(ValueError, match='sigma2 has shape'):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))
    with pytest.raises(ValueError, match='mu1 contains NaN'):
        frechet_distance(np.array([np.nan, 0]), np.eye(2), np.zeros(2), np.eye(2))


# ------------------------------------------------------------------- streaming statistics
def test_streaming_moments_equal_batch_statistics():
    rng = np.random.RandomState(4)
    x = rng.rand(103, 20) * 5 + 2
    m, h = RunningMoments(), HeldBackMoments()
    for i in range(0, 103, 10):
        m.add(x[i:i + 10])
        h.add(x[i:i + 10])
    mu, s = m.mean_cov()
    np.testing.assert_allclose(mu, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(s, np.cov(x.T), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h.result(True).mean_cov()[1], np.cov(x.T), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h.result(False).mean_cov()[1], np.cov(x[:-1].T), rtol=1e-9,
                               atol=1e-12)
    merged = RunningMoments()
    merged.merge(h.result(False))
    merged.add(x[-1:])
    np.testing.assert_allclose(merged.mean_cov()[0], x.mean(0), rtol=1e-12)


def test_kept_last_samples_follows_mmengine_truncation():
    assert kept_last_samples([3, 3], 5) == [True, False]        # round_up padding on rank 1
    assert kept_last_samples([3, 2], 5) == [True, True]         # round_up=False
    assert kept_last_samples([2, 2, 2], 4) == [True, False, False]
    assert kept_last_samples([1, 1, 1, 1], 1) == [True, False, False, False]
    with pytest.raises(RuntimeError, match='only one padded sample per process'):
        kept_last_samples([3, 3], 3)
    with pytest.raises(RuntimeError, match=r'index \[2\] counted more than once'):
        check_unique([0, 1, 2, 2], 'FID')


# -------------------------------------------------------------------------------- FID
def test_fid_metric_equals_direct_computation_and_zero_for_identical():
    net = tiny_extractor()
    samples = make_samples(11)
    metric = FID(feature_extractor=net, feature_extractor_name='tiny')
    got = run_metric(metric, samples)['FID']
    fg, fr = features_of(net, samples, 'pred'), features_of(net, samples, 'gt')
    want = frechet_distance(fg.mean(0), np.cov(fg.T), fr.mean(0), np.cov(fr.T))
    assert got == pytest.approx(want, rel=1e-5) and got > 0   # float32 features, other batching
    same = [dict(s, pred=s['gt']) for s in samples]
    assert abs(run_metric(FID(feature_extractor=net, feature_extractor_name='tiny'),
                          same)['FID']) < 1e-6


def test_fid_prefix_reads_prefixed_keys_and_names():
    net = tiny_extractor()
    samples = [{'index': s['index'], 'eye1/pred': s['pred'], 'eye1/gt': s['gt']}
               for s in make_samples(5)]
    out = run_metric(FID(prefix='eye1', feature_extractor=net, feature_extractor_name='t'),
                     samples)
    assert list(out) == ['eye1/FID']


def test_fid_reference_cache_reused_and_keyed_by_file(tmp_path):
    net = tiny_extractor()
    data = tmp_path / 'faces.h5'
    with h5py.File(data, 'w') as f:
        f.attrs['num_samples'] = 9
    cfg = dict(feature_extractor=net, feature_extractor_name='tiny',
               reference=dict(source=str(data), split='test', resolution=16),
               cache_dir=str(tmp_path / 'cache'))
    samples = make_samples(9)
    first = run_metric(FID(**cfg), samples)['FID']
    files = list((tmp_path / 'cache').glob('fid_faces_16_test_*.npz'))
    assert len(files) == 1
    # second run: real images are not read at all (no 'gt' key), same number
    no_gt = [dict(index=s['index'], pred=s['pred']) for s in samples]
    assert run_metric(FID(**cfg), no_gt)['FID'] == pytest.approx(first, rel=1e-12)
    # another split -> another key -> the real images are needed again
    other = dict(cfg, reference=dict(source=str(data), split='val', resolution=16))
    with pytest.raises(KeyError, match="no key 'gt'"):
        run_metric(FID(**other), no_gt)
    # the data file is rewritten (size, mtime, num_samples) -> new key
    with h5py.File(data, 'w') as f:
        f.attrs['num_samples'] = 10
        f['photos'] = np.zeros((10, 2), np.uint8)
    with pytest.raises(KeyError, match="no key 'gt'"):
        run_metric(FID(**cfg), no_gt)


def test_reference_cache_key_mismatch_is_ignored(tmp_path):
    c = ReferenceCache('fid', dict(name='set'), dict(features='a'), tmp_path)
    c.save(mu=np.zeros(2))
    assert set(c.load()) == {'mu'}
    other = ReferenceCache('fid', dict(name='set'), dict(features='b'), tmp_path)
    assert other.path != c.path
    other.path = c.path            # same file, different key (e.g. hand-copied)
    assert other.load() is None
    with pytest.raises(FileNotFoundError, match='missing.h5'):
        ReferenceCache('fid', dict(source=str(tmp_path / 'missing.h5')), {}, tmp_path)
    with pytest.raises(ValueError, match='non-empty dict'):
        ReferenceCache('fid', {}, {}, tmp_path)
    (tmp_path / 'junk.h5').write_bytes(b'not hdf5')
    with pytest.raises(ValueError, match='junk.h5.* is not a readable HDF5 file'):
        ReferenceCache('fid', dict(source=str(tmp_path / 'junk.h5')), {}, tmp_path)


def test_fid_reference_stats_file(tmp_path):
    net = tiny_extractor()
    samples = make_samples(8)
    fr = features_of(net, samples, 'gt')
    np.savez(tmp_path / 'stats.npz', mu=fr.mean(0), sigma=np.cov(fr.T))  # pytorch-fid layout
    no_gt = [dict(index=s['index'], pred=s['pred']) for s in samples]
    got = run_metric(FID(feature_extractor=net, feature_extractor_name='t',
                         reference_stats=str(tmp_path / 'stats.npz')), no_gt)['FID']
    want = run_metric(FID(feature_extractor=net, feature_extractor_name='t'), samples)['FID']
    assert got == pytest.approx(want, rel=1e-5)


def test_fid_missing_inception_names_the_file(torch_home):
    with pytest.raises(FileNotFoundError, match='pt_inception-2015-12-05-6726825d.pth'):
        FID()
    with pytest.raises(FileNotFoundError, match='pt_inception-2015-12-05-6726825d.pth'):
        KID(inception_path=str(torch_home))


def test_fid_inception_equals_pytorch_fid(torch_home, monkeypatch):
    """Our offline network = pytorch-fid's InceptionV3([3]) with the same (random) weights."""
    import pytorch_fid.inception as pfi
    torch.manual_seed(0)
    state = fid_inception._fid_inception_v3_without_weights().state_dict()
    torch.save(state, torch_home / fid_inception.FID_WEIGHTS_FILE)
    ours = fid_inception.build_fid_inception()          # from the hub cache, no download
    monkeypatch.setattr(pfi, 'load_state_dict_from_url', lambda *a, **k: state)
    ref = pfi.InceptionV3([3]).eval()
    x = torch.rand(2, 3, 40, 40)
    with torch.no_grad():
        np.testing.assert_allclose(ours(x).numpy(), ref(x)[0].flatten(1).numpy(), rtol=1e-5,
                                   atol=1e-6)
    fid_inception._CACHE.clear()


def test_bad_image_values_name_the_key():
    s = make_samples(2)
    s[0]['pred'] = s[0]['pred'] * 127.5 + 127.5
    m = ReconstructionMetric()
    with pytest.raises(ValueError, match=r"sample\['pred'\] has values in"):
        m.process(None, s)
    with pytest.raises(KeyError, match=r"no key 'eye1/gt'.*Set the metric"):
        ReconstructionMetric(prefix='eye1').process(None, [{'eye1/pred': s[1]['pred']}])


# -------------------------------------------------------------------------------- KID
def test_kid_of_a_set_with_itself_is_near_zero():
    # Subsets of one set overlap, so k(x, x) terms enter the cross term: the estimate is
    # -2 mean k(x, x) / (n - 1) for full subsets, O(1/n), not exactly 0.
    rng = np.random.RandomState(5)
    f = rng.randn(1000, 16)
    same, _ = kernel_inception_distance(f, f, num_subsets=3, subset_size=1000)
    shifted, _ = kernel_inception_distance(f, f + 0.5, num_subsets=3, subset_size=1000)
    assert shifted > 0.5
    assert abs(same) < 0.03 * shifted
    diag = ((f * f).sum(1) / 16 + 1) ** 3
    assert same == pytest.approx(2 * (kernel_mean(f) - diag.mean()) / 999, rel=1e-6)


def kernel_mean(f):
    return ((f @ f.T / f.shape[1] + 1) ** 3).mean()


def test_kid_is_unbiased():
    """Independent samples of one distribution: E[MMD^2_u] = 0, while the biased (V-statistic)
    estimator is clearly positive."""
    rng = np.random.RandomState(6)
    vals, biased = [], []
    for _ in range(300):
        x, y = rng.randn(20, 4), rng.randn(20, 4)
        vals.append(mmd2_unbiased(x, y))
        k = lambda a, b: (a @ b.T / 4 + 1) ** 3  # noqa: E731
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    vals = np.array(vals)
    assert abs(vals.mean()) < 3 * vals.std() / np.sqrt(len(vals))
    assert np.mean(biased) > 10 * vals.std() / np.sqrt(len(vals))


def test_kid_metric_equals_function_and_caps_samples():
    net = tiny_extractor()
    samples = make_samples(10)
    m = KID(feature_extractor=net, feature_extractor_name='t', num_subsets=5, subset_size=6,
            max_samples=8)
    out = run_metric(m, samples)
    fg, fr = features_of(net, samples[:8], 'pred'), features_of(net, samples[:8], 'gt')
    want = kernel_inception_distance(fg.astype(np.float32), fr.astype(np.float32), 5, 6)
    assert set(out) == {'KID', 'KID_std'}
    assert out['KID'] == pytest.approx(want[0], rel=1e-9)
    assert out['KID_std'] == pytest.approx(want[1], rel=1e-9)


def test_kid_reference_cache(tmp_path):
    net = tiny_extractor()
    cfg = dict(feature_extractor=net, feature_extractor_name='t', num_subsets=3, subset_size=5,
               reference=dict(name='synthetic-test', resolution=16), cache_dir=str(tmp_path))
    samples = make_samples(7)
    first = run_metric(KID(**cfg), samples)
    assert len(list(tmp_path.glob('kid_synthetic-test_16_*.npz'))) == 1
    no_gt = [dict(index=s['index'], pred=s['pred']) for s in samples]
    assert run_metric(KID(**cfg), no_gt) == pytest.approx(first, rel=1e-12)
    with pytest.raises(KeyError, match="no key 'gt'"):      # max_samples is part of the key
        run_metric(KID(**dict(cfg, max_samples=5)), no_gt)


# ------------------------------------------------------------------------------ LPIPS
def test_lpips_equals_lpips_package_with_same_backbone_file(torch_home):
    import lpips
    import torchvision
    torch.manual_seed(1)
    torch.save(torchvision.models.alexnet(weights=None).state_dict(),
               torch_home / 'alexnet-owt-7be5be79.pth')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        # lpips' own path: torchvision finds the file in the hub cache (no download)
        ref = lpips.LPIPS(net='alex', verbose=False).eval()
    samples = make_samples(4, size=32)
    out = run_metric(LPIPS(), samples, batch=2)
    with torch.no_grad():
        want = ref(torch.stack([s['pred'] for s in samples]),
                   torch.stack([s['gt'] for s in samples])).mean().item()
    assert list(out) == ['LPIPS']
    assert out['LPIPS'] == pytest.approx(want, rel=1e-5)
    same = [dict(s, pred=s['gt']) for s in samples]
    assert run_metric(LPIPS(), same)['LPIPS'] == pytest.approx(0.0, abs=1e-7)


def test_lpips_missing_backbone_and_random_backbones(torch_home):
    with pytest.raises(FileNotFoundError, match='alexnet-owt-7be5be79.pth'):
        LPIPS()
    with pytest.raises(FileNotFoundError, match='vgg16-397923af.pth'):
        LPIPS(net='vgg')
    with pytest.raises(ValueError, match=r"LPIPS \(alex\): image 'pred' is \(16, 16\), smaller"):
        with pytest.warns(UserWarning, match='RANDOM'):
            run_metric(LPIPS(random_backbones=True), make_samples(2, size=16))
    with pytest.raises(ValueError, match="net='squeeze' is not supported"):
        LPIPS(net='squeeze')
    with pytest.warns(UserWarning, match='RANDOM'):
        out = run_metric(LPIPS(random_backbones=True, prefix='nose', prefix_keys=False),
                         make_samples(2, size=32))
    assert list(out) == ['nose/LPIPS(random)']


def test_lpips_backbone_file_of_wrong_net(torch_home):
    torch.save({'features.0.weight': torch.zeros(1)}, torch_home / 'alexnet-owt-7be5be79.pth')
    with pytest.raises(KeyError, match="has no key 'features.0.bias'"):
        lpips_network.build_lpips('alex')


# ------------------------------------------------------------------- SSIM, L1, PSNR
def test_ssim_equals_skimage():
    from skimage.metrics import structural_similarity
    rng = np.random.RandomState(7)
    x = cv2.GaussianBlur(rng.rand(24, 30, 3).astype(np.float32), (5, 5), 1.0)
    y = np.clip(x + 0.1 * rng.randn(*x.shape), 0, 1).astype(np.float32)
    want = structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=1.0, channel_axis=2)
    got = ssim(torch.from_numpy(x).permute(2, 0, 1), torch.from_numpy(y).permute(2, 0, 1))
    assert float(got) == pytest.approx(want, abs=1e-6)
    assert float(ssim(torch.from_numpy(x).permute(2, 0, 1)[None],
                      torch.from_numpy(x).permute(2, 0, 1)[None])[0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match='smaller than the 11x11 window'):
        ssim(torch.rand(3, 8, 8), torch.rand(3, 8, 8))


def test_reconstruction_metric_values_names_and_prefix():
    samples = make_samples(4, size=16)
    out = run_metric(ReconstructionMetric(), samples)
    l1 = np.mean([(s['pred'] - s['gt']).abs().mean().item() for s in samples])
    ps = np.mean([10 * np.log10(4 / (s['pred'] - s['gt']).double().pow(2).mean().item())
                  for s in samples])
    assert out['L1'] == pytest.approx(l1, rel=1e-6)
    assert out['PSNR'] == pytest.approx(ps, rel=1e-9)
    assert 0 < out['SSIM'] < 1
    pre = [{'index': s['index'], 'eye1/sketch_rec': s['pred'], 'eye1/sketch': s['gt']}
           for s in samples]
    out2 = run_metric(ReconstructionMetric(pred_key='sketch_rec', gt_key='sketch', tag='sketch',
                                           metrics=['L1'], prefix='eye1'), pre)
    assert out2 == {'eye1/sketch/L1': pytest.approx(l1, rel=1e-6)}
    same = [dict(s, pred=s['gt']) for s in samples]
    out3 = run_metric(ReconstructionMetric(), same)
    assert out3['L1'] == 0 and math.isinf(out3['PSNR']) and out3['SSIM'] == pytest.approx(1)
    with pytest.raises(ValueError, match="metrics \\['MSE'\\] not supported"):
        ReconstructionMetric(metrics=['MSE'])


def test_code_consistency_metric():
    g = torch.Generator().manual_seed(3)
    samples = []
    for i in range(3):
        c = torch.randn(8, 2, 2, generator=g)
        samples.append(dict(index=i, geo_mix=c + 0.1 * (i + 1), geo_src=c))
    out = run_metric(CodeConsistencyMetric(pred_code_key='geo_mix', source_code_key='geo_src',
                                           name='geometry_consistency'), samples)
    assert out['geometry_consistency/L1'] == pytest.approx(0.2, rel=1e-6)
    rel = np.mean([0.1 * (i + 1) * 32 / s['geo_src'].abs().sum().item()
                   for i, s in enumerate(samples)])
    assert out['geometry_consistency/rel_L1'] == pytest.approx(rel, rel=1e-6)


# ------------------------------------------------------------------------- swap metric
def swap_samples(n=3, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        label = torch.zeros(size, size, dtype=torch.uint8)
        label[2:6, 2:10] = 1            # hair
        label[8:10, 4:8] = 5            # irises
        rnd = lambda: torch.rand(3, size, size, generator=g) * 1.6 - 0.8  # noqa: E731
        out.append(dict(index=i, gt=rnd(), geometry=rnd(), appearance=rnd(), label=label))
    return out


def test_swap_metric_perfect_swap_and_baselines():
    samples = swap_samples()
    for s in samples:
        s['pred'] = s['gt'].clone()
    out = run_metric(SwapGroundTruthMetric(regions=dict(hair=[1], irises=[5], lips=[7])),
                     samples)
    assert out['swap/L1'] == 0 and math.isinf(out['swap/PSNR'])
    assert out['swap/irises/L1'] == 0
    # baselines as defined
    want = np.mean([(s['geometry'] - s['gt']).abs().mean().item() for s in samples])
    assert out['copy_geometry/L1'] == pytest.approx(want, rel=1e-6)
    want = np.mean([(s['appearance'] - s['gt']).abs().mean().item() for s in samples])
    assert out['copy_appearance/L1'] == pytest.approx(want, rel=1e-6)
    ct = [lab_color_transfer(s['geometry'], s['appearance']) for s in samples]
    want = np.mean([(c - s['gt']).abs().mean().item() for c, s in zip(ct, samples)])
    assert out['color_transfer/L1'] == pytest.approx(want, rel=1e-6)
    # regions: pooled over the label's pixels; absent regions reported with 0 pixels only
    hair = np.concatenate([(s['geometry'] - s['gt'])[:, 2:6, 2:10].abs().flatten().numpy()
                           for s in samples])
    assert out['copy_geometry/hair/L1'] == pytest.approx(hair.mean(), rel=1e-6)
    assert out['hair/pixels'] == 3 * 32 and out['irises/pixels'] == 3 * 8
    assert out['lips/pixels'] == 0 and not any('/lips/' in k for k in out)
    assert all(np.isfinite(v) or k.startswith('swap') for k, v in out.items())
    text = render(format_swap_table(out))
    assert 'lips' in text and '(absent)' in text and 'inf' in text


def test_swap_metric_region_error_and_prefix_and_lpips():
    samples = swap_samples(2, size=32)
    for s in samples:
        s['pred'] = s['gt'].clone()
        s['pred'][:, 8:10, 4:8] += 0.15                    # error only on the irises
    prefixed = [{'index': s['index'], **{f'eye1/{k}': v for k, v in s.items() if k != 'index'}}
                for s in samples]
    with pytest.warns(UserWarning, match='RANDOM'):
        m = SwapGroundTruthMetric(prefix='eye1', regions=dict(irises=[5], hair=[1]),
                                  baselines=['copy_geometry'], lpips=dict(random_backbones=True))
        out = run_metric(m, prefixed)
    assert out['eye1/swap/irises/L1'] == pytest.approx(0.15, rel=1e-5)
    assert out['eye1/swap/hair/L1'] == 0
    assert out['eye1/swap/L1'] == pytest.approx(0.15 * 8 / 32 ** 2, rel=1e-5)
    assert out['eye1/swap/irises/PSNR'] == pytest.approx(10 * math.log10(4 / 0.15 ** 2),
                                                         rel=1e-5)
    assert 'eye1/color_transfer/L1' not in out and 'eye1/copy_geometry/L1' in out
    assert out['eye1/swap/LPIPS(random)'] > 0
    assert out['eye1/copy_geometry/hair/LPIPS(random)'] > 0
    nested = swap_metric_table(out)
    assert nested['eye1']['irises']['pixels'] == 16
    assert nested['eye1']['all']['swap']['L1'] == out['eye1/swap/L1']
    assert nested['eye1']['hair']['copy_geometry']['PSNR'] == out['eye1/copy_geometry/hair/PSNR']
    text = render(format_swap_table(out))
    assert 'copy_geometry' in text and 'irises' in text and 'LPIPS(random)' in text


def test_swap_metric_colour_error_of_a_region():
    """colour_L1 compares the region's mean colour: a flat patch of exactly the truth's mean
    colour scores 0 there (whatever its L1), a uniformly recoloured one its colour shift."""
    samples = swap_samples(3)
    samples[2]['label'][8:10, 4:8] = 0           # no irises in the last sample
    for s in samples:
        flat = s['gt'].clone()
        m = s['label'] == 5
        if m.any():
            flat[:, m] = s['gt'][:, m].mean(1, keepdim=True)   # the region's mean colour
        s['pred'] = flat
        s['geometry'] = s['gt'] + torch.tensor([0.15, 0.0, -0.15])[:, None, None]
    out = run_metric(SwapGroundTruthMetric(regions=dict(irises=[5], hair=[1])), samples)
    assert out['swap/irises/colour_L1'] == pytest.approx(0, abs=1e-7)
    assert out['swap/irises/L1'] > 0.1                      # the texture is gone
    assert out['copy_geometry/irises/colour_L1'] == pytest.approx(0.1, rel=1e-6)
    assert out['copy_geometry/hair/colour_L1'] == pytest.approx(0.1, rel=1e-6)
    assert out['swap/colour_L1'] == pytest.approx(0, abs=1e-7)  # whole image: same mean
    assert out['irises/pixels'] == 2 * 8   # the average is over the 2 samples that have them
    nested = swap_metric_table(out)
    assert nested['']['irises']['swap']['colour_L1'] == out['swap/irises/colour_L1']
    assert 'colour_L1' in render(format_swap_table(out))


def test_swap_metric_bad_label_and_config():
    s = swap_samples(1)[0]
    s['pred'] = s['gt']
    s['label'] = s['label'][:8]
    with pytest.raises(ValueError, match=r"label 'label' has shape \(8, 16\)"):
        SwapGroundTruthMetric().process(None, [s])
    with pytest.raises(ValueError, match="region name 'swap' is reserved"):
        SwapGroundTruthMetric(regions=dict(swap=[1]))
    with pytest.raises(ValueError, match='unknown baselines'):
        SwapGroundTruthMetric(baselines=['mean_face'])


def test_lab_color_transfer_matches_statistics():
    g = torch.Generator().manual_seed(4)
    src = torch.rand(3, 16, 16, generator=g) * 0.6 - 0.3
    ref = torch.rand(3, 16, 16, generator=g) * 0.4 + torch.tensor([0.2, -0.1, -0.3])[:, None,
                                                                                        None]
    out = lab_color_transfer(src, ref)
    lab = lambda t: cv2.cvtColor(((t + 1) / 2).permute(1, 2, 0).numpy().astype(np.float32),  # noqa: E731
                                 cv2.COLOR_RGB2LAB).reshape(-1, 3)
    np.testing.assert_allclose(lab(out).mean(0), lab(ref).mean(0), atol=0.5)
    np.testing.assert_allclose(lab(out).std(0), lab(ref).std(0), atol=0.5)


# ------------------------------------------------------------------- registry, tables
def test_metrics_build_through_registry(torch_home):
    with DefaultScope.overwrite_default_scope('facedisentangle'):
        from mmengine.registry import METRICS as ROOT_METRICS
        m = ROOT_METRICS.build(dict(type='ReconstructionMetric', prefix='nose',
                                    metrics=['L1', 'SSIM']))
        assert isinstance(m, ReconstructionMetric) and m.prefix == 'nose'
        for cfg in (dict(type='LPIPS', random_backbones=True),
                    dict(type='SwapGroundTruthMetric', regions=dict(irises=[5])),
                    dict(type='CodeConsistencyMetric', name='appearance_consistency'),
                    dict(type='FID', feature_extractor=tiny_extractor(),
                         feature_extractor_name='t'),
                    dict(type='KID', feature_extractor=tiny_extractor(),
                         feature_extractor_name='t', max_samples=100)):
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                built = METRICS.build(cfg)
            assert type(built).__name__ == cfg['type']
    with pytest.raises(KeyError, match='Close names: FID'):
        METRICS.build(dict(type='FlD'))


def test_mmengine_evaluator_runs_our_metrics():
    """The Runner's path: an Evaluator built from configs, process() then evaluate(size)."""
    from mmengine.evaluator import Evaluator
    with DefaultScope.overwrite_default_scope('facedisentangle'):
        ev = Evaluator([dict(type='ReconstructionMetric', metrics=['L1']),
                        dict(type='FID', feature_extractor=tiny_extractor(),
                             feature_extractor_name='t'),
                        dict(type='ReconstructionMetric', metrics=['L1'], tag='eye',
                             prefix='eye1', prefix_keys=False)])
    samples = make_samples(5)
    for i in range(0, 5, 2):
        ev.process(samples[i:i + 2])
    out = ev.evaluate(5)
    assert set(out) == {'L1', 'FID', 'eye1/eye/L1'} and out['L1'] == out['eye1/eye/L1']


def render(table) -> str:
    buf = io.StringIO()
    Console(file=buf, width=200).print(table)
    return buf.getvalue()


def test_format_metrics_table_groups_by_prefix():
    t = format_metrics_table({'FID': 12.5, 'eye1/L1': 0.1, 'eye1/PSNR': 30.0, 'nose/L1': 0.2,
                              'KID': 0.01, 'irises/pixels': 42})
    text = render(t)
    assert t.row_count == 4    # '', eye1, nose, irises
    assert 'eye1' in text and '30.0000' in text and '12.5000' in text and '42' in text
    assert [c.header for c in t.columns] == ['group', 'FID', 'L1', 'PSNR', 'KID', 'pixels']


def test_metrics_clear_between_evaluations():
    m = ReconstructionMetric(metrics=['L1'])
    a = run_metric(m, make_samples(3))
    b = run_metric(m, make_samples(3))
    assert a == b and m.results == []
    f = FID(feature_extractor=tiny_extractor(), feature_extractor_name='t')
    assert run_metric(f, make_samples(5)) == run_metric(f, make_samples(5))


def test_no_shared_docs_read_at_runtime():
    import facedisentangle.evaluation as ev
    root = os.path.dirname(ev.__file__)
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith('.py'):
                assert '/work/shared' not in open(os.path.join(dirpath, f)).read()


def test_swap_metric_self_reconstruction_is_a_reference_against_the_geometry_source():
    """reconstruction_key: the model's self-reconstruction G(E_I(I_i), E_A(I_i)) is scored
    against I_i (not against the swap's truth), over the same regions, as
    ``self_reconstruction``; without the key it is not reported."""
    samples = swap_samples(2)
    for s in samples:
        s['pred'] = s['gt'].clone()
        rec = s['geometry'].clone()
        rec[:, 8:10, 4:8] += 0.2                 # off by 0.2 on the irises only
        s['rec'] = rec
    out = run_metric(SwapGroundTruthMetric(regions=dict(irises=[5], hair=[1]),
                                           reconstruction_key='rec'), samples)
    assert out['self_reconstruction/irises/L1'] == pytest.approx(0.2, rel=1e-5)
    assert out['self_reconstruction/irises/colour_L1'] == pytest.approx(0.2, rel=1e-5)
    assert out['self_reconstruction/hair/L1'] == 0
    assert out['self_reconstruction/L1'] == pytest.approx(0.2 * 8 / 16 ** 2, rel=1e-5)
    assert out['swap/irises/L1'] == 0            # the swap is still scored against gt
    nested = swap_metric_table(out)
    assert nested['']['irises']['self_reconstruction']['L1'] == out[
        'self_reconstruction/irises/L1']
    assert 'self_reconstruction' in render(format_swap_table(out))
    plain = run_metric(SwapGroundTruthMetric(regions=dict(irises=[5])), samples)
    assert not any('self_reconstruction' in k for k in plain)
    for s in samples:
        s['rec'] = s['rec'][:, :8]
    with pytest.raises(ValueError, match="'rec' has shape"):
        run_metric(SwapGroundTruthMetric(reconstruction_key='rec'), samples)


def test_swap_metric_colour_correlation_tells_a_constant_colour_from_a_transferred_one():
    """colour_corr: ~1 when the region's colour follows the truth's from image to image,
    ~0 for one constant colour (which can still win on colour_L1 against another face's
    colour), absent with fewer than 3 images; self-contained check of colour_correlation."""
    g = torch.Generator().manual_seed(1)
    samples = swap_samples(12)
    colours = torch.rand(12, 3, generator=g) * 1.2 - 0.6
    for s, c in zip(samples, colours):
        m = s['label'] == 5
        s['gt'][:, m] = c[:, None]
        s['pred'] = s['gt'].clone()
        s['pred'][:, m] = 0.5 * c[:, None] + 0.1          # follows the truth, scaled
        s['geometry'][:, m] = colours.mean(0)[:, None]     # the same average colour everywhere
    out = run_metric(SwapGroundTruthMetric(regions=dict(irises=[5])), samples)
    assert out['swap/irises/colour_corr'] == pytest.approx(1.0, abs=1e-9)
    assert 'copy_geometry/irises/colour_corr' not in out     # a constant: nothing to correlate
    assert colour_correlation([([0.0] * 3, [0.0] * 3)] * 2) is None
    x = [([float(i), -float(i), 2.0 * i], [2.0 * i, float(i), float(i)]) for i in range(4)]
    assert colour_correlation(x) == pytest.approx((1 - 1 + 1) / 3)
    assert out['swap/irises/colour_L1'] > 0 and len(swap_metric_table(out)) == 1
