# Stage 1 model at 128: tiny per-component sketch auto-encoders (E_sketch, D_sketch).
# At 128 the nose box is 40 px, so the encoders use 3 down-samplings (total stride 8).
# Everything else (losses included) is sketch_autoencoder_512.py's.
_base_ = ['./sketch_autoencoder_512.py']

model = dict(
    layout=dict(resolution=128),
    sketch_encoder=dict(ngf=16, n_downsampling=3),
    sketch_decoder=dict(ngf=16, n_downsampling=3),
)
