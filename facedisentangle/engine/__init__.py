from . import hooks  # noqa: F401
from .checkpoint import find_last_good_checkpoint, safe_load_checkpoint
from .cpu_autocast_optim_wrapper import CPUAutocastOptimWrapper
from .optim_constructor import PerNetworkOptimWrapperConstructor
from .runner import FDRunner

__all__ = ['CPUAutocastOptimWrapper', 'FDRunner', 'PerNetworkOptimWrapperConstructor',
           'find_last_good_checkpoint', 'safe_load_checkpoint']
