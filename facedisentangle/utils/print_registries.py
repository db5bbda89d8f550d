"""Print what every facedisentangle registry holds: ``python -m facedisentangle.utils.print_registries``."""
from __future__ import annotations

import argparse


def registry_contents() -> dict[str, list[str]]:
    from facedisentangle.registry import ALL_REGISTRIES
    from facedisentangle.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    return {name: sorted(reg.module_dict) for name, reg in ALL_REGISTRIES.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('registry', nargs='?', help='only this registry (e.g. losses)')
    args = parser.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    contents = registry_contents()
    if args.registry and args.registry not in contents:
        raise SystemExit(f'no registry {args.registry!r}; registries are {sorted(contents)}')
    table = Table(title='facedisentangle registries (scope: facedisentangle)')
    table.add_column('registry')
    table.add_column('count', justify='right')
    table.add_column('types')
    for name, types in contents.items():
        if args.registry and name != args.registry:
            continue
        table.add_row(name, str(len(types)), ', '.join(types) or '-')
    Console().print(table)


if __name__ == '__main__':
    main()
