# The LONG schedule of the synthetic pipeline: the same stage configs as
# pipeline_synthetic-128.py with more iterations; this trains the synthetic model whose swap
# quality docs/pipeline.md reports (about five hours on 2 CPU cores, minutes on a GPU).
#   python tools/train.py configs/deepfaceediting/pipeline_synthetic-128_long.py [--resume]
_base_ = ['./pipeline_synthetic-128.py']

work_dir = 'work_dirs/pipeline_synthetic-128_long'


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
             cfg_options=_schedule(400, 100, 16)),
        dict(name='stage2', config='stage2_image-encoder_synthetic-128.py',
             cfg_options=_schedule(400, 100, 16),
             init={'model.stage1_checkpoint': 'stage1'}),
        # stage 3 keeps improving past 3,000 iterations: 3,000 more on the bg component took
        # its swap L1 from 0.084 to 0.074 (copy appearance 0.088), which is what lets the fused
        # swap beat the appearance source (docs/pipeline.md); 6,000 take about 3 hours on 2
        # CPU cores with amp
        dict(name='stage3', config='stage3_local-disentanglement_synthetic-128.py',
             cfg_options=_schedule(6000, 500, 8),
             init={'model.stage2_checkpoint': 'stage2'}),
        # Global Fusion converges slowly and gains most while the learning rate decays
        # (validation L1 0.165 after 600 iterations, 0.086 after 3,000, 0.076 after 6,500 in
        # three pieces, docs/pipeline.md); 6,000 take about 70 minutes on 2 CPU cores with amp
        dict(name='stage4', config='stage4_global-fusion_synthetic-128.py',
             cfg_options=_schedule(6000, 500, 8),
             init={'model.stage3_checkpoint': 'stage3',
                   'model.sketch_decoder_checkpoint': 'stage2'}),
    ],
    samples=dict(num=8),
)
del _schedule
