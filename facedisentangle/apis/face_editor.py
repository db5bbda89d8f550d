"""FaceEditor: edit faces with a trained (or converted official) DeepFaceEditing model.

    editor = FaceEditor.from_checkpoint('deepfaceediting.pth')      # export file, stage-4
    editor = FaceEditor.from_pretrained()          # the synthetic-128 model in the package
    out = editor.swap(geometry='a.png', appearance='b.png')         # checkpoint or work dir
    out = editor.sketch_to_face('sketch.png', appearance='b.png')
    out = editor.mix({'eye1': ('a.png', 'b.png'), 'mouth': ('c.png', 'c.png')}, base='b.png')
    frames = editor.interpolate('a.png', 'b.png', steps=5, what='appearance')
    rec = editor.reconstruct('a.png');  sk = editor.to_sketch('a.png')

Every image argument is a path, a PIL image or a numpy array (any mode and size: see
:mod:`facedisentangle.inference.images`), or a list of them for a batch (a single image is
used for every item of a batch). Results are uint8 ``HxWx3`` RGB arrays (``output='pil'``:
PIL images), a list when any image argument was a list. With ``align=True`` photos (not
sketches) are first aligned like ``tools/prepare_data.py --align``
(:mod:`facedisentangle.apis.input_reader`). Everything runs without gradients,
deterministically, in the precision chosen at loading (``'auto'``: the measured fast path,
bfloat16; ``'float32'`` for the exact one).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import torch

from facedisentangle.inference.images import ImageInput, format_outputs
from facedisentangle.inference.model import DeepFaceEditingInference

from .input_reader import InputReader

Images = ImageInput | Sequence[ImageInput]


class FaceEditor:
    """Swap, mix, interpolate, reconstruct and sketch faces (docs/method.md section 6).

    Args:
        model: the inference model (:class:`DeepFaceEditingInference`).
        output: ``'numpy'`` (uint8 ``HxWx3`` arrays) or ``'pil'``.
        align: align every photo input (not sketches) with the ``FaceAligner`` of
            ``tools/prepare_data.py --align`` before editing: in-the-wild photos of any size
            and aspect ratio; a photo without a usable face raises
            :class:`~facedisentangle.apis.input_reader.NoFaceError` naming it. Needs
            ``pip install -e .[align]``.
        align_config: ``FaceAligner`` options (its size and layout are the model's).
        sketch_refiner: a :class:`~facedisentangle.inference.sketch_refiner.SketchRefiner`
            (trained sketch embedding + banks): sketch inputs may then be projected towards
            the training sketches per component (``refine_sketch=`` of :meth:`swap`,
            :meth:`sketch_to_face`; docs/sketch_projection.md).
    """

    def __init__(self, model: DeepFaceEditingInference, output: str = 'numpy',
                 align: bool = False, align_config: dict | None = None,
                 sketch_refiner=None):
        if output not in ('numpy', 'pil'):
            raise ValueError(f"output must be 'numpy' or 'pil', got {output!r}")
        self.model = model
        self.output = output
        self.reader = InputReader(model.resolution, model.layout, align=align,
                                  align_config=align_config)
        self.sketch_refiner = sketch_refiner

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike | Sequence[str | os.PathLike],
                        device: str | torch.device = 'cpu',
                        precision: str | Mapping[str, str] = 'auto', output: str = 'numpy',
                        cache_bytes: int | None = None, low_memory: bool | None = None,
                        preload: Sequence[str] | None = None,
                        convert_cache: bool | str | os.PathLike | None = None,
                        align: bool = False, align_config: dict | None = None,
                        sketch_refiner=None) -> FaceEditor:
        """Load an export file, a stage checkpoint, a list of stage checkpoints or a work dir.

        Args:
            device: where to run.
            precision: ``'auto'``, ``'float32'``, ``'bfloat16'`` or a dict per network role
                (see :mod:`facedisentangle.inference.precision`).
            output: ``'numpy'`` or ``'pil'``.
            cache_bytes: memory for per-component results reused when only some inputs
                change (default 512 MB, 128 MB with ``low_memory``; 0: none).
            low_memory: keep only G_syn and G_fuse resident; geometry encoders are loaded
                for each new input and freed after it. ``None`` (default): on when their
                weights are used in place, memory-mapped (on a CPU with ``convert_cache``, or
                from a bfloat16 export), where reloading is only a mapping; ``True`` without
                them converts the encoders again for each new input (less memory, slower).
            preload: operation kinds whose networks are built now (``'photo'``, ``'sketch'``,
                ``'to_sketch'``); by default each network is built on first use.
            convert_cache: weights stored in another form than they run in (a float32 file
                on the default bfloat16 path) are converted once into a cached file that
                every later load maps (:mod:`facedisentangle.inference.converted_cache`).
                ``None`` (default): on for a CPU, in ``~/.cache/facedisentangle/converted``
                (or ``$FACEDISENTANGLE_CACHE_DIR``); a path: that folder; ``False``: off.
            align, align_config, sketch_refiner: see the class.
        """
        model = DeepFaceEditingInference.from_checkpoint(
            path, precision=precision, device=device, cache_bytes=cache_bytes,
            low_memory=low_memory, convert_cache=convert_cache)
        if preload:
            model.preload(preload)
        return cls(model, output=output, align=align, align_config=align_config,
                   sketch_refiner=sketch_refiner)

    @classmethod
    def from_pretrained(cls, name: str = 'synthetic-128', **kwargs) -> FaceEditor:
        """A model shipped in the package (:mod:`facedisentangle.model_zoo`; ``'synthetic-128'``:
        trained on the embedded synthetic faces at 128x128). ``kwargs``: as
        :meth:`from_checkpoint`. A missing model file is a ``FileNotFoundError`` naming it."""
        from facedisentangle.model_zoo import default_checkpoint

        return cls.from_checkpoint(default_checkpoint(name), **kwargs)

    @property
    def resolution(self) -> int:
        return self.model.resolution

    @property
    def components(self) -> tuple[str, ...]:
        return self.model.components

    def supported(self) -> list[str]:
        """Operation kinds this checkpoint supports (``photo``, ``sketch``, ``to_sketch``,
        ``image_to_sketch``)."""
        return self.model.spec.supported_kinds()

    # ------------------------------------------------------------------ helpers
    @property
    def align(self) -> bool:
        return self.reader.align

    def prepare(self, image: ImageInput, photo: bool = True):
        """One image as the model reads it: uint8 ``R x R x 3`` (aligned with ``align`` when
        ``photo``, else resized), or a PIL image with ``output='pil'``."""
        from PIL import Image

        rgb = self.reader.read(image, 'image', photo).copy()
        return Image.fromarray(rgb) if self.output == 'pil' else rgb

    def _load(self, images: Images, what: str, photo: bool = True
              ) -> tuple[torch.Tensor, bool]:
        return self.reader.load(images, what, photo)

    @staticmethod
    def _check_batches(**tensors: torch.Tensor) -> int:
        sizes = {k: v.shape[0] for k, v in tensors.items()}
        many = {k: n for k, n in sizes.items() if n != 1}
        if len(set(many.values())) > 1:
            raise ValueError('batch sizes differ: ' + ', '.join(f'{k}={n}' for k, n in
                                                                  sizes.items())
                             + ' (give lists of the same length, or single images)')
        return max(sizes.values())

    def _out(self, images: torch.Tensor, batch: bool):
        return format_outputs(images, batch, self.output)

    # ------------------------------------------------------------------ operations
    def swap(self, geometry: Images, appearance: Images, geometry_from: str = 'photo',
             refine_sketch: float | Mapping[str, float] | None = None,
             refine_k: int | None = None):
        """Geometry of ``geometry`` (a photo, or a sketch with ``geometry_from='sketch'``) with
        the appearance of the photo ``appearance``, for every component.

        ``refine_sketch`` (sketches only; needs ``sketch_refiner``): projection strength in
        [0, 1], one number or ``{component: strength}``, with ``refine_k`` neighbours."""
        g, gb = self._load(geometry, f'geometry {geometry_from}', geometry_from == 'photo')
        a, ab = ((g, gb) if appearance is geometry and geometry_from == 'photo'
                 else self._load(appearance, 'appearance'))
        self._check_batches(geometry=g, appearance=a)
        codes = self.model.encode_geometry(g, geometry_from)
        if refine_sketch is not None:
            if geometry_from != 'sketch':
                raise ValueError("refine_sketch applies to sketches (geometry_from='sketch')")
            codes.update(self._refined_codes(g, refine_sketch, refine_k))
        image = self.model.compose(codes, self.model.encode_appearance(a))
        return self._out(image, gb or ab)

    def sketch_to_face(self, sketch: Images, appearance: Images,
                       refine_sketch: float | Mapping[str, float] | None = None,
                       refine_k: int | None = None):
        """A face with the sketch's geometry and the photo's appearance (``refine_sketch``,
        ``refine_k``: see :meth:`swap`)."""
        return self.swap(sketch, appearance, geometry_from='sketch',
                         refine_sketch=refine_sketch, refine_k=refine_k)

    def _refined_codes(self, sketch: torch.Tensor, refine_sketch, refine_k
                       ) -> dict[str, torch.Tensor]:
        """E_sketch codes of the components whose sketch box is projected (strength > 0)."""
        if self.sketch_refiner is None:
            raise ValueError('refine_sketch needs a sketch embedding and its banks: '
                             'FaceEditor(..., sketch_refiner=SketchRefiner.from_files(CONFIG, '
                             'CHECKPOINT)) (docs/sketch_projection.md)')
        refined = self.sketch_refiner.refined_sketches(sketch, refine_sketch, refine_k)
        missing = [c for c in refined if c not in self.components]
        if missing:
            raise ValueError(f'refine_sketch: components {missing} are not in the model '
                             f'({list(self.components)})')
        return {c: self.model.encode_geometry(x, 'sketch', [c])[c] for c, x in refined.items()}

    def reconstruct(self, image: Images):
        """The photo's own geometry and appearance through the whole model."""
        return self.swap(image, image, geometry_from='photo')

    def mix(self, parts: Mapping[str, Sequence | Mapping], base: Images | Sequence | None = None,
            geometry_from: str = 'photo'):
        """Each component with its own geometry and appearance sources.

        Args:
            parts: ``{component: (geometry, appearance)}``, or a 3-tuple adding that
                component's ``geometry_from``, or a dict with keys ``geometry``,
                ``appearance`` and optionally ``geometry_from``.
            base: the source of every component not in ``parts``: one image (geometry and
                appearance) or a ``(geometry, appearance)`` pair.
            geometry_from: how geometry sources are read unless a part says otherwise.

        Example: ``mix({'eye1': (A, B), 'eye2': (A, B)}, base=C)`` gives C's face with the
        eye shapes of A in the appearance of B.
        """
        unknown = [c for c in parts if c not in self.components]
        if unknown:
            raise ValueError(f'mix: unknown components {unknown}; the model has '
                             f'{list(self.components)}')
        spec: dict[str, tuple] = {}
        for comp in self.components:
            if comp in parts:
                spec[comp] = self._part(comp, parts[comp], geometry_from)
            elif base is not None:
                geo, app = (base if isinstance(base, tuple) and len(base) == 2
                            else (base, base))
                spec[comp] = (geo, app, geometry_from)
            else:
                missing = [c for c in self.components if c not in parts]
                raise ValueError(f'mix: no source for components {missing}; list them in '
                                 'parts or give base')
        loaded: dict[tuple, tuple[torch.Tensor, bool]] = {}

        def load(item, what):
            key = (id(item), what) if not isinstance(item, (str, os.PathLike)) else (
                str(item), what)
            if key not in loaded:
                loaded[key] = self._load(item, what, not what.endswith('sketch'))
            return loaded[key]

        codes, vectors, batch = {}, {}, False
        for comp, (geo, app, source) in spec.items():
            g, gb = load(geo, f'{comp} geometry {source}')
            a, ab = load(app, f'{comp} appearance')
            batch = batch or gb or ab
            codes[comp] = self.model.encode_geometry(g, source, [comp])[comp]
            vectors[comp] = self.model.encode_appearance(a, [comp])[comp]
        self._check_batches(**{f'{c}_geometry': z for c, z in codes.items()},
                            **{f'{c}_appearance': v for c, v in vectors.items()})
        return self._out(self.model.compose(codes, vectors), batch)

    @staticmethod
    def _part(comp: str, part, geometry_from: str) -> tuple:
        if isinstance(part, Mapping):
            if 'geometry' not in part or 'appearance' not in part:
                raise ValueError(f'mix: part {comp!r} needs "geometry" and "appearance"')
            return part['geometry'], part['appearance'], part.get('geometry_from', geometry_from)
        if isinstance(part, tuple) and len(part) in (2, 3):
            return (*part[:2], part[2] if len(part) == 3 else geometry_from)
        raise ValueError(f'mix: part {comp!r} must be (geometry, appearance[, geometry_from]) '
                         f'or a dict, got {type(part).__name__}')

    def interpolate(self, a: Images, b: Images, steps: int = 5, what: str = 'appearance',
                    geometry: Images | None = None, appearance: Images | None = None,
                    geometry_from: str = 'photo') -> list:
        """``steps`` faces going from ``a`` to ``b`` (both ends included).

        Args:
            what: ``'appearance'`` (appearance vectors of photos a -> b, geometry fixed: from
                ``geometry``, default a), ``'geometry'`` (geometry codes a -> b read as
                ``geometry_from``; appearance fixed: ``appearance``, default a) or ``'both'``.

        Returns:
            a list of ``steps`` results (each a single image, or a list for batched inputs).
        """
        if what not in ('appearance', 'geometry', 'both'):
            raise ValueError(f"what must be 'appearance', 'geometry' or 'both', got {what!r}")
        if steps < 2:
            raise ValueError(f'steps must be >= 2 (both ends), got {steps}')
        if geometry_from == 'sketch' and what == 'both':
            raise ValueError("interpolate: what='both' needs photos (a sketch has no appearance)")
        if geometry_from == 'sketch' and what == 'geometry' and appearance is None:
            raise ValueError('interpolate: geometry from sketches needs appearance= (a photo)')
        sketches = geometry_from == 'sketch' and what == 'geometry'
        ta, ba = self._load(a, 'a', not sketches)
        tb, bb = self._load(b, 'b', not sketches)
        batch = ba or bb
        m = self.model
        if what == 'appearance':
            tg, bg = (ta, ba) if geometry is None else self._load(
                geometry, 'geometry', geometry_from == 'photo')
            batch = batch or bg
            codes0 = codes1 = m.encode_geometry(tg, geometry_from)
            vec0, vec1 = m.encode_appearance(ta), m.encode_appearance(tb)
        else:
            codes0, codes1 = m.encode_geometry(ta, geometry_from), m.encode_geometry(tb,
                                                                                     geometry_from)
            if what == 'both':
                vec0, vec1 = m.encode_appearance(ta), m.encode_appearance(tb)
            else:
                tapp, bapp = (ta, ba) if appearance is None else self._load(appearance,
                                                                            'appearance')
                batch = batch or bapp
                vec0 = vec1 = m.encode_appearance(tapp)
        frames = []
        with torch.inference_mode():
            for t in torch.linspace(0, 1, steps).tolist():
                codes = {c: _lerp(codes0[c], codes1[c], t) for c in codes0}
                vectors = {c: _lerp(vec0[c], vec1[c], t) for c in vec0}
                frames.append(self._out(m.compose(codes, vectors), batch))
        return frames

    def to_sketch(self, image: Images, method: str = 'auto'):
        """The photo's sketch: each component's geometry decoded by its sketch decoder and fused
        with the layout (``'decoder'``), or the official image-to-sketch network
        (``'generator'``); ``'auto'`` uses the decoders when the model has them."""
        x, batch = self._load(image, 'photo')
        return self._out(self.model.photo_to_sketch(x, method), batch)


def _lerp(x: torch.Tensor, y: torch.Tensor, t: float) -> torch.Tensor:
    if t == 0.0:
        return x
    if t == 1.0:
        return y
    if x.shape[0] != y.shape[0]:
        n = max(x.shape[0], y.shape[0])
        x, y = x.expand(n, *x.shape[1:]), y.expand(n, *y.shape[1:])
    out = torch.lerp(x.float(), y.float(), t)
    return out.to(x.dtype)
