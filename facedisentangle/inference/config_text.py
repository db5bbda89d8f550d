"""Read the config text that MMEngine stores in a checkpoint, without executing it.

MMEngine writes ``meta['cfg'] = cfg.pretty_text`` into every checkpoint: Python source such as
``model = dict(type='...', layout=dict(resolution=128), ...)``. ``Config.fromstring`` would
*execute* that text, so a crafted checkpoint could run code on load even though its tensors are
read with ``weights_only=True``. :func:`literal_config` instead walks the syntax tree and accepts
only literals, ``dict(...)`` calls with keyword arguments, lists, tuples, dicts, sets and unary
minus; any other top-level assignment is skipped, and a requested key that is not plain data is
an error naming it.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable


class ConfigTextError(ValueError):
    """The checkpoint's config text is missing, not Python, or not plain data."""


def _literal(node: ast.AST, where: str):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_literal(e, where) for e in node.elts]
        return items if isinstance(node, ast.List) else (
            tuple(items) if isinstance(node, ast.Tuple) else set(items))
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise ConfigTextError(f'{where}: "**" in a dict literal is not plain data')
        return {_literal(k, where): _literal(v, where) for k, v in zip(node.keys, node.values)}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict'
            and not node.args and all(kw.arg is not None for kw in node.keywords)):
        return {kw.arg: _literal(kw.value, where) for kw in node.keywords}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand, where)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    raise ConfigTextError(f'{where}: {ast.unparse(node)[:80]!r} is not plain data '
                          '(only literals, dict(...), lists, tuples and dicts are read)')


def literal_config(text: str, keys: Iterable[str] = ('model',), source: str = 'config') -> dict:
    """Evaluate the top-level assignments ``keys`` of config text as plain data.

    Args:
        text: the config source (``meta['cfg']`` of an MMEngine checkpoint).
        keys: the top-level names to read; each must be present and plain data.
        source: what the text is (e.g. the checkpoint path), for error messages.

    Returns:
        ``{key: value}`` with dicts, lists, tuples and scalars only.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigTextError(f'{source}: no config text')
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        raise ConfigTextError(f'{source}: config text is not valid Python: {e}') from None
    nodes = {}
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            nodes[stmt.targets[0].id] = stmt.value
    out = {}
    for key in keys:
        if key not in nodes:
            raise ConfigTextError(f'{source}: config text has no top-level {key!r}')
        out[key] = _literal(nodes[key], f'{source}: {key}')
    return out
