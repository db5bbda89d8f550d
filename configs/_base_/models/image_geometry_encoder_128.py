# Stage 2 model at 128: per-component image geometry encoders E_I (6 ResnetBlocks, as the
# paper) trained to imitate the frozen E_sketch / D_sketch of stage 1. Sizes must equal
# sketch_autoencoder_128.py: ngf 16, three down-samplings (the 40 px nose box needs stride 8).
model = dict(
    type='ImageGeometryEncoderTrainer',
    layout=dict(resolution=128),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    image_encoder=dict(type='ImageGeometryEncoder', ngf=16, n_downsampling=3, n_blocks=6),
    sketch_encoder=dict(type='SketchEncoder', ngf=16, n_downsampling=3, n_blocks=1),
    sketch_decoder=dict(type='SketchDecoder', ngf=16, n_downsampling=3, n_blocks=1),
    stage1_checkpoint=None,  # the stage config names the stage-1 checkpoint
    loss_geo_code=dict(type='GeometryCodeLoss', loss_weight=1.0),
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
