# The whole of DeepFaceEditing on the embedded synthetic faces at 128x128, in one command:
#   python tools/train.py configs/deepfaceediting/pipeline_synthetic-128.py [--resume]
# Stages 1-4 train in order, each in <work_dir>/<stage>, each starting from the previous
# stages' final checkpoints; a finished stage is skipped, an interrupted one resumes with
# --resume. This is the QUICK schedule (under 30 minutes on 2 CPU cores): short versions
# of the stage configs, for a first look. pipeline_synthetic-128_long.py is the long one.
_base_ = ['../_base_/default_runtime.py']

work_dir = 'work_dirs/pipeline_synthetic-128'


def _schedule(iters, val, batch):
    return {
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': val,
        'param_scheduler.0.begin': iters // 2, 'param_scheduler.0.end': iters,
        'default_hooks.checkpoint.interval': val,
        'custom_hooks.FaceVisualizationHook.interval': val,
        'train_dataloader.batch_size': batch,
    }


# amp: mixed precision in every stage (--amp): bfloat16 autocast on a CPU; the whole-face
# networks took 0.45x the float32 step time on an Intel Xeon with AMX, less gain without AMX
# (docs/benchmarks.md)
pipeline = dict(amp=True, stages=[
    dict(name='stage1', config='stage1_sketch-ae_synthetic-128.py',
         cfg_options=_schedule(300, 150, 16)),
    dict(name='stage2', config='stage2_image-encoder_synthetic-128.py',
         cfg_options=_schedule(300, 150, 16),
         init={'model.stage1_checkpoint': 'stage1'}),
    dict(name='stage3', config='stage3_local-disentanglement_synthetic-128.py',
         cfg_options=_schedule(250, 125, 8),
         init={'model.stage2_checkpoint': 'stage2'}),
    dict(name='stage4', config='stage4_global-fusion_synthetic-128.py',
         cfg_options=_schedule(200, 100, 8),
         init={'model.stage3_checkpoint': 'stage3', 'model.sketch_decoder_checkpoint': 'stage2'}),
])
del _schedule
# at the end: a grid of held-out swaps (geometry | appearance | swap | sketch | sketch-to-face |
# rendered truth) in <work_dir>/samples/sample_swaps.png
pipeline['samples'] = dict(num=8)
