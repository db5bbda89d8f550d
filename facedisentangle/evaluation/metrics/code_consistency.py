"""Code consistency: L1 distance between two code tensors of the same sample.

    L1     = mean |c_pred - c_source|
    rel_L1 = sum |c_pred - c_source| / sum |c_source|

e.g. geometry consistency ``|| E_I(I_mix) - E_I(I_1) ||_1`` (the paper's L_Geo as a measure) or
appearance consistency ``|| E_A(I_mix) - E_A(I_2) ||_1``.
"""
from __future__ import annotations

import math

from facedisentangle.registry import METRICS

from .base import SampleMetric


@METRICS.register_module()
class CodeConsistencyMetric(SampleMetric):
    """Mean L1 and relative L1 between ``pred_code_key`` and ``source_code_key`` tensors.

    Measures: for each sample the mean absolute difference of the two codes (any equal
    shapes: a geometry map 1024 x h x w, a 64-d appearance vector) and the summed absolute
    difference relative to the summed magnitude of the source code (scale-free, so shrinking
    codes does not look consistent; samples whose source code is all zero are left out of
    it); each averaged over samples. Names: ``{name}/L1`` and
    ``{name}/rel_L1`` (e.g. ``geometry_consistency/L1``), after the prefix if any.

    Args:
        pred_code_key: code of the edited/generated image (e.g. ``E_I(I_mix)``).
        source_code_key: code it should equal (e.g. ``E_I(I_1)``).
        name: group name of the reported values.
        Others: see ``SampleMetric`` (the code keys are prefixed like image keys).
    """

    def __init__(self, pred_code_key: str = 'pred_code', source_code_key: str = 'source_code',
                 name: str = 'code', **kwargs) -> None:
        super().__init__(**kwargs)
        self.pred_code_key, self.source_code_key, self.name = pred_code_key, source_code_key, name

    def process(self, data_batch, data_samples) -> None:
        for s in data_samples:
            kp, ks = self.key(self.pred_code_key), self.key(self.source_code_key)
            p, c = self.get_tensor(s, kp).double().cpu(), self.get_tensor(s, ks).double().cpu()
            if p.shape != c.shape:
                raise ValueError(f'{self._name()}: {kp!r} has shape {tuple(p.shape)} but {ks!r} '
                                 f'{tuple(c.shape)}.')
            diff = (p - c).abs()
            self.results.append(dict(index=self.sample_index(s), L1=float(diff.mean()),
                                     abs_diff=float(diff.sum()), abs_source=float(c.abs().sum())))

    def summarize(self, results: list) -> dict:
        l1 = math.fsum(r['L1'] for r in results) / len(results)
        rel = [r['abs_diff'] / r['abs_source'] for r in results if r['abs_source'] > 0]
        out = {f'{self.name}/L1': l1}
        if rel:
            out[f'{self.name}/rel_L1'] = math.fsum(rel) / len(rel)
        return out
