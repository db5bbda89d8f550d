"""Train several stages in order from one config (DeepFaceEditing's four stages).

A pipeline config holds ``pipeline = dict(stages=[...])``; each stage is::

    dict(name='stage2',                                   # sub-directory of the work dir
         config='stage2_image-encoder_synthetic-128.py',  # relative to the pipeline config
         cfg_options={'train_cfg.max_iters': 200},        # e.g. a quicker schedule
         init={'model.stage1_checkpoint': 'stage1'})      # config key <- that stage's result

``init={'load_from': 'stage4'}`` starts a stage from another stage's final weights (fine-tuning
with a new schedule: iteration 0, fresh optimisers); ``--resume`` continues such a stage from
its own checkpoints once it has some.

Each stage trains with :class:`~facedisentangle.engine.FDRunner` in ``<work_dir>/<name>``,
starting from the previous stages' final checkpoints (``init``). A finished stage writes
``<work_dir>/<name>/stage_done.json`` (its final checkpoint) and is skipped next time; with
``--resume`` an interrupted stage continues from its newest good checkpoint. The stage configs
stay usable one by one with ``tools/train.py``. ``pipeline.amp = True`` (or ``amp=True`` in
one stage) trains as ``--amp`` does: float16 AMP on a GPU, bfloat16 autocast on a CPU. With
``pipeline.samples = dict(num=8)`` the last (stage-4) model writes a grid of sample edits to
``<work_dir>/samples/``.

Console: each stage starts with ``stage k/n: <name> (<config>), N iterations; ETA for all
stages ...`` and, every logger interval, a line with the iterations of all stages done and
left and the overall ETA (:class:`~facedisentangle.engine.hooks.PipelineProgressHook`: time so
far / iterations trained so far x iterations left, each stage weighted by its max_iters).
"""
from __future__ import annotations

import copy
import json
import logging
import os.path as osp
import time

from mmengine.config import Config
from mmengine.dist import barrier, get_rank
from mmengine.logging import print_log

from facedisentangle.engine.checkpoint import atomic_write_text
from facedisentangle.engine.hooks.pipeline_progress_hook import (
    PipelineProgressHook,
    format_seconds,
    overall_eta,
)
from facedisentangle.utils.cfg_merge import merge_cfg_options

DONE_FILE = 'stage_done.json'


def stage_config(pipeline_cfg: Config, stage: dict) -> Config:
    """A stage's own config file (relative to the pipeline config) with its ``cfg_options``."""
    path = osp.join(osp.dirname(pipeline_cfg.filename), stage['config'])
    if not osp.isfile(path):
        raise FileNotFoundError(f"pipeline stage {stage['name']!r}: config {path!r} not found")
    cfg = Config.fromfile(path)
    # deep copies: MMEngine's merge pops `_delete_` out of the dicts it merges, which would
    # leave a stage's override without it the next time the stage config is built
    merge_cfg_options(cfg, copy.deepcopy(dict(stage.get('cfg_options', {}))))
    return cfg


def _stage_cfg(pipeline_cfg: Config, stage: dict, work_dir: str, results: dict,
               args) -> Config:
    cfg = stage_config(pipeline_cfg, stage)
    cfg.load_from = None
    for key, source in dict(stage.get('init', {})).items():
        if source not in results:
            raise KeyError(f"pipeline stage {stage['name']!r}: init {key!r} comes from stage "
                           f'{source!r}, which is not an earlier stage ({list(results)})')
        cfg.merge_from_dict({key: results[source]})
    # command-line overrides apply to every stage
    merge_cfg_options(cfg, copy.deepcopy(args.cfg_options))
    cfg.launcher = args.launcher
    cfg.work_dir = osp.join(work_dir, stage['name'])
    if cfg.get('visualizer') is not None:
        # MMEngine's Visualizer is a per-name singleton: a second Runner in this process would
        # otherwise write its images and scalars into the first stage's folder
        cfg.visualizer.name = f"{cfg.visualizer.get('name', 'visualizer')}_{stage['name']}"
    if cfg.load_from and args.resume and _has_checkpoint(cfg.work_dir):
        # init={'load_from': ...} fine-tunes from another stage's weights; once this stage has
        # checkpoints of its own, --resume continues from those (MMEngine would otherwise
        # *resume* the other stage's run: its iteration count, optimiser and schedule)
        cfg.load_from = None
    # without checkpoints of its own a stage starts at iteration 0, from load_from's weights
    # alone (MMEngine's resume=True with load_from set would resume that other run)
    cfg.resume = bool(args.resume) and not cfg.load_from
    return cfg


def _has_checkpoint(stage_dir: str) -> bool:
    return osp.isfile(osp.join(stage_dir, 'last_checkpoint'))


def stage_result(stage_dir: str) -> str | None:
    """The final checkpoint of a finished stage, or None when it has not finished."""
    done = osp.join(stage_dir, DONE_FILE)
    if not osp.isfile(done):
        return None
    ckpt = json.loads(open(done).read()).get('checkpoint')
    return ckpt if ckpt and osp.isfile(ckpt) else None


def run_pipeline(cfg: Config, args) -> dict[str, str]:
    """Train every stage of ``cfg.pipeline`` in order; returns ``{stage: final checkpoint}``."""
    from facedisentangle.engine import build_runner, set_amp

    stages = cfg.pipeline.get('stages')
    if not stages:
        raise ValueError(f'{cfg.filename}: pipeline.stages is empty')
    names = [s['name'] for s in stages]
    if len(set(names)) != len(names):
        raise ValueError(f'{cfg.filename}: stage names must be unique, got {names}')
    work_dir = cfg.work_dir
    results: dict[str, str] = {}
    finished = {s['name']: stage_result(osp.join(work_dir, s['name'])) for s in stages}
    plan = _planned_iters(cfg, stages, finished, args.cfg_options)  # max_iters of each stage left to train
    started, trained = time.time(), 0
    for k, stage in enumerate(stages, 1):
        name = stage['name']
        stage_dir = osp.join(work_dir, name)
        done = finished[name]
        if done is not None:
            print_log(f'pipeline: {name} already finished ({done}); skipped (stage {k}/'
                      f'{len(stages)})', logger='current', level=logging.INFO)
            results[name] = done
            continue
        stage_cfg = _stage_cfg(cfg, stage, work_dir, results, args)
        if args.amp or stage.get('amp', cfg.pipeline.get('amp', False)):
            set_amp(stage_cfg)
        later = sum(plan[s['name']] for s in stages[k:])
        left = stage_cfg.train_cfg.get('max_iters', 0) + later
        print_log(f'stage {k}/{len(stages)}: {name} ({stage["config"]}), '
                  f'{stage_cfg.train_cfg.get("max_iters", "?")} iterations, in {stage_dir}; '
                  f'ETA for all stages {overall_eta(time.time() - started, trained, left)}',
                  logger='current', level=logging.INFO)
        runner = build_runner(stage_cfg)
        progress = PipelineProgressHook(
            k, len(stages), name, later_iters=later, done_before=trained, started=started,
            interval=stage_cfg.get('default_hooks', {}).get('logger', {}).get('interval', 50))
        runner.register_hook(progress, priority='BELOW_NORMAL')
        runner.train()
        trained += progress.trained
        final = osp.join(stage_dir, f'iter_{runner.iter}.pth')
        if not osp.isfile(final):
            raise RuntimeError(f'pipeline: {name} finished but {final} was not written; keep '
                               "the config's CheckpointHook with save_last=True")
        if get_rank() == 0:
            atomic_write_text(osp.join(stage_dir, DONE_FILE),
                              json.dumps(dict(stage=name, checkpoint=final,
                                              config=stage['config'], iter=runner.iter)))
        barrier()
        results[name] = final
    samples = cfg.pipeline.get('samples')
    if samples and get_rank() == 0:
        from facedisentangle.apis.samples import write_sample_edits

        last = stages[-1]
        last_cfg = _stage_cfg(cfg, last, work_dir, results, args)
        if last_cfg.model.get('type') == 'GlobalFusion':
            path = write_sample_edits(last_cfg, results[last['name']],
                                      osp.join(work_dir, 'samples'), **dict(samples))
            print_log(f'pipeline: sample edits written to {path}', logger='current',
                      level=logging.INFO)
        else:  # a pipeline that stops before stage 4 (e.g. stages 1-2 alone) has no editor yet
            print_log(f"pipeline: no sample edits: the last stage ({last['name']}) trains a "
                      f"{last_cfg.model.get('type')}, not the stage-4 GlobalFusion",
                      logger='current', level=logging.WARNING)
    if get_rank() == 0:
        atomic_write_text(osp.join(work_dir, 'pipeline_done.json'), json.dumps(results, indent=2))
    print_log(f'pipeline: all {len(stages)} stages done ({trained} iterations in '
              f'{format_seconds(time.time() - started)} in this run); checkpoints in {work_dir}',
              logger='current', level=logging.INFO)
    return results


def _planned_iters(cfg: Config, stages: list, finished: dict,
                   cli_options: dict | None = None) -> dict[str, int]:
    """``{stage: its max_iters}`` for the stages left to train (0 for finished ones), read from
    each stage's config with its own cfg_options and the command line's."""
    base = osp.dirname(cfg.filename)
    plan = {}
    for stage in stages:
        if finished[stage['name']] is not None:
            plan[stage['name']] = 0
            continue
        overrides = dict(stage.get('cfg_options', {}), **dict(cli_options or {}))
        path = osp.join(base, stage['config'])
        if 'train_cfg.max_iters' in overrides:
            plan[stage['name']] = int(overrides['train_cfg.max_iters'])
        elif osp.isfile(path):
            plan[stage['name']] = int(Config.fromfile(path).train_cfg.get('max_iters', 0))
        else:
            plan[stage['name']] = 0  # its own error comes when the stage starts
    return plan
