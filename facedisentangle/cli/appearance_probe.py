"""Linear probe of a stage-3 model's appearance codes on the synthetic faces' colour factors.

    python tools/analysis/appearance_probe.py CONFIG CHECKPOINT [--data FILE]
        [--fit-split train] [--eval-split test] [--max-fit N] [--ridge 1.0]
        [--random-reference] [--out FILE] [--cfg-options ...]

Per component c, the appearance vector ``a = E_A(I_c)`` (the pooled vector before the 1x1
head, ``style_dim`` values) of every face of ``--fit-split`` is regressed linearly (ridge, on
standardised codes) onto each colour of the face's appearance factors (skin, hair, brow, iris,
lip, sclera, bg, bg2; r, g, b), and the fit is scored on ``--eval-split`` by R^2 =
1 - SSE / SST per channel: 1 when the code carries the colour linearly, about 0 (or below)
when it does not. The swap check tells whether a swapped region takes the appearance
source's colour; this tells whether the appearance code held that colour in the first place
(a model whose code holds it but whose swap misses it has a generator problem; a code that
does not hold it is the encoder's, or its training signal's). Colours that never show in a
crop (lips in an eye crop) stay near 0 and are a sanity check.

``--random-reference`` adds the same probe of a freshly initialised appearance encoder (same
config, seed 0): what the architecture's random features already carry.

``--supervised-steps N`` asks how well the encoder *can* hold the colours: a copy of each
encoder (the trained one, and the random one with ``--random-reference``) is trained for N
Adam steps (batch 32, learning rate 1e-3) with a linear head to predict all the colours
directly (mean squared error on standardised colours) from the fit faces, and scored the same
way (rows ``trained+supervised``, ``random+supervised``). Compare with what the pixels hold:
row ``region mean``, the probe fitted on each face's true mean colour of every labelled
region in the crop (label maps needed; skipped without them).

Writes ``appearance_probe.json`` (default: next to the checkpoint) and prints a table.
"""
from __future__ import annotations

import argparse
import copy
import json
import os.path as osp
import sys

import numpy as np
import torch
from mmengine.config import DictAction

COLOUR_GROUPS = ('skin', 'hair', 'brow', 'iris', 'lip', 'sclera', 'bg', 'bg2')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the stage-3 config the checkpoint was trained with')
    p.add_argument('checkpoint', help='a stage-3 checkpoint (LocalDisentanglement)')
    p.add_argument('--data', help='synthetic face file (default: the config\'s test data)')
    p.add_argument('--fit-split', default='train', help='faces the probe is fitted on')
    p.add_argument('--eval-split', default='test', help='faces the probe is scored on')
    p.add_argument('--max-fit', type=int, default=1200,
                   help='at most this many faces of --fit-split (default 1200)')
    p.add_argument('--ridge', type=float, default=1.0,
                   help='ridge penalty on the standardised codes (default 1.0)')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--random-reference', action='store_true',
                   help='also probe a randomly initialised appearance encoder')
    p.add_argument('--supervised-steps', type=int, default=0,
                   help='also train copies of the encoders N steps to predict the colours '
                        'directly (default 0: no)')
    p.add_argument('--out', help='JSON file (default: appearance_probe.json beside the '
                                 'checkpoint)')
    p.add_argument('--threads', type=int, default=1, help='CPU threads (torch)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='override config keys, e.g. model.components=[eye1]')
    args = p.parse_args(argv)
    if args.max_fit < 2:
        p.error('--max-fit must be >= 2')
    if args.ridge < 0:
        p.error('--ridge must be >= 0')
    if args.supervised_steps < 0:
        p.error('--supervised-steps must be >= 0')
    return args


def appearance_colours(seeds) -> tuple[np.ndarray, list[str]]:
    """``(N, 3 * len(COLOUR_GROUPS))`` colour factors of the faces drawn from ``seeds``."""
    from facedisentangle.datasets.synthetic import sample_appearance

    names = [f'{g}_{ch}' for g in COLOUR_GROUPS for ch in 'rgb']
    rows = []
    for s in seeds:
        app = sample_appearance(int(s))
        rows.append([getattr(app, n) for n in names])
    return np.asarray(rows, dtype=np.float64), names


def faces(data: str, split: str, resolution: int, limit: int | None):
    """Photos ``(N, 3, H, W)`` uint8, appearance seeds and label maps ``(N, H, W)`` (None when
    the file has none) of ``split`` (its first ``limit`` faces)."""
    import h5py

    from facedisentangle.datasets import FaceH5Dataset

    with h5py.File(data, 'r') as f:
        has_labels = 'labels' in f
    ds = FaceH5Dataset(data, split=split, resolution=resolution, load_labels=has_labels,
                       indices=None if limit is None else limit)
    if len(ds) < 2:
        raise ValueError(f'appearance_probe: split {split!r} of {data} has {len(ds)} faces; '
                         'the probe needs at least 2')
    photos, seeds, labels = [], [], []
    for k in range(len(ds)):
        sample = ds[k]
        if 'appearance_seed' not in sample:
            raise ValueError(f'appearance_probe: {data} has no appearance_seed: the probe needs '
                             'synthetic faces (tools/dataset_converters/synthetic_faces.py)')
        photos.append(sample['photo'])
        seeds.append(sample['appearance_seed'])
        if has_labels:
            labels.append(sample['label'])
    return torch.stack(photos), seeds, torch.stack(labels) if has_labels else None


def _crops(model, comp: str, photos: torch.Tensor) -> torch.Tensor:
    from facedisentangle.visualization import uint8_to_float

    return model.crop(uint8_to_float(photos), comp)


@torch.no_grad()
def appearance_codes(model, comp: str, photos: torch.Tensor, batch_size: int,
                     encoder) -> np.ndarray:
    """``encoder``'s pooled appearance vectors ``(N, style_dim)`` of the ``comp`` crops of
    the full-face uint8 ``photos``."""
    out = []
    for b in range(0, photos.shape[0], batch_size):
        out.append(encoder.encode(_crops(model, comp, photos[b:b + batch_size])).double().numpy())
    return np.concatenate(out)


def region_means(model, comp: str, photos: torch.Tensor, labels: torch.Tensor,
                 values: list[int]) -> np.ndarray:
    """Per face: the mean colour of each label value in the crop (0 where absent) and the
    value's share of the crop's pixels, ``(N, 4 * len(values))``."""
    img = (_crops(model, comp, photos).double() + 1) / 2
    lab = model.crop(labels, comp)
    feats = []
    for v in values:
        m = (lab == v).double()[:, None]
        area = m.sum((2, 3))
        feats += [(img * m).sum((2, 3)) / area.clamp(min=1), area / m[0, 0].numel()]
    return torch.cat(feats, 1).numpy()


def train_supervised(model, comp: str, encoder, photos: torch.Tensor, y: np.ndarray,
                     steps: int, seed: int = 0):
    """A copy of ``encoder`` trained ``steps`` Adam steps (batch 32, lr 1e-3) with a linear
    head to predict the standardised colours ``y`` of ``photos``; returns the copy."""
    torch.manual_seed(seed)
    enc = copy.deepcopy(encoder).train().requires_grad_(True)
    target = torch.from_numpy((y - y.mean(0)) / np.maximum(y.std(0), 1e-8)).float()
    head = torch.nn.Linear(enc.style_dim, target.shape[1])
    opt = torch.optim.Adam(list(enc.parameters()) + list(head.parameters()), lr=1e-3)
    for _ in range(steps):
        idx = torch.randint(0, photos.shape[0], (min(32, photos.shape[0]),))
        loss = ((head(enc.encode(_crops(model, comp, photos[idx]))) - target[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return enc.eval().requires_grad_(False)


def ridge_r2(x_fit, y_fit, x_eval, y_eval, ridge: float) -> np.ndarray:
    """R^2 per column of ``y_eval`` of a ridge fit on ``(x_fit, y_fit)`` (codes standardised
    with the fit set's statistics; intercept not penalised).

    A feature that hardly varies over the fit set (a ReLU unit that fires for a few faces) is
    divided by at least 5% of the median feature spread, not by its own, and the eval
    features are clipped to the fit set's range: otherwise an eval face on which such a unit
    fires lands hundreds of standard deviations out and the linear fit extrapolates wildly.
    """
    mu, sd = x_fit.mean(0), x_fit.std(0)
    spread = sd[sd > 1e-12]
    sd = np.maximum(sd, 0.05 * np.median(spread) if spread.size else 1.0)
    xf = (x_fit - mu) / sd
    xe = np.clip((x_eval - mu) / sd, xf.min(0), xf.max(0))
    ym = y_fit.mean(0)
    w = np.linalg.solve(xf.T @ xf + ridge * np.eye(xf.shape[1]), xf.T @ (y_fit - ym))
    pred = xe @ w + ym
    sst = ((y_eval - y_eval.mean(0)) ** 2).sum(0)
    sse = ((pred - y_eval) ** 2).sum(0)
    return np.where(sst > 0, 1.0 - sse / np.maximum(sst, 1e-300), np.nan)


def _record(r2: dict, key: str, names: list[str], scores: np.ndarray) -> None:
    for name, v in zip(names, scores):
        r2[f'{key}/{name}'] = None if np.isnan(v) else round(float(v), 4)
    for g in COLOUR_GROUPS:
        vals = [r2[f'{key}/{g}_{ch}'] for ch in 'rgb']
        vals = [v for v in vals if v is not None]
        r2[f'{key}/{g}'] = round(float(np.mean(vals)), 4) if vals else None


def run(args) -> dict:
    from facedisentangle.apis.swap_check import load_stage3_model

    torch.set_num_threads(args.threads)
    cfg, model = load_stage3_model(args.config, args.checkpoint, cfg_options=args.cfg_options,
                                   tool='appearance_probe')
    data = args.data or cfg.test_dataloader.dataset.ann_file
    res = model.layout.resolution
    fit_photos, fit_seeds, fit_labels = faces(data, args.fit_split, res, args.max_fit)
    eval_photos, eval_seeds, eval_labels = faces(data, args.eval_split, res, None)
    y_fit, names = appearance_colours(fit_seeds)
    y_eval, _ = appearance_colours(eval_seeds)

    rows: list[str] = []
    r2 = {}
    for comp in model.components:
        encoders = {'trained': model.generators[comp].enc_style}
        if args.random_reference:  # the same network, re-initialised as a fresh run's
            torch.manual_seed(0)   # (the generator's init_weights sets E_A's own init)
            fresh = copy.deepcopy(model.generators[comp])
            fresh.init_weights()
            encoders['random'] = fresh.enc_style
        if args.supervised_steps:
            for which in list(encoders):
                encoders[f'{which}+supervised'] = train_supervised(
                    model, comp, encoders[which], fit_photos, y_fit, args.supervised_steps)
        feats = {w: (appearance_codes(model, comp, fit_photos, args.batch_size, e),
                     appearance_codes(model, comp, eval_photos, args.batch_size, e))
                 for w, e in encoders.items()}
        if fit_labels is not None:
            values = sorted(set(model.crop(fit_labels, comp).unique().tolist()))
            feats['region mean'] = (region_means(model, comp, fit_photos, fit_labels, values),
                                    region_means(model, comp, eval_photos, eval_labels, values))
        for which, (x_fit, x_eval) in feats.items():
            _record(r2, f'{comp}/{which}', names,
                    ridge_r2(x_fit, y_fit, x_eval, y_eval, args.ridge))
            if which not in rows:
                rows.append(which)
    report = dict(config=args.config, checkpoint=args.checkpoint, data=data,
                  fit_split=args.fit_split, eval_split=args.eval_split,
                  fit_faces=len(fit_seeds), eval_faces=len(eval_seeds), ridge=args.ridge,
                  supervised_steps=args.supervised_steps,
                  components=list(model.components), encoders=rows, r2=r2)
    out = args.out or osp.join(osp.dirname(osp.abspath(args.checkpoint)),
                               'appearance_probe.json')
    with open(out, 'w') as f:
        json.dump(report, f, indent=2)
    report['out'] = out
    return report


def format_table(report: dict) -> str:
    """Markdown table: one row per component (and encoder), one column per colour group."""
    head = '| component | encoder | ' + ' | '.join(COLOUR_GROUPS) + ' |'
    lines = [head, '|' + '---|' * (len(COLOUR_GROUPS) + 2)]
    for comp in report['components']:
        for which in report['encoders']:
            cells = []
            for g in COLOUR_GROUPS:
                v = report['r2'][f'{comp}/{which}/{g}']
                cells.append('-' if v is None else f'{v:.2f}')
            lines.append(f'| {comp} | {which} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    report = run(args)
    print(f'R^2 of a linear probe of E_A\'s appearance vector (mean over r, g, b), fitted on '
          f'{report["fit_faces"]} {report["fit_split"]} faces, scored on '
          f'{report["eval_faces"]} {report["eval_split"]} faces:')
    print(format_table(report))
    print(f'wrote {report["out"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
