# Stage 2 (image geometry encoder E_I, E_sketch and D_sketch frozen) on aligned face photos
# at 512x512, the paper's networks. Run stage 1 at 512 first, then:
#   python tools/train.py configs/deepfaceediting/stage2_image-encoder_faces-512.py \
#       --cfg-options model.stage1_checkpoint=work_dirs/<stage-1 run>/iter_<N>.pth
# Schedule: default (ours); the paper publishes none.
_base_ = [
    '../_base_/models/image_geometry_encoder_512.py',
    '../_base_/datasets/faces_512.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

# the last checkpoint of a stage-1 run at 512 with the default schedule (20000 iterations)
model = dict(stage1_checkpoint='work_dirs/stage1_sketch-ae_faces-512/iter_20000.pth')

max_iters = 40000
train_cfg = dict(max_iters=max_iters, val_interval=2000)
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=1.0, end_factor=0.01,
         begin=max_iters // 2, end=max_iters),
]

components = ['bg', 'eye1', 'eye2', 'nose', 'mouth']
val_evaluator = [
    dict(type='CodeConsistencyMetric', prefix=c, pred_code_key='code_pred',
         source_code_key='code_gt', name='code') for c in components
] + [
    dict(type='ReconstructionMetric', prefix=c, pred_key='sketch_pred', gt_key='sketch_gt',
         metrics=['L1'], tag='sketch') for c in components
]
test_evaluator = val_evaluator

default_hooks = dict(
    checkpoint=dict(interval=2000, max_keep_ckpts=3, save_best='bg/code/L1', rule='less'),
)
custom_hooks = [dict(type='FaceVisualizationHook', interval=1000, max_samples=4)]
