"""Registered metrics (METRICS registry, usable from the Runner's val/test loops or directly)."""
from .base import SampleMetric
from .code_consistency import CodeConsistencyMetric
from .fid import FID
from .inception_features import InceptionFeatureMetric
from .kid import KID
from .lpips_metric import LPIPS
from .reconstruction import ReconstructionMetric
from .swap_ground_truth import (
    DEFAULT_REGIONS,
    SWAP_BASELINES,
    SWAP_METHODS,
    SWAP_REFERENCES,
    SYNTHETIC_LABELS,
    SwapGroundTruthMetric,
)

__all__ = [
    'SampleMetric', 'InceptionFeatureMetric', 'FID', 'KID', 'LPIPS', 'ReconstructionMetric',
    'SwapGroundTruthMetric', 'CodeConsistencyMetric', 'SWAP_METHODS', 'SWAP_BASELINES',
    'SWAP_REFERENCES',
    'DEFAULT_REGIONS', 'SYNTHETIC_LABELS',
]
