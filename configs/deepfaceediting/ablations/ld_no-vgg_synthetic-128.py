# Ablation: stage 3 without the VGG19 perceptual terms (self-reconstruction and cycle),
# relative to the complete reference stage3_local-disentanglement-vgg_synthetic-128.py (which
# needs vgg19-dcbb9e9d.pth). The result equals the offline default
# stage3_local-disentanglement_synthetic-128.py; this file names the comparison.
_base_ = '../stage3_local-disentanglement-vgg_synthetic-128.py'

model = dict(loss_vgg=None, loss_cycle_vgg=None)
