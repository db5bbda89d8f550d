"""Distributed correctness of the metrics: 2 CPU processes (gloo) == 1 process.

The data set has 7 samples, so MMEngine's ``DefaultSampler(round_up=True)`` gives each of the
2 processes 4 samples: process 1's last one is a padded copy of sample 0, which must not be
counted. FID and KID use a tiny random conv net instead of Inception (same seed everywhere);
LPIPS loads a random-weight AlexNet file written by the test (same file everywhere).
"""
from __future__ import annotations

import json
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from mmengine.dataset import DefaultSampler
from torch.utils.data import DataLoader

from facedisentangle.evaluation import (
    FID,
    KID,
    LPIPS,
    CodeConsistencyMetric,
    ReconstructionMetric,
    SwapGroundTruthMetric,
)

N, SIZE = 7, 32


class SampleSet(torch.utils.data.Dataset):
    """Deterministic per-index samples shaped like a model's val_step outputs."""

    def __len__(self):
        return N

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(100 + i)
        rnd = lambda: torch.rand(3, SIZE, SIZE, generator=g) * 1.6 - 0.8  # noqa: E731
        gt = rnd()
        label = torch.randint(0, 8, (SIZE, SIZE), generator=g, dtype=torch.uint8)
        code = torch.randn(16, 2, 2, generator=g)
        return dict(index=i, gt=gt, pred=(gt + 0.2 * rnd()).clamp(-1, 1), geometry=rnd(),
                    appearance=rnd(), label=label, code_mix=code + 0.1 * torch.randn(
                        16, 2, 2, generator=g), code_src=code)


def tiny_extractor():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                         nn.Flatten()).eval()


def evaluate_all(round_up: bool, alexnet: str) -> tuple[dict, int]:
    dataset = SampleSet()
    sampler = DefaultSampler(dataset, shuffle=False, round_up=round_up)
    loader = DataLoader(dataset, batch_size=2, sampler=sampler, collate_fn=list)
    net = tiny_extractor()
    metrics = [
        FID(feature_extractor=net, feature_extractor_name='tiny'),
        KID(feature_extractor=net, feature_extractor_name='tiny', num_subsets=4, subset_size=5,
            prefix='k', prefix_keys=False),
        ReconstructionMetric(),
        LPIPS(backbone_path=alexnet),
        SwapGroundTruthMetric(lpips=dict(backbone_path=alexnet), prefix='sw',
                              prefix_keys=False),
        CodeConsistencyMetric(pred_code_key='code_mix', source_code_key='code_src'),
    ]
    seen = 0
    for batch in loader:
        seen += len(batch)
        for m in metrics:
            m.process(None, batch)
    out = {}
    for m in metrics:
        out.update(m.evaluate(len(dataset)))
    return out, seen


def _worker(rank, world, init_file, workdir, alexnet):
    torch.set_num_threads(1)
    os.chdir(workdir)            # MMEngine's CPU collection writes under ./.dist_test
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world)
    try:
        result = {}
        for round_up in (True, False):
            out, seen = evaluate_all(round_up, alexnet)
            result[str(round_up)] = dict(metrics=out, seen=seen)
        with open(os.path.join(workdir, f'rank{rank}.json'), 'w') as f:
            json.dump(result, f)
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope='module')
def alexnet_file(tmp_path_factory):
    import torchvision
    torch.manual_seed(1)
    path = tmp_path_factory.mktemp('weights') / 'alexnet-owt-7be5be79.pth'
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return str(path)


def test_two_processes_equal_one(tmp_path, alexnet_file):
    torch.set_num_threads(1)
    want, seen = evaluate_all(True, alexnet_file)
    assert seen == N
    for k in ('FID', 'k/KID', 'L1', 'SSIM', 'LPIPS', 'sw/swap/L1', 'sw/color_transfer/hair/PSNR',
              'sw/irises/pixels', 'code/L1'):
        assert k in want
    # fork: the workers inherit the imported modules (spawning two fresh interpreters costs
    # tens of seconds on a loaded 2-core machine); the parent has no process group.
    mp.start_processes(_worker, args=(2, str(tmp_path / 'init'), str(tmp_path), alexnet_file),
                       nprocs=2, join=True, start_method='fork')
    r0 = json.loads((tmp_path / 'rank0.json').read_text())
    r1 = json.loads((tmp_path / 'rank1.json').read_text())
    for round_up in ('True', 'False'):
        # the sampler really padded: 4 + 4 samples for 7 with round_up, 4 + 3 without
        assert (r0[round_up]['seen'], r1[round_up]['seen']) == (
            (4, 4) if round_up == 'True' else (4, 3))
        got = r0[round_up]['metrics']
        assert got == r1[round_up]['metrics']      # every process gets the broadcast result
        assert set(got) == set(want)
        for k, v in want.items():
            # float32 features of other batch compositions: KID (a difference of ~1 kernel
            # values, here ~1e-5) agrees to ~1e-11 absolute
            assert got[k] == pytest.approx(v, rel=1e-6, abs=1e-9), (round_up, k)
