"""Stage 2 of DeepFaceEditing: the image geometry encoder E_I imitates the frozen E_sketch."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from facedisentangle.registry import MODELS

from .base import DeepFaceEditingBase
from .sample_outputs import per_sample_outputs


@MODELS.register_module()
class ImageGeometryEncoderTrainer(DeepFaceEditingBase):
    """Stage 2: per component c, with E_s and D_s from stage 1 frozen::

        L_EI = || E_I(I_c) - E_s(S_c) ||_1
               + sum_{i=1..N} || D_s^i(E_I(I_c)) - D_s^i(E_s(S_c)) ||_1

    where ``I_c``/``S_c`` are the component crops of a photo and its sketch and ``D_s^i`` the
    sketch decoder's N feature taps (7 at four down-samplings), so a photo's geometry code
    lives in the sketch's code space and decodes to its sketch.

    Args:
        image_encoder: backbone config of E_I (``ImageGeometryEncoder``, 6 res blocks).
        sketch_encoder, sketch_decoder: backbone configs of stage 1's E_s and D_s (must match
            the checkpoint).
        stage1_checkpoint: checkpoint of stage 1 (``SketchAutoEncoder``); E_s and D_s are
            frozen and loaded from it by ``init_weights`` (before training). ``None`` leaves
            them random (tests only; warns).
        loss_geo_code: the geometry-code loss (losses registry).
    """

    def __init__(self, image_encoder: Mapping, sketch_encoder: Mapping, sketch_decoder: Mapping,
                 stage1_checkpoint: str | None = None,
                 loss_geo_code: Mapping = dict(type='GeometryCodeLoss'),  # noqa: B006
                 layout: Mapping | None = None, components: Sequence[str] | None = None,
                 data_preprocessor: Mapping | None = None, init_cfg: Mapping | None = None):
        super().__init__(layout=layout, components=components,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.image_encoders = self.build_per_component(image_encoder, 'image_encoder')
        self.sketch_encoders = self.build_per_component(sketch_encoder, 'sketch_encoder')
        self.sketch_decoders = self.build_per_component(sketch_decoder, 'sketch_decoder')
        self.check_stride(self.image_encoders)
        self.loss_geo_code = self.build_loss(loss_geo_code)
        if self.loss_geo_code is None:
            raise ValueError('ImageGeometryEncoderTrainer: loss_geo_code cannot be off')
        self.from_earlier_stage('stage1_checkpoint', stage1_checkpoint,
                                ['sketch_encoders', 'sketch_decoders'])

    def encode(self, photo: torch.Tensor, sketch: torch.Tensor, comp: str):
        """``(E_I(I_c), E_s(S_c))`` for component ``comp``; the target without gradients."""
        code_pred = self.image_encoders[comp](self.crop(photo, comp))
        with torch.no_grad():
            code_target = self.sketch_encoders[comp](self.crop(sketch, comp))
        return code_pred, code_target

    def forward(self, photo: torch.Tensor, sketch: torch.Tensor, mode: str = 'tensor', **batch):
        """``'loss'``: per-component losses; ``'predict'``: per-sample codes and decoded
        sketches for metrics; ``'tensor'``: ``{component: E_I(I_c)}``."""
        if mode == 'tensor':
            return {c: self.image_encoders[c](self.crop(photo, c)) for c in self.components}
        if mode == 'loss':
            losses = {}
            for c in self.components:
                code_pred, code_target = self.encode(photo, sketch, c)
                _, taps_pred = self.sketch_decoders[c](code_pred, return_taps=True)
                with torch.no_grad():
                    _, taps_target = self.sketch_decoders[c](code_target, return_taps=True)
                losses[f'{c}/{self.loss_geo_code.loss_name}'] = self.loss_geo_code(
                    code_pred, code_target, taps_pred, taps_target)
            return losses
        if mode == 'predict':
            per_comp = {}
            for c in self.components:
                code_pred, code_target = self.encode(photo, sketch, c)
                per_comp[c] = dict(code_pred=code_pred, code_gt=code_target,
                                   sketch_pred=self.sketch_decoders[c](code_pred),
                                   sketch_gt=self.crop(sketch, c))
            return per_sample_outputs(per_comp, photo.shape[0], batch, keys=('name', 'index'))
        raise ValueError(f'ImageGeometryEncoderTrainer.forward: unknown mode {mode!r}')

    def get_visuals(self, data: dict) -> dict[str, list[torch.Tensor]]:
        """Per component: photo | sketch | D_s(E_s(S)) | D_s(E_I(I))."""
        data = self.data_preprocessor(data, False)
        photo, sketch = data['photo'], data['sketch']
        visuals = {}
        for c in self.components:
            code_pred, code_target = self.encode(photo, sketch, c)
            visuals[f'stage2_{c}'] = [self.crop(photo, c), self.crop(sketch, c),
                                      self.sketch_decoders[c](code_target),
                                      self.sketch_decoders[c](code_pred)]
        return visuals
