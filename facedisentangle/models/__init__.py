from . import backbones, data_preprocessors, editors, losses  # noqa: F401  (register everything)
