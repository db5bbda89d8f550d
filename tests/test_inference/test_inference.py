"""The full inference model: sources (stage checkpoints, work dirs, export files), safe config
reading, export, precision forms, partial recompute, determinism. Tiny 64 px networks."""
from __future__ import annotations

import os
import shutil

import pytest
import torch
import torch.nn as nn
from inference_helpers import (
    TINY_MODEL,
    random_face,
    to_tensor,
    write_stage_checkpoint,
    write_tiny_export,
)
from mmengine import Config

from facedisentangle.inference import (
    CheckpointKindError,
    ConfigTextError,
    DeepFaceEditingInference,
    IncrementalFusion,
    export_inference_checkpoint,
    literal_config,
    read_spec,
)
from facedisentangle.inference.fast_norm import use_group_norm
from facedisentangle.models.backbones import GlobalGenerator
from facedisentangle.registry import BACKBONES
from facedisentangle.structures import build_layout

torch.set_num_threads(1)


@pytest.fixture(scope='module')
def stage4(tmp_path_factory):
    return write_stage_checkpoint(tmp_path_factory.mktemp('ckpt') / 'iter_10.pth', stage=4)


@pytest.fixture(scope='module')
def export(tmp_path_factory):
    return write_tiny_export(tmp_path_factory.mktemp('export') / 'tiny.pth')


def images(*seeds):
    return torch.cat([to_tensor(random_face(s)) for s in seeds])


def reference_edit(source, geometry, appearance, geometry_from='photo'):
    """The edit computed directly from the backbones and the layout (no inference model)."""
    spec = read_spec(source)
    state = torch.load(spec.networks['fusion_generator'].file, weights_only=False)['state_dict']

    def net(name):
        m = BACKBONES.build(dict(spec.networks[name].config))
        m.load_state_dict({k[len(name) + 1:]: v for k, v in state.items()
                           if k.startswith(name + '.')})
        return m.eval()

    layout = build_layout(spec.layout)
    prefix = 'image_encoders' if geometry_from == 'photo' else 'sketch_encoders'
    with torch.no_grad():
        feats = {}
        for c in spec.components:
            code = net(f'{prefix}.{c}')(layout.crop(geometry, c))
            gen = net(f'generators.{c}')
            feats[c] = gen.decode_feature(code, gen.enc_style(layout.crop(appearance, c)))
        return net('fusion_generator')(layout.fuse(feats))


# ------------------------------------------------------------------------ config text
def test_literal_config_reads_mmengine_text_and_never_executes(tmp_path):
    model = dict(TINY_MODEL, type='GlobalFusion', layout=dict(resolution=64, trim=dict(nose=9)))
    text = Config(dict(model=model, lr=-2e-4)).pretty_text
    assert literal_config(text, ('model', 'lr')) == dict(model=model, lr=-2e-4)
    marker = tmp_path / 'pwned'
    evil = f"import os\nmodel = dict(a=os.system('touch {marker}'))\n"
    with pytest.raises(ConfigTextError, match='not plain data'):
        literal_config(evil, source='evil.pth')
    with pytest.raises(ConfigTextError, match="no top-level 'model'"):
        literal_config('x = 1', source='c.pth')
    assert not marker.exists()


# ------------------------------------------------------------------------ sources
def test_stage4_checkpoint_spec_excludes_training_networks(stage4):
    spec = read_spec(stage4)
    assert set(spec.networks) == {f'{p}.{c}' for p in ('sketch_encoders', 'image_encoders',
                                                      'generators')
                                  for c in TINY_MODEL['components']} | {'fusion_generator'}
    assert spec.networks['generators.nose'].config == TINY_MODEL['generator']
    assert spec.layout['resolution'] == 64 and spec.meta['ema'] is True
    assert spec.supported_kinds() == ['photo', 'sketch']  # no sketch decoders in stage 4


def test_work_dir_merges_stages_latest_first(tmp_path):
    for stage in (1, 2, 3, 4):
        d = tmp_path / f'stage{stage}'
        ckpt = write_stage_checkpoint(d / 'iter_10.pth', stage=stage, seed=stage)
        (d / 'last_checkpoint').write_text(str(ckpt))
    spec = read_spec(tmp_path)
    assert spec.supported_kinds() == ['photo', 'sketch', 'to_sketch']
    src = {n: os.path.basename(os.path.dirname(e.file)) for n, e in spec.networks.items()}
    assert src['sketch_decoders.eye1'] == 'stage2'  # the latest stage holding it
    assert src['sketch_encoders.eye1'] == 'stage4' and src['image_encoders.bg'] == 'stage4'
    assert src['fusion_generator'] == 'stage4'
    # the same set given as a list of checkpoints, in any order
    listed = read_spec([str(tmp_path / f'stage{s}' / 'iter_10.pth') for s in (4, 2, 1, 3)])
    assert {n: e.file for n, e in listed.networks.items()} == \
        {n: e.file for n, e in spec.networks.items()}
    model = DeepFaceEditingInference(spec, precision='float32')
    sketch = model.photo_to_sketch(images(1))
    assert sketch.shape == (1, 3, 64, 64) and sketch.abs().max() <= 1


def test_stages_with_different_layouts_are_refused(tmp_path):
    s2 = write_stage_checkpoint(tmp_path / 's2.pth', stage=2)
    s4 = write_stage_checkpoint(tmp_path / 's4.pth', stage=4,
                                model_cfg=dict(TINY_MODEL, layout=dict(resolution=128)))
    with pytest.raises(CheckpointKindError, match='s4.pth and .*s2.pth were trained with '
                                                  'different layouts'):
        read_spec([s2, s4])


def test_wrong_kinds_are_named(tmp_path):
    junk = tmp_path / 'notes.pth'
    junk.write_text('not a checkpoint')
    with pytest.raises(CheckpointKindError, match='notes.pth'):
        read_spec(junk)
    listed = tmp_path / 'list.pth'
    torch.save([1, 2], listed)
    with pytest.raises(CheckpointKindError, match='list.pth.*not a checkpoint dict'):
        read_spec(listed)
    other = tmp_path / 'other.pth'
    torch.save({'meta': {}, 'state_dict': {'backbone.conv.weight': torch.zeros(1)}}, other)
    with pytest.raises(CheckpointKindError, match='no DeepFaceEditing networks'):
        read_spec(other)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        read_spec(tmp_path / 'missing.pth')
    stage1 = write_stage_checkpoint(tmp_path / 's1.pth', stage=1)
    model = DeepFaceEditingInference.from_checkpoint(stage1)
    with pytest.raises(CheckpointKindError, match=r's1.pth has no image_encoders\.bg'):
        model(images(1), images(2))


def test_mismatched_weights_are_named(tmp_path):
    bad = write_stage_checkpoint(
        tmp_path / 'bad.pth', stage=4,
        extra_state={'generators.eye1.model.0.conv_block.0.conv.weight': torch.zeros(2, 2)})
    model = DeepFaceEditingInference.from_checkpoint(bad)
    with pytest.raises(ValueError, match=r'generators\.eye1.*model\.0\.conv_block\.0\.conv'
                                         r'\.weight: \(2, 2\)'):
        model(images(1), images(2))


# ------------------------------------------------------------------------ export
def test_export_loads_weights_only_and_matches_the_checkpoint(stage4, tmp_path):
    out = tmp_path / 'deploy.pth'
    summary = export_inference_checkpoint(stage4, out)
    obj = torch.load(out, weights_only=True)
    assert obj['format'] == 'facedisentangle-inference' and obj['format_version'] == 1
    assert not any(k.startswith(('discriminators', 'fusion_discriminator'))
                   for k in obj['state_dict'])
    assert 'optimizer' not in obj and 'ema_state_dict' not in obj
    assert obj['networks']['fusion_generator'] == TINY_MODEL['fusion_generator']
    assert obj['layout']['boxes']['eye1'] == [14, 20, 16]
    assert summary['tensors'] == len(obj['state_dict'])
    g, a = images(1, 2), images(3, 4)
    from_ckpt = DeepFaceEditingInference.from_checkpoint(stage4, precision='float32')(g, a)
    from_export = DeepFaceEditingInference.from_checkpoint(out, precision='float32')(g, a)
    assert torch.equal(from_ckpt, from_export)


def test_float32_equals_a_direct_forward_of_the_backbones(export):
    g, a = images(1, 2), images(3, 4)
    for geometry_from in ('photo', 'sketch'):
        model = DeepFaceEditingInference.from_checkpoint(export, precision='float32')
        out = model(g, a, geometry_from)
        ref = reference_edit(export, g, a, geometry_from)
        assert out.shape == (2, 3, 64, 64)
        torch.testing.assert_close(out, ref, atol=2e-5, rtol=0)


def test_only_the_networks_of_the_mode_are_built(export):
    model = DeepFaceEditingInference.from_checkpoint(export, low_memory=False)
    model(images(1), images(2), geometry_from='sketch')
    assert sorted(model.built()) == sorted(
        [f'sketch_encoders.{c}' for c in model.components]
        + [f'generators.{c}' for c in model.components] + ['fusion_generator'])
    model.release()
    assert model.built() == [] and len(model.cache) == 0
    # low memory from a float32 file: the encoders are converted, used and freed
    lean = DeepFaceEditingInference.from_checkpoint(export, low_memory=True, convert_cache=False)
    out = lean(images(1), images(2), geometry_from='sketch')
    assert sorted(lean.built()) == sorted(
        [f'generators.{c}' for c in lean.components] + ['fusion_generator'])
    model = DeepFaceEditingInference.from_checkpoint(export, low_memory=False)
    assert torch.equal(out, model(images(1), images(2), geometry_from='sketch'))


def test_precision_forms(export):
    g, a = images(1), images(2)
    ref = DeepFaceEditingInference.from_checkpoint(export, precision='float32')(g, a)
    model = DeepFaceEditingInference.from_checkpoint(export)  # 'auto'
    out = model(g, a)
    conv = model.fusion_generator.model[1]
    assert conv.weight.dtype == torch.bfloat16
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert type(model.fusion_generator.model[2]).__name__ == 'GroupInstanceNorm2d'
    assert out.dtype == torch.float32
    psnr = 10 * torch.log10(4 / (out - ref).pow(2).mean())
    assert 30 < psnr < 100  # bfloat16 is close to float32 but not equal
    mixed = DeepFaceEditingInference.from_checkpoint(
        export, precision={'default': 'bfloat16', 'generator': 'float32'})
    mixed(g, a)
    assert mixed.generators['eye1'].model[0].conv_block[0].conv.weight.dtype == torch.float32
    with pytest.raises(ValueError, match="unknown precision 'float16'"):
        DeepFaceEditingInference.from_checkpoint(export, precision='float16')
    with pytest.raises(ValueError, match='unknown roles'):
        DeepFaceEditingInference.from_checkpoint(export, precision={'decoder': 'float32'})


def test_group_norm_form_equals_instance_norm():
    torch.manual_seed(0)
    net = GlobalGenerator(input_nc=4, ngf=8, n_downsampling=2, n_blocks=1, init_type='xavier',
                          init_gain=1.0).eval()
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        ref = net(x)
        use_group_norm(net)
        assert not any(type(m) is nn.InstanceNorm2d for m in net.modules())
        torch.testing.assert_close(net(x.contiguous(memory_format=torch.channels_last)), ref,
                                   atol=1e-5, rtol=1e-5)


def test_instance_norm_statistics_are_accurate_in_float32():
    """Official float32 sums sequentially; ours must be at least as accurate: compare with
    float64 on a 512 px map whose mean is large against its spread."""
    torch.manual_seed(0)
    x = torch.randn(1, 4, 512, 512, dtype=torch.float64) * 0.05 + 20.0
    norm = nn.InstanceNorm2d(4, affine=True)
    ref = norm.double()(x)
    err = (norm.float()(x.float()).double() - ref).abs().max().item()
    # the float32 rounding of the input alone moves values by ~ 20 * 2^-24 / 0.05 = 2.4e-5
    assert err < 1e-4


# ------------------------------------------------------------------------ partial recompute
def test_partial_recompute_equals_full_recompute(export):
    model = DeepFaceEditingInference.from_checkpoint(export, precision='float32')
    g0, g1, a = images(1), images(5), images(2)
    codes = model.encode_geometry(g0)
    vectors = model.encode_appearance(a)
    model.compose(codes, vectors)
    misses = model.cache.misses
    eye = model.encode_geometry(g1, components=['eye1'])
    out = model.compose({**codes, **eye}, vectors)
    # only eye1's code and feature map were computed again
    assert model.cache.misses - misses == 2
    top, bottom, left, right = model._fusion.last_region
    x, y, s = model.layout.box('eye1')
    assert (y, x) <= (top, left) and bottom <= y + s and right <= x + s
    fresh = DeepFaceEditingInference.from_checkpoint(export, precision='float32',
                                                     cache_bytes=0)
    full = fresh.compose({**fresh.encode_geometry(g0),
                          **fresh.encode_geometry(g1, components=['eye1'])},
                         fresh.encode_appearance(a))
    torch.testing.assert_close(out, full, atol=1e-5, rtol=0)


def test_incremental_fusion_matches_full_forward_at_borders():
    torch.manual_seed(0)
    net = GlobalGenerator(input_nc=4, ngf=8, n_downsampling=2, n_blocks=1, init_type='xavier',
                          init_gain=1.0).eval()
    inc = IncrementalFusion(net)
    assert inc.enabled
    x = torch.randn(1, 4, 32, 32)
    with torch.no_grad():
        first = inc(x)
        assert inc(x.clone()) is first  # unchanged input: the kept image
        for region in [(slice(0, 5), slice(10, 14)), (slice(12, 15), slice(12, 20)),
                       (slice(28, 32), slice(29, 32))]:
            x = x.clone()
            x[:, :, region[0], region[1]] += 1.0
            torch.testing.assert_close(inc(x), net(x), atol=1e-5, rtol=0)


def test_deterministic(export):
    g, a = images(1, 2), images(3, 4)
    first = DeepFaceEditingInference.from_checkpoint(export)(g, a)
    again = DeepFaceEditingInference.from_checkpoint(export)
    assert torch.equal(first, again(g, a))
    assert torch.equal(first, again(g, a))  # from the cache


def test_bfloat16_export_is_used_in_place_and_low_memory_frees_encoders(export, tmp_path):
    bf16 = tmp_path / 'bf16.pth'
    export_inference_checkpoint(export, bf16, dtype=torch.bfloat16)
    w = torch.load(bf16, weights_only=True)['state_dict']['fusion_generator.model.1.weight']
    assert w.dtype == torch.bfloat16 and w.is_contiguous(memory_format=torch.channels_last)
    g, a = images(1, 2), images(3)
    # bfloat16 from float32, converted in memory
    ref = DeepFaceEditingInference.from_checkpoint(export, convert_cache=False)(g, a)
    model = DeepFaceEditingInference.from_checkpoint(bf16)  # low memory: auto
    assert model.low_memory and model.cache.max_bytes == 128 << 20
    assert 'converted_copy' not in model.spec.meta  # already in its execution form
    # a float32 file on the bfloat16 path without the conversion cache: every rebuild would
    # convert, so off unless asked
    assert not DeepFaceEditingInference.from_checkpoint(export, convert_cache=False).low_memory
    assert DeepFaceEditingInference.from_checkpoint(export, low_memory=True,
                                                    convert_cache=False).low_memory
    # float32 encoders from a bfloat16 file would need a float32 copy each time: off
    assert not DeepFaceEditingInference.from_checkpoint(bf16, precision='float32',
                                                        convert_cache=False).low_memory
    assert torch.equal(model(g, a), ref)  # the same rounding, done once at export
    conv = model.fusion_generator.model[1].weight
    stored = model._files[str(bf16)].state['fusion_generator.model.1.weight']
    assert conv.data_ptr() == stored.data_ptr()  # mapped from the file, not copied
    assert not any(n.startswith('image_encoders') for n in model.built())
    assert sorted(model.built()) == sorted([f'generators.{c}' for c in model.components]
                                           + ['fusion_generator'])
    assert torch.equal(model(g, images(4)), DeepFaceEditingInference.from_checkpoint(
        export, convert_cache=False)(g, images(4)))


def test_conversion_cache_converts_once_then_maps_the_copy(export, tmp_path, caplog):
    cache = tmp_path / 'cache'
    source = tmp_path / 'model.pth'  # a copy: this test rewrites it
    shutil.copyfile(export, source)
    g, a = images(1, 2), images(3)
    ref = DeepFaceEditingInference.from_checkpoint(source, convert_cache=False)
    model = DeepFaceEditingInference.from_checkpoint(source, convert_cache=cache)
    copies = sorted(cache.iterdir())
    assert len(copies) == 1 and model.spec.meta['converted_copy'] == str(copies[0])
    assert model.spec.meta['source'] == str(source)  # messages name the user's file
    assert model.low_memory  # rebuilding an encoder is a mapping now
    assert torch.equal(model(g, a), ref(g, a))  # the same rounding, done once
    conv = model.fusion_generator.model[1].weight
    stored = model._files[str(copies[0])].state['fusion_generator.model.1.weight']
    assert conv.data_ptr() == stored.data_ptr()
    # a second load maps the same copy without writing it again
    stamp = copies[0].stat().st_mtime_ns
    again = DeepFaceEditingInference.from_checkpoint(source, convert_cache=cache)
    assert again.spec.meta['converted_copy'] == str(copies[0])
    assert copies[0].stat().st_mtime_ns == stamp and len(list(cache.iterdir())) == 1
    # another precision is another copy; float32 from a float32 file needs none
    DeepFaceEditingInference.from_checkpoint(source, convert_cache=cache,
                                             precision={'default': 'bfloat16',
                                                        'generator': 'float32'})
    assert len(list(cache.iterdir())) == 2
    f32 = DeepFaceEditingInference.from_checkpoint(source, convert_cache=cache,
                                                   precision='float32')
    assert 'converted_copy' not in f32.spec.meta and len(list(cache.iterdir())) == 2
    # a rewritten source (new size or time) gets a new copy
    obj = torch.load(source, weights_only=True)
    obj['meta']['note'] = 'retrained'
    torch.save(obj, source)
    DeepFaceEditingInference.from_checkpoint(source, convert_cache=cache)
    assert len(list(cache.iterdir())) == 3
    # a cache that cannot be written: a warning naming it, and the source is used as before
    blocked = tmp_path / 'a-file'
    blocked.write_text('not a folder')
    with caplog.at_level('WARNING', logger='facedisentangle.inference'):
        fallback = DeepFaceEditingInference.from_checkpoint(source, convert_cache=blocked)
    assert 'could not write the converted weights' in caplog.text and 'a-file' in caplog.text
    assert 'converted_copy' not in fallback.spec.meta and not fallback.low_memory
    assert torch.equal(fallback(g, a), ref(g, a))


def test_auto_precision_is_float32_off_the_cpu():
    """'auto' is the CPU fast path (bfloat16 parts); on a GPU it is float32 (the bfloat16
    weights path is CPU-only; docs/benchmarks.md, GPU check). No GPU needed: only resolved."""
    from facedisentangle.inference.precision import AUTO_PRECISION, resolve_precision

    on_cpu = resolve_precision('auto', 'cpu')
    assert on_cpu == resolve_precision(AUTO_PRECISION)
    assert any(f.name != 'float32' for f in on_cpu.values())
    assert all(f.name == 'float32' for f in resolve_precision('auto', 'cuda').values())
    assert all(f.name == 'float32' for f in resolve_precision(None, 'cuda:0').values())
    # an explicit choice is kept on any device
    assert all(f.name == 'bfloat16' for f in resolve_precision('bfloat16', 'cuda').values())
