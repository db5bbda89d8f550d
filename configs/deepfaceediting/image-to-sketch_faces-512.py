# Image-to-sketch generator (photo -> sketch, the release's sketch_generator) on aligned
# faces at 512x512 packed by tools/prepare_data.py (photo, sketch) pairs; pix2pixHD losses
# (needs vgg19-dcbb9e9d.pth in $TORCH_HOME/hub/checkpoints for the perceptual term).
#   python tools/train.py configs/deepfaceediting/image-to-sketch_faces-512.py
_base_ = [
    '../_base_/models/image_to_sketch_512.py',
    '../_base_/datasets/faces_512.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

max_iters = 40000
train_cfg = dict(max_iters=max_iters, val_interval=2000)
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

val_evaluator = [dict(type='ReconstructionMetric', pred_key='pred', gt_key='gt',
                      metrics=['L1'], tag='sketch')]
test_evaluator = val_evaluator

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=2000, max_keep_ckpts=3, save_best='sketch/L1', rule='less'),
)
custom_hooks = [dict(type='FaceVisualizationHook', interval=1000, max_samples=4)]
