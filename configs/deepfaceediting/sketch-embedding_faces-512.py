# Sketch embedding for manifold projection (docs/sketch_projection.md) on aligned faces at
# 512x512 packed by tools/prepare_data.py, the official network shapes.
_base_ = [
    '../_base_/models/sketch_embedding_512.py',
    '../_base_/datasets/faces_512.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

max_iters = 20000
train_cfg = dict(max_iters=max_iters, val_interval=2000)
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=1.0, end_factor=0.01,
         begin=max_iters // 2, end=max_iters),
]

components = ['bg', 'eye1', 'eye2', 'nose', 'mouth']
val_evaluator = [
    dict(type='ReconstructionMetric', prefix=c, pred_key='pred', gt_key='gt', metrics=['L1'],
         tag='sketch') for c in components
]
test_evaluator = val_evaluator

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=2000, max_keep_ckpts=3, save_best='bg/sketch/L1', rule='less'),
)
custom_hooks = [dict(type='FaceVisualizationHook', interval=1000, max_samples=4)]
