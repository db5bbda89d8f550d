"""Manifold projection of sketch vectors (DeepFaceDrawing; official ``get_inter``).

A component's sketch is encoded to a vector ``v`` (``DrawingEncoder``); ``v`` is moved towards
the locally linear manifold spanned by the vectors of the training sketches (a *bank*), then
decoded. For each vector::

    N_K(v) = the K bank vectors nearest to v in squared L2 distance ||v - b_j||^2
    w      = argmin_w || v - sum_i w_i n_i ||^2   subject to  sum_i w_i = 1     (LLE weights)
    p      = sum_i w_i n_i                                                   (the projection)
    v'     = (1 - lambda) v + lambda p,   lambda in [0, 1]

The constraint is eliminated with ``w_1 = 1 - sum_{i>1} w_i`` (``n_1`` the nearest)::

    x = argmin_x || (v - n_1) - A x ||^2 + R(x),   A = [n_2 - n_1, ..., n_K - n_1]  (D x (K-1))
    w = (1 - sum x, x)

``method='lle'`` (ours): ``R = r ||x||^2`` with ``r = reg * trace(A^T A) / (K - 1)`` (the
usual LLE conditioning, which keeps the system solvable when K - 1 exceeds the rank: K > D + 1
or coincident neighbours); ``reg = 0`` gives the minimum-norm least-squares solution, exact
(``p = v``) when ``v`` lies in the affine span of its neighbours.
``method='official'`` (the release): ``R = (penalty * sum x)^2``, its extra row of 10s, which
leans the weights towards the nearest neighbour ``n_1``.
"""
from __future__ import annotations

import torch


def nearest_neighbours(vectors: torch.Tensor, bank: torch.Tensor, k: int,
                       max_elements: int = 1 << 24) -> torch.Tensor:
    """Indices ``(B, k)`` of the ``k`` bank rows nearest to each of ``vectors`` ``(B, D)`` by
    squared L2 distance, nearest first (exact differences ``sum_d (v_d - b_d)^2``, over chunks
    of the bank of at most ``max_elements`` differences)."""
    if vectors.ndim != 2 or bank.ndim != 2 or vectors.shape[1] != bank.shape[1]:
        raise ValueError(f'nearest_neighbours: vectors (B, D) and bank (N, D) must share D, got '
                         f'{tuple(vectors.shape)} and {tuple(bank.shape)}')
    if not 1 <= k <= bank.shape[0]:
        raise ValueError(f'nearest_neighbours: k must be in [1, {bank.shape[0]}] (the bank '
                         f'size), got {k}')
    bank = bank.to(vectors.dtype)
    rows = max(1, max_elements // max(1, vectors.shape[0] * vectors.shape[1]))
    dists = torch.cat([((vectors[:, None, :] - bank[None, s:s + rows]) ** 2).sum(-1)
                       for s in range(0, bank.shape[0], rows)], 1)
    return dists.topk(k, dim=1, largest=False, sorted=True).indices


def barycentric_weights(vector: torch.Tensor, neighbours: torch.Tensor, reg: float = 1e-3,
                        method: str = 'lle', penalty: float = 10.0) -> torch.Tensor:
    """Weights ``(K,)`` summing to one with ``sum_i w_i neighbours[i]`` closest to ``vector``.

    ``vector`` ``(D,)``, ``neighbours`` ``(K, D)`` nearest first; ``method`` ``'lle'`` (ours, with
    ``reg``) or ``'official'`` (the release's reduced system with its ``penalty`` row).
    Computed in float64.
    """
    v = vector.to(torch.float64)
    n = neighbours.to(torch.float64)
    k = n.shape[0]
    if k == 1:
        return torch.ones(1, dtype=vector.dtype, device=vector.device)
    if method not in ('lle', 'official'):
        raise ValueError(f"barycentric_weights: method must be 'lle' or 'official', got "
                         f'{method!r}')
    a = (n[1:] - n[0]).T                                         # (D, K - 1)
    b = v - n[0]
    if method == 'lle':
        gram = a.T @ a
        trace = float(gram.diagonal().sum())
        if reg > 0 and trace > 0:
            gram = gram + reg * trace / (k - 1) * torch.eye(k - 1, dtype=n.dtype,
                                                              device=n.device)
            x = torch.linalg.solve(gram, a.T @ b)
        else:
            x = torch.linalg.lstsq(a, b[:, None], driver='gelsd' if a.device.type == 'cpu'
                                   else None).solution[:, 0]
        w = torch.cat([(1 - x.sum())[None], x])
    else:
        a = torch.cat([a, torch.full((1, k - 1), penalty, dtype=n.dtype, device=n.device)])
        b = torch.cat([b, torch.zeros(1, dtype=n.dtype, device=n.device)])
        x = torch.linalg.lstsq(a.T @ a, (a.T @ b)[:, None]).solution[:, 0]
        w = torch.cat([(1 - x.sum())[None], x])
    return w.to(vector.dtype)


def project_vectors(vectors: torch.Tensor, bank: torch.Tensor, strength: float = 1.0,
                    k: int = 15, reg: float = 1e-3, method: str = 'lle') -> torch.Tensor:
    """``v' = (1 - strength) v + strength * p(v)`` for each row of ``vectors`` ``(B, D)``.

    ``strength`` 0 returns ``vectors`` unchanged (no search); 1 the projection ``p``.
    """
    if not 0.0 <= float(strength) <= 1.0:
        raise ValueError(f'project_vectors: strength (refine_sketch) must be in [0, 1], got '
                         f'{strength!r}')
    if float(strength) == 0.0:
        return vectors
    bank = torch.as_tensor(bank, device=vectors.device)
    idx = nearest_neighbours(vectors.detach(), bank, k)
    proj = torch.stack([
        barycentric_weights(vectors[i].detach(), bank[idx[i]], reg, method).to(vectors.dtype)
        @ bank[idx[i]].to(vectors.dtype) for i in range(len(vectors))])
    return (1.0 - strength) * vectors + strength * proj
