"""Find the photos of a source folder and give each a sample name.

Layouts:

``folder``
    every file with an image extension under ``SRC`` (recursive, sorted); the name is the
    path relative to ``SRC`` without extension (``people/ann.jpg`` -> ``people/ann``).
``ffhq``
    FFHQ as downloaded: ``SRC/images1024x1024/00000/00000.png`` ... (``SRC`` may also be the
    ``images1024x1024`` folder itself); the name is the file stem (``00000``). These photos
    are already aligned.
``celebamask-hq``
    CelebAMask-HQ as downloaded: ``SRC/CelebA-HQ-img/0.jpg`` ... (or that folder itself);
    the name is the file stem (``0``), ordered numerically. Already aligned.

Two files with the same name (``a.jpg`` and ``a.png``) keep the first (sorted order); the
others are returned as duplicates, to be skipped and listed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

IMAGE_EXTENSIONS = frozenset({
    '.png', '.jpg', '.jpeg', '.jpe', '.jfif', '.bmp', '.webp', '.tif', '.tiff', '.gif',
    '.ppm', '.pgm', '.pbm', '.pnm', '.tga'})
LAYOUTS = ('folder', 'ffhq', 'celebamask-hq')


@dataclass(frozen=True)
class SourceImage:
    """One input photo: its sample ``name`` and its file ``path``."""
    name: str
    path: str


@dataclass
class SourceList:
    """What :func:`find_sources` found.

    Attributes:
        images: the photos to prepare, with unique names, in a stable order.
        duplicates: photos whose name is already taken, as ``(image, path of the kept one)``.
        ignored: number of files without an image extension (not counted as found).
    """
    images: list[SourceImage]
    duplicates: list[tuple[SourceImage, str]]
    ignored: int


def _walk(root: Path) -> tuple[list[Path], int]:
    files, ignored = [], 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        for fn in sorted(filenames):
            if fn.startswith('.'):
                continue
            p = Path(dirpath) / fn
            if p.suffix.lower() in IMAGE_EXTENSIONS:
                files.append(p)
            else:
                ignored += 1
    return files, ignored


def _natural_key(p: Path):
    stem = p.stem
    return (0, int(stem), str(p)) if stem.isdigit() else (1, 0, str(p))


def _pick_root(src: Path, sub: str, layout: str) -> Path:
    if (src / sub).is_dir():
        return src / sub
    if src.name == sub:
        return src
    raise FileNotFoundError(
        f'--layout {layout}: {str(src)!r} has no {sub}/ folder (expected {str(src / sub)}; '
        f'give the data set root or the {sub} folder itself, or use --layout folder)')


def find_sources(src: str | os.PathLike, layout: str = 'folder') -> SourceList:
    """List the photos of ``src`` in ``layout`` (``folder``, ``ffhq``, ``celebamask-hq``)."""
    src = Path(src).expanduser()
    if layout not in LAYOUTS:
        raise ValueError(f'unknown source layout {layout!r}; layouts are {list(LAYOUTS)}')
    if not src.exists():
        raise FileNotFoundError(f'source {str(src)!r} does not exist')
    if src.is_file():
        raise NotADirectoryError(f'source {str(src)!r} is a file; give the folder of photos')
    if layout == 'folder':
        root = src
        files, ignored = _walk(root)

        def name_of(p: Path) -> str:
            return p.relative_to(root).with_suffix('').as_posix()
    else:
        root = _pick_root(src, 'images1024x1024' if layout == 'ffhq' else 'CelebA-HQ-img',
                          layout)
        files, ignored = _walk(root)
        files.sort(key=_natural_key)

        def name_of(p: Path) -> str:
            return p.stem

    images, duplicates, seen = [], [], {}
    for p in files:
        item = SourceImage(name_of(p), str(p))
        if item.name in seen:
            duplicates.append((item, seen[item.name]))
        else:
            seen[item.name] = item.path
            images.append(item)
    return SourceList(images=images, duplicates=duplicates, ignored=ignored)
