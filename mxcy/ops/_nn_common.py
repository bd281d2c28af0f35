"""Shared by the operator families: kernel modules loaded on first use, arrays on either device (NumPy on the CPU,
numba device arrays on a GPU), the one place float16 is widened to float32 (`widen`, `typed_call` and the compute
wrappers on it), and small shape/type rule helpers."""
import functools
import importlib

import numpy as np

from ._helpers import store
from .registry import same_type
from ..kernels.common import REQ_NULL, REQ_WRITE, flat

__all__ = ["kernels", "kernel", "host", "scratch", "on_device_of", "cast", "put", "fill", "contiguous", "flat",
           "split3", "widen", "work_dtype", "typed_call", "widening", "passing_through", "run_activation",
           "kernel_compute", "fill_shapes", "check_float", "float_type"]

_kernel_modules = {}


def kernels(name):
    """mxcy.kernels.<name>, imported on first use: kernel modules import numba.cuda and compile."""
    mod = _kernel_modules.get(name)
    if mod is None:
        mod = _kernel_modules[name] = importlib.import_module(f"..kernels.{name}", __package__)
    return mod


_kernel_functions = {}


def kernel(module, name, device):
    """The kernel `<name>_<device>` of mxcy.kernels.<module>, loaded on first use."""
    fn = _kernel_functions.get((module, name, device))
    if fn is None:
        fn = _kernel_functions[module, name, device] = getattr(kernels(module), f"{name}_{device}")
    return fn


def _elemwise_gpu():
    return kernels("elemwise_gpu")


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
    _elemwise_gpu().copy_gpu(a, out, REQ_WRITE)
    return out


def put(out, value, req):
    """out (req)= value, an array of out's shape on out's device, cast to out's dtype."""
    if host(out):
        store(out, value, req)
    else:
        _elemwise_gpu().copy_gpu(value, out, req)


def fill(out, value, req):
    """out (req)= the scalar `value`, on out's device."""
    if host(out):
        store(out, value, req)
    else:
        _elemwise_gpu().fill_gpu(out, value, req)


def contiguous(a):
    return a.flags.c_contiguous if host(a) else a.is_c_contiguous()


def split3(shape, axis):
    """(outer, shape[axis], inner): the (outer, M, inner) view kernels take for an op along `axis`."""
    return (int(np.prod(shape[:axis], dtype=np.int64)), shape[axis],
            int(np.prod(shape[axis + 1:], dtype=np.int64)))


def widen(dtype):
    """The type a kernel computes `dtype` in: float16 in float32, every other type as it is. MXNet accumulates half in
    float too, Numba's CPU kernels have no float16 arithmetic and CUDA's half math lacks most functions. The one
    rule by which every op widens float16."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype == np.float16 else dtype


_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


def work_dtype(*dtypes):
    """The one float type of kernels that take a single type for all their arrays: float64 when any array is
    float64, else float32 (float16 widened)."""
    for t in dtypes:
        if t == _FLOAT64:
            return _FLOAT64
    return _FLOAT32


def _kernel_input(a, dtype):
    if host(a):
        return np.ascontiguousarray(a, dtype)
    return cast(a, dtype)  # device buffers are C-contiguous


def _as_given(arrays, dtype):
    """Whether every array is a C-contiguous host array a kernel takes as it is (in `dtype`; None: not float16)."""
    for a in arrays:
        if type(a) is not np.ndarray or not a.flags.c_contiguous:
            return False
        t = a.dtype
        if t is not dtype and (t.char == "e" if dtype is None else t != dtype):  # "e": float16
            return False
    return True


def _passes_through(inputs, outputs, reqs, dtype, exact):
    """Whether typed_call hands these arrays to the kernel as they are."""
    return _as_given(inputs, dtype) and _as_given(outputs, dtype) and \
        (exact is None or all(e or r == REQ_WRITE for e, r in zip(exact, reqs)))


def typed_call(fn, inputs, outputs, reqs, dtype=None, exact=None):
    """fn(inputs, outputs, reqs) on arrays a kernel takes: C-contiguous and in `dtype` (None: each array in its
    `widen` type). exact[i] (None: all) says the kernel honours output i's write request; an output it cannot fill
    directly (another type, not C-contiguous, or a request other than write that it does not honour) gets a
    temporary that is stored back, narrowed, under its request."""
    if _passes_through(inputs, outputs, reqs, dtype, exact):
        fn(inputs, outputs, reqs)  # the common case, every call of a graph replay: nothing to convert
        return
    ins = [_kernel_input(a, dtype or widen(a.dtype)) for a in inputs]
    outs, kreqs = [], []
    for k, (o, r) in enumerate(zip(outputs, reqs)):
        want, honoured = dtype or widen(o.dtype), exact is None or exact[k]
        direct = o.dtype == want and contiguous(o) and (honoured or r == REQ_WRITE)
        outs.append(o if direct else scratch(o, want))
        kreqs.append(r if direct or (honoured and r == REQ_NULL) else REQ_WRITE)
    fn(ins, outs, kreqs)
    for o, t, r in zip(outputs, outs, reqs):
        if t is not o and r != REQ_NULL:
            put(o, t, r)


def widening(compute, exact=None, n_aux=0):
    """compute(attrs, inputs, outputs, reqs) run through typed_call: float16 in float32, C-contiguous arrays. The
    trailing n_aux inputs are passed as they are: BatchNorm's moving statistics, which kernels update in place, and
    the input of a random *_like op, read only for its shape and type."""
    def direct(inputs, outputs, reqs):
        """`compute` itself when run(attrs, inputs, outputs, reqs) would only pass these arrays through to it
        (a graph trace replays such steps on buffers of the same kinds without asking again), else None."""
        n_args = len(inputs) - n_aux
        return compute if _passes_through(inputs[:n_args], outputs, reqs, None, exact) else None

    def run(attrs, inputs, outputs, reqs):
        if not n_aux:
            typed_call(lambda ins, outs, kreqs: compute(attrs, ins, outs, kreqs), inputs, outputs, reqs, exact=exact)
            return
        n_args = len(inputs) - n_aux
        aux = list(inputs[n_args:])
        typed_call(lambda ins, outs, kreqs: compute(attrs, ins + aux, outs, kreqs), inputs[:n_args], outputs, reqs,
                   exact=exact)
    run.direct = direct
    return run


def run_activation(inputs, outputs, reqs, act_type, slope):
    """The activation kernel (Activation's, and the relu operator's NaN-passing "relu_nan") on arrays a kernel takes
    as they are (typed_call's): outputs[0] (req)= f(inputs[0])."""
    k = kernels("activation")
    run = k.act_fwd_cpu if host(inputs[0]) else k.act_fwd_gpu
    run(flat(inputs[0]), flat(outputs[0]), k.ACT_TYPES[act_type], float(slope), reqs[0])


def passing_through(call):
    """A compute's `direct` (see widening) for a compute that runs through typed_call in one work type (work_dtype
    of the first input): `call`(attrs, inputs, outputs, reqs), the kernel call alone on host arrays, where typed_call
    would only pass these arrays through."""
    def direct(inputs, outputs, reqs):
        if inputs and host(inputs[0]) and \
                _passes_through(inputs, outputs, reqs, work_dtype(inputs[0].dtype), None):
            return call
        return None
    return direct


def kernel_compute(body, exact=None, n_aux=0):
    """{"cpu", "gpu"} computes running body(device, attrs, inputs, outputs, reqs) through `widening`."""
    return {device: widening(functools.partial(body, device), exact, n_aux) for device in ("cpu", "gpu")}


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


def float_type(attrs, types):
    """Type rule of the ops whose kernels compute in floating point, as MXNet's do: the inputs share one float type
    (no promotion, no integers), which every output takes."""
    types, t = same_type(attrs, types)
    check_float(t)
    return types, t
