# Ablation: stage 3 with the hinge adversarial loss instead of LSGAN (both sides of the GAN
# loss; the weights stay). Reference: stage3_local-disentanglement_synthetic-128.py.
_base_ = '../stage3_local-disentanglement_synthetic-128.py'

model = dict(loss_gan=dict(gan_type='hinge'))
