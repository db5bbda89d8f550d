"""Checkpoint safety, the per-network optimiser constructor and the NaN guard."""
import os
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.optim import OptimWrapper, OptimWrapperDict

from facedisentangle.engine.checkpoint import (
    atomic_torch_save,
    find_last_good_checkpoint,
    safe_load_checkpoint,
)
from facedisentangle.engine.optim_constructor import PerNetworkOptimWrapperConstructor
from facedisentangle.utils import register_all_modules

register_all_modules()


def _mmengine_like_checkpoint():
    import numpy as np
    buf = HistoryBuffer()
    buf.update(1.5)
    return {'meta': {'iter': 3, 'seed': np.int64(7), 'arr': np.arange(3)},
            'state_dict': {'w': torch.ones(2)},
            'message_hub': {'log_scalars': {'train/loss': buf}, 'runtime_info': {'iter': 3}}}


def test_safe_load_accepts_mmengine_checkpoints(tmp_path):
    path = tmp_path / 'iter_3.pth'
    atomic_torch_save(_mmengine_like_checkpoint(), path)
    ckpt = safe_load_checkpoint(path)
    assert ckpt['meta']['iter'] == 3
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    assert not any(p.name.startswith('.') for p in tmp_path.iterdir())  # no temp file left


class _Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null',))


def test_safe_load_refuses_code(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _Evil()}, path)
    with pytest.raises(RuntimeError, match='evil.pth'):
        safe_load_checkpoint(path)
    raw = tmp_path / 'evil.pkl'
    raw.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(RuntimeError, match='evil.pkl'):
        safe_load_checkpoint(raw)


class _SneakyGetattr:
    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_safe_load_allows_only_history_buffer_statistics(tmp_path):
    path = tmp_path / 'sneaky.pth'
    torch.save({'state_dict': {}, 'x': _SneakyGetattr()}, path)
    with pytest.raises(RuntimeError, match=r"(?s)sneaky.pth.*refused getattr"):
        safe_load_checkpoint(path)


def test_find_last_good_checkpoint_skips_broken_files(tmp_path):
    assert find_last_good_checkpoint(tmp_path) is None
    for it in (2, 4):
        atomic_torch_save(_mmengine_like_checkpoint(), tmp_path / f'iter_{it}.pth')
    (tmp_path / 'iter_6.pth').write_bytes(b'truncated')  # a kill -9 mid-save (old MMEngine)
    (tmp_path / 'last_checkpoint').write_text('')  # pointer truncated by a kill
    assert find_last_good_checkpoint(tmp_path) == str(tmp_path / 'iter_4.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert find_last_good_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')


class _GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.generators = nn.ModuleDict({'eye1': nn.Linear(2, 2)})
        self.discriminators = nn.ModuleDict({'eye1': nn.Linear(2, 1)})
        self.encoders = nn.Linear(2, 2).requires_grad_(False)


def test_per_network_optimisers_from_config():
    model = _GAN()
    cfg = dict(generator=dict(modules=['generators'],
                              optimizer=dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))),
               discriminator=dict(modules='discriminators',
                                  optimizer=dict(type='Adam', lr=4e-4)))
    wrappers = PerNetworkOptimWrapperConstructor(cfg)(model)
    assert isinstance(wrappers, OptimWrapperDict)
    g = wrappers['generator'].optimizer.param_groups[0]
    d = wrappers['discriminator'].optimizer.param_groups[0]
    assert g['lr'] == 1e-3 and d['lr'] == 4e-4
    assert {id(p) for p in g['params']} == {id(p) for p in model.generators.parameters()}
    assert {id(p) for p in d['params']} == {id(p) for p in model.discriminators.parameters()}
    single = PerNetworkOptimWrapperConstructor(dict(optimizer=dict(type='SGD', lr=0.1)))(model)
    assert isinstance(single, OptimWrapper)
    # frozen parameters are not optimised
    assert len(single.optimizer.param_groups[0]['params']) == 4
    with pytest.raises(KeyError, match="no sub-network 'generatorz'.*generators"):
        PerNetworkOptimWrapperConstructor(
            dict(g=dict(modules=['generatorz'], optimizer=dict(type='SGD', lr=1))))(model)
    with pytest.raises(ValueError, match='no trainable parameters'):
        PerNetworkOptimWrapperConstructor(
            dict(e=dict(modules=['encoders'], optimizer=dict(type='SGD', lr=1))))(model)


def test_nan_loss_names_term_and_iteration():
    from mmengine.logging import MessageHub

    from facedisentangle.models.editors.base import NonFiniteLossError
    from facedisentangle.models.editors.sketch_autoencoder import SketchAutoEncoder

    model = SketchAutoEncoder(
        sketch_encoder=dict(type='SketchEncoder', ngf=4, n_downsampling=3),
        sketch_decoder=dict(type='SketchDecoder', ngf=4, n_downsampling=3),
        layout=dict(resolution=128), components=['eye1'])
    MessageHub.get_current_instance().update_info('iter', 41)
    losses = {'eye1/loss_sketch_rec': torch.tensor(0.5), 'eye2/loss_geo': torch.tensor(float('nan'))}
    with pytest.raises(NonFiniteLossError, match=r"'eye2/loss_geo' is nan at iteration 42"):
        model.parse_losses(losses)
    total, log = model.parse_losses({'eye1/loss_sketch_rec': torch.tensor(0.5)})
    assert float(total) == 0.5


def test_cpu_autocast_wrapper_runs_bfloat16_convolutions_and_keeps_float32_state():
    from facedisentangle.engine import CPUAutocastOptimWrapper
    from facedisentangle.registry import OPTIM_WRAPPERS

    conv = nn.Conv2d(3, 4, 3)
    wrapper = OPTIM_WRAPPERS.build(dict(type='CPUAutocastOptimWrapper',
                                        optimizer=torch.optim.Adam(conv.parameters(), 1e-2)))
    assert isinstance(wrapper, CPUAutocastOptimWrapper)
    x = torch.randn(2, 3, 8, 8)
    with wrapper.optim_context(conv):
        y = conv(x)
    assert y.dtype == torch.bfloat16  # the convolution ran in bfloat16
    before = conv.weight.detach().clone()
    wrapper.update_params(y.float().square().mean())
    assert conv.weight.dtype == torch.float32 and not torch.equal(conv.weight, before)
    assert conv.weight.grad is None or conv.weight.grad.dtype == torch.float32
    with pytest.raises(ValueError, match="dtype='int8'"):
        CPUAutocastOptimWrapper(dtype='int8', optimizer=torch.optim.SGD(conv.parameters(), 1))


def test_amp_flag_on_a_cpu_selects_bfloat16_autocast(monkeypatch):
    from mmengine.config import Config

    from facedisentangle.engine import set_amp

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(optim_wrapper=dict(
        constructor='PerNetworkOptimWrapperConstructor',
        generator=dict(optimizer=dict(type='Adam', lr=1e-3)),
        discriminator=dict(optimizer=dict(type='Adam', lr=1e-3)))))
    set_amp(cfg)
    assert cfg.optim_wrapper.generator.type == 'CPUAutocastOptimWrapper'
    assert cfg.optim_wrapper.discriminator.type == 'CPUAutocastOptimWrapper'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    single = Config(dict(optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1))))
    set_amp(single)
    assert single.optim_wrapper.type == 'AmpOptimWrapper'
    assert single.optim_wrapper.loss_scale == 'dynamic'
