"""DrawingEncoder / DrawingDecoder: the official nesting, the identity LeakyReLU(True), shapes."""
import pytest
import torch
from drawing_keys import official_decoder_keys, official_encoder_keys

from facedisentangle.models.backbones import DrawingDecoder, DrawingEncoder


def shapes(net):
    return {k: tuple(v.shape) for k, v in net.state_dict().items()
            if not k.endswith('num_batches_tracked')}


@pytest.mark.parametrize('s', [64, 128])
def test_official_nesting_keys_and_shapes(s):
    enc = DrawingEncoder(image_size=s, input_nc=1, leaky_relu_slope=1.0)
    dec = DrawingDecoder(image_size=s, output_nc=32, leaky_relu_slope=1.0, out_activation='none')
    assert shapes(enc) == official_encoder_keys(s)
    assert shapes(dec) == official_decoder_keys(s)
    assert enc.conv[0].bn.momentum == 0.9 and dec.conv[1].conv[1].momentum == 0.9
    enc.eval(), dec.eval()
    v = enc(torch.rand(2, 3, s, s) * 2 - 1)               # only channel 0 is read
    assert v.shape == (2, 512)
    assert dec(v).shape == (2, 32, s, s)


def test_leaky_relu_true_is_the_identity():
    enc = DrawingEncoder(image_size=32, channels=(4, 8), latent_dim=6, leaky_relu_slope=1.0)
    x = -torch.rand(5)
    assert torch.equal(enc.conv[0].relu(x), x)
    assert torch.nn.LeakyReLU(True).negative_slope == 1.0      # what the release wrote
    ours = DrawingEncoder(image_size=32, channels=(4, 8), latent_dim=6)
    assert ours.conv[0].relu.negative_slope == 0.2
    # with slope 1 and the ResnetBlocks' ReLUs bypassed the network is affine: f(a+b)-f(b)
    # = f(a)-f(0); check on the first block alone
    blk = enc.conv[0].eval()
    a, b = torch.randn(1, 1, 32, 32), torch.randn(1, 1, 32, 32)
    z = torch.zeros_like(a)
    assert torch.allclose(blk(a + b) - blk(b), blk(a) - blk(z), atol=1e-5)


def test_channel_0_only_and_tiny_autoencoder_shapes():
    enc = DrawingEncoder(image_size=40, channels=(4, 8, 8), latent_dim=16).eval()
    dec = DrawingDecoder(image_size=40, channels=(8, 8, 4, 4), latent_dim=16).eval()
    x = torch.rand(2, 3, 40, 40)
    y = x.clone()
    y[:, 1:] = 0
    assert torch.equal(enc(x), enc(y))
    out = dec(enc(x))
    assert out.shape == (2, 1, 40, 40) and out.abs().max() <= 1


def test_errors_are_named():
    with pytest.raises(ValueError, match='image_size 40 must be a positive multiple of the total '
                       'stride 32'):
        DrawingEncoder(image_size=40)
    with pytest.raises(ValueError, match='out_activation'):
        DrawingDecoder(image_size=32, out_activation='sigmoid')
    enc = DrawingEncoder(image_size=32, channels=(4,), latent_dim=4)
    with pytest.raises(ValueError, match='built for 32x32'):
        enc(torch.rand(2, 1, 64, 64))
    dec = DrawingDecoder(image_size=32, channels=(4, 4), latent_dim=4)
    with pytest.raises(ValueError, match=r'\(B, 4\)'):
        dec(torch.rand(2, 5))
