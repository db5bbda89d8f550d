"""The package's modules import each other in one direction only: no import circle.

Every import statement counts, the ones inside functions too (a lazy import hides a circle from
``sys.modules`` but not from the reader). A package's ``__init__`` re-exports are left out:
they import their own modules by design.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / 'facedisentangle'


def module_imports() -> dict[str, set[str]]:
    """``{module: the package's modules it imports}`` (``__init__`` files left out)."""
    files = {}
    for path in PACKAGE.rglob('*.py'):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix('').parts)
        files['.'.join(parts[:-1] if parts[-1] == '__init__' else parts)] = path

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition('.')[0]
        return name or None

    graph = {}
    for mod, path in files.items():
        if path.name == '__init__.py':
            continue
        package = mod.rpartition('.')[0].split('.')
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (package[:len(package) - node.level + 1] if node.level else [])
                stem = '.'.join(base + ([node.module] if node.module else []))
                names = [stem] + [f'{stem}.{a.name}' for a in node.names]
            else:
                continue
            for name in names:
                target = resolve(name) if name.startswith('facedisentangle') else None
                if target and target != mod and files[target].name != '__init__.py':
                    deps.add(target)
        graph[mod] = deps
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, found = {}, {}, [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = stack[stack.index(v):]
            del stack[stack.index(v):]
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_lazy_and_relative_imports():
    graph = module_imports()
    # apis.train imports apis.pipeline inside a function; data_prep.pipeline uses `from .x`
    assert 'facedisentangle.apis.pipeline' in graph['facedisentangle.apis.train']
    assert 'facedisentangle.data_prep.progress' in graph['facedisentangle.data_prep.pipeline']
    assert circles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]


def test_no_import_circle():
    graph = module_imports()
    assert 'facedisentangle.apis.train' not in graph['facedisentangle.apis.pipeline']
    assert 'facedisentangle.data_prep.pipeline' in graph['facedisentangle.data_prep.report']
    assert 'facedisentangle.data_prep.report' not in graph['facedisentangle.data_prep.pipeline']
    assert circles(graph) == []
