"""facedisentangle.visualization: the [-1, 1] <-> uint8 pair and the result grids."""
import numpy as np
import torch

from facedisentangle.visualization import float_to_uint8, to_uint8_grid, uint8_to_float


def test_uint8_round_trip_is_exact_and_the_arithmetic_is_the_papers():
    pixels = torch.arange(256, dtype=torch.uint8)
    x = uint8_to_float(pixels)
    assert x.dtype == torch.float32 and x[0] == -1 and x[-1] == 1
    assert torch.equal(x, pixels.float() / 127.5 - 1)
    assert torch.equal(float_to_uint8(x), pixels)
    y = torch.linspace(-1.5, 1.5, 1001)
    assert torch.equal(float_to_uint8(y), ((y.clamp(-1, 1) + 1) * 127.5).round().byte())
    assert float_to_uint8(torch.tensor([-3.0, 3.0])).tolist() == [0, 255]


def test_grid_rows_are_samples_and_grey_columns_are_drawn_rgb():
    photo = uint8_to_float(torch.randint(0, 256, (3, 3, 8, 8), dtype=torch.uint8))
    sketch = uint8_to_float(torch.randint(0, 256, (5, 1, 8, 8), dtype=torch.uint8))
    grid = to_uint8_grid([photo, sketch], max_samples=2)
    assert grid.dtype == np.uint8 and grid.shape == (2 * 10 + 2, 2 * 10 + 2, 3)
    assert np.array_equal(grid[2:10, 2:10], float_to_uint8(photo[0]).permute(1, 2, 0).numpy())
    assert np.array_equal(grid[12:20, 12:20, 1], float_to_uint8(sketch[1, 0]).numpy())
    assert (grid[0] == 255).all()
