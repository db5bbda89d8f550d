# Ablation: stage 3 without the adversarial loss. Without it nothing trains a discriminator,
# so there is none, and the feature-matching terms (which compare discriminator features) go
# too; only the generator optimiser remains. Reference:
# stage3_local-disentanglement_synthetic-128.py.
_base_ = '../stage3_local-disentanglement_synthetic-128.py'

model = dict(discriminator=None, loss_gan=None, loss_feat=None, loss_cycle_feat=None)
optim_wrapper = dict(_delete_=True, constructor='PerNetworkOptimWrapperConstructor',
                     generator=dict(modules=['generators'],
                                    optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
