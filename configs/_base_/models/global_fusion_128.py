# Stage 4 model at 128 for the synthetic faces: the global generator G_fuse (pix2pixHD
# GlobalGenerator: 4 down-samplings, 4 ResnetBlocks) at ngf 16 on the 16-channel fused
# component features, a two-scale discriminator on the whole face; every LD network of the
# synthetic stage 3 (sizes equal local_disentanglement_128.py) frozen.
model = dict(
    type='GlobalFusion',
    layout=dict(resolution=128),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    fusion_generator=dict(type='GlobalGenerator', input_nc=16, ngf=16, n_downsampling=4,
                          n_blocks=4),
    fusion_discriminator=dict(type='MultiScaleDiscriminator', ndf=16, n_layers=3, num_D=2),
    generator=dict(type='ComponentGenerator', ngf=16, n_downsampling=3, n_blocks=4),
    image_encoder=dict(type='ImageGeometryEncoder', ngf=16, n_downsampling=3, n_blocks=6),
    sketch_encoder=dict(type='SketchEncoder', ngf=16, n_downsampling=3, n_blocks=1),
    sketch_decoder=dict(type='SketchDecoder', ngf=16, n_downsampling=3, n_blocks=1),
    stage3_checkpoint=None,  # the stage config names the checkpoints
    sketch_decoder_checkpoint=None,
    sketch_prob=0.0,
    loss_gan=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0),
    loss_feat=dict(type='FeatureMatchingLoss', loss_weight=10.0),
    loss_vgg=dict(type='PerceptualLoss', loss_weight=10.0),
    loss_rec=None,
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
