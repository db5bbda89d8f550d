"""Printing metric results: a table grouped by prefix, and the swap-metric table."""
from __future__ import annotations

import math

from rich.table import Table

from .metrics.swap_ground_truth import SWAP_METHODS


def _fmt(v) -> str:
    if v is None:
        return '-'
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isinf(v) or math.isnan(v):
        return str(v)
    return f'{v:.4f}'


def split_metric_name(name: str) -> tuple[str, str]:
    """``'eye1/swap/L1'`` -> ``('eye1/swap', 'L1')``; ``'FID'`` -> ``('', 'FID')``."""
    group, _, leaf = name.rpartition('/')
    return group, leaf


def format_metrics_table(metrics: dict, title: str | None = 'Metrics') -> Table:
    """A ``rich.table.Table`` of a metrics dict: one row per prefix (everything before the
    last ``/``), one column per metric name (the last part), ``-`` where a group lacks it."""
    groups: dict[str, dict[str, object]] = {}
    columns: list[str] = []
    for name, value in metrics.items():
        group, leaf = split_metric_name(name)
        groups.setdefault(group, {})[leaf] = value
        if leaf not in columns:
            columns.append(leaf)
    table = Table(title=title)
    table.add_column('group', justify='left')
    for c in columns:
        table.add_column(c, justify='right')
    for group, values in groups.items():
        table.add_row(group or '-', *[_fmt(values.get(c)) for c in columns])
    return table


def swap_metric_table(metrics: dict) -> dict:
    """Nest ``SwapGroundTruthMetric`` results for printing or saving.

    Returns ``{prefix: {region: {'pixels': n or None, method: {measure: value}}}}`` with
    ``prefix`` '' for unprefixed names and region ``'all'`` for the whole image/crop, e.g.
    ``{'eye1': {'all': {'pixels': None, 'swap': {'L1': .., 'PSNR': ..}, 'copy_geometry': ..},
    'irises': {'pixels': 5120, 'swap': {...}, ...}}}``. Other metrics' keys are ignored.
    """
    table: dict = {}
    for key, value in metrics.items():
        parts = key.split('/')
        pos = next((i for i, p in enumerate(parts) if p in SWAP_METHODS), None)
        if pos is not None and len(parts) - pos in (2, 3):
            prefix, method = '/'.join(parts[:pos]), parts[pos]
            region = parts[pos + 1] if len(parts) - pos == 3 else 'all'
            cell = table.setdefault(prefix, {}).setdefault(region, {'pixels': None})
            cell.setdefault(method, {})[parts[-1]] = value
        elif pos is None and len(parts) >= 2 and parts[-1] == 'pixels':
            prefix, region = '/'.join(parts[:-2]), parts[-2]
            table.setdefault(prefix, {}).setdefault(region, {'pixels': None})['pixels'] = value
    return table


def format_swap_table(metrics: dict, title: str | None = None) -> Table:
    """A ``rich.table.Table`` of swap results (a metrics dict or :func:`swap_metric_table`'s
    output): a section per (component, region), a row per method (the model's ``swap`` first,
    in bold), columns L1 / PSNR / LPIPS and the region's pixel count; a region absent from
    every sample gets one ``(absent)`` row with its 0 pixels."""
    nested = metrics
    if not all(isinstance(v, dict) for v in metrics.values()):
        nested = swap_metric_table(metrics)
    measures: list[str] = []
    for regions in nested.values():
        for cell in regions.values():
            for method, values in cell.items():
                if method != 'pixels':
                    measures += [m for m in values if m not in measures]
    table = Table(title=title or 'Swap vs rendered truth (L1, LPIPS: lower is better; PSNR: '
                  'higher)')
    for col in ('component', 'region', 'method'):
        table.add_column(col, justify='left')
    for col in measures + ['pixels']:
        table.add_column(col, justify='right')
    for prefix, regions in nested.items():
        for region, cell in regions.items():
            methods = [m for m in SWAP_METHODS if m in cell]
            for i, method in enumerate(methods):
                first = i == 0
                table.add_row((prefix or '-') if first else '', region if first else '', method,
                              *[_fmt(cell[method].get(m)) for m in measures],
                              _fmt(cell['pixels']) if first else '',
                              style='bold' if method == 'swap' else None)
            if not methods:   # a region absent from every sample: only its pixel count
                table.add_row(prefix or '-', region, '(absent)', *['-'] * len(measures),
                              _fmt(cell['pixels']))
            table.add_section()
    return table
