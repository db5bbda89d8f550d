"""Build the sketch banks of a trained sketch embedding (``tools/build_sketch_bank.py``).

Every sketch of one split of a face file (``train`` by default: the sketches the projection
should pull towards) is encoded by each component's DrawingEncoder; the vectors go to one bank
file per component (:mod:`facedisentangle.inference.sketch_bank`), with the data set's
identity (path, size, resolution, source, split, number of samples and the SHA-1 of the
sketches read) and the checkpoint's path and SHA-256.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from facedisentangle.datasets.h5_format import _open_h5, check_h5_file, read_h5_info
from facedisentangle.inference.sketch_bank import save_bank
from facedisentangle.utils.files import sha256_of
from facedisentangle.visualization import uint8_to_float


def load_sketch_embedding(config, checkpoint: str | os.PathLike):
    """The ``SketchEmbedding`` model of ``config`` (path or Config) with ``checkpoint``'s
    weights, in eval mode: :func:`~facedisentangle.apis.init_model` (``weights_only`` loading,
    every weight of the model checked), after checking that the config's model is a
    ``SketchEmbedding``."""
    from facedisentangle.apis.init_model import init_model, load_model_weights
    from facedisentangle.models.editors.sketch_embedding import SketchEmbedding

    what = str(getattr(config, 'filename', None) or config)
    model = init_model(config)
    if not isinstance(model, SketchEmbedding):
        raise ValueError(f'{what}: the model is {type(model).__name__}, a sketch bank needs a '
                         'SketchEmbedding (configs/deepfaceediting/sketch-embedding_*.py)')
    load_model_weights(model, str(checkpoint), what=what)
    return model


@torch.no_grad()
def build_sketch_banks(model, data_file: str | os.PathLike, out_dir: str | os.PathLike,
                       split: str = 'train', batch_size: int = 32,
                       checkpoint: str | os.PathLike | None = None,
                       components=None) -> dict[str, Path]:
    """Encode every ``split`` sketch of ``data_file``; write ``out_dir/{component}.h5``."""
    info = read_h5_info(data_file)
    if split not in info['split_names']:
        raise ValueError(f'{data_file}: no split {split!r} (splits: {info["split_names"]})')
    if info['resolution'] != model.layout.resolution:
        raise ValueError(f'{data_file}: sketches are {info["resolution"]} px, the sketch '
                         f'embedding was built for {model.layout.resolution} px')
    comps = list(components or model.components)
    unknown = [c for c in comps if c not in model.components]
    if unknown:
        raise ValueError(f'components {unknown} are not in the sketch embedding '
                         f'({list(model.components)})')
    sid = info['split_names'].index(split)
    vectors = {c: [] for c in comps}
    digest = hashlib.sha1()
    device = next(model.parameters()).device
    with _open_h5(data_file) as f:
        n = check_h5_file(f, data_file)
        rows = np.nonzero(f['split'][:n] == sid)[0]
        if not len(rows):
            raise ValueError(f'{data_file}: split {split!r} is empty')
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in f['names'][rows]]
        for s in range(0, len(rows), batch_size):
            idx = rows[s:s + batch_size]
            sk = f['sketches'][idx]                                  # uint8 (b, H, W)
            digest.update(np.ascontiguousarray(sk).tobytes())
            x = uint8_to_float(torch.from_numpy(sk).to(device))[:, None]
            for c in comps:
                vectors[c].append(model.encode(x, c).float().cpu().numpy())
    st = Path(data_file).stat()
    dataset = dict(path=str(Path(data_file).resolve()), size=st.st_size,
                   resolution=info['resolution'], source=info['source'], split=split,
                   num_samples=int(len(rows)), sketches_sha1=digest.hexdigest())
    ckpt = dict(path=str(Path(checkpoint).resolve()), sha256=sha256_of(checkpoint)) \
        if checkpoint is not None else {}
    out = {}
    for c in comps:
        out[c] = save_bank(Path(out_dir) / f'{c}.h5', np.concatenate(vectors[c]), c,
                           names=names, dataset=dataset, checkpoint=ckpt)
    (Path(out_dir) / 'bank.json').write_text(json.dumps(
        dict(components=comps, dataset=dataset, checkpoint=ckpt), indent=2) + '\n')
    return out
