"""Put the networks of some components, trained in another run, into a stage checkpoint.

    python tools/merge_components.py BASE.pth PART.pth --out MERGED.pth [--components eye1 eye2]

Stages 1 to 3 train every component on its own (no loss couples two components), so a run of
a few components (``model.components=['eye1', 'eye2']``: an ablation on the eyes, or more
iterations for them alone) gives the same networks as the full run would for those
components. This writes ``BASE`` with every per-component network of the chosen components
(default: all of PART's) taken from ``PART``: ``state_dict`` (the EMA weights when the runs kept
an EMA) and ``ema_state_dict`` when both have it. The result is for the next stage
(``model.stage3_checkpoint=MERGED.pth``) and for inference; it is not resumable (optimiser,
scheduler and message-hub states are left out, since they would mix two runs). Both files are
read with ``weights_only=True``; the networks must have the same architecture (every key and
shape of a replaced network must match, else the error names it). ``meta['merged_components']``
records what came from where. The merge itself is :func:`facedisentangle.apis.merge_components.merge`.
"""
from __future__ import annotations

import argparse
import sys

from facedisentangle.apis.merge_components import merge


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('base', help='the checkpoint to start from (all components)')
    ap.add_argument('part', help='the run whose components replace the base\'s')
    ap.add_argument('--out', required=True, help='where to write the merged checkpoint')
    ap.add_argument('--components', nargs='+',
                    help='which components to take from the part (default: all of its)')
    args = ap.parse_args(argv)
    try:
        info = merge(args.base, args.part, args.out, args.components)
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    print(f"wrote {info['out']}: {', '.join(info['components'])} from {info['part']} "
          f"({info['replaced']} tensors), the rest from {info['base']}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
