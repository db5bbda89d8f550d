from .layout import DEFAULT_BOXES_512, ComponentLayout, build_layout

__all__ = ['ComponentLayout', 'DEFAULT_BOXES_512', 'build_layout']
