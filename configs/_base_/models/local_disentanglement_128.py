# Stage 3 model at 128 for the synthetic faces, small enough to train on a CPU: the paper's
# block counts (E_I 6 ResnetBlocks, G_syn 4 AdaIN blocks) at ngf 16 with three down-samplings
# (the 40 px nose box needs stride 8; sizes equal image_geometry_encoder_128.py), the official
# appearance encoder (16 -> 64 channels, 5 stride-2 convolutions: a 32 px eye pools from 1x1),
# a two-scale discriminator with ndf 16. All of the method's terms, with pix2pixHD's weights;
# the perceptual terms need vgg19-dcbb9e9d.pth in $TORCH_HOME/hub/checkpoints (the stage
# configs say whether they use them).
model = dict(
    type='LocalDisentanglement',
    layout=dict(resolution=128),
    components=['bg', 'eye1', 'eye2', 'nose', 'mouth'],
    generator=dict(type='ComponentGenerator', ngf=16, n_downsampling=3, n_blocks=4),
    discriminator=dict(type='MultiScaleDiscriminator', ndf=16, n_layers=3, num_D=2),
    image_encoder=dict(type='ImageGeometryEncoder', ngf=16, n_downsampling=3, n_blocks=6),
    sketch_encoder=dict(type='SketchEncoder', ngf=16, n_downsampling=3, n_blocks=1),
    stage2_checkpoint=None,  # the stage config names the stage-2 checkpoint
    sketch_prob=0.5,  # default (ours): half of the I1 geometries come from the sketch
    loss_rec=dict(type='ReconstructionLoss', loss_weight=1.0),
    loss_feat=dict(type='FeatureMatchingLoss', loss_weight=10.0),
    loss_vgg=dict(type='PerceptualLoss', loss_weight=10.0),
    loss_geo=dict(type='GeometryConsistencyLoss', loss_weight=1.0),
    loss_cycle=dict(type='CycleConsistencyLoss', loss_weight=1.0),
    loss_cycle_feat=dict(type='FeatureMatchingLoss', loss_weight=10.0,
                         loss_name='loss_cycle_feat'),
    loss_cycle_vgg=dict(type='PerceptualLoss', loss_weight=10.0, loss_name='loss_cycle_vgg'),
    loss_gan=dict(type='GANLoss', gan_type='lsgan', loss_weight=1.0, disc_loss_weight=1.0),
    data_preprocessor=dict(type='FaceDataPreprocessor'),
)
