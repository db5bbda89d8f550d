# Stage 4 model at 512, the paper's setting (docs/method.md section 2): G_fuse is pix2pixHD's
# GlobalGenerator with a 64-channel input (the fused component feature maps), ngf 64,
# 4 down-samplings, 4 ResnetBlocks; a 3-scale PatchGAN discriminator (default, ours); the LD
# networks of stage 3 at the paper's sizes, frozen.
model = dict(
    type='GlobalFusion',
    layout=dict(resolution=512),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    fusion_generator=dict(type='GlobalGenerator', input_nc=64, ngf=64, n_downsampling=4,
                          n_blocks=4),
    fusion_discriminator=dict(type='MultiScaleDiscriminator', ndf=64, n_layers=3, num_D=3),
    generator=dict(type='ComponentGenerator', ngf=64, n_downsampling=4, n_blocks=4),
    image_encoder=dict(type='ImageGeometryEncoder', ngf=64, n_downsampling=4, n_blocks=6),
    sketch_encoder=dict(type='SketchEncoder', ngf=64, n_downsampling=4, n_blocks=1),
    sketch_decoder=dict(type='SketchDecoder', ngf=64, n_downsampling=4, n_blocks=1),
    stage3_checkpoint=None,
    sketch_decoder_checkpoint=None,
    sketch_prob=0.0,
    loss_gan=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0),
    loss_feat=dict(type='FeatureMatchingLoss', loss_weight=10.0),
    loss_vgg=dict(type='PerceptualLoss', loss_weight=10.0),
    loss_rec=None,
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
