"""The base of the pix2pixHD-style fully convolutional networks kept as one flat ``model``
Sequential (the official layer indices): the geometry encoders and the global generator."""
from __future__ import annotations

import torch
import torch.nn as nn

from ._checks import check_strided_input
from .weight_init import WeightInitMixin


class StridedNet(WeightInitMixin, nn.Module):
    """``model = nn.Sequential(*layers)`` over inputs of ``input_nc`` channels whose sides are
    multiples of ``stride`` (checked in ``forward``, errors naming the class); weights
    initialised with ``init_type`` / ``init_gain`` (:func:`~.weight_init.init_weights`)."""

    def __init__(self, input_nc: int, stride: int, layers: list[nn.Module], init_type: str,
                 init_gain: float):
        super().__init__()
        self.input_nc = input_nc
        self.stride = stride
        self.model = nn.Sequential(*layers)
        self.init_type, self.init_gain = init_type, init_gain
        self.init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_strided_input(x, self)
        return self.model(x)
