"""The component layout of DeepFaceEditing: five boxes, how to crop them and how to fuse them.

At 512x512 (docs/method.md, section 1) a box is ``(left x, top y, size)`` and a crop is
``t[:, :, y:y + s, x:x + s]``::

    bg     (0,   0,   512)     the whole face
    eye1   (108, 156, 128)
    eye2   (255, 156, 128)
    nose   (182, 232, 160)
    mouth  (169, 301, 192)

Fusion (the input of Global Fusion) starts from the ``bg`` feature map and hard-overwrites, in
``paste_order``: mouth; nose without its bottom ``nose_trim`` rows (36 at 512); eye1; eye2.

The layout is data: a config gives ``layout = dict(resolution=..., boxes=..., paste_order=...,
trim=...)``; every number is given at ``base_resolution`` (512) and scaled by
``resolution / base_resolution`` (rounded half up).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

DEFAULT_BOXES_512: dict[str, tuple[int, int, int]] = {
    'bg': (0, 0, 512),
    'eye1': (108, 156, 128),
    'eye2': (255, 156, 128),
    'nose': (182, 232, 160),
    'mouth': (169, 301, 192),
}
DEFAULT_PASTE_ORDER = ('mouth', 'nose', 'eye1', 'eye2')
DEFAULT_TRIM_512 = {'nose': 36}


def _scale(v: int, factor: float) -> int:
    return int(math.floor(v * factor + 0.5))


class ComponentLayout:
    """Boxes of the face components at one resolution, with ``crop`` and ``fuse``.

    Args:
        resolution: side of the (square) face image.
        boxes: ``{name: (x, y, size)}`` at ``base_resolution``; docs/method.md's boxes by default.
            The first component whose box covers the whole image is the fusion base (``bg``).
        paste_order: components pasted over the base, later ones win.
        trim: ``{name: rows}`` removed from the bottom of a component before pasting
            (at ``base_resolution``).
        base_resolution: the resolution at which ``boxes`` and ``trim`` are given.
        components: optional subset of components to use (all by default).
    """

    def __init__(self,
                 resolution: int = 512,
                 boxes: Mapping[str, Sequence[int]] | None = None,
                 paste_order: Sequence[str] = DEFAULT_PASTE_ORDER,
                 trim: Mapping[str, int] | None = None,
                 base_resolution: int = 512,
                 components: Sequence[str] | None = None):
        if resolution <= 0 or base_resolution <= 0:
            raise ValueError(f'layout: resolution must be positive, got {resolution} '
                             f'(base_resolution {base_resolution})')
        boxes = dict(DEFAULT_BOXES_512 if boxes is None else boxes)
        trim = dict(DEFAULT_TRIM_512 if trim is None else trim)
        factor = resolution / base_resolution
        self.resolution = int(resolution)
        self.base_resolution = int(base_resolution)
        self.boxes: dict[str, tuple[int, int, int]] = {}
        for name, box in boxes.items():
            if len(box) != 3:
                raise ValueError(f'layout: box {name!r} must be (x, y, size), got {box!r}')
            x, y, s = (_scale(int(v), factor) for v in box)
            if s <= 0 or x < 0 or y < 0 or x + s > resolution or y + s > resolution:
                raise ValueError(
                    f'layout: box {name!r} = {tuple(box)} at {base_resolution} becomes '
                    f'(x={x}, y={y}, size={s}) at {resolution}, outside the '
                    f'{resolution}x{resolution} image')
            self.boxes[name] = (x, y, s)
        for name in list(paste_order) + list(trim):
            if name not in self.boxes:
                raise ValueError(f'layout: {name!r} in paste_order/trim is not a box; '
                                 f'boxes are {list(self.boxes)}')
        self.paste_order = tuple(paste_order)
        self.trim = {k: _scale(int(v), factor) for k, v in trim.items()}
        for name, rows in self.trim.items():
            if not 0 <= rows < self.boxes[name][2]:
                raise ValueError(f'layout: trim of {name!r} ({rows} rows) must be smaller '
                                 f'than its box ({self.boxes[name][2]} px)')
        base = [n for n, (x, y, s) in self.boxes.items() if s == resolution]
        self.base = base[0] if base else None
        if components is None:
            components = list(self.boxes)
        unknown = [c for c in components if c not in self.boxes]
        if unknown:
            raise ValueError(f'layout: unknown components {unknown}; boxes are '
                             f'{list(self.boxes)}')
        self.components = tuple(components)

    # ------------------------------------------------------------------ queries
    def box(self, name: str) -> tuple[int, int, int]:
        try:
            return self.boxes[name]
        except KeyError:
            raise KeyError(f'layout: no component {name!r}; components are '
                           f'{list(self.boxes)}') from None

    def size(self, name: str) -> int:
        return self.box(name)[2]

    def check_stride(self, stride: int, components: Sequence[str] | None = None) -> None:
        """Reject a layout whose box sizes are not divisible by the encoders' total stride."""
        bad = {n: self.box(n)[2] for n in (components or self.components)
               if self.box(n)[2] % stride}
        if bad:
            n_down = int(math.log2(stride)) if stride > 0 else stride
            raise ValueError(
                f'layout at {self.resolution}px: box sizes {bad} are not divisible by the '
                f"encoders' total stride {stride} (2**{n_down} down-samplings). Use fewer "
                'down-samplings (n_downsampling) or another layout (layout.boxes).')

    def to_dict(self) -> dict:
        """The layout at ``resolution`` as plain data (boxes already scaled)."""
        return dict(resolution=self.resolution, boxes={k: list(v) for k, v in self.boxes.items()},
                    paste_order=list(self.paste_order), trim=dict(self.trim),
                    base_resolution=self.resolution, components=list(self.components))

    # ------------------------------------------------------------------ tensors
    def crop(self, img: torch.Tensor, name: str) -> torch.Tensor:
        """``img[..., y:y+s, x:x+s]`` for component ``name`` (any leading dims)."""
        if img.shape[-1] != self.resolution or img.shape[-2] != self.resolution:
            raise ValueError(f'layout.crop: image is {tuple(img.shape[-2:])}, the layout is '
                             f'for {self.resolution}x{self.resolution}')
        x, y, s = self.box(name)
        return img[..., y:y + s, x:x + s]

    def crop_all(self, img: torch.Tensor, components: Sequence[str] | None = None
                 ) -> dict[str, torch.Tensor]:
        return {n: self.crop(img, n) for n in (components or self.components)}

    def paste(self, canvas: torch.Tensor, part: torch.Tensor, name: str) -> torch.Tensor:
        """Overwrite ``canvas`` in place with ``part`` (trimmed) at the box of ``name``."""
        x, y, s = self.box(name)
        if part.shape[-2:] != (s, s):
            raise ValueError(f'layout.paste: {name} is {tuple(part.shape[-2:])}, its box is '
                             f'{s}x{s}')
        rows = s - self.trim.get(name, 0)
        canvas[..., y:y + rows, x:x + s] = part[..., :rows, :]
        return canvas

    def fuse(self, parts: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Fuse per-component maps: the base (``bg``) map overwritten in ``paste_order``.

        No blending: later components win (eyes over nose, nose over mouth, mouth over bg).
        """
        if self.base is None or self.base not in parts:
            raise ValueError(f'layout.fuse needs the whole-face component {self.base!r}; '
                             f'got {list(parts)}')
        out = parts[self.base].clone()
        for name in self.paste_order:
            if name in parts:
                self.paste(out, parts[name], name)
        return out

    def __repr__(self) -> str:
        return (f'ComponentLayout(resolution={self.resolution}, boxes={self.boxes}, '
                f'paste_order={self.paste_order}, trim={self.trim})')


def build_layout(cfg: ComponentLayout | Mapping | None, resolution: int | None = None
                 ) -> ComponentLayout:
    """A layout from a config dict (or ``None`` for docs/method.md's layout at ``resolution``)."""
    if isinstance(cfg, ComponentLayout):
        return cfg
    cfg = dict(cfg or {})
    if resolution is not None:
        cfg.setdefault('resolution', resolution)
    allowed = {'resolution', 'boxes', 'paste_order', 'trim', 'base_resolution', 'components'}
    unknown = set(cfg) - allowed
    if unknown:
        raise ValueError(f'layout: unknown keys {sorted(unknown)}; allowed are {sorted(allowed)}')
    return ComponentLayout(**cfg)
