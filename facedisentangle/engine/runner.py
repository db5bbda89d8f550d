"""``FDRunner``: MMEngine's Runner with the three torch-2.x faults of MMEngine 0.10.7 absorbed.

1. ``resume`` / ``load_from`` load checkpoints with ``weights_only=True`` plus an allow-list of
   MMEngine's own data classes (:mod:`facedisentangle.engine.checkpoint`) instead of failing
   with "Weights only load failed"; nothing else in the process changes.
2. ``launcher='pytorch'|'slurm'`` on a machine without GPUs initialises a gloo process group
   (:mod:`facedisentangle.engine.dist`) and wraps the model with ``device_ids=None``.
3. Several optimisers (one per sub-network) come from
   :class:`~facedisentangle.engine.optim_constructor.PerNetworkOptimWrapperConstructor`; models
   with a custom ``train_step`` are wrapped with ``MMSeparateDistributedDataParallel``.

Also: MMEngine's environment, config and hook listings go to the log file, not the console
(``cfg.verbose``: both; :mod:`.console`); checkpoints are saved atomically (temporary file +
rename), and ``resume='auto'`` picks the newest checkpoint that loads, so a ``kill -9`` at any
moment never blocks a restart.
"""
from __future__ import annotations

import os
import os.path as osp

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model

from facedisentangle.registry import RUNNERS

from .checkpoint import atomic_write_text, find_last_good_checkpoint, safe_load_checkpoint
from .console import quiet_console
from .dist import init_cpu_distributed


def load_checkpoint_file(filename: str, map_location='cpu'):
    """Local files through :func:`safe_load_checkpoint`; other schemes through MMEngine."""
    if '://' in str(filename):
        return _load_checkpoint(filename, map_location=map_location)
    return safe_load_checkpoint(filename, map_location=map_location)


@RUNNERS.register_module()
class FDRunner(Runner):
    """MMEngine ``Runner`` for facedisentangle (see the module docstring for what differs)."""

    def setup_env(self, env_cfg) -> None:
        if self._launcher_name != 'none':
            init_cpu_distributed(self._launcher_name)
        super().setup_env(env_cfg)

    def __init__(self, *args, launcher: str = 'none', **kwargs):
        self._launcher_name = launcher
        super().__init__(*args, launcher=launcher, **kwargs)

    def build_logger(self, *args, **kwargs):
        """MMEngine's logger, with the environment, config and hook listings kept off the
        console (they stay in the log file) unless ``cfg.verbose`` (:mod:`.console`)."""
        logger = super().build_logger(*args, **kwargs)
        if not self.cfg.get('verbose', False):
            quiet_console(logger)
        return logger

    @classmethod
    def from_cfg(cls, cfg) -> 'FDRunner':
        cfg = cfg.copy()
        launcher = cfg.get('launcher', 'none')
        if launcher != 'none' and cfg.get('model_wrapper_cfg') is None:
            wrapper = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                           find_unused_parameters=cfg.get('find_unused_parameters', False))
            if cfg.get('separate_ddp', False):
                wrapper = dict(type='MMSeparateDistributedDataParallel',
                               broadcast_buffers=False,
                               find_unused_parameters=cfg.get('find_unused_parameters', False))
            if not torch.cuda.is_available():
                wrapper['device_ids'] = None
            cfg.model_wrapper_cfg = wrapper
        return super().from_cfg(cfg)

    # ------------------------------------------------------------------ checkpoints
    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):  # noqa: B006 (MMEngine API)
        checkpoint = load_checkpoint_file(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict,
                                               revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def load_or_resume(self) -> None:
        if self._has_loaded:
            return None
        if self._resume and self._load_from is None:
            resume_from = find_last_good_checkpoint(self.work_dir)
            if resume_from is None:
                self.logger.info(f'resume=auto: no loadable checkpoint in {self.work_dir}; '
                                 'starting from scratch.')
            else:
                self.logger.info(f'Auto resumed from the latest good checkpoint {resume_from}.')
                self.resume(resume_from)
                self._has_loaded = True
                return None
        elif self._resume:
            self.resume(self._load_from)
            self._has_loaded = True
            return None
        if self._load_from is not None:
            self.load_checkpoint(self._load_from)
            self._has_loaded = True

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        """Write ``filename`` atomically: a kill while saving leaves the previous one intact."""
        tmp_name = f'.{filename}.tmp-{os.getpid()}'
        super().save_checkpoint(out_dir, tmp_name, *args, **kwargs)
        tmp, final = osp.join(out_dir, tmp_name), osp.join(out_dir, filename)
        if osp.exists(tmp):  # only the master process writes
            with open(tmp, 'rb') as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
            # MMEngine's CheckpointHook rewrites this pointer right after; write it atomically
            # first so that a kill in between still points at a complete file.
            atomic_write_text(osp.join(self.work_dir, 'last_checkpoint'), final)


def build_runner(cfg) -> Runner:
    """The runner of a config: its ``runner_type`` from the RUNNERS registry, else
    :class:`FDRunner`."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return FDRunner.from_cfg(cfg)
