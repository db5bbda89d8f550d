# Sketch embedding (manifold projection, DeepFaceDrawing) at 128: per-component DrawingEncoder
# / DrawingDecoder auto-encoders on channel 0 of the sketch crops. The 40 px nose box is a
# multiple of 8, not 32, so three stride-2 blocks (total stride 8) instead of the official five.
# image_size is filled in from each component's box. The loss is sketch_embedding_512.py's.
_base_ = ['./sketch_embedding_512.py']

model = dict(
    layout=dict(resolution=128),
    drawing_encoder=dict(channels=(16, 32, 64), latent_dim=128),
    drawing_decoder=dict(channels=(64, 64, 32, 16), latent_dim=128),
)
