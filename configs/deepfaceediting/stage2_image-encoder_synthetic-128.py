# Stage 2 (image geometry encoder E_I, E_sketch and D_sketch frozen) on the synthetic faces at
# 128x128; trains on a CPU. Run stage 1 first, then:
#   python tools/train.py configs/deepfaceediting/stage2_image-encoder_synthetic-128.py
# Another stage-1 checkpoint: --cfg-options model.stage1_checkpoint=PATH
_base_ = [
    '../_base_/models/image_geometry_encoder_128.py',
    '../_base_/datasets/synthetic_128.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

# the last checkpoint of stage1_sketch-ae_synthetic-128.py (300 iterations)
model = dict(stage1_checkpoint='work_dirs/stage1_sketch-ae_synthetic-128/iter_300.pth')

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=100)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=1.0, end_factor=0.01,
         begin=max_iters // 2, end=max_iters),
]
train_dataloader = dict(batch_size=16)

# validation: L1 between E_I(I) and E_sketch(S) (the code the next stages feed the
# generator), and how well D_sketch(E_I(I)) draws the sketch
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
    logger=dict(interval=25),
    checkpoint=dict(interval=250, max_keep_ckpts=2, save_best='bg/code/L1', rule='less'),
)
custom_hooks = [dict(type='FaceVisualizationHook', interval=250, max_samples=4),
                # validation at iteration 0: the baseline the training is measured against
                dict(type='ValidateAtStartHook')]
