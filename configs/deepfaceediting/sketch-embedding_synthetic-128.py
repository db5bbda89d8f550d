# Sketch embedding for manifold projection (docs/sketch_projection.md) on the embedded
# synthetic faces at 128x128. Then build the banks:
#   python tools/build_sketch_bank.py CONFIG work_dirs/sketch-embedding_synthetic-128/iter_1000.pth
_base_ = [
    '../_base_/models/sketch_embedding_128.py',
    '../_base_/datasets/synthetic_128.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=250)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=1.0, end_factor=0.01,
         begin=max_iters // 2, end=max_iters),
]
train_dataloader = dict(batch_size=16)

components = ['bg', 'eye1', 'eye2', 'nose', 'mouth']
val_evaluator = [
    dict(type='ReconstructionMetric', prefix=c, pred_key='pred', gt_key='gt', metrics=['L1'],
         tag='sketch') for c in components
]
test_evaluator = val_evaluator

default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=250, max_keep_ckpts=2, save_best='bg/sketch/L1', rule='less'),
)
custom_hooks = [dict(type='FaceVisualizationHook', interval=250, max_samples=4),
                dict(type='ValidateAtStartHook')]
