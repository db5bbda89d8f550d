# Stage 2 model at 512, the paper's networks (docs/method.md section 2): E_I with ngf 64, four
# down-samplings and 6 ResnetBlocks (1024 x 8 x 8 code for an eye), trained against the frozen
# E_sketch / D_sketch of stage 1 (sketch_autoencoder_512.py sizes).
model = dict(
    type='ImageGeometryEncoderTrainer',
    layout=dict(resolution=512),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    image_encoder=dict(type='ImageGeometryEncoder', ngf=64, n_downsampling=4, n_blocks=6),
    sketch_encoder=dict(type='SketchEncoder', ngf=64, n_downsampling=4, n_blocks=1),
    sketch_decoder=dict(type='SketchDecoder', ngf=64, n_downsampling=4, n_blocks=1),
    stage1_checkpoint=None,  # the stage config names the stage-1 checkpoint
    loss_geo_code=dict(type='GeometryCodeLoss', loss_weight=1.0),
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
