"""One user's editing state in the web editor, and the face it gives.

A session holds, at the model's resolution R:

* ``references``: up to ``max_references`` photos (uint8 ``RxRx3``), each usable as an
  appearance source of any component, and as a geometry source (E_image) of any component;
* ``base``: the sketch the canvas started from (a reference's sketch, an uploaded sketch, or
  blank white); ``sketch``: the canvas as last sent by the page.

The face is, for each component c (the model of docs/editing.md)::

    z_c = E_sketch^c(crop_c(S_c))  or  E_image^c(crop_c(P_k))        geometry: sketch or photo k
    a_c = (1 - t) E_app^c(J_{r(c)}) + t E_app^c(J_b)                 appearance: reference r(c),
                                                                     blended towards b by t
    I   = G_fuse(fuse_c G_syn^c(z_c; W_c a_c + beta_c))

**Local strokes.** The bg component's box is the whole face, so every stroke is inside it. Its
feature map is overwritten inside the other components' boxes, so what it sees there matters
only through its receptive field. The bg encoder therefore reads ``S_bg = S`` outside the
union of the other boxes and ``base`` inside it: a stroke inside the mouth box changes the
mouth's input only, and only the mouth (E_sketch, G_syn) and G_fuse run again
(:mod:`facedisentangle.inference.result_cache` finds every other component's results by the
content of its input; :mod:`facedisentangle.inference.incremental_fusion` recomputes G_fuse's
stem only around the changed box). A stroke outside every box changes bg's input and bg runs
again. ``exact_bg=True`` gives bg the whole current sketch instead (every stroke then
recomputes bg too).

**Projection of hand-drawn sketches** (docs/sketch_projection.md). With a sketch embedding
and its banks (``editor.sketch_refiner``), each component whose geometry comes from the sketch
may be projected towards the training sketches with strength ``lambda_c`` in [0, 1] (the
page's "refine" sliders, as in DeepFaceDrawing's interface): its E_sketch reads its input
sketch with the box replaced by ``D_draw^c((1 - lambda_c) v + lambda_c p(v))``,
``v = E_draw^c(crop_c)``, ``p`` the K-neighbour projection into the component's bank
(:mod:`facedisentangle.inference.sketch_refiner`). The projected crop is remembered in the
model's result cache by the crop's content, the strength and K, so a stroke elsewhere does
not run the projection again; with every strength 0 nothing of it runs.

The page sends its choices as plain JSON; :func:`parse_choices` validates them against the
session (component names, reference indices, t and projection strengths in [0, 1]) and raises
:class:`ChoiceError` naming the bad field (the server answers 422).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from facedisentangle.apis import FaceEditor
from facedisentangle.visualization import float_to_uint8, uint8_to_float

SKETCH = 'sketch'


class ChoiceError(ValueError):
    """A choice the page sent is not valid; ``field`` names it (``'projection.eye1'``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f'choices: {message}')
        self.field = field


@dataclass
class Choices:
    """What the page's controls say: per-component appearance reference and geometry source
    (``'sketch'`` or a reference index), the blend reference ``blend_to`` and its weight ``t``,
    and the projection strength of each projectable component (``projection``; components
    left out: 0)."""
    appearance: dict[str, int]
    geometry: dict[str, str | int]
    blend_to: int | None = None
    t: float = 0.0
    exact_bg: bool = False
    projection: dict[str, float] = field(default_factory=dict)


NO_PROJECTION = ('this editor has no sketch projection model: start tools/web_editor.py '
                 'with --sketch-embedding CONFIG CHECKPOINT [--sketch-bank DIR] '
                 '(docs/sketch_projection.md)')


def parse_choices(raw: Mapping | None, components: tuple[str, ...], n_refs: int,
                  projectable: tuple[str, ...] = ()) -> Choices:
    """Validate the page's JSON choices; missing keys take defaults (reference 0, sketch,
    projection 0). ``projectable``: the components the server's sketch embedding projects
    (empty: no projection model, and any ``projection`` value is refused)."""
    if raw is not None and not isinstance(raw, Mapping):
        raise ChoiceError('choices', f'must be a JSON object, got {type(raw).__name__}')
    raw = dict(raw or {})
    unknown = sorted(set(raw) - {'appearance', 'geometry', 'blend_to', 't', 'exact_bg',
                                 'projection'})
    if unknown:
        raise ChoiceError(unknown[0], f'unknown keys {unknown}')

    def ref(value, what):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_refs:
            raise ChoiceError(what, f'{what} = {value!r} is not a reference index '
                                    f'(0..{n_refs - 1})')
        return value

    def fraction(value, what):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not 0.0 <= float(value) <= 1.0:
            raise ChoiceError(what, f'{what} = {value!r} must be a number in [0, 1]')
        return float(value)

    def given_map(key):
        given = raw.get(key) or {}
        if not isinstance(given, Mapping):
            raise ChoiceError(key, f'{key} must be an object {{component: value}}')
        bad = sorted(set(given) - set(components))
        if bad:
            raise ChoiceError(key, f'{key} has unknown components {bad}; the model has '
                                   f'{list(components)}')
        return given

    def per_comp(key, default, parse):
        given = given_map(key)
        return {c: parse(given[c], f'{key}.{c}') if c in given else default
                for c in components}

    appearance = per_comp('appearance', 0, ref)
    geometry = per_comp('geometry', SKETCH,
                        lambda v, w: SKETCH if v == SKETCH else ref(v, w))
    blend_to = raw.get('blend_to')
    blend_to = None if blend_to is None else ref(blend_to, 'blend_to')
    t = fraction(raw.get('t', 0.0), 't')
    projection = {}
    if raw.get('projection'):
        if not projectable:
            raise ChoiceError('projection', f'projection: {NO_PROJECTION}')
        given = given_map('projection')
        for c, value in given.items():
            if c not in projectable:
                raise ChoiceError(f'projection.{c}', f'projection.{c}: the sketch embedding '
                                  f'has no {c!r} (it projects {list(projectable)})')
            projection[c] = fraction(value, f'projection.{c}')
    return Choices(appearance, geometry, blend_to, t, bool(raw.get('exact_bg', False)),
                   projection)


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return uint8_to_float(torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None])


class EditSession:
    """The state of one page (see the module docstring); its memory is bounded by
    ``max_references`` images plus two sketches at the model's resolution."""

    def __init__(self, resolution: int, max_references: int = 4):
        self.resolution = resolution
        self.max_references = max_references
        self.references: list[np.ndarray] = []
        self.blank = np.full((resolution, resolution, 3), 255, np.uint8)
        self.base = self.blank
        self.sketch = self.blank

    def add_reference(self, rgb: np.ndarray) -> int:
        """Add a photo (its index); refused beyond ``max_references``."""
        if len(self.references) >= self.max_references:
            raise ValueError(f'at most {self.max_references} reference photos per session; '
                             'remove one first')
        self.references.append(rgb)
        return len(self.references) - 1

    def remove_reference(self, index: int) -> None:
        if not 0 <= index < len(self.references):
            raise ValueError(f'no reference {index} (have {len(self.references)})')
        del self.references[index]

    def set_base(self, sketch: np.ndarray) -> None:
        """Start the canvas from this sketch (a reference's, an uploaded one, or blank)."""
        self.base = self.sketch = sketch

    def nbytes(self) -> int:
        return sum(r.nbytes for r in self.references) + self.base.nbytes + self.sketch.nbytes


def owned_mask(editor: FaceEditor) -> np.ndarray:
    """``RxR`` bool: pixels inside any component box other than the whole-face one."""
    layout = editor.model.layout
    r = editor.resolution
    mask = np.zeros((r, r), bool)
    for comp in editor.components:
        if comp == layout.base:
            continue
        x, y, s = layout.box(comp)
        mask[y:y + s, x:x + s] = True
    return mask


def geometry_inputs(editor: FaceEditor, session: EditSession, exact_bg: bool
                    ) -> dict[str, np.ndarray]:
    """The sketch each component's encoder reads (bg: ``base`` inside the other boxes)."""
    base_comp = editor.model.layout.base
    out = {c: session.sketch for c in editor.components}
    if not exact_bg:
        mask = owned_mask(editor)[..., None]
        out[base_comp] = np.where(mask, session.base, session.sketch)
    return out


@torch.inference_mode()
def render(editor: FaceEditor, session: EditSession, choices: Choices) -> np.ndarray:
    """The edited face (uint8 ``RxRx3``) for the session's sketch and the page's choices.

    Calls the model per component, so its result cache reuses every component whose input is
    unchanged since an earlier call (by content, across sessions too)."""
    if not session.references:
        raise ValueError('upload at least one reference photo first (it gives the appearance)')
    model = editor.model
    sketches = geometry_inputs(editor, session, choices.exact_bg)
    codes, vectors = {}, {}
    for comp in editor.components:
        src = choices.geometry[comp]
        strength = choices.projection.get(comp, 0.0)
        if src == SKETCH and strength > 0:
            codes[comp] = model.encode_geometry(
                projected_sketch(editor, _tensor(sketches[comp]), comp, strength), 'sketch',
                [comp])[comp]
        elif src == SKETCH:
            codes[comp] = model.encode_geometry(_tensor(sketches[comp]), 'sketch', [comp])[comp]
        else:
            codes[comp] = model.encode_geometry(_tensor(session.references[src]), 'photo',
                                                [comp])[comp]
        vec = model.encode_appearance(_tensor(session.references[choices.appearance[comp]]),
                                      [comp])[comp]
        if choices.blend_to is not None and choices.t > 0:
            other = model.encode_appearance(_tensor(session.references[choices.blend_to]),
                                            [comp])[comp]
            vec = torch.lerp(vec.float(), other.float(), choices.t).to(vec.dtype)
        vectors[comp] = vec
    image = model.compose(codes, vectors)
    return float_to_uint8(image[0].permute(1, 2, 0)).cpu().numpy()


def projectable_components(editor: FaceEditor) -> tuple[str, ...]:
    """The model's components that ``editor.sketch_refiner`` projects (``()`` without one);
    its sketch embedding must place each of them in the model's box (same resolution and
    layout), else a ``ValueError`` naming the component and both boxes."""
    refiner = getattr(editor, 'sketch_refiner', None)
    if refiner is None:
        return ()
    layout, emb_layout = editor.model.layout, refiner.embedding.layout
    out = []
    for comp in editor.components:
        if comp not in refiner.components:
            continue
        if tuple(emb_layout.box(comp)) != tuple(layout.box(comp)):
            raise ValueError(f'the sketch embedding places {comp!r} at {emb_layout.box(comp)} '
                             f'(x, y, size), the model at {layout.box(comp)}: train the '
                             f'embedding at the model\'s resolution ({editor.resolution} px) '
                             'and layout')
        out.append(comp)
    return tuple(out)


def projected_sketch(editor: FaceEditor, sketch: torch.Tensor, comp: str, strength: float
                     ) -> torch.Tensor:
    """``sketch`` (``(1, 3, R, R)`` in [-1, 1]) with ``comp``'s box replaced by its projected
    crop ``D_draw(project(E_draw(crop), strength, K))`` (:class:`SketchRefiner`, its K and
    method). The crop is remembered in the model's result cache by the input crop's content,
    the strength and K, so an unchanged component does not run the projection again."""
    from facedisentangle.inference.result_cache import tensor_digest

    refiner, model = editor.sketch_refiner, editor.model
    x, y, s = model.layout.box(comp)

    def compute():
        return refiner.refined_sketches(sketch, {comp: strength})[comp][..., y:y + s, x:x + s]

    crop = model.cache.get_or_compute(
        ('projected sketch', comp, strength, refiner.k, refiner.method,
         tensor_digest(model.layout.crop(sketch, comp))), compute)
    out = sketch.clone()
    out[..., y:y + s, x:x + s] = crop
    return out


SKETCH_METHODS = ('model', 'extract')


def model_draws_sketches(editor: FaceEditor) -> bool:
    """Whether the model has sketch decoders (or the official image-to-sketch network)."""
    kinds = editor.supported()
    return 'to_sketch' in kinds or 'image_to_sketch' in kinds


def photo_sketch(editor: FaceEditor, rgb: np.ndarray, method: str = 'model') -> np.ndarray:
    """A sketch of a photo (uint8 ``RxRx3``): the model's (``FaceEditor.to_sketch``: each
    component's geometry decoded by its sketch decoder, fused) or the data preparation's line
    extraction (``'extract'``: :class:`facedisentangle.data_prep.sketch.SketchExtractor`, the
    sketches the model was trained on)."""
    if method == 'model':
        return editor.to_sketch(rgb)
    if method == 'extract':
        from facedisentangle.data_prep.sketch import build_sketch_extractor

        lines = build_sketch_extractor()(rgb)
        return np.repeat(lines[..., None], 3, axis=2)
    raise ValueError(f'sketch method must be one of {SKETCH_METHODS}, got {method!r}')
