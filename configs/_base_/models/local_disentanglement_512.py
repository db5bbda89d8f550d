# Stage 3 model at 512, the paper's setting (docs/method.md sections 2-4): per component, the
# AdaIN component generator G_syn (ngf 64, 4 AdaIN ResnetBlocks, 4 up-samplings; appearance
# encoder nested as enc_style) and a multi-scale PatchGAN, trained with E_I and E_sketch of
# stage 2 frozen. Loss weights: default (ours), pix2pixHD's (lambda_L1 = lambda_Geo =
# lambda_GAN = 1, lambda_FM = lambda_VGG = 10). The perceptual terms need torchvision's
# vgg19-dcbb9e9d.pth in $TORCH_HOME/hub/checkpoints (or set pretrained_path); nothing is
# downloaded.
model = dict(
    type='LocalDisentanglement',
    layout=dict(resolution=512),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    generator=dict(type='ComponentGenerator', ngf=64, n_downsampling=4, n_blocks=4),
    discriminator=dict(type='MultiScaleDiscriminator', ndf=64, n_layers=3, num_D=3),
    image_encoder=dict(type='ImageGeometryEncoder', ngf=64, n_downsampling=4, n_blocks=6),
    sketch_encoder=dict(type='SketchEncoder', ngf=64, n_downsampling=4, n_blocks=1),
    stage2_checkpoint=None,  # the stage config names the stage-2 checkpoint
    sketch_prob=0.5,  # default (ours): half of the I1 geometries come from the sketch
    # self-reconstruction I_rec = G(E_I(I1), E_A(I1)) vs I1: L1, feature matching, VGG19
    loss_rec=dict(type='ReconstructionLoss', loss_weight=1.0),
    loss_feat=dict(type='FeatureMatchingLoss', loss_weight=10.0),
    loss_vgg=dict(type='PerceptualLoss', loss_weight=10.0),
    # cyclic swapping: L_Geo on E_I(I_mix); L_Cycle = the same three terms on (I_cycle, I2)
    loss_geo=dict(type='GeometryConsistencyLoss', loss_weight=1.0),
    loss_cycle=dict(type='CycleConsistencyLoss', loss_weight=1.0),
    loss_cycle_feat=dict(type='FeatureMatchingLoss', loss_weight=10.0,
                         loss_name='loss_cycle_feat'),
    loss_cycle_vgg=dict(type='PerceptualLoss', loss_weight=10.0, loss_name='loss_cycle_vgg'),
    # adversarial on I_rec and I_mix; LSGAN default (ours), 'hinge' and 'vanilla' selectable
    loss_gan=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0, disc_loss_weight=1.0),
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
