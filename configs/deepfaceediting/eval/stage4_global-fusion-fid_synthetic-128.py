# Stage 4 training as stage4_global-fusion_synthetic-128.py, validating with FID and KID of the
# fused faces as well (OPT-IN: needs pytorch-fid's pt_inception-2015-12-05-6726825d.pth in
# $TORCH_HOME/hub/checkpoints, or inception_path=...; without it training stops at the start
# with the file's name, see docs/metrics.md) and keeping the checkpoint of the best FID:
#   python tools/train.py configs/deepfaceediting/eval/stage4_global-fusion-fid_synthetic-128.py
# The real statistics of the validation split are computed at the first validation and cached
# (keyed by the file's path, size and time); if you point val_dataloader at another file, set
# val_evaluator.1.reference.source and val_evaluator.2.reference.source to it too.
# On CPU, Inception costs about 0.1 s per 128 px face: 200 validation faces add ~20 s per
# validation after the first.
_base_ = '../stage4_global-fusion_synthetic-128.py'

_reference = dict(source={{_base_.data_file}}, split='val', resolution={{_base_.resolution}})
val_evaluator = [
    dict(type='ReconstructionMetric', pred_key='pred', gt_key='gt',
         metrics=['L1', 'PSNR', 'SSIM'], tag='face'),
    dict(type='FID', prefix='face', prefix_keys=False, pred_key='pred', gt_key='gt',
         reference=_reference),
    dict(type='KID', prefix='face', prefix_keys=False, pred_key='pred', gt_key='gt',
         reference=_reference),
]
test_evaluator = val_evaluator

default_hooks = dict(checkpoint=dict(save_best='face/FID', rule='less'))
