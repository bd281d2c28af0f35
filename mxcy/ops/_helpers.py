"""Small pieces shared by the operator families: write-request handling and shape rules."""
import contextlib

import numpy as np

from ..kernels.common import REQ_ADD, REQ_NULL

_NO_CONTEXT = contextlib.nullcontext()

__all__ = ["store", "ufunc_compute", "broadcast_shape", "norm_axis", "norm_axes", "quiet"]


def store(out, value, req):
    """Put `value` into `out` under write request `req` (MXNet's KERNEL_ASSIGN on NumPy)."""
    if req == REQ_ADD:
        np.add(out, value, out=out, casting="unsafe")
    elif req != REQ_NULL:
        np.copyto(out, value, casting="unsafe")


def ufunc_compute(fn, quiet_fp=False):
    """Compute for an op that is one NumPy function of its inputs; ufuncs write the output directly."""
    direct = isinstance(fn, np.ufunc)

    def compute(attrs, inputs, outputs, reqs):
        req = reqs[0]
        with np.errstate(all="ignore") if quiet_fp else _NO_CONTEXT:
            if direct and req != REQ_ADD and req != REQ_NULL:
                fn(*inputs, out=outputs[0], casting="unsafe")
            else:
                store(outputs[0], fn(*inputs), req)
    compute.__name__ = getattr(fn, "__name__", "compute")
    return compute


def quiet(fn):
    """Run `fn` with NumPy floating-point warnings off: MXNet returns inf/nan silently."""
    def wrapped(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    wrapped.__name__ = getattr(fn, "__name__", "fn")
    return wrapped


def broadcast_shape(a, b):
    """MXNet/NumPy broadcasting of two shapes; ValueError naming both when incompatible."""
    if a == b:
        return tuple(a)
    la, lb = len(a), len(b)
    n = max(la, lb)
    a = (1,) * (n - la) + tuple(a)
    b = (1,) * (n - lb) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError(f"shapes {a[n - la:]} and {b[n - lb:]} cannot be broadcast together")
    return tuple(out)


def norm_axis(axis, ndim):
    """A non-negative axis, or ValueError naming the axis and ndim."""
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an array of {ndim} dimensions")
    return axis % ndim


def norm_axes(axis, ndim, exclude=False):
    """Sorted non-negative axes from None/int/tuple; `exclude` takes the complement (MXNet's reduce)."""
    if axis is None or axis == ():
        axes = tuple(range(ndim))
        return () if exclude else axes
    if isinstance(axis, int):
        axis = (axis,)
    axes = sorted({norm_axis(a, ndim) for a in axis})
    if len(axes) != len(axis):
        raise ValueError(f"duplicate axes in {axis}")
    if exclude:
        axes = [i for i in range(ndim) if i not in axes]
    return tuple(axes)
