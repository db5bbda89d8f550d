"""Convert the official DeepFaceEditing (Jittor) weights into a facedisentangle export file.

    python tools/convert_official_weights.py --src DeepFaceEditing-Jittor/checkPoints --out official.pth

The authors released Jittor inference code and Jittor weights in their repository,
IGLICT/DeepFaceEditing-Jittor on GitHub, whose README says where to download the weights.
``--src`` is the release's checkpoint directory (``sketch_encoder/``, ``image_encoder/``,
``generator/``, ``global_fuse.pkl``, optionally ``sketch_generator.pkl``). Jittor is not needed:
both the plain pickle of numpy arrays and Jittor's newer format (pickle + SHA-1 + ``HCAJSLHD``)
are read by an unpickler that rebuilds numpy arrays and nothing else. Every key is mapped and
shape-checked. The result loads with ``FaceEditor.from_checkpoint(out)``; the release has no
sketch decoders, so ``to_sketch`` uses the official image-to-sketch network when present. See
docs/converter.md.

When the release also holds the hand-drawn-sketch networks (``Drawing/``) or the sketch banks
(``bin/*_feature.bin``), they are converted too (same unpickler, every key and shape checked):
the networks into ``--drawing-out`` (default ``<out stem>_drawing.pth``), the banks into
``<that stem>_banks/{man,female}/{component}.h5``; the tool says which of them it found
(docs/sketch_projection.md).

Exit code 2 with a one-line message for a missing file, a refused or corrupt pickle, or a key
that does not match.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description='Convert the official DeepFaceEditing weights')
    ap.add_argument('--src', required=True, help='directory of the official .pkl files')
    ap.add_argument('--out', required=True, help='the export file to write')
    ap.add_argument('--model-config',
                    help='a Python config whose `model` dict overrides the official network '
                         'settings (layout, components, sketch_encoder, ...; drawing_encoder, '
                         '... for Drawing/), for modified official models')
    ap.add_argument('--drawing-out',
                    help='file for the converted Drawing/ networks (default: <out stem>'
                         '_drawing.pth next to --out); banks go to <its stem>_banks/')
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from facedisentangle.converters import (
        JittorPickleError,
        OfficialWeightsError,
        convert_official_weights,
    )
    from facedisentangle.inference import literal_config

    model_cfg = None
    try:
        if args.model_config:
            with open(args.model_config) as f:
                model_cfg = literal_config(f.read(), ('model',), args.model_config)['model']
        summary = convert_official_weights(args.src, args.out, model_cfg)
        drawing = None
        if osp.isdir(osp.join(args.src, 'Drawing')) or osp.isdir(osp.join(args.src, 'bin')):
            from facedisentangle.converters import convert_official_drawing

            root, _ = osp.splitext(args.out)
            drawing_cfg = (model_cfg if model_cfg and any(k.startswith('drawing_')
                                                          for k in model_cfg) else None)
            drawing = convert_official_drawing(args.src, args.drawing_out
                                               or f'{root}_drawing.pth', model_cfg=drawing_cfg)
    except (FileNotFoundError, JittorPickleError, OfficialWeightsError, ValueError) as e:
        print(f'convert_official_weights.py: error: {e}', file=sys.stderr)
        return 2
    print(f"wrote {summary['out']}: {len(summary['networks'])} networks, "
          f"{summary['parameters'] / 1e6:.1f} M parameters; supports "
          f"{', '.join(summary['supports'])}")
    if summary['dropped']:
        print(f"dropped {len(summary['dropped'])} run-time AdaIN entries (per-sample values "
              'saved after a forward pass, not weights)')
    print('sketch_generator.pkl: ' + ('found, converted (to_sketch)'
                                      if 'image_to_sketch' in summary['supports']
                                      else 'not found'))
    if drawing is None:
        print('Drawing/ networks and bin/ sketch banks: not found')
        return 0
    n_nets = len(drawing['networks'])
    print(f"Drawing/: found {n_nets} of {n_nets + len(drawing['missing'])} networks"
          + (f", wrote {drawing['out']}" if drawing['out'] else '')
          + (f"; missing {drawing['missing']}" if drawing['missing'] else ''))
    banks = ', '.join(f'{s}: {len(v)} components ({sum(v.values())} vectors)'
                      for s, v in drawing['banks'].items()) or 'none'
    print(f"sketch banks: {banks}" + (f", wrote {drawing['banks_out']}"
                                      if drawing['banks_out'] else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
