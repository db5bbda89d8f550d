"""The ``FaceEditor`` of a command's ``--checkpoint`` / ``--device`` / ``--precision`` /
``--threads`` options (tools/edit.py and tools/web_editor.py)."""
from __future__ import annotations


def open_face_editor(args, **options):
    """``(FaceEditor, checkpoint)``: ``args.checkpoint`` (default: the model shipped in the
    package) on ``args.device`` at ``args.precision``, torch's CPU threads set to
    ``args.threads`` when given; ``options`` go to ``FaceEditor.from_checkpoint``."""
    import torch

    from facedisentangle.apis import FaceEditor

    if args.threads:
        torch.set_num_threads(args.threads)
    checkpoint = args.checkpoint
    if checkpoint is None:
        from facedisentangle.model_zoo import default_checkpoint

        checkpoint = default_checkpoint()
    editor = FaceEditor.from_checkpoint(checkpoint, device=args.device,
                                        precision=args.precision, **options)
    return editor, checkpoint
