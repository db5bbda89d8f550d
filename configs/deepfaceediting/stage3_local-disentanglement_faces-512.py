# Stage 3 (Local Disentanglement) on aligned face photos at 512x512, the paper's networks and
# every loss term (VGG19 perceptual included: vgg19-dcbb9e9d.pth must be in
# $TORCH_HOME/hub/checkpoints). Run stages 1 and 2 at 512 first, then:
#   python tools/train.py configs/deepfaceediting/stage3_local-disentanglement_faces-512.py \
#       --cfg-options model.stage2_checkpoint=work_dirs/<stage-2 run>/iter_<N>.pth
# Multi-GPU: torchrun --nproc_per_node=N tools/train.py CONFIG --launcher pytorch
# Schedule and EMA momentum: default (ours); the paper publishes none.
_base_ = [
    '../_base_/models/local_disentanglement_512.py',
    '../_base_/datasets/faces_512.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

# the last checkpoint of stage2_image-encoder_faces-512.py (40000 iterations)
model = dict(stage2_checkpoint='work_dirs/stage2_image-encoder_faces-512/iter_40000.pth')

separate_ddp = True

max_iters = 100000
train_cfg = dict(max_iters=max_iters, val_interval=5000)
optim_wrapper = dict(
    _delete_=True,
    constructor='PerNetworkOptimWrapperConstructor',
    generator=dict(modules=['generators'],
                   optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminator=dict(modules=['discriminators'],
                       optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
)
param_scheduler = [  # applied to both optimisers
    dict(type='LinearLR', by_epoch=False, start_factor=1.0, end_factor=0.01,
         begin=max_iters // 2, end=max_iters),
]
# pairs (I1, I2) are formed inside a batch (I2 = the batch rolled by one): batch >= 2
train_dataloader = dict(batch_size=4)

components = ['bg', 'eye1', 'eye2', 'nose', 'mouth']
val_evaluator = [
    dict(type='ReconstructionMetric', prefix=c, pred_key='rec', gt_key='photo',
         metrics=['L1', 'PSNR', 'SSIM'], tag='rec') for c in components
] + [
    dict(type='CodeConsistencyMetric', prefix=c, pred_code_key='mix_code',
         source_code_key='code', name='geometry_consistency') for c in components
]
test_evaluator = val_evaluator

default_hooks = dict(checkpoint=dict(interval=5000, max_keep_ckpts=3, save_best='bg/rec/L1',
                                     rule='less'))
custom_hooks = [
    dict(type='FaceVisualizationHook', interval=1000, max_samples=4),
    # EMA of the generator side (see the synthetic config); remove to switch it off
    dict(type='EMAHook', ema_type='SubNetworkEMA', sub_networks=['generators'],
         momentum=0.001, warmup=True),
]
