# Stage 2 model at 128: per-component image geometry encoders E_I (6 ResnetBlocks, as the
# paper) trained to imitate the frozen E_sketch / D_sketch of stage 1. Sizes must equal
# sketch_autoencoder_128.py: ngf 16, three down-samplings (the 40 px nose box needs stride 8).
# Everything else (losses included) is image_geometry_encoder_512.py's.
_base_ = ['./image_geometry_encoder_512.py']

model = dict(
    layout=dict(resolution=128),
    image_encoder=dict(ngf=16, n_downsampling=3),
    sketch_encoder=dict(ngf=16, n_downsampling=3),
    sketch_decoder=dict(ngf=16, n_downsampling=3),
)
