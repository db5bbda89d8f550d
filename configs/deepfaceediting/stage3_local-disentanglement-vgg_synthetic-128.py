# Stage 3 on the synthetic faces at 128 with every term of the paper, the VGG19 perceptual
# loss included (self-reconstruction and cycle). Needs torchvision's vgg19-dcbb9e9d.pth in
# $TORCH_HOME/hub/checkpoints (or pretrained_path=...); nothing is downloaded.
_base_ = './stage3_local-disentanglement_synthetic-128.py'

model = dict(
    loss_vgg=dict(_delete_=True, type='PerceptualLoss', loss_weight=10.0),
    loss_cycle_vgg=dict(_delete_=True, type='PerceptualLoss', loss_weight=10.0,
                        loss_name='loss_cycle_vgg'),
    # the paper's (pix2pixHD's) pixel weights again: the base raises them to 10 only because
    # it has no perceptual terms
    loss_rec=dict(loss_weight=1.0),
    loss_cycle=dict(loss_weight=1.0),
)
