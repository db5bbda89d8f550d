# Stage 4 model at 128 for the synthetic faces: the global generator G_fuse (pix2pixHD
# GlobalGenerator: 4 down-samplings, 4 ResnetBlocks) at ngf 16 on the 16-channel fused
# component features, a two-scale discriminator on the whole face; every LD network of the
# synthetic stage 3 (sizes equal local_disentanglement_128.py) frozen. The losses are
# global_fusion_512.py's.
_base_ = ['./global_fusion_512.py']

model = dict(
    layout=dict(resolution=128),
    fusion_generator=dict(input_nc=16, ngf=16),
    fusion_discriminator=dict(ndf=16, num_D=2),
    generator=dict(ngf=16, n_downsampling=3),
    image_encoder=dict(ngf=16, n_downsampling=3),
    sketch_encoder=dict(ngf=16, n_downsampling=3),
    sketch_decoder=dict(ngf=16, n_downsampling=3),
)
