"""Face data: the HDF5 face file format, synthetic faces and the data sets that read them."""
from .face_folder_dataset import FaceFolderDataset, read_image
from .face_h5_dataset import FaceH5Dataset
from .h5_format import (
    FORMAT,
    SPLIT_NAMES,
    VERSION,
    H5FaceWriter,
    H5FormatError,
    check_h5_file,
    read_h5_info,
)
from .swap_pairs import (
    RendererMismatchError,
    SwapPairDataset,
    check_renderer,
    make_swap_pairs,
    render_swap_truth,
)

__all__ = ['FORMAT', 'VERSION', 'SPLIT_NAMES', 'H5FaceWriter', 'H5FormatError', 'check_h5_file',
           'read_h5_info', 'FaceH5Dataset', 'FaceFolderDataset', 'read_image',
           'SwapPairDataset', 'RendererMismatchError', 'make_swap_pairs', 'render_swap_truth',
           'check_renderer']
