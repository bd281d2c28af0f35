"""NDArray indexing: contiguous basic slices are views sharing the base's engine var; everything
else goes through the registered `_index` / `_index_assign` ops so autograd and the engine see it.
"""
import numpy as np

from .. import autograd
from ..base import MXNetError, numeric_types
from ..error import MXNetIndexError, MXNetValueError, compatible
from ..ops import registry
from ..ops.invoke import invoke
from ..ops.reshape import infer_reshape
from ..util import is_np_shape
from .ndarray import NDArray

__all__ = ["get_item", "set_item", "reshape_view", "normalize_key"]


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, np.integer, slice)) or k is None or k is Ellipsis for k in parts)


_ALL = slice(None)


def normalize_key(key):
    """The key with NDArrays and lists turned into NumPy index arrays (waits on NDArray indices)."""
    def one(k):
        if isinstance(k, NDArray):
            return k.asnumpy().astype(np.int64)
        if isinstance(k, (list, np.ndarray)):
            arr = np.asarray(k)
            return arr if arr.dtype == np.bool_ else arr.astype(np.int64)
        if isinstance(k, np.integer):
            return int(k)
        return k
    if isinstance(key, tuple):
        return tuple(one(k) for k in key)
    return one(key)


def _target_shape(shape, key, op):
    """Shape of `x[key]` for an x of `shape`, validated without touching data."""
    probe = np.broadcast_to(np.zeros((), np.int8), shape)
    try:
        return probe[key].shape
    except IndexError as err:
        raise MXNetIndexError(f"{op}: index {key!r} is invalid for an array of shape {shape}: {err}") from None
    except (TypeError, ValueError) as err:
        raise compatible(err)(f"{op}: unsupported index {key!r} for shape {shape}: {err}") from None


def get_item(array, key):
    if type(key) is slice and key == _ALL and array._ctx.device_type == "cpu" and not autograd.is_recording() \
            and array._data.flags.c_contiguous:
        return NDArray(array._data, array._ctx, array._var)  # x[:], as in `x[:] -= y`: a view, nothing to check
    key = normalize_key(key)
    shape = _target_shape(array.shape, key, "__getitem__")
    all_ints = isinstance(key, int) and array.ndim == 1 or (
        isinstance(key, tuple) and len(key) == array.ndim and all(isinstance(k, int) for k in key))
    if _is_basic(key) and array._ctx.device_type == "cpu" and not autograd.is_recording():
        # A full integer key would make NumPy read the element now, before pending writes; with a
        # trailing Ellipsis it gives a 0-d view instead.
        view = array._data[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)] if all_ints \
            else array._data[key]
        if view.flags.c_contiguous:
            if all_ints and not is_np_shape():  # MXNet's legacy shapes have no 0-d arrays: a full integer
                view = view.reshape(1)               # index gives shape (1,); NumPy shape semantics give ()
            return NDArray(view, array._ctx, array._var)
    out = invoke(registry.get("_index"), [array], {"key": key})[0]
    return out.reshape(1) if all_ints and not shape and not is_np_shape() else out


def set_item(array, key, value):
    """array[key] = value as one engine op writing `array`'s var."""
    if (key is None or key is Ellipsis or isinstance(key, slice) and key == slice(None)) \
            and isinstance(value, NDArray) and value.shape == array.shape:
        # `x[:] -= y` assigns x's own buffer back: nothing to copy (sparse arrays have no one buffer to compare)
        if value is not array and not (type(value) is type(array) is NDArray and value._data is array._data):
            value.copyto(array)  # a copy, never recorded (as MXNet)
        return
    from .ndarray import _check_inplace
    _check_inplace(array, value)
    if array._ctx.device_type == "gpu" and _is_full(key):
        _set_all_gpu(array, value)
        return
    key = normalize_key(key)
    target = _target_shape(array.shape, key, "__setitem__")
    if isinstance(value, NDArray):
        if value._ctx != array._ctx:
            value = value.as_in_context(array._ctx)
        if value.dtype != array.dtype:  # MXNet casts the value to the target's dtype
            value = value.astype(array.dtype)
        _check_broadcast(value.shape, target, key, array.shape)
        invoke(registry.get("_index_assign"), [array, value], {"key": key}, out=array)
        return
    if isinstance(value, numeric_types):
        invoke(registry.get("_index_assign_scalar"), [array], {"key": key, "scalar": value}, out=array)
        return
    values = np.asarray(value, dtype=array._data.dtype)
    _check_broadcast(values.shape, target, key, array.shape)
    from .. import storage
    src = storage.from_host(values, array._ctx)
    invoke(registry.get("_index_assign"), [array, NDArray(src, array._ctx)], {"key": key}, out=array)


def _check_broadcast(value_shape, target, key, shape):
    try:
        np.broadcast_shapes(tuple(value_shape), tuple(target))
        if len(value_shape) > len(target) and any(d != 1 for d in value_shape[:len(value_shape) - len(target)]):
            raise ValueError
    except ValueError:
        raise MXNetError(f"__setitem__: cannot assign a value of shape {tuple(value_shape)} to "
                         f"index {key!r} of an array of shape {shape} (selection shape "
                         f"{tuple(target)})") from None


def reshape_view(array, shape, reverse=False, **kwargs):
    if kwargs:
        raise MXNetError(f"reshape: unknown arguments {sorted(kwargs)}")
    try:
        new_shape = infer_reshape(array.shape, shape, reverse)
    except ValueError as err:
        raise MXNetValueError(f"reshape: cannot reshape array of shape {array.shape} to {tuple(shape)}: "
                         f"{err}") from None
    if autograd.is_recording() or array._ctx.device_type != "cpu" or \
            not array._data.flags.c_contiguous:
        return invoke(registry.get("Reshape"), [array], {"shape": new_shape, "reverse": False})[0]
    return NDArray(array._data.reshape(new_shape), array._ctx, array._var)



def _is_full(key):
    return key is Ellipsis or (isinstance(key, slice) and key == slice(None))


def _set_all_gpu(array, value):
    """x[:] = value on a GPU: a device fill for scalars, a copy for arrays (broadcast on the host)."""
    from .. import storage
    if isinstance(value, numeric_types):
        op = registry.get("_full")
        invoke(op, [], op.parse_attrs({"shape": array.shape, "value": value,
                                       "dtype": array._data.dtype.name}), out=array, ctx=array._ctx)
        return
    if isinstance(value, NDArray):
        if value.shape == array.shape:
            value.copyto(array)
            return
        value = value.asnumpy()
    values = np.asarray(value, dtype=array._data.dtype)
    _check_broadcast(values.shape, array.shape, slice(None), array.shape)
    source = storage.from_host(np.broadcast_to(values, array.shape), array._ctx)
    NDArray(source, array._ctx).copyto(array)
