# Stage 1 model at 128: tiny per-component sketch auto-encoders (E_sketch, D_sketch).
# At 128 the nose box is 40 px, so the encoders use 3 down-samplings (total stride 8).
model = dict(
    type='SketchAutoEncoder',
    layout=dict(resolution=128),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    sketch_encoder=dict(type='SketchEncoder', ngf=16, n_downsampling=3, n_blocks=1),
    sketch_decoder=dict(type='SketchDecoder', ngf=16, n_downsampling=3, n_blocks=1),
    loss_rec=dict(type='ReconstructionLoss', loss_weight=1.0),
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
