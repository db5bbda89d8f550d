# Stage 4 (Global Fusion: G_fuse and its discriminator; every LD network frozen) on the
# synthetic faces at 128x128; trains on a CPU. Run stages 1-3 first, then:
#   python tools/train.py configs/deepfaceediting/stage4_global-fusion_synthetic-128.py
# Other checkpoints: --cfg-options model.stage3_checkpoint=PATH model.sketch_decoder_checkpoint=PATH
_base_ = [
    '../_base_/models/global_fusion_128.py',
    '../_base_/datasets/synthetic_128.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # the last checkpoints of stage3_local-disentanglement_synthetic-128.py and of stage 2
    # (which holds stage 1's D_sketch, kept for to_sketch)
    stage3_checkpoint='work_dirs/stage3_local-disentanglement_synthetic-128/iter_4000.pth',
    sketch_decoder_checkpoint='work_dirs/stage2_image-encoder_synthetic-128/iter_1000.pth',
    # No VGG19 weights offline: the perceptual term is off and a pixel L1 (weight 10, ours)
    # stands in for it. With vgg19-dcbb9e9d.pth in $TORCH_HOME/hub/checkpoints, set
    # loss_vgg=dict(type='PerceptualLoss', loss_weight=10.0) and loss_rec=None (the paper's).
    loss_vgg=None,
    loss_rec=dict(_delete_=True, type='ReconstructionLoss', loss_weight=10.0),
)

separate_ddp = True
max_iters = 2000
train_cfg = dict(max_iters=max_iters, val_interval=500)
optim_wrapper = dict(
    _delete_=True,
    constructor='PerNetworkOptimWrapperConstructor',
    generator=dict(modules=['fusion_generator'],
                   optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminator=dict(modules=['fusion_discriminator'],
                       optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
)
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=1.0, end_factor=0.01,
         begin=max_iters // 2, end=max_iters),
]
train_dataloader = dict(batch_size=8)

# validation: the fused self-reconstruction against the photo
val_evaluator = [dict(type='ReconstructionMetric', pred_key='pred', gt_key='gt',
                      metrics=['L1', 'PSNR', 'SSIM'], tag='face')]
test_evaluator = val_evaluator

default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=500, max_keep_ckpts=2, save_best='face/L1', rule='less'),
)
custom_hooks = [dict(type='FaceVisualizationHook', interval=250, max_samples=4)]
