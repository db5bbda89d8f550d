"""The parameter names and shapes of the release's Drawing networks (DrawingEncoder,
DrawingDecoder), written out from their structure: shared by the backbone and converter tests."""


def resblock_keys(prefix, dim):
    keys = {}
    for j in (0, 1):
        keys[f'{prefix}.conv_block.{j}.conv.weight'] = (dim, dim, 3, 3)
        keys[f'{prefix}.conv_block.{j}.conv.bias'] = (dim,)
        for n in ('weight', 'bias', 'running_mean', 'running_var'):
            keys[f'{prefix}.conv_block.{j}.norm.{n}'] = (dim,)
    return keys


def bn_keys(prefix, dim):
    return {f'{prefix}.{n}': (dim,) for n in ('weight', 'bias', 'running_mean', 'running_var')}


def official_encoder_keys(s, input_nc=1):
    """The release's DrawingEncoder(image_size=s, input_nc) parameter names and shapes, written
    out from its structure (Jittor: no num_batches_tracked)."""
    keys = {'conv.0.conv.weight': (32, input_nc, 4, 4), 'conv.0.conv.bias': (32,),
            **bn_keys('conv.0.bn', 32)}
    dim = 32
    for i in range(4):
        keys.update(resblock_keys(f'conv.{1 + 2 * i}', dim))
        keys[f'conv.{2 + 2 * i}.conv.weight'] = (2 * dim, dim, 4, 4)
        keys[f'conv.{2 + 2 * i}.conv.bias'] = (2 * dim,)
        keys.update(bn_keys(f'conv.{2 + 2 * i}.bn', 2 * dim))
        dim *= 2
    keys.update(resblock_keys('conv.9', 512))
    keys['fc_mu.0.weight'] = (512, 512 * (s // 32) ** 2)
    keys['fc_mu.0.bias'] = (512,)
    return keys


def official_decoder_keys(s, output_nc=32):
    keys = {'fc.0.weight': (512 * (s // 32) ** 2, 512), 'fc.0.bias': (512 * (s // 32) ** 2,)}
    keys.update(resblock_keys('conv.0', 512))
    chans = [512, 256, 256, 128, 64, 64]
    for i in range(5):
        keys[f'conv.{1 + 2 * i}.conv.0.weight'] = (chans[i], chans[i + 1], 4, 4)
        keys[f'conv.{1 + 2 * i}.conv.0.bias'] = (chans[i + 1],)
        keys.update(bn_keys(f'conv.{1 + 2 * i}.conv.1', chans[i + 1]))
        keys.update(resblock_keys(f'conv.{2 + 2 * i}', chans[i + 1]))
    keys['conv.12.weight'] = (output_nc, 64, 5, 5)
    keys['conv.12.bias'] = (output_nc,)
    return keys
