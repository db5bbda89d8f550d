# Stage 3 model at 128 for the synthetic faces, small enough to train on a CPU: the paper's
# block counts (E_I 6 ResnetBlocks, G_syn 4 AdaIN blocks) at ngf 16 with three down-samplings
# (the 40 px nose box needs stride 8; sizes equal image_geometry_encoder_128.py), the official
# appearance encoder (16 -> 64 channels, 5 stride-2 convolutions: a 32 px eye pools from 1x1),
# a two-scale discriminator with ndf 16. All of the method's terms, with pix2pixHD's weights
# (local_disentanglement_512.py's loss block); the perceptual terms need vgg19-dcbb9e9d.pth in
# $TORCH_HOME/hub/checkpoints (the stage configs say whether they use them).
_base_ = ['./local_disentanglement_512.py']

model = dict(
    layout=dict(resolution=128),
    generator=dict(ngf=16, n_downsampling=3),
    discriminator=dict(ndf=16, num_D=2),
    image_encoder=dict(ngf=16, n_downsampling=3),
    sketch_encoder=dict(ngf=16, n_downsampling=3),
)
