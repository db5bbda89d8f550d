"""Metric formulas as plain functions (numpy / torch), used by the registered metrics."""
from .color_transfer import lab_color_transfer
from .frechet_distance import frechet_distance, trace_sqrt_product
from .image_errors import l1_error, mse, psnr, psnr_from_mse
from .kernel_inception_distance import kernel_inception_distance, mmd2_unbiased, polynomial_kernel
from .ssim import gaussian_window, ssim

__all__ = [
    'frechet_distance', 'trace_sqrt_product', 'kernel_inception_distance', 'mmd2_unbiased',
    'polynomial_kernel', 'ssim', 'gaussian_window', 'l1_error', 'mse', 'psnr', 'psnr_from_mse',
    'lab_color_transfer',
]
