"""tools/benchmarks/gpu_check.py in its dry mode (CPU, tiny networks): the JSON it writes, the
per-part failure records and the time budget. Its times are not looked at (not a benchmark)."""
import json

import pytest
from conftest import run_tool

TRAIN_KEYS = {'part', 'stage', 'precision', 'status', 'error', 'config', 'model', 'optim_wrapper',
              'batch', 'resolution', 'ngf', 'warmup', 'iters', 'step_s_median', 'step_s_all',
              'it_per_s', 'images_per_s', 'peak_mem_gb', 'flops_per_step', 'mfu',
              'mfu_vs_measured', 'first_losses', 'part_s'}
EDIT_KEYS = {'part', 'variant', 'mode', 'status', 'error', 'runs', 'edit_s_median',
             'edit_s_all', 'peak_mem_gb', 'flops_per_step', 'mfu', 'psnr_vs_float32',
             'weight_gb', 'part_s'}


def load_tool():
    from facedisentangle.cli import gpu_check

    return gpu_check


def test_dry_run_writes_every_part(tmp_path):
    run_tool(['tools/benchmarks/gpu_check.py', '--dry-run', '--out', str(tmp_path),
              '--train-precisions', 'amp', '--edit-variants', 'float32', 'bfloat16',
              '--edit-modes', 'photo'])
    report = json.loads((tmp_path / 'gpu_check.json').read_text())
    assert report['dry_run'] is True
    assert {'environment', 'peak_tflops', 'measured_matmul_tflops', 'vgg19', 'train',
            'edit', 'time_budget_s', 'elapsed_s'} <= set(report)
    assert 'random init' in report['vgg19']
    assert [r['stage'] for r in report['train']] == [1, 2, 3, 4]
    for r in report['train']:
        assert r['status'] == 'ok', r.get('traceback')
        assert TRAIN_KEYS <= set(r), TRAIN_KEYS - set(r)
        assert r['iters'] == 1 and r['resolution'] == 128 and r['ngf'] == 4
        assert r['flops_per_step'] > 0 and r['step_s_median'] > 0 and r['mfu'] > 0
        assert r['images_per_s'] == pytest.approx(r['batch'] / r['step_s_median'])
        assert r['peak_mem_gb'] is None  # CPU: no CUDA memory statistics
        assert r['optim_wrapper'] == 'CPUAutocastOptimWrapper'  # --amp on a CPU
    assert [(r['variant'], r['mode']) for r in report['edit']] == [
        ('float32', 'photo'), ('bfloat16', 'photo')]
    for r in report['edit']:
        assert r['status'] == 'ok', r.get('traceback')
        assert EDIT_KEYS <= set(r), EDIT_KEYS - set(r)
        assert r['flops_per_step'] > 0
    f32, bf16 = report['edit']
    assert f32['psnr_vs_float32'] == float('inf')
    assert 30 < bf16['psnr_vs_float32'] < float('inf')
    md = (tmp_path / 'gpu_check.md').read_text()
    assert '## Training steps' in md and '## Editing' in md and 'dry run' in md


def test_failed_part_is_recorded_and_the_next_runs(tmp_path, monkeypatch):
    tool = load_tool()
    real = tool.build_stage

    def broken(stage, dry_run):
        if stage == 1:
            raise RuntimeError('planted failure')
        return real(stage, dry_run)

    monkeypatch.setattr(tool, 'build_stage', broken)
    rc = tool.main(['--dry-run', '--out', str(tmp_path), '--stages', '1', '2',
                    '--train-precisions', 'amp', '--no-edit'])
    assert rc == 1  # a failed part makes the exit status non-zero
    report = json.loads((tmp_path / 'gpu_check.json').read_text())
    first, second = report['train']
    assert first['status'] == 'failed' and 'planted failure' in first['error']
    assert first['stage'] == 1 and first['precision'] == 'amp'
    assert second['status'] == 'ok' and second['stage'] == 2


def test_time_budget_skips_the_remaining_parts(tmp_path):
    tool = load_tool()
    rc = tool.main(['--dry-run', '--out', str(tmp_path), '--time-budget', '0',
                    '--edit-modes', 'photo'])
    assert rc == 0
    report = json.loads((tmp_path / 'gpu_check.json').read_text())
    parts = report['train'] + report['edit']
    assert len(report['train']) == 8 and len(report['edit']) == 4
    assert all(r['status'] == 'skipped' for r in parts)
    assert 'time budget' in parts[0]['reason']
