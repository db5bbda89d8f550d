import pytest
import torch

from facedisentangle.structures import DEFAULT_BOXES_512, ComponentLayout, build_layout


def test_boxes_at_512_are_method_md():
    layout = ComponentLayout(512)
    assert layout.boxes == {'bg': (0, 0, 512), 'eye1': (108, 156, 128), 'eye2': (255, 156, 128),
                            'nose': (182, 232, 160), 'mouth': (169, 301, 192)}
    assert layout.paste_order == ('mouth', 'nose', 'eye1', 'eye2')
    assert layout.trim == {'nose': 36}
    assert layout.base == 'bg'
    layout.check_stride(16)


def test_boxes_at_128_scale_and_stride_rule():
    layout = ComponentLayout(128)
    assert layout.boxes == {'bg': (0, 0, 128), 'eye1': (27, 39, 32), 'eye2': (64, 39, 32),
                            'nose': (46, 58, 40), 'mouth': (42, 75, 48)}
    assert layout.trim == {'nose': 9}
    layout.check_stride(8)  # three down-samplings fit
    with pytest.raises(ValueError, match=r"nose': 40.*stride 16"):
        layout.check_stride(16)


def test_crop_matches_method_md_slicing():
    img = torch.arange(512 * 512, dtype=torch.float32).view(1, 1, 512, 512)
    layout = ComponentLayout(512)
    for name, (x, y, s) in DEFAULT_BOXES_512.items():
        assert torch.equal(layout.crop(img, name), img[:, :, y:y + s, x:x + s])
    with pytest.raises(ValueError, match='layout is for 512x512'):
        layout.crop(torch.zeros(1, 1, 128, 128), 'eye1')


def test_fuse_order_and_nose_trim_at_512():
    layout = ComponentLayout(512)
    parts = {n: torch.full((1, 2, s, s), float(i + 1)) for i, (n, (_, _, s))
             in enumerate(layout.boxes.items())}
    # values: bg 1, eye1 2, eye2 3, nose 4, mouth 5
    fused = layout.fuse(parts)
    assert fused.shape == (1, 2, 512, 512)
    assert fused[0, 0, 0, 0] == 1  # bg
    assert fused[0, 0, 160, 110] == 2  # eye1 wins over nose
    assert fused[0, 0, 160, 300] == 3  # eye2
    # nose rows 232..355 pasted (bottom 36 of 160 trimmed): row 355 nose, row 356 mouth
    assert fused[0, 0, 355, 250] == 4
    assert fused[0, 0, 356, 250] == 5
    assert fused[0, 0, 300, 250] == 4  # nose over mouth... mouth starts at 301
    assert fused[0, 0, 400, 250] == 5  # mouth over bg
    assert fused[0, 0, 493, 250] == 1  # below the mouth box (301 + 192 = 493)
    # the inputs are not modified
    assert parts['bg'].eq(1).all()


def test_fuse_at_128_scaled_trim():
    layout = ComponentLayout(128)
    parts = {n: torch.full((1, 1, s, s), float(i + 1)) for i, (n, (_, _, s))
             in enumerate(layout.boxes.items())}
    fused = layout.fuse(parts)
    x, y, s = layout.boxes['nose']
    assert fused[0, 0, y + s - 9 - 1, x + 20] == 4
    assert fused[0, 0, y + s - 9, x + 20] == 5  # trimmed row shows the mouth


def test_layout_is_data_from_config():
    layout = build_layout(dict(resolution=256, boxes=dict(bg=(0, 0, 512), eye1=(100, 150, 128)),
                               paste_order=['eye1'], trim={}))
    assert layout.boxes == {'bg': (0, 0, 256), 'eye1': (50, 75, 64)}
    with pytest.raises(ValueError, match='unknown keys'):
        build_layout(dict(resolution=128, bogus=1))
    with pytest.raises(ValueError, match="box 'eye1'.*outside"):
        ComponentLayout(128, boxes=dict(bg=(0, 0, 512), eye1=(500, 0, 64)), paste_order=[],
                        trim={})
    with pytest.raises(ValueError, match="'mouth' in paste_order"):
        ComponentLayout(128, boxes=dict(bg=(0, 0, 512)), trim={})
