"""mx.np's array creation functions (array, zeros, ones, full, arange, linspace, eye, *_like), float32 by default as
MXNet 1.9.1's, made by the registered init operators through mx.nd."""
import numpy as _onp

from .. import ndarray as nd
from .. import storage
from ..base import MXNetError, np_dtype
from ..context import current_context
from ..ndarray.ndarray import NDArray
from .multiarray import cast, into, ndarray, np_function

__all__ = ["array", "empty", "zeros", "ones", "full", "arange", "linspace", "eye", "identity", "zeros_like",
           "ones_like", "full_like", "empty_like"]

_FLOAT = _onp.float32  # MXNet's default dtype of mx.np's creation functions


def _order(order, what):
    if order != "C":
        raise NotImplementedError(f"{what}: only C order is supported, got {order!r}")


def _dtype(dtype, what, default=_FLOAT):
    return np_dtype(default if dtype is None else dtype, what)


@np_function
def array(object, dtype=None, ctx=None):  # noqa: A002 - NumPy's argument name
    """A new array of `object`'s values: the dtype of an array given (mx or NumPy), else float32."""
    ctx = ctx or current_context()
    if isinstance(object, NDArray):
        return cast(object.copyto(ctx), _dtype(dtype, "array", object.dtype))
    values = _onp.asarray(object)
    dtype = _dtype(dtype, "array", values.dtype if isinstance(object, (_onp.ndarray, _onp.generic)) else _FLOAT)
    return ndarray(storage.from_host(_onp.array(values, dtype=dtype), ctx), ctx)


@np_function
def zeros(shape, dtype=None, order="C", ctx=None):
    _order(order, "zeros")
    return nd.zeros(shape, ctx=ctx, dtype=_dtype(dtype, "zeros"))


@np_function
def ones(shape, dtype=_FLOAT, order="C", ctx=None):
    _order(order, "ones")
    return nd.ones(shape, ctx=ctx, dtype=_dtype(dtype, "ones"))


@np_function
def empty(shape, dtype=_FLOAT, order="C", ctx=None):
    """An array of `shape` whose values are whatever the memory held."""
    _order(order, "empty")
    return nd.empty(shape, ctx=ctx, dtype=_dtype(dtype, "empty"))


@np_function
def full(shape, fill_value, dtype=None, order="C", ctx=None, out=None):
    """An array of `shape` filled with `fill_value` (float32 unless `dtype` says, bool for a bool value)."""
    _order(order, "full")
    if isinstance(fill_value, NDArray):
        from ._op import broadcast_to
        return into(cast(broadcast_to(fill_value.as_in_context(ctx or fill_value.context), shape),
                         _dtype(dtype, "full", fill_value.dtype)), out)
    default = _onp.bool_ if isinstance(fill_value, (bool, _onp.bool_)) else _FLOAT
    return into(nd.full(shape, fill_value, ctx=ctx, dtype=_dtype(dtype, "full", default)), out)


@np_function
def arange(start, stop=None, step=1, dtype=None, ctx=None):
    """Evenly spaced values in [start, stop) (float32 unless `dtype` says)."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise MXNetError("arange: step must not be 0")
    return nd.arange(start, stop, step, ctx=ctx, dtype=_dtype(dtype, "arange"))


@np_function
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, ctx=None):
    """`num` evenly spaced values from `start` to `stop` (included when `endpoint`); with `retstep`, also the
    spacing. Integer dtypes truncate the float32 values, as MXNet does."""
    if axis != 0:
        raise NotImplementedError("linspace: start and stop are numbers here, so axis must be 0")
    if int(num) < 0:
        raise MXNetError(f"linspace: number of samples, {num}, must be non-negative")
    values = cast(nd.linspace(start, stop, int(num), endpoint=endpoint, ctx=ctx, dtype=_FLOAT),
                  _dtype(dtype, "linspace"))
    if not retstep:
        return values
    divisions = int(num) - 1 if endpoint else int(num)
    return values, (stop - start) / divisions if divisions > 0 else _onp.nan


@np_function
def eye(N, M=None, k=0, dtype=_FLOAT, **kwargs):  # noqa: N803 - NumPy's argument names
    """An N x M array with ones on diagonal `k` (ctx= may be given)."""
    ctx = kwargs.pop("ctx", None)
    if kwargs:
        raise TypeError(f"eye: unexpected arguments {sorted(kwargs)}")
    return nd.eye(N, 0 if M is None else M, k, ctx=ctx, dtype=_dtype(dtype, "eye"))


@np_function
def identity(n, dtype=None, ctx=None):
    return eye(n, dtype=_dtype(dtype, "identity"), ctx=ctx)


def _like(a, value, dtype, order, ctx, out, what):
    _order(order, what)
    return full(a.shape, value, dtype=_dtype(dtype, what, a.dtype), ctx=ctx or a.context, out=out)


@np_function
def zeros_like(a, dtype=None, order="C", ctx=None, out=None):
    return _like(a, 0, dtype, order, ctx, out, "zeros_like")


@np_function
def ones_like(a, dtype=None, order="C", ctx=None, out=None):
    return _like(a, 1, dtype, order, ctx, out, "ones_like")


@np_function
def full_like(a, fill_value, dtype=None, order="C", ctx=None, out=None):
    return _like(a, fill_value, dtype, order, ctx, out, "full_like")


@np_function
def empty_like(prototype, dtype=None, order="C", subok=False, shape=None):
    """An uninitialised array with `prototype`'s shape (or `shape`), dtype and context."""
    if subok:
        raise NotImplementedError("empty_like: subok=True is not supported")
    return empty(prototype.shape if shape is None else shape, dtype=_dtype(dtype, "empty_like", prototype.dtype),
                 order=order, ctx=prototype.context)
