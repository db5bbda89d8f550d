# The MEDIUM schedule of the synthetic pipeline: the same stage configs as
# pipeline_synthetic-128.py with stages 3 and 4 six and seven times longer (about an hour on
# 2 CPU cores with amp); pipeline_synthetic-128_medium-plus{,2}.py train on from it to the
# model shipped in the package (facedisentangle/model_zoo, docs/model_zoo.md):
#   python tools/train.py configs/deepfaceediting/pipeline_synthetic-128_medium.py [--resume]
_base_ = ['./pipeline_synthetic-128.py']

work_dir = 'work_dirs/pipeline_synthetic-128_medium'


def _schedule(iters, val, batch):
    return {
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': val,
        'param_scheduler.0.begin': iters // 2, 'param_scheduler.0.end': iters,
        'default_hooks.checkpoint.interval': val,
        'custom_hooks.FaceVisualizationHook.interval': val,
        'train_dataloader.batch_size': batch,
    }


pipeline = dict(
    _delete_=True,
    amp=True,
    stages=[
        dict(name='stage1', config='stage1_sketch-ae_synthetic-128.py',
             cfg_options=_schedule(300, 150, 16)),
        dict(name='stage2', config='stage2_image-encoder_synthetic-128.py',
             cfg_options=_schedule(300, 150, 16),
             init={'model.stage1_checkpoint': 'stage1'}),
        dict(name='stage3', config='stage3_local-disentanglement_synthetic-128.py',
             cfg_options=_schedule(1500, 500, 8),
             init={'model.stage2_checkpoint': 'stage2'}),
        dict(name='stage4', config='stage4_global-fusion_synthetic-128.py',
             cfg_options=_schedule(1500, 500, 8),
             init={'model.stage3_checkpoint': 'stage3',
                   'model.sketch_decoder_checkpoint': 'stage2'}),
    ],
    samples=dict(num=8),
)
del _schedule
