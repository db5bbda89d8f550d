# The whole of DeepFaceEditing on your own aligned face photos at 512x512, the paper's
# setting, in one command (docs/train_your_own.md walks through it from a folder of photos):
#   python tools/prepare_data.py ~/photos --align --out data/faces-512.h5 --size 512
#   python tools/train.py configs/deepfaceediting/pipeline_faces-512.py [--resume]
#   torchrun --nproc_per_node=8 tools/train.py configs/deepfaceediting/pipeline_faces-512.py \
#       --launcher pytorch
# Stages 1-4 train in order, each in <work_dir>/<stage>, each starting from the previous
# stages' final checkpoints (the stage configs' own checkpoint paths are replaced by `init`);
# a finished stage is skipped, an interrupted one resumes with --resume. Schedules are the
# stage configs' (20k, 40k, 100k, 100k iterations: default, ours; the paper publishes none).
# Stages 3 and 4 need torchvision's vgg19-dcbb9e9d.pth in $TORCH_HOME/hub/checkpoints/
# (~/.cache/torch/hub/checkpoints/ by default; or loss_vgg.pretrained_path in the stage
# configs' cfg_options): nothing is downloaded.
# Another data file: --cfg-options train_dataloader.dataset.ann_file=... (and val_/test_).
_base_ = ['../_base_/default_runtime.py']

work_dir = 'work_dirs/pipeline_faces-512'

pipeline = dict(stages=[
    dict(name='stage1', config='stage1_sketch-ae_faces-512.py'),
    dict(name='stage2', config='stage2_image-encoder_faces-512.py',
         init={'model.stage1_checkpoint': 'stage1'}),
    dict(name='stage3', config='stage3_local-disentanglement_faces-512.py',
         init={'model.stage2_checkpoint': 'stage2'}),
    dict(name='stage4', config='stage4_global-fusion_faces-512.py',
         init={'model.stage3_checkpoint': 'stage3', 'model.sketch_decoder_checkpoint': 'stage2'}),
])
# at the end: a grid of held-out swaps (geometry | appearance | swap | sketch | sketch-to-face)
# in <work_dir>/samples/sample_swaps.png
pipeline['samples'] = dict(num=8)
