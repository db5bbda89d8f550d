# Ablation (ours, not in the paper): the iris pixels (label 5 of the synthetic faces' label
# maps) weigh 10 in the pixel self-reconstruction and cycle terms; everything else as
# stage3_local-disentanglement_synthetic-128.py. The train data set loads the label maps.
# Measured on eye1 (docs/pipeline.md, "What the appearance code holds"): sharper irises, the
# swap's iris colour_corr 0.09 -> 0.14.
_base_ = '../stage3_local-disentanglement_synthetic-128.py'

iris = [dict(labels=[5], weight=10.0)]
model = dict(region_weights=iris)  # on loss_rec (I1's label map) and loss_cycle (I2's)
train_dataloader = dict(dataset=dict(load_labels=True))
