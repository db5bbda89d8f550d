"""Weight-only quantised export files (inference/quantize.py): exact packing, error bounds,
the export -> load round trip, clear errors for malformed entries and unknown versions."""
import pytest
import torch
from inference_helpers import random_face, to_tensor, write_tiny_export

from facedisentangle.inference import CheckpointKindError, DeepFaceEditingInference
from facedisentangle.inference.export import export_inference_checkpoint
from facedisentangle.inference.quantize import (
    bits_for,
    dequantize_weight,
    quantize_state_dict,
    quantize_weight,
)


def images(*seeds):
    return torch.cat([to_tensor(random_face(s)) for s in seeds])


def test_int8_one_scale_per_output_channel_error_at_most_half_a_step():
    torch.manual_seed(0)
    w = torch.randn(6, 5, 3, 3) * torch.linspace(0.01, 2, 6)[:, None, None, None]
    e = quantize_weight(w, 8)
    assert e['q'].dtype == torch.int8 and e['q'].shape == (6, 45) and e['scale'].shape == (6,)
    back = dequantize_weight(e)
    assert back.shape == w.shape and back.dtype == torch.float32
    step = w.reshape(6, -1).abs().amax(1) / 127
    err = (back - w).reshape(6, -1).abs().amax(1)
    assert torch.all(err <= step / 2 + 1e-7)
    # the largest weight of each channel is exact up to float rounding
    assert torch.allclose(back.reshape(6, -1).abs().amax(1), w.reshape(6, -1).abs().amax(1))


def test_int4_packs_two_codes_per_byte_and_reconstructs_exactly_s_times_q():
    # weights that are exact multiples of a power-of-two scale come back exactly
    codes = torch.tensor([[-7, -3, 0, 1, 7, 2, -1, 5, 4, -7]], dtype=torch.float32)
    w = (codes * 0.125).reshape(1, 10, 1)
    e = quantize_weight(w, 4, group=4)  # 10 weights -> 3 groups (2 padded)
    assert e['q'].dtype == torch.uint8 and e['q'].shape == (1, 6)
    assert e['scale'].dtype == torch.float16 and e['scale'].shape == (1, 3)
    assert torch.equal(dequantize_weight(e), w)
    assert torch.equal(e['scale'], torch.full((1, 3), 0.125, dtype=torch.float16))
    # low nibble first, codes stored as q + 8; the padding codes are 0 + 8
    assert e['q'][0].tolist() == [(-7 + 8) | ((-3 + 8) << 4), (0 + 8) | ((1 + 8) << 4),
                                  (7 + 8) | ((2 + 8) << 4), (-1 + 8) | ((5 + 8) << 4),
                                  (4 + 8) | ((-7 + 8) << 4), 8 | (8 << 4)]


def test_int4_error_bounded_by_the_group_scale_and_clipping_never_hurts():
    torch.manual_seed(1)
    w = torch.randn(8, 64, 3, 3)
    e = quantize_weight(w, 4, group=32)
    back = dequantize_weight(e)
    g = w.reshape(8, -1, 32)
    s = e['scale'].float()
    err = (back - w).reshape(8, -1, 32)
    # |error| <= half a step, except the clipped largest weights (at most (1 - 0.7) of max)
    assert torch.all(err.abs() <= torch.maximum(s[..., None] / 2 + 1e-6,
                                                0.31 * g.abs().amax(2, keepdim=True)))
    # the chosen clipping is at least as good as no clipping (ratio 1.0), group by group
    plain = (g.abs().amax(2) / 7).half().float()
    e_plain = ((torch.round(g / plain[..., None]).clamp(-7, 7) * plain[..., None] - g) ** 2
               ).sum(2)
    assert torch.all((err ** 2).sum(2) <= e_plain + 1e-6)
    rel = (back - w).norm() / w.norm()
    assert rel < 0.12, rel


def test_policy_biases_kept_int4_for_large_int8_for_small_and_named_networks():
    state = {
        'image_encoders.bg.model.1.weight': torch.randn(32, 32, 3, 3),     # 9216 elements
        'image_encoders.bg.model.1.bias': torch.randn(32),
        'generators.bg.model.5.weight': torch.randn(8, 4, 3, 3),
        'fusion_generator.model.4.weight': torch.randn(32, 32, 3, 3),
    }
    kept, q = quantize_state_dict(state, 'int4', group=16, min_numel=9216,
                                  int8_networks=['fusion_generator'])
    assert list(kept) == ['image_encoders.bg.model.1.bias']
    assert q['image_encoders.bg.model.1.weight']['bits'] == 4
    assert q['generators.bg.model.5.weight']['bits'] == 8          # small
    assert q['fusion_generator.model.4.weight']['bits'] == 8       # named network
    _, q8 = quantize_state_dict(state, 'int8')
    assert {e['bits'] for e in q8.values()} == {8}
    with pytest.raises(ValueError, match="unknown mode 'int3'"):
        bits_for('x.weight', torch.zeros(2, 2), 'int3')


def test_malformed_entries_are_named():
    e = quantize_weight(torch.randn(4, 8), 8)
    with pytest.raises(ValueError, match='net.w: a quantised entry needs'):
        dequantize_weight({'bits': 8}, 'net.w')
    with pytest.raises(ValueError, match='net.w: int8 entry does not match its shape'):
        dequantize_weight(dict(e, shape=[5, 8]), 'net.w')
    with pytest.raises(ValueError, match='bits=3'):
        dequantize_weight(dict(e, bits=3), 'net.w')
    with pytest.raises(ValueError, match='group size must be even'):
        quantize_weight(torch.randn(4, 8), 4, group=3)


@pytest.mark.parametrize('mode', ['int8', 'int4'])
def test_quantized_export_loads_with_weights_only_and_edits_like_its_dequantized_weights(
        tmp_path, mode):
    src = write_tiny_export(tmp_path / 'f32.pth')
    out = tmp_path / f'{mode}.pth'
    summary = export_inference_checkpoint(src, out, quantize=mode, group=16, min_numel=256,
                                          dtype=torch.bfloat16)
    obj = torch.load(out, weights_only=True)  # plain tensors and builtins only
    assert obj['format_version'] == 2 and summary['quantized'] == len(obj['quantized']) > 0
    assert all(v.dim() < 2 for v in obj['state_dict'].values())
    # tensor bytes (a tiny file is mostly zip-entry overhead, so not its size)
    nbytes = lambda ts: sum(t.numel() * t.element_size() for t in ts)  # noqa: E731
    f32_bytes = nbytes(torch.load(src, weights_only=True)['state_dict'].values())
    q_bytes = nbytes(obj['state_dict'].values()) + nbytes(
        t for e in obj['quantized'].values() for t in (e['q'], e['scale']))
    assert q_bytes < f32_bytes / (3.5 if mode == 'int8' else 5)
    # reference: the float32 file with every quantised weight replaced by its dequantisation
    ref_obj = torch.load(src, weights_only=True)
    for k, e in obj['quantized'].items():
        ref_obj['state_dict'][k] = dequantize_weight(e, k)
    for k, v in obj['state_dict'].items():  # the 1-D weights, stored in bfloat16
        ref_obj['state_dict'][k] = v.float()
    ref = tmp_path / 'dequantized.pth'
    torch.save(ref_obj, ref)
    g, a = images(1, 2), images(3, 4)
    got = DeepFaceEditingInference.from_checkpoint(out, precision='float32',
                                                   convert_cache=False)(g, a)
    want = DeepFaceEditingInference.from_checkpoint(ref, precision='float32',
                                                    convert_cache=False)(g, a)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    # the bfloat16 path (the CPU default) converts the dequantised weights, via the cache
    bf = DeepFaceEditingInference.from_checkpoint(out, precision='bfloat16',
                                                  convert_cache=tmp_path / 'cache')(g, a)
    assert torch.isfinite(bf).all()


def test_version_2_without_quantized_and_unknown_versions_are_refused(tmp_path):
    src = write_tiny_export(tmp_path / 'f32.pth')
    obj = torch.load(src, weights_only=True)
    obj['format_version'] = 2
    torch.save(obj, tmp_path / 'v2.pth')
    with pytest.raises(CheckpointKindError, match="v2.pth: export version 2 without 'quantized'"):
        DeepFaceEditingInference.from_checkpoint(tmp_path / 'v2.pth')
    obj['format_version'] = 3
    torch.save(obj, tmp_path / 'v3.pth')
    with pytest.raises(CheckpointKindError, match='version 3, this facedisentangle reads '
                                                  'versions 1 and 2'):
        DeepFaceEditingInference.from_checkpoint(tmp_path / 'v3.pth')


def test_export_check_measures_each_export_against_the_truth_and_the_reference(
        tmp_path, tiny_synthetic_h5):
    """tools/analysis/export_check.py: the reference's PSNR against itself is infinite, a
    quantised copy's finite; every L1 is a mean error of images in [-1, 1]."""
    import json

    from conftest import run_tool
    from inference_helpers import tiny_model

    src = write_tiny_export(tmp_path / 'f32.pth', model_cfg=tiny_model(
        layout=dict(resolution=128)))
    q = tmp_path / 'int8.pth'
    export_inference_checkpoint(src, q, quantize='int8')
    out = tmp_path / 'check.json'
    run_tool(['tools/analysis/export_check.py', str(src), str(q), '--data', tiny_synthetic_h5,
              '--num-pairs', '3', '--out', str(out)])
    r = json.loads(out.read_text())['results']
    assert r[str(src)]['swap_psnr_vs_reference'] == float('inf')
    assert 20 < r[str(q)]['swap_psnr_vs_reference'] < float('inf')
    for k in ('swap_L1', 'sketch_swap_L1'):
        assert 0 < r[str(q)][k]['all'] < 2 and 0 < r[str(q)][k]['details'] < 2
    bad = run_tool(['tools/analysis/export_check.py', str(src), str(q), '--data',
                    tiny_synthetic_h5, '--split', 'nope'], check=False)
    assert bad.returncode == 2 and "no split 'nope'" in bad.stderr
