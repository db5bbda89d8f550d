"""What an inference model is made of: the layout, the networks' settings and where their
weights are. Plain data, shared by the checkpoint reader, the exporter and the converter.

Network names are the key prefixes of the training checkpoints (and of the export file):

=========================  ======================  ============================================
name                       role (config key)       network
=========================  ======================  ============================================
``sketch_encoders.<c>``    ``sketch_encoder``      E_sketch of component c (``SketchEncoder``)
``sketch_decoders.<c>``    ``sketch_decoder``      D_sketch (``SketchDecoder``)
``image_encoders.<c>``     ``image_encoder``       E_image (``ImageGeometryEncoder``)
``generators.<c>``         ``generator``           G_syn with ``enc_style`` (``ComponentGenerator``)
``fusion_generator``       ``fusion_generator``    G_fuse (``GlobalGenerator``, 64 input channels)
``image_to_sketch``        ``image_to_sketch``     official ``sketch_generator`` (optional)
=========================  ======================  ============================================
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from facedisentangle.structures.networks import PER_COMPONENT_NETWORKS, TRAINING_ONLY_NETWORKS

EXPORT_FORMAT = 'facedisentangle-inference'
EXPORT_VERSION = 1
EXPORT_VERSION_QUANTIZED = 2  # version 1 + weights under 'quantized' (inference/quantize.py)

# the per-component networks inference uses, {key prefix: config key} (structures.networks)
PER_COMPONENT = {prefix: key for prefix, key in PER_COMPONENT_NETWORKS.items()
                 if prefix not in TRAINING_ONLY_NETWORKS}
SINGLE = {'fusion_generator': 'fusion_generator', 'image_to_sketch': 'image_to_sketch'}
PREFIXES = (*PER_COMPONENT, *SINGLE)

# which networks each kind of operation needs ({component} is filled in per component)
NEEDS = {
    'photo': ('image_encoders', 'generators', 'fusion_generator'),
    'sketch': ('sketch_encoders', 'generators', 'fusion_generator'),
    'to_sketch': ('image_encoders', 'sketch_decoders'),
    'image_to_sketch': ('image_to_sketch',),
}


class CheckpointKindError(ValueError):
    """A file or directory that is not (or does not hold) what inference needs."""


def network_name(prefix: str, component: str | None = None) -> str:
    return f'{prefix}.{component}' if prefix in PER_COMPONENT else prefix


def split_name(name: str) -> tuple[str, str | None]:
    """``'generators.eye1' -> ('generators', 'eye1')``, ``'fusion_generator' -> (.., None)``."""
    prefix, _, comp = name.partition('.')
    if prefix not in PREFIXES or (prefix in PER_COMPONENT) != bool(comp):
        raise ValueError(f'not a network name: {name!r} (prefixes: {list(PREFIXES)})')
    return prefix, comp or None


def role_of(name: str) -> str:
    prefix, _ = split_name(name)
    return PER_COMPONENT.get(prefix) or SINGLE[prefix]


@dataclass(frozen=True)
class NetworkEntry:
    """One network: its backbone config and where its weights are.

    ``file`` holds ``{'state_dict': {key_prefix + param_name: tensor}, ...}`` (an MMEngine
    checkpoint or an export file).
    """

    name: str
    config: dict
    file: str
    key_prefix: str

    @property
    def role(self) -> str:
        return role_of(self.name)

    @property
    def component(self) -> str | None:
        return split_name(self.name)[1]


@dataclass
class InferenceSpec:
    """Layout (plain dict), components, networks by name, and provenance."""

    layout: dict
    components: tuple[str, ...]
    networks: dict[str, NetworkEntry]
    meta: dict = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.networks

    def entry(self, name: str) -> NetworkEntry:
        try:
            return self.networks[name]
        except KeyError:
            have = ', '.join(sorted(self.networks)) or 'none'
            raise CheckpointKindError(f'{self.meta.get("source", "the checkpoint")} has no '
                                      f'{name} network (it has: {have})') from None

    def names_for(self, kinds: Iterable[str], components: Iterable[str] | None = None
                  ) -> list[str]:
        """Network names an operation kind (``'photo'``, ``'sketch'``, ...) needs."""
        comps = list(components or self.components)
        names: list[str] = []
        for kind in kinds:
            for prefix in NEEDS[kind]:
                if prefix in PER_COMPONENT:
                    names += [network_name(prefix, c) for c in comps]
                else:
                    names.append(prefix)
        return list(dict.fromkeys(names))

    def supports(self, kind: str, components: Iterable[str] | None = None) -> bool:
        return all(self.has(n) for n in self.names_for([kind], components))

    def supported_kinds(self) -> list[str]:
        return [k for k in NEEDS if self.supports(k)]
