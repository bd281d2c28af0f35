"""mx.np.broadcast_arrays (MXNet's numpy/stride_tricks.py)."""
import numpy as _onp

from ._op import broadcast_to
from .multiarray import np_function

__all__ = ["broadcast_arrays"]


@np_function
def broadcast_arrays(*args):
    shape = _onp.broadcast_shapes(*(a.shape for a in args))
    return [broadcast_to(a, shape) for a in args]
