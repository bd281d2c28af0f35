"""Small pieces shared by the operator families: write-request handling and shape rules."""
import numpy as np

from ..kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

__all__ = ["store", "results_compute", "ufunc_compute", "broadcast_shape", "norm_axis", "norm_axes", "quiet"]


def store(out, value, req):
    """Put `value` into `out` under write request `req` (MXNet's KERNEL_ASSIGN on NumPy)."""
    if req == REQ_ADD:
        np.add(out, value, out=out, casting="unsafe")
    elif req != REQ_NULL:
        np.copyto(out, value, casting="unsafe")


def results_compute(fn):
    """Compute for an op whose outputs are fn(attrs, *inputs), one array or a tuple, each stored under its
    write request; floating-point warnings are off (MXNet returns inf/nan silently)."""
    def compute(attrs, inputs, outputs, reqs):
        with np.errstate(all="ignore"):
            result = fn(attrs, *inputs)
        for out, value, req in zip(outputs, result if isinstance(result, tuple) else (result,), reqs):
            store(out, np.asarray(value).reshape(out.shape), req)
    return compute


def ufunc_compute(fn, quiet_fp=False):
    """Compute for an op that is one NumPy function of its inputs; ufuncs write the output directly.

    This is the body of most small ops, so the common case (a ufunc, write request) is one call.
    """
    direct = isinstance(fn, np.ufunc)

    def general(attrs, inputs, outputs, reqs):
        req = reqs[0]
        if direct and req != REQ_ADD and req != REQ_NULL:
            fn(*inputs, out=outputs[0], casting="unsafe")
        else:
            store(outputs[0], fn(*inputs), req)

    if quiet_fp:
        def compute(attrs, inputs, outputs, reqs):
            with np.errstate(all="ignore"):
                general(attrs, inputs, outputs, reqs)
    elif direct and fn.nin == 2:
        def compute(attrs, inputs, outputs, reqs):
            if reqs[0] == REQ_WRITE:
                fn(inputs[0], inputs[1], out=outputs[0], casting="unsafe")
            else:
                general(attrs, inputs, outputs, reqs)
    elif direct and fn.nin == 1:
        def compute(attrs, inputs, outputs, reqs):
            if reqs[0] == REQ_WRITE:
                fn(inputs[0], out=outputs[0], casting="unsafe")
            else:
                general(attrs, inputs, outputs, reqs)
    else:
        compute = general
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
        return a
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
