from .layout import DEFAULT_BOXES_512, ComponentLayout, build_layout
from .networks import (
    PER_COMPONENT_NETWORKS,
    TRAINING_ONLY_NETWORKS,
    component_of,
    is_discriminator,
    unwrap_key,
)

__all__ = ['ComponentLayout', 'DEFAULT_BOXES_512', 'PER_COMPONENT_NETWORKS',
           'TRAINING_ONLY_NETWORKS', 'build_layout', 'component_of', 'is_discriminator',
           'unwrap_key']
