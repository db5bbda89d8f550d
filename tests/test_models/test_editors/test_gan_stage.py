"""The pieces the GAN stages share: the named discriminator outputs of one pass and the
per-sample predict outputs."""
import pytest
import torch

from facedisentangle.models.editors.gan_stage import discriminate
from facedisentangle.models.editors.sample_outputs import per_sample_outputs


def test_discriminate_runs_once_and_reads_batches_back_by_name():
    calls = []

    def disc(component, x):  # two scales, two layer taps; per-sample outputs
        calls.append((component, x.shape[0]))
        return [[x * 1.0, x * 2.0], [x[:, :1] * 3.0]]

    rec, mix, cyc = (torch.full((2, 1, 1, 1), float(v)) for v in (1, 2, 3))
    out = discriminate(disc, dict(rec=rec, mix=mix, cycle=cyc), 'eye1')
    assert calls == [('eye1', 6)]
    assert torch.equal(out['mix'][0][1], 2.0 * mix) and torch.equal(out['cycle'][1][0], 3 * cyc)
    both = out['rec', 'mix']
    assert torch.equal(both[0][0], torch.cat([rec, mix])) and len(both) == 2
    assert torch.equal(out[['rec']][0][0], out['rec'][0][0])
    for bad in (('rec', 'cycle'), ('mix', 'rec'), 'real'):
        with pytest.raises(KeyError, match='not adjacent batches'):
            out[bad]


def test_per_sample_outputs_groups_batch_keys_and_partners():
    batch = dict(name=['a', 'b', 'c'], index=torch.arange(3), pair=[7, 8, 9])
    per_group = {'eye1': dict(rec=torch.arange(6.0).view(3, 2)),
                 '': dict(label=torch.arange(3))}
    outs = per_sample_outputs(per_group, 3, batch, keys=('name', 'index'),
                              partner_keys=('name',))
    assert len(outs) == 3
    assert set(outs[0]) == {'eye1/rec', 'label', 'name', 'index', 'partner_name'}
    assert torch.equal(outs[1]['eye1/rec'], torch.tensor([2.0, 3.0]))
    assert outs[1]['label'].item() == 1 and outs[1]['index'] == 1
    assert isinstance(outs[1]['index'], int)
    assert outs[0]['partner_name'] == 'c' and outs[2]['partner_name'] == 'b'
    # by default the swap keys, when the batch has them
    assert outs[0].keys() >= {'name'} and 'pair' in per_sample_outputs(per_group, 3, batch)[0]
