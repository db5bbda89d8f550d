"""DeepFaceEditing for inference: every trained network, built on demand, in one module.

For each component c of the layout (bg, eye1, eye2, nose, mouth; docs/method.md sections 1, 2, 6)::

    z_c = E_image^c(I_c)   or   E_sketch^c(S_c)          geometry code of a photo or a sketch
    a_c = E_app^c(J_c)                                   appearance vector (64), J = appearance
    p_c = W_c a_c + beta_c                               AdaIN parameters (the 1x1 conv)
    F_c = G_syn^c(z_c; p_c)                              component feature map (64 channels)
    F   = F_bg overwritten by F_mouth, F_nose[:-trim], F_eye1, F_eye2   (layout, no blending)
    I   = G_fuse(F)                                      the edited face in [-1, 1]

and for image-to-sketch, ``S = fuse_c D_sketch^c(E_image^c(I_c))`` (the decoded component
sketches pasted over the bg one in paste order), or the official ``sketch_generator``.

Only the networks an operation needs are built, on first use, from the weights file straight
into their precision (:mod:`~facedisentangle.inference.precision`), in ``eval`` mode without
gradients; every public operation runs under ``torch.inference_mode``. Results are
deterministic for a given machine, thread count and precision.

Partial recompute: geometry codes, appearance vectors and component feature maps are cached by
the content of their inputs (:mod:`~facedisentangle.inference.result_cache`), and Global
Fusion recomputes its stem only where the fused map changed
(:mod:`~facedisentangle.inference.incremental_fusion`). When only one component's input
changed, only that component and the fusion run again.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from facedisentangle.structures import build_layout

from .checkpoint_reader import WeightFile, load_network_state, read_spec
from .converted_cache import converted_spec
from .incremental_fusion import IncrementalFusion
from .network_build import build_empty, check_state, shapes_of
from .precision import ExecutionForm, describe_precision, resolve_precision
from .result_cache import ResultCache, tensor_digest
from .spec import PER_COMPONENT, CheckpointKindError, InferenceSpec, split_name

GEOMETRY_SOURCES = {'photo': 'image_encoders', 'sketch': 'sketch_encoders'}


def check_layout(spec: InferenceSpec):
    """The spec's ``ComponentLayout``; CheckpointKindError when its components do not fit it."""
    layout = build_layout(spec.layout)
    missing = [c for c in spec.components if c not in layout.boxes]
    if missing:
        raise CheckpointKindError(f'{spec.meta.get("source")}: components {missing} are not '
                                  f'boxes of its layout ({list(layout.boxes)})')
    if layout.base is None or layout.base not in spec.components:
        raise CheckpointKindError(f'{spec.meta.get("source")}: the layout has no whole-face '
                                  'component among the components; fusion needs one')
    return layout


def check_spec(spec: InferenceSpec) -> None:
    """Everything the model checks about a checkpoint before running it, without weights:
    the layout (:func:`check_layout`) and each geometry encoder's stride against its box."""
    layout = check_layout(spec)
    for name, entry in spec.networks.items():
        if entry.component is None or not entry.role.endswith('encoder'):
            continue
        stride = getattr(build_empty(entry.config, f'{name} in {entry.file}'), 'stride', None)
        if stride:
            layout.check_stride(int(stride), [entry.component])


class DeepFaceEditingInference(nn.Module):
    """The full DeepFaceEditing model for inference (plain ``nn.Module``).

    Args:
        spec: what to build (:func:`~facedisentangle.inference.checkpoint_reader.read_spec`).
        precision: ``'auto'`` (the measured fast path), ``'float32'``, ``'bfloat16'``, or a
            dict per role; see :mod:`~facedisentangle.inference.precision`.
        device: where the networks run.
        cache_bytes: memory for cached per-component results (default 512 MB, 128 MB with
            ``low_memory``); 0 recomputes everything on every call (and disables the
            incremental fusion).
        low_memory: free the geometry encoders (and sketch decoders) right after each use, so
            only G_syn and G_fuse stay resident; they are built again from the weights file
            for the next new input. ``None`` (default): on for a CPU when the file stores the
            encoders' weights in their execution form (the conversion cache of
            :meth:`from_checkpoint`, or a ``tools/export.py --dtype bfloat16`` file with the
            bfloat16 path), so that rebuilding them is only a memory mapping of the page cache;
            off when every rebuild would convert the weights again (a float32 file on the
            bfloat16 path without the cache: ``True`` then keeps a 512 photo edit at 2.35 GB
            instead of 3.46 GB but costs about 1.4 s per new geometry input,
            docs/benchmarks.md).

    Attributes:
        sketch_encoders, sketch_decoders, image_encoders, generators: ``nn.ModuleDict`` per
            component, filled as networks are built (same keys as the training checkpoints).
        fusion_generator, image_to_sketch: built on first use (``None`` before).
        layout, components, resolution, forms (``{role: ExecutionForm}``), cache.

    All image tensors are ``(B, 3, R, R)`` float in [-1, 1] at ``resolution`` R.
    """

    def __init__(self, spec: InferenceSpec, precision: str | Mapping[str, str] = 'auto',
                 device: str | torch.device = 'cpu', cache_bytes: int | None = None,
                 low_memory: bool | None = None):
        super().__init__()
        self.spec = spec
        self.layout = check_layout(spec)
        self.components = tuple(spec.components)
        self.resolution = self.layout.resolution
        self.device = torch.device(device)
        self.forms: dict[str, ExecutionForm] = resolve_precision(precision, self.device)
        self._files: dict[str, WeightFile] = {}  # opened (memory-mapped) weight files
        self.low_memory = (self._encoders_in_place() if low_memory is None
                           else bool(low_memory))
        for prefix in PER_COMPONENT:
            setattr(self, prefix, nn.ModuleDict())
        self.fusion_generator: nn.Module | None = None
        self.image_to_sketch: nn.Module | None = None
        if cache_bytes is None:
            cache_bytes = (128 << 20) if self.low_memory else (512 << 20)
        self.cache = ResultCache(cache_bytes)
        self._fusion: IncrementalFusion | None = None

    def _encoders_in_place(self) -> bool:
        """Whether the stored geometry-encoder weights can be used without a conversion."""
        if self.device.type != 'cpu':
            return False
        for prefix in ('image_encoders', 'sketch_encoders'):
            names = [n for n in self.spec.networks if n.startswith(prefix + '.')]
            if not names:
                continue
            entry = self.spec.networks[names[0]]
            wf = self._files.setdefault(entry.file, WeightFile(entry.file))
            keys = wf.keys(entry.key_prefix)
            form = self.forms[PER_COMPONENT[prefix]]
            return bool(keys) and wf.mapped and all(wf.stored_as(k, form) for k in keys)
        return False

    @classmethod
    def from_checkpoint(cls, source: str | os.PathLike | Sequence[str | os.PathLike],
                        convert_cache: bool | str | os.PathLike | None = None,
                        **kwargs) -> DeepFaceEditingInference:
        """From an export file, a stage checkpoint, a list of them or a work directory.

        ``convert_cache``: weights stored in another form than their network runs in (a
        float32 file on the bfloat16 path) are converted once into a cached copy, which this
        and every later load memory-map (:mod:`~facedisentangle.inference.converted_cache`);
        ``None`` (default): on for a CPU device; a path: the cache folder to use; ``False``:
        convert in memory at every load. Other arguments: see the class.
        """
        spec = read_spec(source)
        device = torch.device(kwargs.get('device', 'cpu'))
        if convert_cache is None:
            convert_cache = device.type == 'cpu'
        if convert_cache is not False:
            check_spec(spec)  # a checkpoint refused later must not leave a converted copy
            forms = resolve_precision(kwargs.get('precision', 'auto'), device)
            spec = converted_spec(spec, forms,
                                  None if convert_cache is True else convert_cache)
        return cls(spec, **kwargs)

    def extra_repr(self) -> str:
        return (f'resolution={self.resolution}, components={list(self.components)}, '
                f'precision={describe_precision(self.forms)!r}, built={self.built()}')

    # ------------------------------------------------------------------ networks
    def built(self) -> list[str]:
        names = [f'{p}.{c}' for p in PER_COMPONENT for c in getattr(self, p)]
        return names + [n for n in ('fusion_generator', 'image_to_sketch')
                        if getattr(self, n) is not None]

    def network(self, name: str) -> nn.Module:
        """The network ``name`` (e.g. ``'generators.eye1'``), built and loaded on first use."""
        prefix, comp = split_name(name)
        if comp is not None:
            nets = getattr(self, prefix)
            if comp not in nets:
                nets[comp] = self._build(name)
            return nets[comp]
        if getattr(self, prefix) is None:
            setattr(self, prefix, self._build(name))
        return getattr(self, prefix)

    def _build(self, name: str) -> nn.Module:
        # outside inference mode: parameters must be normal tensors whatever the caller's mode
        with torch.inference_mode(False), torch.no_grad():
            return self._build_network(name)

    def _build_network(self, name: str) -> nn.Module:
        entry = self.spec.entry(name)
        form = self.forms[entry.role]
        what = f'{name} in {entry.file}'
        net = build_empty(entry.config, what)
        expected = shapes_of(net)
        state = load_network_state(entry, lambda t: form.parameter(t).to(self.device),
                                   self._files)
        check_state(expected, state, what)
        net.load_state_dict(state, strict=True, assign=True)
        form.prepare(net)
        stride = getattr(net, 'stride', None)
        if entry.component is not None and stride and entry.role.endswith('encoder'):
            self.layout.check_stride(int(stride), [entry.component])
        return net

    def preload(self, kinds: Iterable[str] = ('photo',)) -> list[str]:
        """Build now every network of the operation kinds (``'photo'``, ``'sketch'``,
        ``'to_sketch'``, ``'image_to_sketch'``); returns their names. With ``low_memory``
        the networks freed after each use (encoders, decoders) are not preloaded."""
        names = self.spec.names_for(kinds)
        if self.low_memory:
            names = [n for n in names if n.split('.')[0] in ('generators', 'fusion_generator')]
        for name in names:
            self.network(name)
        return names

    def release(self, names: Iterable[str] | None = None) -> None:
        """Free built networks (all by default), the cached results and, when everything is
        released, the weight files' mappings."""
        self._drop(list(names if names is not None else self.built()))
        if names is None:
            self._files.clear()
        self.clear_cache()

    def _drop(self, names: Iterable[str]) -> None:
        for name in names:
            prefix, comp = split_name(name)
            nets = getattr(self, prefix)
            net = (nets[comp] if comp in nets else None) if comp is not None else nets
            if net is not None:  # weights used in place: unmap their pages from the process
                for p in net.parameters():
                    for wf in self._files.values():
                        wf.release(p)
            if comp is not None:
                if comp in nets:
                    del nets[comp]
            else:
                setattr(self, prefix, None)

    def clear_cache(self) -> None:
        self.cache.clear()
        self._fusion = None

    def weight_bytes(self) -> int:
        """Memory held by the built networks' weights."""
        return sum(p.numel() * p.element_size() for p in self.parameters())

    # ------------------------------------------------------------------ checks
    def _check_images(self, images: torch.Tensor, what: str) -> torch.Tensor:
        r = self.resolution
        if (not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3
                or tuple(images.shape[2:]) != (r, r)):
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
            raise ValueError(f'{what} must be a (B, 3, {r}, {r}) tensor in [-1, 1], got {shape}')
        return images.to(self.device, torch.float32)

    def _components(self, components: Iterable[str] | None) -> list[str]:
        comps = list(components) if components is not None else list(self.components)
        unknown = [c for c in comps if c not in self.components]
        if unknown:
            raise ValueError(f'unknown components {unknown}; this model has '
                             f'{list(self.components)}')
        return comps

    def _cached(self, key, compute):
        """``compute()``, remembered under ``key()`` when caching is on."""
        if self.cache.max_bytes <= 0:
            return compute()
        return self.cache.get_or_compute(key(), compute)

    # ------------------------------------------------------------------ encoders
    @torch.inference_mode()
    def encode_geometry(self, images: torch.Tensor, source: str = 'photo',
                        components: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
        """``{c: z_c}``: E_image (``source='photo'``) or E_sketch (``'sketch'``) of each crop."""
        if source not in GEOMETRY_SOURCES:
            raise ValueError(f"geometry source must be 'photo' or 'sketch', got {source!r}")
        images = self._check_images(images, f'{source} images')
        prefix = GEOMETRY_SOURCES[source]
        form = self.forms[PER_COMPONENT[prefix]]
        codes = {}
        for comp in self._components(components):
            crop = self.layout.crop(images, comp)
            name = f'{prefix}.{comp}'
            self.spec.entry(name)  # a clear error before any work when it is missing
            codes[comp] = self._cached(lambda c=comp, x=crop: ('code', source, c,
                                                                tensor_digest(x)),
                                       lambda n=name, x=crop: self.network(n)(form.tensor(x)))
            if self.low_memory:
                self._drop([name])
        return codes

    @torch.inference_mode()
    def encode_appearance(self, images: torch.Tensor, components: Iterable[str] | None = None
                          ) -> dict[str, torch.Tensor]:
        """``{c: a_c}``: the appearance vectors (float32, ``(B, style_dim)``) of each crop."""
        images = self._check_images(images, 'appearance images')
        form = self.forms['generator']
        vectors = {}
        for comp in self._components(components):
            crop = self.layout.crop(images, comp)
            gen = self.network(f'generators.{comp}')
            vectors[comp] = self._cached(
                lambda c=comp, x=crop: ('appearance', c, tensor_digest(x)),
                lambda g=gen, x=crop: g.encode_appearance(form.tensor(x)).float())
        return vectors

    def adain_params(self, comp: str, vector: torch.Tensor) -> torch.Tensor:
        """``p_c = W_c a_c + beta_c`` in float32 (the generator's 1x1 conv as a linear map).

        Kept in float32 for the group-norm AdaIN (which takes float32 affine parameters with
        bfloat16 maps); cast to the generator's dtype otherwise.
        """
        gen = self.network(f'generators.{comp}')
        head = gen.enc_style.adain_head
        params = F.linear(vector.float(), head.weight.float().flatten(1), head.bias.float())
        form = self.forms['generator']
        return params if form.channels_last else params.to(form.dtype)

    # ------------------------------------------------------------------ synthesis
    @torch.inference_mode()
    def component_features(self, codes: Mapping[str, torch.Tensor],
                           vectors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``{c: F_c}``: G_syn's feature map of each component from its code and appearance.

        A batch of 1 on either side is broadcast to the other's batch.
        """
        form = self.forms['generator']
        features = {}
        for comp, code in codes.items():
            if comp not in vectors:
                raise ValueError(f'no appearance for component {comp!r}')
            vec = vectors[comp]
            gen = self.network(f'generators.{comp}')

            def compute(g=gen, z=code, v=vec, c=comp):
                z = form.tensor(z)
                p = self.adain_params(c, v)
                if z.shape[0] == 1 and p.shape[0] > 1:
                    z = z.expand(p.shape[0], *z.shape[1:])
                elif z.shape[0] != p.shape[0] and p.shape[0] != 1:
                    raise ValueError(f'{c}: {z.shape[0]} geometry codes but {p.shape[0]} '
                                     'appearances (give the same number, or one)')
                return g.decode_feature(z, p)

            features[comp] = self._cached(
                lambda c=comp, z=code, v=vec: ('feature', c, tensor_digest(z), tensor_digest(v)),
                compute)
        return features

    def fuse(self, parts: Mapping[str, torch.Tensor], form: ExecutionForm) -> torch.Tensor:
        """The layout's hard paste of per-component maps (bg first, then the paste order)."""
        missing = [c for c in self.components if c not in parts]
        if missing:
            raise ValueError(f'fusion needs every component; missing {missing}')
        batch = max(p.shape[0] for p in parts.values())
        parts = {c: form.tensor(p if p.shape[0] == batch else p.expand(batch, *p.shape[1:]))
                 for c, p in parts.items()}
        return self.layout.fuse(parts)

    @torch.inference_mode()
    def synthesize(self, fused: torch.Tensor) -> torch.Tensor:
        """``G_fuse(F)``: the face from the fused feature map, float32 in [-1, 1]."""
        net = self.network('fusion_generator')
        if fused.shape[1] != net.input_nc:
            raise ValueError(f'fusion_generator takes {net.input_nc} channels, the component '
                             f'generators give {fused.shape[1]}')
        fused = self.forms['fusion_generator'].tensor(fused)
        if self.cache.max_bytes <= 0:
            return net(fused).float().contiguous()
        if self._fusion is None or self._fusion.generator is not net:
            self._fusion = IncrementalFusion(net)
        return self._fusion(fused).float().contiguous()

    @torch.inference_mode()
    def compose(self, codes: Mapping[str, torch.Tensor], vectors: Mapping[str, torch.Tensor]
                ) -> torch.Tensor:
        """The face from every component's geometry code and appearance vector."""
        features = self.component_features(codes, vectors)
        return self.synthesize(self.fuse(features, self.forms['fusion_generator']))

    @torch.inference_mode()
    def forward(self, geometry: torch.Tensor, appearance: torch.Tensor,
                geometry_from: str = 'photo') -> torch.Tensor:
        """Geometry of ``geometry`` (a photo, or a sketch with ``geometry_from='sketch'``) with
        the appearance of ``appearance``: ``(B, 3, R, R)`` in [-1, 1]."""
        codes = self.encode_geometry(geometry, geometry_from)
        return self.compose(codes, self.encode_appearance(appearance))

    # ------------------------------------------------------------------ sketches
    def sketch_method(self) -> str:
        """``'decoder'`` (E_image + D_sketch per component) or ``'generator'`` (official)."""
        if self.spec.supports('to_sketch'):
            return 'decoder'
        if self.spec.supports('image_to_sketch'):
            return 'generator'
        have = ', '.join(sorted(self.spec.networks))
        raise CheckpointKindError(
            f'{self.spec.meta.get("source")}: to_sketch needs image encoders and sketch '
            'decoders for every component, or an image_to_sketch network; it has ' + have)

    @torch.inference_mode()
    def decode_sketch(self, codes: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``fuse_c D_sketch^c(z_c)``: component sketches pasted over the bg sketch."""
        form = self.forms['sketch_decoder']
        parts = {}
        for c, z in codes.items():
            parts[c] = self.network(f'sketch_decoders.{c}')(form.tensor(z)).float()
            if self.low_memory:
                self._drop([f'sketch_decoders.{c}'])
        return self.fuse(parts, ExecutionForm()).contiguous()

    @torch.inference_mode()
    def photo_to_sketch(self, images: torch.Tensor, method: str = 'auto') -> torch.Tensor:
        """A sketch of each photo: ``'decoder'`` (the method's, per component), ``'generator'``
        (the official image-to-sketch net) or ``'auto'`` (decoder when available)."""
        method = self.sketch_method() if method == 'auto' else method
        if method == 'decoder':
            return self.decode_sketch(self.encode_geometry(images, 'photo'))
        if method == 'generator':
            images = self._check_images(images, 'photos')
            net = self.network('image_to_sketch')
            return net(self.forms['image_to_sketch'].tensor(images)).float().contiguous()
        raise ValueError(f"method must be 'auto', 'decoder' or 'generator', got {method!r}")
