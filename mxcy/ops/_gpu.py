"""GPU computes of the elementwise, creation, reshape/cast and reduction ops: kernels.elemwise_gpu's drivers
as fn(attrs, inputs, outputs, reqs), the arithmetic ones run by `_nn_common.widening` (float16 in float32).
numba.cuda is imported on the first call: mxcy imports without CUDA."""
import numpy as np

from ._nn_common import kernels, widening
from ..kernels.common import REQ_WRITE
from ..kernels.elemwise_common import UNARY_FUNCS


def _k():
    return kernels("elemwise_gpu")


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
        compute = widening(compute)
    else:
        return {}
    return {"gpu": compute}


def binary(name):
    """Compute of broadcast_<name> and its equal-shape forms (name is a key of BINARY_FUNCS)."""
    def compute(attrs, inputs, outputs, reqs):
        _k().binary_gpu(name, inputs[0], inputs[1], outputs[0], reqs[0])
    return widening(compute)


def _broadcast(attrs, inputs, outputs, reqs):
    """Output 0 (req)= input 0 broadcast to the output's shape: input * 1 through the broadcasting
    multiply kernel (exact for every value, -0 and NaN included); the 1 is filled on the device."""
    from numba import cuda
    x, out = inputs[0], outputs[0]
    one = cuda.device_array((1,) * out.ndim, x.dtype)
    _k().fill_gpu(one, 1, REQ_WRITE)
    _k().binary_gpu("mul", x, one, out, reqs[0])


broadcast = widening(_broadcast)


def scalar(name, reverse):
    """Compute of x <name> scalar, or scalar <name> x when `reverse`. The scalar takes x's dtype first, as MXNet
    computes in the array's type (float16: rounded to float16, then computed in float32)."""
    def compute(attrs, inputs, outputs, reqs):
        _k().scalar_gpu(name, inputs[0], attrs["scalar"], outputs[0], reverse, reqs[0])
    wide = widening(compute)

    def rounded_first(attrs, inputs, outputs, reqs):
        wide(dict(attrs, scalar=inputs[0].dtype.type(attrs["scalar"])), inputs, outputs, reqs)
    return rounded_first


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
    return widening(compute)
