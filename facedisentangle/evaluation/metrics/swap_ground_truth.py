"""Swap accuracy against rendered ground truth (synthetic faces), with three baselines.

For a held-out pair (i, j) of synthetic faces with geometry g_i, appearance a_j, the model's
swap ``G(E_I(I_i), E_A(I_j))`` is compared with the rendered truth ``P(g_i, a_j)``:

    L1        = sum_{p in R} |x_p - t_p| / (3 |R|)
    PSNR      = 10 log10(2^2 / (sum_{p in R} (x_p - t_p)^2 / (3 |R|)))
    LPIPS     = mean LPIPS over images (R = whole image), or the mean of LPIPS' spatial map over R
    colour_L1 = | mean_{p in R} x_p - mean_{p in R} t_p |_1 / 3      (per image, then averaged)
    colour_corr = corr_images(mean_R x, mean_R t), per channel, averaged over the channels

pooled over all pairs (colour_L1: averaged over the images where R is not empty), for R the
whole image/crop and each detail region (the pixels whose truth label is in the region's
list), and for x the model's swap and three baselines:
``copy_geometry`` (x = I_i), ``copy_appearance`` (x = I_j), ``color_transfer`` (I_i recoloured
to I_j's CIELAB per-channel mean and std, see ``functional.color_transfer``). A model that
disentangles must beat every baseline.

With ``reconstruction_key``, the model's self-reconstruction ``G(E_I(I_i), E_A(I_i))`` is also
compared with its own truth I_i = P(g_i, a_i), over the same regions (the label map is L(g_i)
for both): ``self_reconstruction``, a reference, not a competitor. No swap can be expected to
be closer to P(g_i, a_j) than the model reproduces P(g_i, a_i) from its own appearance, so
where the self-reconstruction already loses to a baseline (the irises of a 128 px face: the
model cannot draw a 40-pixel iris as sharply as copying the geometry source does), the
failure is the model's fidelity, not its disentanglement.

``colour_L1`` asks only whether a region has the right colour, wherever its pixels are sharp:
on a region a few pixels across (the irises of a 128 px face: about 40 pixels per eye, a third
of them pupil and highlight) L1 is dominated by where the edges fall, so a flat disk of exactly
the truth's mean colour scores about the same L1 as the geometry source with the wrong colour,
while its ``colour_L1`` is 0. A model that paints irises grey loses on ``colour_L1``.
``colour_L1`` still rewards a model that paints every iris the data set's average iris colour
(that beats copying another face's iris colour); ``colour_corr`` tells them apart: it is about
0 for a constant colour and for another face's colour, and near 1 only when the region's
colour follows the appearance source from pair to pair.
"""
from __future__ import annotations

import math

import torch

from facedisentangle.registry import METRICS

from ..functional.color_transfer import lab_color_transfer
from ..functional.image_errors import psnr_from_mse
from ..networks.lpips_network import (
    build_lpips,
    check_lpips_size,
    find_lpips_backbone,
    lpips_spatial_map,
    warn_random_backbones,
)
from .base import SampleMetric
from .lpips_metric import lpips_metric_name

SWAP_BASELINES = ('copy_geometry', 'copy_appearance', 'color_transfer')
# the model's self-reconstruction against I_i: a reference (what the swap cannot beat), not a
# baseline the swap has to beat
SWAP_REFERENCES = ('self_reconstruction',)
SWAP_METHODS = ('swap',) + SWAP_BASELINES + SWAP_REFERENCES
DEFAULT_REGIONS = dict(brows=[3], irises=[5], lips=[7], hair=[1])
SYNTHETIC_LABELS = {0: 'background', 1: 'hair', 2: 'skin', 3: 'brows', 4: 'eye whites',
                    5: 'irises', 6: 'nose', 7: 'lips'}


def colour_correlation(means: list) -> float | None:
    """``colour_corr``: Pearson's correlation, over the images, between a region's mean colour
    in the output and in the truth, per channel, averaged over the channels. ``means`` is a
    list of ``(output RGB, truth RGB)``. 1: the output's region colour follows the truth's
    from image to image; about 0: it does not (a constant colour, or another face's). None
    with fewer than 3 images or a channel that does not vary (nothing to correlate)."""
    if len(means) < 3:
        return None
    x = torch.tensor([m[0] for m in means], dtype=torch.float64)
    t = torch.tensor([m[1] for m in means], dtype=torch.float64)
    x, t = x - x.mean(0), t - t.mean(0)
    norm = x.pow(2).sum(0).sqrt() * t.pow(2).sum(0).sqrt()
    if not bool((norm > 1e-12).all()):
        return None
    return float(((x * t).sum(0) / norm).mean())


@METRICS.register_module()
class SwapGroundTruthMetric(SampleMetric):
    """Errors of geometry/appearance swaps against the rendered truth, and of baselines.

    Measures, for each method in ``swap`` (the model, ``pred_key``) and ``baselines`` and for the
    whole image/crop and each region of ``regions``: ``L1`` (mean absolute error, [-1, 1]),
    ``PSNR`` (dB, data range 2, from the mean squared error) and, with ``lpips`` set, LPIPS,
    each pooled over all pixels of the region in all samples (a region absent from a sample
    adds nothing; one absent from every sample is not reported). Also reports
    ``{region}/pixels``, the region's pixel count over the set, and ``colour_L1``, the error
    of the region's mean colour (module docstring), averaged over the samples that have the
    region, and ``colour_corr`` (module docstring; from 3 images up). Names: ``swap/L1``,
    ``copy_geometry/PSNR``, ``swap/irises/L1``, ``swap/irises/colour_L1``,
    ``swap/irises/colour_corr``, ``irises/pixels``, after the prefix if any
    (``eye1/swap/irises/L1``).

    Args:
        pred_key: the model's swap (geometry of I_i, appearance of I_j).
        gt_key: the rendered truth P(g_i, a_j).
        geometry_key: I_i, the geometry source.
        appearance_key: I_j, the appearance source.
        label_key: the truth's region label map, uint8 (H, W) (synthetic faces: 0 bg, 1 hair,
            2 skin, 3 brows, 4 eye whites, 5 irises, 6 nose, 7 lips).
        regions: ``{name: [labels]}``; ``{}`` for the whole image only.
        baselines: which of ``copy_geometry``, ``copy_appearance``, ``color_transfer`` to run.
        reconstruction_key: optional, the model's self-reconstruction of the geometry source,
            ``G(E_I(I_i), E_A(I_i))``; reported as ``self_reconstruction`` against I_i
            (module docstring).
        lpips: None (no LPIPS) or ``dict(net='alex', backbone_path=None,
            random_backbones=False)`` as for the ``LPIPS`` metric.
        device: where LPIPS runs.
        Others: see ``SampleMetric``.
    """

    def __init__(self, pred_key: str = 'pred', gt_key: str = 'gt',
                 geometry_key: str = 'geometry', appearance_key: str = 'appearance',
                 label_key: str = 'label', regions: dict | None = None,
                 baselines=SWAP_BASELINES, reconstruction_key: str | None = None,
                 lpips: dict | None = None, device: str = 'cpu', **kwargs) -> None:
        super().__init__(**kwargs)
        self.pred_key, self.gt_key, self.label_key = pred_key, gt_key, label_key
        self.geometry_key, self.appearance_key = geometry_key, appearance_key
        regions = dict(DEFAULT_REGIONS if regions is None else regions)
        for name, labels in regions.items():
            if name in SWAP_METHODS or name in ('all', 'pixels') or '/' in name:
                raise ValueError(f'SwapGroundTruthMetric: region name {name!r} is reserved or '
                                 'contains "/".')
            if not labels or not all(isinstance(v, int) and 0 <= v <= 255 for v in labels):
                raise ValueError(f'SwapGroundTruthMetric: region {name!r} must list label '
                                 f'values 0..255, got {labels!r}.')
        self.regions = {k: list(v) for k, v in regions.items()}
        bad = [b for b in baselines if b not in SWAP_BASELINES]
        if bad:
            raise ValueError(f'SwapGroundTruthMetric: unknown baselines {bad}; choose from '
                             f'{SWAP_BASELINES}.')
        self.methods = ['swap'] + [b for b in SWAP_BASELINES if b in baselines]
        self.reconstruction_key = reconstruction_key
        if reconstruction_key is not None:
            self.methods += list(SWAP_REFERENCES)
        self.device = device
        self.lpips_cfg = None
        if lpips is not None:
            cfg = dict(net='alex', backbone_path=None, random_backbones=False)
            unknown = set(lpips) - set(cfg)
            if unknown:
                raise ValueError(f'SwapGroundTruthMetric: unknown lpips options '
                                 f'{sorted(unknown)}; allowed: {sorted(cfg)}.')
            cfg.update(lpips)
            if cfg['random_backbones']:
                warn_random_backbones(cfg['net'])
            else:
                find_lpips_backbone(cfg['net'], cfg['backbone_path'])
            self.lpips_cfg = cfg
            self.lpips_name = lpips_metric_name(cfg['net'], cfg['random_backbones'])
        self._lpips = None

    def _lpips_model(self):
        if self._lpips is None:
            c = self.lpips_cfg
            self._lpips = build_lpips(c['net'], c['backbone_path'], c['random_backbones'],
                                      self.device)
        return self._lpips

    def _label(self, sample: dict, shape) -> torch.Tensor:
        key = self.key(self.label_key)
        label = self.get_tensor(sample, key).cpu()
        if label.dim() == 3 and label.shape[0] == 1:
            label = label[0]
        if tuple(label.shape) != tuple(shape):
            raise ValueError(f'{self._name()}: label {key!r} has shape {tuple(label.shape)}, '
                             f'expected the image size {tuple(shape)}.')
        if label.is_floating_point():
            raise TypeError(f'{self._name()}: label {key!r} has dtype {label.dtype}, expected '
                            'an integer (uint8) region map.')
        return label.long()

    def candidates(self, geometry: torch.Tensor, appearance: torch.Tensor,
                   pred: torch.Tensor) -> dict[str, torch.Tensor]:
        """The images compared with the truth: the model's swap and each baseline."""
        out = {'swap': pred, 'copy_geometry': geometry, 'copy_appearance': appearance}
        if 'color_transfer' in self.methods:
            out['color_transfer'] = lab_color_transfer(geometry, appearance)
        return {m: out[m] for m in self.methods if m not in SWAP_REFERENCES}

    @torch.no_grad()
    def process(self, data_batch, data_samples) -> None:
        for s in data_samples:
            k = self.key
            gt = self.get_image(s, k(self.gt_key))
            imgs = dict(pred=self.get_image(s, k(self.pred_key)),
                        geometry=self.get_image(s, k(self.geometry_key)),
                        appearance=self.get_image(s, k(self.appearance_key)))
            if self.reconstruction_key is not None:
                imgs['reconstruction'] = self.get_image(s, k(self.reconstruction_key))
            for name, img in imgs.items():
                if img.shape != gt.shape:
                    key = k(getattr(self, f'{name}_key'))
                    raise ValueError(f'{self._name()}: {key!r} has shape {tuple(img.shape)}, the '
                                     f'truth {k(self.gt_key)!r} {tuple(gt.shape)}.')
            masks = {'all': torch.ones(gt.shape[1:], dtype=torch.bool)}
            if self.regions:
                label = self._label(s, gt.shape[1:])
                for name, values in self.regions.items():
                    masks[name] = torch.isin(label, torch.tensor(values))
            rec = dict(index=self.sample_index(s),
                       pixels={r: int(m.sum()) for r, m in masks.items()}, err={})
            # (method, image, its truth): the swap and the baselines against P(g_i, a_j), the
            # self-reconstruction against I_i = P(g_i, a_i)
            cands = self.candidates(imgs['geometry'], imgs['appearance'], imgs['pred'])
            truths = [gt] * len(cands)
            if self.reconstruction_key is not None:
                cands['self_reconstruction'] = imgs['reconstruction']
                truths.append(imgs['geometry'])
            lp_maps = lp_vals = None
            if self.lpips_cfg is not None:
                check_lpips_size(self.lpips_cfg['net'], gt.shape, f'image {k(self.gt_key)!r}')
                model = self._lpips_model()
                x = torch.stack(list(cands.values())).to(self.device)
                t = torch.stack(truths).to(self.device)
                lp_vals = model(x, t).flatten().double().cpu()
                if self.regions:
                    lp_maps = lpips_spatial_map(model, x, t)[:, 0].double().cpu()
            for mi, ((method, img), truth) in enumerate(zip(cands.items(), truths)):
                d = img.double() - truth.double()
                ad, sq = d.abs().sum(0), d.pow(2).sum(0)
                entry = {}
                for r, m in masks.items():
                    e = dict(abs=float(ad[m].sum()), sq=float(sq[m].sum()))
                    if bool(m.any()):  # the region's mean colour against the truth's
                        mean_x = img[:, m].double().mean(1)
                        mean_t = truth[:, m].double().mean(1)
                        e['colour'] = float((mean_x - mean_t).abs().mean())
                        e['means'] = (mean_x.tolist(), mean_t.tolist())
                    if lp_vals is not None:
                        e['lpips'] = (float(lp_vals[mi]) if r == 'all'
                                      else float(lp_maps[mi][m].sum()))
                    entry[r] = e
                rec['err'][method] = entry
            self.results.append(rec)

    def summarize(self, results: list) -> dict:
        out = {}
        n_img = len(results)
        for region in ['all'] + list(self.regions):
            pixels = sum(r['pixels'][region] for r in results)
            if region != 'all':
                out[f'{region}/pixels'] = pixels
            if pixels == 0:
                continue
            for method in self.methods:
                base = method if region == 'all' else f'{method}/{region}'
                abs_sum = math.fsum(r['err'][method][region]['abs'] for r in results)
                sq_sum = math.fsum(r['err'][method][region]['sq'] for r in results)
                out[f'{base}/L1'] = abs_sum / (3 * pixels)
                out[f'{base}/PSNR'] = psnr_from_mse(sq_sum / (3 * pixels), data_range=2.0)
                colours = [r['err'][method][region]['colour'] for r in results
                           if r['pixels'][region] > 0]
                out[f'{base}/colour_L1'] = math.fsum(colours) / len(colours)
                corr = colour_correlation([r['err'][method][region]['means'] for r in results
                                           if r['pixels'][region] > 0])
                if corr is not None:
                    out[f'{base}/colour_corr'] = corr
                if self.lpips_cfg is not None:
                    lp = math.fsum(r['err'][method][region]['lpips'] for r in results)
                    out[f'{base}/{self.lpips_name}'] = lp / (n_img if region == 'all' else pixels)
        return out

