"""Evaluation: registered metrics (FID, KID, LPIPS, reconstruction, swap vs truth, code
consistency), their formulas, offline feature networks, and result tables. See docs/metrics.md."""
from . import functional, networks  # noqa: F401
from .metrics import (
    FID,
    KID,
    LPIPS,
    CodeConsistencyMetric,
    ReconstructionMetric,
    SampleMetric,
    SwapGroundTruthMetric,
)
from .reference_cache import ReferenceCache, default_cache_dir
from .running_moments import HeldBackMoments, RunningMoments, kept_last_samples
from .table import format_metrics_table, format_swap_table, swap_metric_table

__all__ = [
    'FID', 'KID', 'LPIPS', 'ReconstructionMetric', 'SwapGroundTruthMetric',
    'CodeConsistencyMetric', 'SampleMetric', 'ReferenceCache', 'default_cache_dir',
    'RunningMoments', 'HeldBackMoments', 'kept_last_samples', 'format_metrics_table',
    'format_swap_table', 'swap_metric_table',
]
