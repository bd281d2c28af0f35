"""Shared by the nn operator families: arrays on either device (NumPy on the CPU, numba device arrays on a
GPU), the compute wrapper that hands kernels the C-contiguous float32/float64 arrays they require, and
small shape/type rule helpers."""
import functools
import importlib

import numpy as np

from . import _gpu
from ._helpers import store
from ..kernels.common import REQ_NULL, REQ_WRITE

__all__ = ["kernels", "host", "scratch", "on_device_of", "cast", "put", "fill", "contiguous", "flat", "split3",
           "kernel_compute", "fill_shapes", "check_float"]

_kernel_modules = {}


def kernels(name):
    """mxcy.kernels.<name>, imported on first use: kernel modules import numba.cuda and compile."""
    mod = _kernel_modules.get(name)
    if mod is None:
        mod = _kernel_modules[name] = importlib.import_module(f"..kernels.{name}", __package__)
    return mod


def host(a):
    return isinstance(a, np.ndarray)


def scratch(like, dtype, shape=None):
    """An uninitialised buffer on `like`'s device."""
    shape = like.shape if shape is None else shape
    if host(like):
        return np.empty(shape, dtype)
    from numba import cuda
    return cuda.device_array(shape, dtype)


def on_device_of(like, host_array):
    """NumPy `host_array` on `like`'s device."""
    if host(like):
        return host_array
    from numba import cuda
    return cuda.to_device(np.ascontiguousarray(host_array))


def cast(a, dtype):
    """`a` in `dtype` on its device (`a` itself when it has that type already)."""
    if a.dtype == dtype:
        return a
    if host(a):
        return a.astype(dtype)
    out = scratch(a, dtype)
    _gpu._k().copy_gpu(a, out, REQ_WRITE)
    return out


def put(out, value, req):
    """out (req)= value, an array of out's shape on out's device, cast to out's dtype."""
    if host(out):
        store(out, value, req)
    else:
        _gpu._k().copy_gpu(value, out, req)


def fill(out, value, req):
    """out (req)= the scalar `value`, on out's device."""
    if host(out):
        store(out, value, req)
    else:
        _gpu._k().fill_gpu(out, value, req)


def flat(a):
    """The 1-D view of a C-contiguous array on either device."""
    return a.reshape(a.size)


def contiguous(a):
    return a.flags.c_contiguous if host(a) else a.is_c_contiguous()


def split3(shape, axis):
    """(outer, shape[axis], inner): the (outer, M, inner) view kernels take for an op along `axis`."""
    return (int(np.prod(shape[:axis], dtype=np.int64)), shape[axis],
            int(np.prod(shape[axis + 1:], dtype=np.int64)))


def kernel_compute(body, exact=None, n_aux=0):
    """{"cpu", "gpu"} computes running body(device, attrs, inputs, outputs, reqs) on C-contiguous arrays.

    float16 runs in float32 on both devices, as MXNet accumulates half in float: float16 inputs are widened on
    their device and outputs are computed into float32 temporaries. exact[i] (default: all): the kernel honours
    output i's write request; outputs it cannot fill directly (other requests, not C-contiguous, float16) get
    temporaries stored back, narrowed, under their requests. The trailing n_aux inputs are passed as they are:
    BatchNorm's moving statistics, which kernels update in place, and the input of a random *_like op, read only
    for its shape and type."""
    def run(device, attrs, inputs, outputs, reqs):
        n_args = len(inputs) - n_aux
        ins = [_widened(device, a) for a in inputs[:n_args]] + list(inputs[n_args:])
        outs, kreqs = [], []
        for k, (o, r) in enumerate(zip(outputs, reqs)):
            direct = o.dtype != np.float16 and contiguous(o) and (exact is None or exact[k] or r == REQ_WRITE)
            outs.append(o if direct else scratch(o, np.float32 if o.dtype == np.float16 else o.dtype))
            kreqs.append(r if direct else REQ_WRITE)
        body(device, attrs, ins, outs, kreqs)
        for o, t, r in zip(outputs, outs, reqs):
            if t is not o and r != REQ_NULL:
                put(o, t, r)

    return {"cpu": functools.partial(run, "cpu"), "gpu": functools.partial(run, "gpu")}


def _widened(device, a):
    """Input `a` as a kernel takes it: float16 widened to float32, and C-contiguous on the CPU (device buffers
    always are)."""
    if device == "cpu":
        return np.ascontiguousarray(a, np.float32 if a.dtype == np.float16 else None)
    return cast(a, np.dtype(np.float32)) if a.dtype == np.float16 else a


def fill_shapes(shapes, names, expected, context):
    """`shapes` with the inputs after data (`names`, as many as there are) set to `expected` where unknown;
    a known one that differs is an error naming the input and `context`."""
    shapes = list(shapes)
    for i, (name, want) in enumerate(zip(names[:len(shapes) - 1], expected), start=1):
        have = shapes[i]
        if have is None:
            shapes[i] = want
        elif tuple(have) != tuple(want):
            raise ValueError(f"{name} shape {tuple(have)} does not match {context}: expected {tuple(want)}")
    return shapes


def check_float(dtype):
    """Kernels compute in floating point, as MXNet's do: refuse integer data in a type rule."""
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise ValueError(f"data must be float16, float32 or float64, got {np.dtype(dtype).name}")
