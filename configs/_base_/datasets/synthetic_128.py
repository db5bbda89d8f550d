# The embedded synthetic faces at 128x128 (tools/dataset_converters/synthetic_faces.py).
data_file = 'data/synthetic-128.h5'
resolution = 128

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FaceH5Dataset', ann_file=data_file, split='train',
                 resolution=resolution),
)
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    # round_up=False: no padded duplicates, every sample counts once
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FaceH5Dataset', ann_file=data_file, split='val', resolution=resolution),
)
test_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='FaceH5Dataset', ann_file=data_file, split='test', resolution=resolution),
)
