from . import backbones, editors, losses  # noqa: F401  (register everything)
