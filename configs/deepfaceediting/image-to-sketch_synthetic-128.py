# Image-to-sketch generator (photo -> sketch) on the synthetic faces at 128x128: the
# release's structure (GlobalGenerator 3 -> 3, 4 down-samplings, instance norm) made small
# for a CPU (ngf 16, 4 ResnetBlocks), a 2-scale conditional discriminator. No VGG19 weights
# offline: a pixel L1 (weight 10, ours) stands in for the perceptual term.
_base_ = [
    '../_base_/models/image_to_sketch_512.py',
    '../_base_/datasets/synthetic_128.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

model = dict(
    layout=dict(resolution=128),
    image_to_sketch=dict(ngf=16, n_blocks=4),
    sketch_discriminator=dict(ndf=16, num_D=2),
    loss_vgg=None,
    loss_rec=dict(_delete_=True, type='ReconstructionLoss', loss_weight=10.0),
)

max_iters = 2000
train_cfg = dict(max_iters=max_iters, val_interval=500)
optim_wrapper = dict(
    _delete_=True,
    constructor='PerNetworkOptimWrapperConstructor',
    generator=dict(modules=['image_to_sketch'],
                   optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminator=dict(modules=['sketch_discriminator'],
                       optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
)
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=1.0, end_factor=0.01,
         begin=max_iters // 2, end=max_iters),
]
train_dataloader = dict(batch_size=8)

val_evaluator = [dict(type='ReconstructionMetric', pred_key='pred', gt_key='gt',
                      metrics=['L1'], tag='sketch')]
test_evaluator = val_evaluator

default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=500, max_keep_ckpts=2, save_best='sketch/L1', rule='less'),
)
custom_hooks = [dict(type='FaceVisualizationHook', interval=250, max_samples=4),
                dict(type='ValidateAtStartHook')]
