"""Option dataclasses of the data preparation built from config dicts (``--sketch-config``,
``--align-config``, a degradation config): a key that is not an option is named."""
from __future__ import annotations

from dataclasses import fields


class FromConfigMixin:
    """``from_config`` for a dataclass of options."""

    @classmethod
    def from_config(cls, cfg: dict | None = None, **overrides):
        """Build from a config dict (``overrides`` win); an unknown key raises a ValueError
        naming it and the options."""
        cfg = {**(cfg or {}), **overrides}
        names = [f.name for f in fields(cls) if f.init]
        unknown = sorted(set(cfg) - set(names))
        if unknown:
            raise ValueError(f'{cls.__name__}: unknown option(s) {unknown}; options are '
                             f'{names}')
        return cls(**cfg)
