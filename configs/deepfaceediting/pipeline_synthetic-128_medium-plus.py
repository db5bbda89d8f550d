# The MEDIUM schedule plus 3,000 more Global Fusion iterations: stage 4 gains most while its
# learning rate decays (docs/pipeline.md), and it is the cheapest stage, so the medium model's
# G_fuse is trained on from its final weights with a new schedule (constant 2e-4 for 1,500
# iterations, then linear decay to zero over 1,500). Shares the medium schedule's work
# directory: stages 1-4 are skipped when pipeline_synthetic-128_medium.py has run there.
# pipeline_synthetic-128_medium-plus2.py trains on from it to the shipped model:
#   python tools/train.py configs/deepfaceediting/pipeline_synthetic-128_medium-plus.py --resume
_base_ = ['./pipeline_synthetic-128_medium.py']

work_dir = 'work_dirs/pipeline_synthetic-128_medium'

_stage4 = _base_.pipeline.stages[3]
pipeline = dict(
    stages=_base_.pipeline.stages + [
        dict(name='stage4_plus', config=_stage4.config,
             cfg_options=dict(_stage4.cfg_options, **{
                 'train_cfg.max_iters': 3000, 'train_cfg.val_interval': 500,
                 'param_scheduler.0.begin': 1500, 'param_scheduler.0.end': 3000,
                 'default_hooks.checkpoint.interval': 500,
                 'custom_hooks.FaceVisualizationHook.interval': 500}),
             init=dict(_stage4.init, load_from='stage4')),
    ],
)
