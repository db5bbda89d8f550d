# Ablation: stage 3 without L_Geo (|| E_I(I_mix) - E_I(I1) ||_1); everything else as
# stage3_local-disentanglement_synthetic-128.py, the reference to compare with.
_base_ = '../stage3_local-disentanglement_synthetic-128.py'

model = dict(loss_geo=None)
