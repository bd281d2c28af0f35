"""mx.npx, MXNet's NumPy extension: the NumPy-semantics switches, contexts, and the operators that NumPy has no
name for (relu, softmax, convolution, ...) on mx.np arrays."""
from . import image, random, utils
from ._op import *  # noqa: F401,F403
from .utils import load, save  # noqa: F401
from ..context import Context, cpu, cpu_pinned, current_context, gpu, gpu_memory_info, num_gpus  # noqa: F401
from ..ndarray import waitall  # noqa: F401
from ..util import (get_cuda_compute_capability, is_np_array, is_np_shape, reset_np, set_np,  # noqa: F401
                    use_np, use_np_array, use_np_shape)
