# Aligned face photos at 512x512 packed by tools/prepare_data.py (FFHQ, CelebAMask-HQ or a
# folder of portraits); the paper's setting.
data_file = 'data/faces-512.h5'
resolution = 512

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FaceH5Dataset', ann_file=data_file, split='train',
                 resolution=resolution),
)
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FaceH5Dataset', ann_file=data_file, split='val', resolution=resolution),
)
test_dataloader = dict(
    batch_size=4,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FaceH5Dataset', ann_file=data_file, split='test', resolution=resolution),
)
