# Sketch embedding (manifold projection, DeepFaceDrawing) at 512, the official shapes: per
# component DrawingEncoder (32 -> 512 channels, five stride-2 blocks, a 512-d vector) and
# DrawingDecoder (512, 256, 256, 128, 64, 64), here reconstructing the sketch (output_nc=1,
# tanh) with LeakyReLU 0.2 (the release's LeakyReLU(True) is the identity).
model = dict(
    type='SketchEmbedding',
    layout=dict(resolution=512),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    drawing_encoder=dict(type='DrawingEncoder', input_nc=1, channels=(32, 64, 128, 256, 512),
                         latent_dim=512, leaky_relu_slope=0.2),
    drawing_decoder=dict(type='DrawingDecoder', output_nc=1,
                         channels=(512, 256, 256, 128, 64, 64), latent_dim=512,
                         leaky_relu_slope=0.2, out_activation='tanh'),
    loss_rec=dict(type='ReconstructionLoss', loss_weight=1.0),
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
