"""GPU computes of the elementwise, creation, reshape/cast and reduction ops: kernels.elemwise_gpu's drivers
as fn(attrs, inputs, outputs, reqs). numba.cuda is imported on the first call: mxcy imports without CUDA."""
import numpy as np

from ..kernels.common import REQ_NULL, REQ_WRITE
from ..kernels.elemwise_common import UNARY_FUNCS

_kernels = None


def _k():
    global _kernels
    if _kernels is None:
        from ..kernels import elemwise_gpu
        _kernels = elemwise_gpu
    return _kernels


def float32_for_half(compute):
    """A GPU compute run on float32 copies of float16 arrays, its float16 outputs narrowed back: for kernels
    with scalar helpers that numba's CUDA simulator runs on the host, where float16 has no arithmetic.
    Exact for the ops that use it (float16 values are float32 values; ordering and gathers keep them)."""
    def run(attrs, inputs, outputs, reqs):
        if all(a.dtype != np.float16 for a in list(inputs) + list(outputs)):
            return compute(attrs, inputs, outputs, reqs)
        from numba import cuda

        def float32_copy(a):
            wide = cuda.device_array(a.shape, np.float32)
            _k().copy_gpu(a, wide, REQ_WRITE)
            return wide
        wide_in = [float32_copy(a) if a.dtype == np.float16 else a for a in inputs]
        wide_out = [cuda.device_array(o.shape, np.float32) if o.dtype == np.float16 else o for o in outputs]
        compute(attrs, wide_in, wide_out, [REQ_WRITE if w is not o else r
                                           for o, w, r in zip(outputs, wide_out, reqs)])
        for o, w, r in zip(outputs, wide_out, reqs):
            if w is not o and r != REQ_NULL:
                _k().copy_gpu(w, o, r)
    return run


def copy(attrs, inputs, outputs, reqs):
    """Output 0 (req)= input 0 in C order, cast to the output's dtype: Reshape, Cast, _copy, BlockGrad."""
    _k().copy_gpu(inputs[0], outputs[0], reqs[0])


def unary_entries(name):
    """{"gpu": compute} for the unary op `name` with a formula in UNARY_FUNCS, or {} (erfinv and _digamma
    get theirs from unary_gpu in ops/unary.py)."""
    if name in ("_copy", "BlockGrad"):
        return {"gpu": copy}
    if name in ("zeros_like", "ones_like"):
        value = 1 if name == "ones_like" else 0

        def compute(attrs, inputs, outputs, reqs):
            _k().fill_gpu(outputs[0], value, reqs[0])
    elif name in UNARY_FUNCS:
        def compute(attrs, inputs, outputs, reqs):
            _k().unary_gpu(name, inputs[0], outputs[0], reqs[0])
    else:
        return {}
    return {"gpu": compute}


def binary(name):
    """Compute of broadcast_<name> and its equal-shape forms (name is a key of BINARY_FUNCS)."""
    def compute(attrs, inputs, outputs, reqs):
        _k().binary_gpu(name, inputs[0], inputs[1], outputs[0], reqs[0])
    return compute


def broadcast(attrs, inputs, outputs, reqs):
    """Output 0 (req)= input 0 broadcast to the output's shape: input * 1 through the broadcasting
    multiply kernel (exact for every value, -0 and NaN included); the 1 is filled on the device."""
    from numba import cuda
    x, out = inputs[0], outputs[0]
    one = cuda.device_array((1,) * out.ndim, x.dtype)
    _k().fill_gpu(one, 1, REQ_WRITE)
    _k().binary_gpu("mul", x, one, out, reqs[0])


def scalar(name, reverse):
    """Compute of x <name> scalar, or scalar <name> x when `reverse`."""
    def compute(attrs, inputs, outputs, reqs):
        _k().scalar_gpu(name, inputs[0], attrs["scalar"], outputs[0], reverse, reqs[0])
    return compute


def creation(value_of):
    """Compute of an input-less creation op with values value_of(attrs): a scalar is filled on the device; an
    array (arange, linspace, eye) is built on the host and copied over."""
    def compute(attrs, inputs, outputs, reqs):
        k, out = _k(), outputs[0]
        value = value_of(attrs)
        if np.ndim(value) == 0:
            k.fill_gpu(out, value, reqs[0])
        else:
            from numba import cuda
            host = np.ascontiguousarray(np.reshape(value, out.shape).astype(out.dtype))
            k.copy_gpu(cuda.to_device(host), out, reqs[0])
    return compute


def reduction(kind):
    """Compute of reduce.py's op `kind` (sum, mean, prod, max, min, nansum, nanprod) with its axis/exclude
    attributes."""
    def compute(attrs, inputs, outputs, reqs):
        from .reduce import reduce_axes
        x = inputs[0]
        _k().reduce_gpu(x, outputs[0], reduce_axes(x.shape, attrs["axis"], attrs["exclude"]), kind, reqs[0])
    return compute
