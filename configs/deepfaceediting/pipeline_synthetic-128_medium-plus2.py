# The medium-plus schedule continued towards the long schedule's quality: stage 3 trained
# 2,000 iterations more from the medium run's stage-3 weights (stage 3 limits the fused swap:
# the long schedule's stage 3 reached bg self-reconstruction 0.072 after 3,000 + 3,000
# iterations), then Global Fusion 1,000 iterations more on top of it, from stage4_plus's
# weights. Shares the medium schedule's work directory: the stages already trained there are
# skipped; --resume continues an interrupted stage from its own checkpoints.
# It made the model shipped in the package (docs/model_zoo.md):
#   python tools/train.py configs/deepfaceediting/pipeline_synthetic-128_medium-plus2.py --resume
#   python tools/export.py --src work_dirs/pipeline_synthetic-128_medium/stage4_plus2/iter_1000.pth \
#       --out facedisentangle/model_zoo/deepfaceediting_synthetic-128_int4.pth \
#       --dtype bfloat16 --quantize int4 --group-size 32 --int8-networks fusion_generator generators
_base_ = ['./pipeline_synthetic-128_medium-plus.py']

work_dir = 'work_dirs/pipeline_synthetic-128_medium'

_stage3 = _base_.pipeline.stages[2]
_stage4 = _base_.pipeline.stages[3]
pipeline = dict(
    stages=_base_.pipeline.stages + [
        dict(name='stage3_plus', config=_stage3.config,
             cfg_options=dict(_stage3.cfg_options, **{
                 'train_cfg.max_iters': 2000, 'train_cfg.val_interval': 500,
                 'param_scheduler.0.begin': 1000, 'param_scheduler.0.end': 2000,
                 'default_hooks.checkpoint.interval': 250,
                 'custom_hooks.FaceVisualizationHook.interval': 500}),
             init=dict(_stage3.init, load_from='stage3')),
        dict(name='stage4_plus2', config=_stage4.config,
             cfg_options=dict(_stage4.cfg_options, **{
                 'train_cfg.max_iters': 1000, 'train_cfg.val_interval': 500,
                 'param_scheduler.0.begin': 500, 'param_scheduler.0.end': 1000,
                 'default_hooks.checkpoint.interval': 250,
                 'custom_hooks.FaceVisualizationHook.interval': 500}),
             init={'model.stage3_checkpoint': 'stage3_plus',
                   'model.sketch_decoder_checkpoint': 'stage2',
                   'load_from': 'stage4_plus'}),
    ],
)
