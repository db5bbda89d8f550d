from . import hooks  # noqa: F401
from .amp import set_amp
from .checkpoint import find_last_good_checkpoint, safe_load_checkpoint
from .cpu_autocast_optim_wrapper import CPUAutocastOptimWrapper
from .optim_constructor import PerNetworkOptimWrapperConstructor
from .runner import FDRunner, build_runner

__all__ = ['CPUAutocastOptimWrapper', 'FDRunner', 'PerNetworkOptimWrapperConstructor',
           'build_runner', 'find_last_good_checkpoint', 'safe_load_checkpoint', 'set_amp']
