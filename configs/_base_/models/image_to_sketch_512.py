# Image-to-sketch generator at 512, the release's sketch_generator shape: pix2pixHD
# GlobalGenerator 3 -> 3, ngf 32, 4 down-samplings, 9 ResnetBlocks, instance norm; a
# conditional 3-scale discriminator on (photo, sketch); pix2pixHD's losses.
model = dict(
    type='ImageToSketch',
    layout=dict(resolution=512),
    image_to_sketch=dict(type='ImageToSketchGenerator', input_nc=3, output_nc=3, ngf=32,
                         n_downsampling=4, n_blocks=9, norm='in'),
    sketch_discriminator=dict(type='MultiScaleDiscriminator', input_nc=6, ndf=64, n_layers=3,
                              num_D=3),
    loss_gan=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0),
    loss_feat=dict(type='FeatureMatchingLoss', loss_weight=10.0),
    loss_vgg=dict(type='PerceptualLoss', loss_weight=10.0),
    loss_rec=None,
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
