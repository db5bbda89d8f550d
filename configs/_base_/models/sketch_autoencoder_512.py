# Stage 1 model at 512, the paper's networks (docs/method.md section 2): ngf 64, four
# down-samplings (8x8 x 1024 geometry code for an eye), one ResnetBlock.
model = dict(
    type='SketchAutoEncoder',
    layout=dict(resolution=512),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    sketch_encoder=dict(type='SketchEncoder', ngf=64, n_downsampling=4, n_blocks=1),
    sketch_decoder=dict(type='SketchDecoder', ngf=64, n_downsampling=4, n_blocks=1),
    loss_rec=dict(type='ReconstructionLoss', loss_weight=1.0),
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
