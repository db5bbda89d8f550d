# Optimiser default (ours, pix2pixHD's): Adam lr 2e-4, betas (0.5, 0.999), constant for the
# first half of training, then linear decay. Stage configs set max_iters and the decay
# window (param_scheduler begin/end) together.
max_iters = 20000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    constructor='PerNetworkOptimWrapperConstructor',
    optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999)),
)
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, start_factor=1.0, end_factor=0.01,
         begin=max_iters // 2, end=max_iters),
]
