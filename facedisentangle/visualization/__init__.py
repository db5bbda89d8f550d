"""Pictures of images: the [-1, 1] <-> uint8 conversion and the result grids of the training
hook, the test tool and the analysis tools."""
from .grid import to_uint8_grid
from .image_range import float_to_uint8, uint8_to_float

__all__ = ['float_to_uint8', 'to_uint8_grid', 'uint8_to_float']
