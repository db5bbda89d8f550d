"""Prepacked oneDNN convolutions and in-place ReLUs of the bfloat16 inference path: the same
numbers as the plain modules, the weights' mapped pages released, the switches honoured."""
import pytest
import torch
import torch.nn as nn

from facedisentangle.inference.inplace_activation import inplace_relu_enabled, inplace_relus
from facedisentangle.inference.precision import ExecutionForm
from facedisentangle.inference.prepacked_conv import (
    PrepackedConv2d,
    onednn_ready,
    prepack_convolutions,
    prepack_enabled,
    release_if_mapped,
)
from facedisentangle.models.backbones.conv_block import ConvBlock

needs_onednn = pytest.mark.skipif(not onednn_ready(), reason='no oneDNN bfloat16 here')


def cl(x):
    return x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)


def small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(16, 32, 3), nn.ReLU(),
                         nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(32, 8, 1)).to(torch.bfloat16).to(
                             memory_format=torch.channels_last).eval()


def mapped(net, tmp_path):
    """``net`` with its weights memory-mapped from a file (as the conversion cache loads)."""
    path = tmp_path / 'w.pth'
    torch.save(net.state_dict(), path)
    state = torch.load(path, mmap=True, weights_only=True)
    net.load_state_dict(state, assign=True)
    return state


@needs_onednn
def test_prepacked_equals_plain_convolution_and_keeps_the_parameters(tmp_path):
    net, plain = small_net(), small_net()
    state = mapped(net, tmp_path)
    x = cl(torch.randn(2, 16, 12, 12))
    y = cl(torch.randn(1, 16, 20, 20))
    with torch.inference_mode():
        ref, ref_y = plain(x), plain(y)
        keys = list(net.state_dict())
        assert prepack_convolutions(net, min_weights=0) == 3
        assert all(isinstance(net[i], PrepackedConv2d) for i in (1, 3, 5))
        first = net(x)
        assert net[1]._packed is None  # the first call runs plain: one use packs nothing
        second, third = net(x), net(x)  # the second call packs, the third reuses it
        assert isinstance(net[1]._packed, tuple)
        other = net(y)  # another input size than the one packed for: still right
    assert list(net.state_dict()) == keys
    assert torch.equal(first, ref) and torch.equal(second, ref) and torch.equal(third, ref)
    torch.testing.assert_close(other, ref_y, rtol=0.02, atol=0.02)
    # the plain weight's pages were dropped; reading it again re-reads the file
    assert torch.equal(net[1].weight, plain[1].weight)
    assert release_if_mapped(state['1.weight'])
    assert not release_if_mapped(torch.randn(1000))  # anonymous memory: never touched


@needs_onednn
def test_weights_in_ordinary_memory_and_small_or_float32_convolutions_stay_plain():
    net = small_net()
    assert prepack_convolutions(net) == 0  # all below MIN_WEIGHTS
    prepack_convolutions(net, min_weights=0)
    x = cl(torch.randn(1, 16, 12, 12))
    with torch.inference_mode():
        ref = small_net()(x)
        outs = [net(x) for _ in range(3)]
    assert net[1]._packed is False  # not from a file: packing would double its memory
    assert all(torch.equal(o, ref) for o in outs)
    net32 = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1)).eval()
    prepack_convolutions(net32, min_weights=0)
    x = torch.randn(1, 4, 8, 8)
    with torch.inference_mode():
        # float32 input to a bfloat16-packed class falls back to the plain convolution path
        torch.testing.assert_close(net32(x), nn.functional.conv2d(
            x, net32[0].weight, net32[0].bias, padding=1))


def test_switches(monkeypatch):
    monkeypatch.setenv('FACEDISENTANGLE_PREPACK', '0')
    assert not prepack_enabled()
    monkeypatch.setenv('FACEDISENTANGLE_PREPACK', 'yes')
    with pytest.raises(ValueError, match='FACEDISENTANGLE_PREPACK'):
        prepack_enabled()
    monkeypatch.setenv('FACEDISENTANGLE_INPLACE_RELU', '0')
    assert not inplace_relu_enabled()
    monkeypatch.delenv('FACEDISENTANGLE_INPLACE_RELU')
    assert inplace_relu_enabled()


def test_inplace_relus_only_after_producers_and_same_values():
    torch.manual_seed(0)
    first = nn.ReLU()  # applied to the network input: must stay out of place
    net = nn.Sequential(first, nn.Conv2d(3, 8, 3), nn.InstanceNorm2d(8), nn.ReLU(),
                        ConvBlock(8, 8, 3, padding=1, norm='none', activation='relu'))
    x = torch.randn(1, 3, 10, 10)
    ref = net(x)
    assert inplace_relus(net) == 2
    assert not first.inplace and net[3].inplace and net[4].activation.inplace
    x_before = x.clone()
    assert torch.equal(net(x), ref)
    assert torch.equal(x, x_before)  # the input is not modified


def test_execution_form_prepare_switches(monkeypatch):
    def net():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(256, 256, 3), nn.ReLU())

    bf16 = ExecutionForm(torch.bfloat16, channels_last=True)
    monkeypatch.setenv('FACEDISENTANGLE_PREPACK', '0')
    monkeypatch.setenv('FACEDISENTANGLE_INPLACE_RELU', '0')
    plain = bf16.prepare(net())
    assert type(plain[0]) is nn.Conv2d and not plain[1].inplace
    monkeypatch.delenv('FACEDISENTANGLE_PREPACK')
    monkeypatch.delenv('FACEDISENTANGLE_INPLACE_RELU')
    fast = bf16.prepare(net())
    assert fast[1].inplace
    assert (type(fast[0]) is PrepackedConv2d) == onednn_ready()
    f32 = ExecutionForm(torch.float32).prepare(net())  # the exact path is left as it is
    assert type(f32[0]) is nn.Conv2d and not f32[1].inplace
