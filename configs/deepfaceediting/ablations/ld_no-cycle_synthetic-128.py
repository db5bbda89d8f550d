# Ablation: stage 3 without L_Cycle, i.e. none of the three terms comparing
# I_cycle = G(E_I(I2), E_A(I_mix)) with I2 (I_cycle is then not computed); reference:
# stage3_local-disentanglement_synthetic-128.py.
_base_ = '../stage3_local-disentanglement_synthetic-128.py'

model = dict(loss_cycle=None, loss_cycle_feat=None, loss_cycle_vgg=None)
