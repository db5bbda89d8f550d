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
config, seed 0): what the architecture's random features already carry. Writes
``appearance_probe.json`` (default: next to the checkpoint) and prints a table.
"""
from __future__ import annotations

import argparse
import copy
import json
import os.path as osp
import sys

import numpy as np
import torch
from mmengine.config import Config, DictAction

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.dirname(osp.dirname(HERE)))

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
    return args


def _load_swap_check():
    import importlib.util
    spec = importlib.util.spec_from_file_location('swap_check', osp.join(HERE, 'swap_check.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    """Photos ``(N, 3, H, W)`` uint8 and appearance seeds of ``split`` (first ``limit``)."""
    from facedisentangle.datasets import FaceH5Dataset

    ds = FaceH5Dataset(data, split=split, resolution=resolution,
                       indices=None if limit is None else limit)
    if len(ds) < 2:
        raise ValueError(f'appearance_probe: split {split!r} of {data} has {len(ds)} faces; '
                         'the probe needs at least 2')
    photos, seeds = [], []
    for k in range(len(ds)):
        sample = ds[k]
        if 'appearance_seed' not in sample:
            raise ValueError(f'appearance_probe: {data} has no appearance_seed: the probe needs '
                             'synthetic faces (tools/dataset_converters/synthetic_faces.py)')
        photos.append(sample['photo'])
        seeds.append(sample['appearance_seed'])
    return torch.stack(photos), seeds


@torch.no_grad()
def appearance_codes(model, comp: str, photos: torch.Tensor, batch_size: int,
                     generator=None) -> np.ndarray:
    """``E_A(I_c)`` pooled vectors ``(N, style_dim)`` of the full-face uint8 ``photos``."""
    g = generator if generator is not None else model.generators[comp]
    out = []
    for b in range(0, photos.shape[0], batch_size):
        crop = model.crop(photos[b:b + batch_size].float() / 127.5 - 1.0, comp)
        out.append(g.encode_appearance(crop).double().cpu().numpy())
    return np.concatenate(out)


def ridge_r2(x_fit, y_fit, x_eval, y_eval, ridge: float) -> np.ndarray:
    """R^2 per column of ``y_eval`` of a ridge fit on ``(x_fit, y_fit)`` (codes standardised
    with the fit set's statistics; intercept not penalised)."""
    mu, sd = x_fit.mean(0), x_fit.std(0)
    sd[sd < 1e-8] = 1.0
    xf, xe = (x_fit - mu) / sd, (x_eval - mu) / sd
    ym = y_fit.mean(0)
    w = np.linalg.solve(xf.T @ xf + ridge * np.eye(xf.shape[1]), xf.T @ (y_fit - ym))
    pred = xe @ w + ym
    sst = ((y_eval - y_eval.mean(0)) ** 2).sum(0)
    sse = ((pred - y_eval) ** 2).sum(0)
    return np.where(sst > 0, 1.0 - sse / np.maximum(sst, 1e-300), np.nan)


def run(args) -> dict:
    from mmengine.registry import init_default_scope

    from facedisentangle.utils import register_all_modules

    torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=False)
    init_default_scope('facedisentangle')
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'appearance_probe: {what} file {path!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = _load_swap_check().build_model(cfg, args.checkpoint, 'cpu')
    data = args.data or cfg.test_dataloader.dataset.ann_file
    res = model.layout.resolution
    fit_photos, fit_seeds = faces(data, args.fit_split, res, args.max_fit)
    eval_photos, eval_seeds = faces(data, args.eval_split, res, None)
    y_fit, names = appearance_colours(fit_seeds)
    y_eval, _ = appearance_colours(eval_seeds)

    encoders = {'trained': None}
    if args.random_reference:
        encoders['random'] = 'random'
    r2 = {}
    for comp in model.components:
        for which in encoders:
            gen = None
            if which == 'random':  # the same network, re-initialised as a fresh run's
                torch.manual_seed(0)
                gen = copy.deepcopy(model.generators[comp])
                gen.init_weights()
            x_fit = appearance_codes(model, comp, fit_photos, args.batch_size, gen)
            x_eval = appearance_codes(model, comp, eval_photos, args.batch_size, gen)
            scores = ridge_r2(x_fit, y_fit, x_eval, y_eval, args.ridge)
            for name, v in zip(names, scores):
                r2[f'{comp}/{which}/{name}'] = None if np.isnan(v) else round(float(v), 4)
            for g in COLOUR_GROUPS:
                vals = [r2[f'{comp}/{which}/{g}_{ch}'] for ch in 'rgb']
                vals = [v for v in vals if v is not None]
                r2[f'{comp}/{which}/{g}'] = round(float(np.mean(vals)), 4) if vals else None
    report = dict(config=args.config, checkpoint=args.checkpoint, data=data,
                  fit_split=args.fit_split, eval_split=args.eval_split,
                  fit_faces=len(fit_seeds), eval_faces=len(eval_seeds), ridge=args.ridge,
                  components=list(model.components), encoders=list(encoders), r2=r2)
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
