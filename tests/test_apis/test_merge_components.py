"""merge_components (facedisentangle.apis.merge_components, tools/merge_components.py):
per-component networks of one run put into another's checkpoint."""
import pytest
import torch
from conftest import run_tool

from facedisentangle.apis.merge_components import merge
from facedisentangle.structures import component_of, is_discriminator, unwrap_key


def fake_checkpoint(path, components, value, shape=(2, 3)):
    state, ema = {}, {'steps': torch.tensor(7)}
    for c in components:
        for net in ('generators', 'discriminators', 'image_encoders'):
            state[f'{net}.{c}.model.0.weight'] = torch.full(shape, value)
        ema[f'module.generators.{c}.model.0.weight'] = torch.full(shape, value + 0.5)
    state['fusion_generator.model.1.weight'] = torch.full((1,), value)  # not per component
    torch.save(dict(meta=dict(iter=100 * value, cfg='model = dict()'), state_dict=state,
                    ema_state_dict=ema, optimizer={'state': {}}, message_hub={}), path)
    return str(path)


def test_component_of():
    assert component_of('generators.eye1.model.0.weight') == 'eye1'
    assert component_of('module.discriminators.bg.x.weight') == 'bg'
    assert component_of('fusion_generator.model.1.weight') is None
    assert component_of('steps') is None


def test_one_unwrapping_of_wrapper_keys():
    # EMAHook's ema_state_dict wraps everything, separate DDP wraps a sub-network
    assert unwrap_key('module.generators.eye1.w') == 'generators.eye1.w'
    assert unwrap_key('generators.module.eye1.w', ['generators']) == 'generators.eye1.w'
    assert unwrap_key('generators.module.eye1.w') == 'generators.module.eye1.w'
    assert unwrap_key('generators.eye1.w', ['generators', '']) == 'generators.eye1.w'
    assert is_discriminator('fusion_discriminator.model.0.weight')
    assert is_discriminator('module.discriminators.eye1.x')
    assert not is_discriminator('generators.eye1.x')


def test_merge_takes_the_parts_components_and_keeps_the_rest(tmp_path):
    base = fake_checkpoint(tmp_path / 'base.pth', ['bg', 'eye1', 'eye2'], 1.0)
    part = fake_checkpoint(tmp_path / 'part.pth', ['eye1', 'eye2'], 2.0)
    out = tmp_path / 'merged.pth'
    info = merge(base, part, str(out))
    assert info['components'] == ['eye1', 'eye2'] and info['replaced'] == 6
    ck = torch.load(out, weights_only=True)
    sd = ck['state_dict']
    assert float(sd['generators.eye1.model.0.weight'][0, 0]) == 2.0
    assert float(sd['discriminators.eye2.model.0.weight'][0, 0]) == 2.0
    assert float(sd['generators.bg.model.0.weight'][0, 0]) == 1.0
    assert float(sd['fusion_generator.model.1.weight'][0]) == 1.0  # not the part's
    ema = ck['ema_state_dict']
    assert float(ema['module.generators.eye1.model.0.weight'][0, 0]) == 2.5
    assert float(ema['module.generators.bg.model.0.weight'][0, 0]) == 1.5
    assert int(ema['steps']) == 7
    assert 'optimizer' not in ck and 'message_hub' not in ck  # not resumable: two runs
    assert ck['meta']['iter'] == 100 and ck['meta']['merged_components']['eye1']['iter'] == 200
    # only some of the part's components
    merge(base, part, str(out), ['eye2'])
    sd = torch.load(out, weights_only=True)['state_dict']
    assert float(sd['generators.eye1.model.0.weight'][0, 0]) == 1.0
    assert float(sd['generators.eye2.model.0.weight'][0, 0]) == 2.0


def test_merge_refuses_what_does_not_fit(tmp_path):
    base = fake_checkpoint(tmp_path / 'base.pth', ['bg', 'eye1'], 1.0)
    other = fake_checkpoint(tmp_path / 'other.pth', ['eye1'], 2.0, shape=(4, 3))
    with pytest.raises(ValueError, match=r'wrong shapes.*generators\.eye1'):
        merge(base, other, str(tmp_path / 'x.pth'))
    nose = fake_checkpoint(tmp_path / 'nose.pth', ['nose'], 2.0)
    with pytest.raises(ValueError, match=r"base\.pth has no networks of \['nose'\]"):
        merge(base, nose, str(tmp_path / 'x.pth'))
    with pytest.raises(ValueError, match=r"nose\.pth has no networks of \['mouth'\]"):
        merge(base, nose, str(tmp_path / 'x.pth'), ['mouth'])
    # the command line: one error line, exit status 2, nothing written; then a merge
    proc = run_tool(['tools/merge_components.py', base, str(tmp_path / 'missing.pth'),
                     '--out', str(tmp_path / 'x.pth')], check=False)
    assert proc.returncode == 2 and 'missing.pth' in proc.stderr
    assert not (tmp_path / 'x.pth').exists()
    part = fake_checkpoint(tmp_path / 'part.pth', ['eye1'], 2.0)
    proc = run_tool(['tools/merge_components.py', base, part, '--out', str(tmp_path / 'x.pth')])
    assert 'eye1 from' in proc.stdout and (tmp_path / 'x.pth').exists()
