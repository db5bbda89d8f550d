"""Pretrained feature networks of the metrics (FID Inception, LPIPS), loaded offline."""
from .fid_inception import (
    FID_FEATURE_NAME,
    FID_WEIGHTS_FILE,
    FID_WEIGHTS_URL,
    FIDInceptionPool3,
    build_fid_inception,
    find_fid_inception,
)
from .lpips_network import (
    LPIPS_BACKBONE_FILES,
    LPIPS_MIN_SIZE,
    backbone_state_to_lpips,
    build_lpips,
    check_lpips_size,
    find_lpips_backbone,
    lpips_spatial_map,
)

__all__ = [
    'FIDInceptionPool3', 'build_fid_inception', 'find_fid_inception', 'FID_WEIGHTS_FILE',
    'FID_WEIGHTS_URL', 'FID_FEATURE_NAME', 'build_lpips', 'find_lpips_backbone',
    'backbone_state_to_lpips', 'lpips_spatial_map', 'LPIPS_BACKBONE_FILES',
    'LPIPS_MIN_SIZE', 'check_lpips_size',
]
