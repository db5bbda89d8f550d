# Sketch embedding (manifold projection, DeepFaceDrawing) at 128: per-component DrawingEncoder
# / DrawingDecoder auto-encoders on channel 0 of the sketch crops. The 40 px nose box is a
# multiple of 8, not 32, so three stride-2 blocks (total stride 8) instead of the official five.
# image_size is filled in from each component's box.
model = dict(
    type='SketchEmbedding',
    layout=dict(resolution=128),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    drawing_encoder=dict(type='DrawingEncoder', input_nc=1, channels=(16, 32, 64),
                         latent_dim=128, leaky_relu_slope=0.2),
    drawing_decoder=dict(type='DrawingDecoder', output_nc=1, channels=(64, 64, 32, 16),
                         latent_dim=128, leaky_relu_slope=0.2, out_activation='tanh'),
    loss_rec=dict(type='ReconstructionLoss', loss_weight=1.0),
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
