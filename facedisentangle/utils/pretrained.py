"""Offline pretrained weights: find a file in an explicit path or the torch hub cache.

No download ever happens at run or test time. A missing file raises ``FileNotFoundError``
naming the file, where it was looked for, and where to put it.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch


def hub_checkpoint_dir() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints`` by default)."""
    return Path(torch.hub.get_dir()) / 'checkpoints'


def find_pretrained(filename: str, path: str | os.PathLike | None = None,
                    what: str = 'pretrained weights', url: str | None = None) -> Path:
    """Return the path of a pretrained weights file, without downloading.

    Args:
        filename: the file's canonical name, e.g. ``vgg19-dcbb9e9d.pth``.
        path: an explicit file (or a directory holding ``filename``) from the config; when
            given, it is the only place looked at.
        what: what the weights are for, used in the error message.
        url: where the file can be downloaded from on a machine with internet (for the message).
    """
    if path is not None:
        p = Path(path).expanduser()
        if p.is_dir():
            p = p / filename
        if p.is_file():
            return p
        raise FileNotFoundError(f'{what}: file {str(p)!r} not found (expected {filename}).')
    p = hub_checkpoint_dir() / filename
    if p.is_file():
        return p
    hint = f' Download it from {url} on a machine with internet and copy it there,' if url else ''
    raise FileNotFoundError(
        f'{what}: {filename} is not in the torch hub cache ({p.parent}).{hint} or set the '
        'path to the file in the config. Nothing is downloaded at run time.')


def load_pretrained_state_dict(filename: str, path: str | os.PathLike | None = None,
                               what: str = 'pretrained weights', url: str | None = None
                               ) -> dict[str, torch.Tensor]:
    """Find ``filename`` (see :func:`find_pretrained`) and load it with ``weights_only=True``."""
    p = find_pretrained(filename, path, what=what, url=url)
    try:
        state = torch.load(p, map_location='cpu', weights_only=True)
    except Exception as e:  # corrupt or non-weights file
        raise RuntimeError(f'{what}: could not load {str(p)!r} as a weights file: {e}') from e
    if isinstance(state, dict) and 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    return state
