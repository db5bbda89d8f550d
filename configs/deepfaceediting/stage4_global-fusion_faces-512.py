# Stage 4 (Global Fusion) on aligned face photos at 512x512, the paper's setting. Needs
# vgg19-dcbb9e9d.pth in $TORCH_HOME/hub/checkpoints (perceptual loss) and stage 3's checkpoint:
#   python tools/train.py configs/deepfaceediting/stage4_global-fusion_faces-512.py \
#       --cfg-options model.stage3_checkpoint=PATH model.sketch_decoder_checkpoint=PATH
_base_ = [
    '../_base_/models/global_fusion_512.py',
    '../_base_/datasets/faces_512.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

model = dict(
    stage3_checkpoint='work_dirs/stage3_local-disentanglement_faces-512/iter_100000.pth',
    sketch_decoder_checkpoint='work_dirs/stage2_image-encoder_faces-512/iter_40000.pth',
)

separate_ddp = True
max_iters = 100000
train_cfg = dict(max_iters=max_iters, val_interval=5000)
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

val_evaluator = [dict(type='ReconstructionMetric', pred_key='pred', gt_key='gt',
                      metrics=['L1', 'PSNR', 'SSIM'], tag='face')]
test_evaluator = val_evaluator

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=5000, max_keep_ckpts=3, save_best='face/L1', rule='less'),
)
custom_hooks = [dict(type='FaceVisualizationHook', interval=1000, max_samples=4)]
