# Ablation (ours, not in the paper): in training the appearance encoder reads its images
# shifted by up to 4 pixels on each axis (per sample, reflect padding), so its code cannot tie
# a region's colour to where the region lies; everything else as
# stage3_local-disentanglement_synthetic-128.py. Measured on eye1 (docs/pipeline.md, "What the
# appearance code holds"): the whole crop's colour slightly closer, the irises' colour lost.
_base_ = '../stage3_local-disentanglement_synthetic-128.py'

model = dict(appearance_shift=4)
