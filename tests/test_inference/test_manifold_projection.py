"""Manifold projection of sketch vectors: K nearest neighbours, LLE weights, blending."""
import numpy as np
import pytest
import torch

from facedisentangle.inference.manifold_projection import (
    barycentric_weights,
    nearest_neighbours,
    project_vectors,
)


def clustered_bank(k=5, d=16, far=200, seed=0):
    """k bank vectors near the origin, ``far`` vectors far away, and a point in the affine
    span of the k near ones (weights summing to one, some negative)."""
    g = torch.Generator().manual_seed(seed)
    near = torch.randn(k, d, generator=g, dtype=torch.float64)
    rest = torch.randn(far, d, generator=g, dtype=torch.float64) + 50.0
    bank = torch.cat([rest[:far // 2], near, rest[far // 2:]])
    w = torch.tensor([0.5, 0.3, 0.4, -0.1, -0.1], dtype=torch.float64)[:k]
    return bank, near, w, w @ near


def test_nearest_neighbours_exact_and_ordered():
    g = torch.Generator().manual_seed(1)
    bank, q = torch.randn(300, 8, generator=g), torch.randn(4, 8, generator=g)
    idx = nearest_neighbours(q, bank, 7, max_elements=100)        # many small chunks
    d = ((q[:, None] - bank[None]) ** 2).sum(-1)
    assert torch.equal(idx, d.argsort(1)[:, :7])
    with pytest.raises(ValueError, match='k must be in'):
        nearest_neighbours(q, bank, 301)
    with pytest.raises(ValueError, match='share D'):
        nearest_neighbours(q, bank[:, :4], 3)


@pytest.mark.parametrize('method,kw', [('lle', {}), ('official', dict(penalty=0.0))])
def test_point_in_the_span_of_its_neighbours_is_recovered(method, kw):
    bank, near, w_true, v = clustered_bank()
    idx = nearest_neighbours(v[None], bank, 5)[0]
    assert set(idx.tolist()) == set(range(100, 105))
    w = barycentric_weights(v, bank[idx], reg=0.0, method=method, **kw)
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-12)
    assert torch.allclose(w @ bank[idx], v, atol=1e-9)
    order = idx - 100                                         # neighbours -> true weights
    assert torch.allclose(w, w_true[order], atol=1e-9)
    if method == 'lle':
        p = project_vectors(v[None], bank, 1.0, k=5, reg=0.0, method=method)
        assert torch.allclose(p[0], v, atol=1e-9)


def test_official_penalty_leans_towards_the_nearest_neighbour():
    bank, near, w_true, v = clustered_bank()
    idx = nearest_neighbours(v[None], bank, 5)[0]
    free = barycentric_weights(v, bank[idx], method='official', penalty=0.0)
    tied = barycentric_weights(v, bank[idx], method='official', penalty=10.0)
    assert float(tied.sum()) == pytest.approx(1.0, abs=1e-12)
    assert abs(float(tied[1:].sum())) < abs(float(free[1:].sum()))


@pytest.mark.parametrize('method', ['lle', 'official'])
def test_weights_sum_to_one(method):
    g = torch.Generator().manual_seed(2)
    for k in (2, 15, 40):                     # 40 > D: rank deficient, reg keeps it solvable
        n = torch.randn(k, 32, generator=g)
        w = barycentric_weights(torch.randn(32, generator=g), n, reg=1e-3, method=method)
        assert w.shape == (k,) and float(w.sum()) == pytest.approx(1.0, abs=1e-5)
    assert torch.equal(barycentric_weights(torch.zeros(3), torch.ones(1, 3)), torch.ones(1))
    with pytest.raises(ValueError, match="'lle' or 'official'"):
        barycentric_weights(torch.zeros(3), torch.ones(2, 3), method='pca')


def test_projection_lands_on_the_local_plane_and_lambda_blends():
    g = torch.Generator().manual_seed(3)
    bank = torch.randn(500, 6, generator=g, dtype=torch.float64)
    v = torch.randn(3, 6, generator=g, dtype=torch.float64) * 2
    assert torch.equal(project_vectors(v, bank, 0.0), v)                 # lambda 0: unchanged
    p = project_vectors(v, bank, 1.0, k=4, reg=0.0)                      # lambda 1: projection
    for i in range(3):
        idx = nearest_neighbours(v[i:i + 1], bank, 4)[0]
        n = bank[idx]
        # p - n_0 lies in the span of n_i - n_0 and the residual is orthogonal to it
        basis = (n[1:] - n[0]).T
        coef = torch.linalg.lstsq(basis, (p[i] - n[0])[:, None]).solution
        assert torch.allclose(basis @ coef[:, 0], p[i] - n[0], atol=1e-9)
        assert torch.allclose(basis.T @ (v[i] - p[i]), torch.zeros(3, dtype=v.dtype), atol=1e-8)
    half = project_vectors(v, bank, 0.5, k=4, reg=0.0)
    assert torch.allclose(half, 0.5 * v + 0.5 * p, atol=1e-12)
    with pytest.raises(ValueError, match=r'strength \(refine_sketch\) must be in \[0, 1\]'):
        project_vectors(v, bank, 1.5)


def test_float32_bank_from_numpy():
    bank = np.random.default_rng(4).standard_normal((100, 8)).astype(np.float32)
    v = torch.from_numpy(bank[:2] + 0.01)
    p = project_vectors(v, bank, 1.0, k=15)
    assert p.dtype == torch.float32 and p.shape == (2, 8)
    assert float((p - v).norm()) < float((torch.from_numpy(bank[:2]) - v).norm()) + 0.1
