# Stage 3 (Local Disentanglement: G_syn with its appearance encoder and a discriminator per
# component; E_I and E_sketch of stage 2 frozen) on the synthetic faces at 128x128; trains on
# a CPU. Run stages 1 and 2 first, then:
#   python tools/train.py configs/deepfaceediting/stage3_local-disentanglement_synthetic-128.py
# Another stage-2 checkpoint: --cfg-options model.stage2_checkpoint=PATH
# Then the ground-truth swap check:
#   python tools/analysis/swap_check.py CONFIG work_dirs/<this run>/iter_<N>.pth
_base_ = [
    '../_base_/models/local_disentanglement_128.py',
    '../_base_/datasets/synthetic_128.py',
    '../_base_/schedules/adam_linear_decay.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # the last checkpoint of stage2_image-encoder_synthetic-128.py (1000 iterations)
    stage2_checkpoint='work_dirs/stage2_image-encoder_synthetic-128/iter_1000.pth',
    # Perceptual terms OFF here: they need torchvision's VGG19 weights (vgg19-dcbb9e9d.pth in
    # $TORCH_HOME/hub/checkpoints), which an offline machine does not have. With the file,
    # use stage3_local-disentanglement-vgg_synthetic-128.py (all of the paper's terms).
    loss_vgg=None,
    loss_cycle_vgg=None,
    # ...and the pixel L1 terms take over their weight (10, as lambda_VGG): with weight 1 the
    # feature-matching terms (weight 10) dominate and I_rec sharpens far more slowly (bg
    # component, 125 iterations at batch 16: I_rec L1 0.229 with weight 1, 0.216 with 10).
    loss_rec=dict(loss_weight=10.0),
    loss_cycle=dict(loss_weight=10.0),
)

# distributed runs wrap generators and discriminators in separate DDP wrappers
separate_ddp = True

max_iters = 4000
train_cfg = dict(max_iters=max_iters, val_interval=500)
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
train_dataloader = dict(batch_size=16)

# validation (with the EMA weights): self-reconstruction I_rec vs I1, and L_Geo as a measure
# (E_I(I_mix) vs E_I(I1), I2 = the previous sample of the val batch)
components = ['bg', 'eye1', 'eye2', 'nose', 'mouth']
val_evaluator = [
    dict(type='ReconstructionMetric', prefix=c, pred_key='rec', gt_key='photo',
         metrics=['L1', 'PSNR'], tag='rec') for c in components
] + [
    dict(type='CodeConsistencyMetric', prefix=c, pred_code_key='mix_code',
         source_code_key='code', name='geometry_consistency') for c in components
]
test_evaluator = val_evaluator

default_hooks = dict(
    logger=dict(interval=25),
    # keeps best_bg_rec_L1_iter_*.pth too (the whole-face component's self-reconstruction)
    checkpoint=dict(interval=500, max_keep_ckpts=3, save_best='bg/rec/L1', rule='less'),
)
custom_hooks = [
    # per component: I1 | S1 | I2 | I_mix | I_rec | G(E_s(S1), E_A(I2))
    dict(type='FaceVisualizationHook', interval=250, max_samples=4),
    # EMA of the generator side (G_syn with E_A): saved as `state_dict` (the raw weights under
    # `ema_state_dict`), used for validation and by the next stage. Remove to switch it off.
    # warmup: after t steps it averages about the last t/10 of them (up to 1/momentum = 500),
    # so a shortened schedule does not keep the random initial weights in the average.
    dict(type='EMAHook', ema_type='SubNetworkEMA', sub_networks=['generators'],
         momentum=0.002, warmup=True),
]
