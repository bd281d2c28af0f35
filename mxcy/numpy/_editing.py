"""mx.np.pad, delete and insert: arrays with elements added or taken out, as gathers (take) of index lists NumPy
computes from the shapes alone, or joins with constant blocks."""
import numpy as _onp

from ..error import MXNetValueError
from ..ndarray.ndarray import NDArray
from ._op import _axis, broadcast_to, concatenate, moveaxis, ravel, reshape, take
from .creation import array, full
from .multiarray import cast, np_function

__all__ = ["pad", "delete", "insert"]

_GATHERED_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pad_widths(pad_width, ndim):
    """((before, after), ...) per axis from NumPy's spellings (n, (n,), (b, a), ((b, a),), a pair per axis)."""
    widths = _onp.asarray(pad_width, dtype=_onp.int64)
    widths = _onp.broadcast_to(widths.reshape(-1, 2) if widths.ndim == 2 else widths.reshape(-1)[:2]
                               if widths.size == 2 else widths.reshape(-1)[:1].repeat(2), (ndim, 2))
    if (widths < 0).any():
        raise MXNetValueError(f"pad: pad_width must not be negative, got {pad_width}")
    return [tuple(int(v) for v in w) for w in widths]


@np_function
def pad(x, pad_width=None, mode="constant", **kwargs):
    """`x` padded by `pad_width` per axis: with `constant_values` (mode 'constant', default 0) or with its own
    elements (modes 'edge', 'reflect', 'symmetric', 'wrap', as NumPy's)."""
    if pad_width is None:
        raise MXNetValueError("pad: pad_width must be given")
    constant = kwargs.pop("constant_values", 0)
    if kwargs or mode not in ("constant",) + _GATHERED_MODES:
        raise NotImplementedError(f"pad: mode {mode!r} with {sorted(kwargs)} is not supported (constant, "
                                  f"{', '.join(_GATHERED_MODES)} are)")
    result = x
    for axis, (before, after) in enumerate(_pad_widths(pad_width, x.ndim)):
        if not before and not after:
            continue
        if mode == "constant":
            block = [full(result.shape[:axis] + (n,) + result.shape[axis + 1:], constant, dtype=x.dtype,
                          ctx=x.context) for n in (before, after)]
            result = concatenate(block[:1] * bool(before) + [result] + block[1:] * bool(after), axis)
        else:
            if result.shape[axis] == 0:
                raise MXNetValueError(f"pad: cannot pad an empty axis {axis} in mode {mode!r}")
            index = _onp.pad(_onp.arange(result.shape[axis]), (before, after), mode=mode)
            result = take(result, array(index, dtype=_onp.int64, ctx=x.context), axis=axis)
    return result if result is not x else x.copy()


@np_function
def delete(arr, obj, axis=None):
    """`arr` without the entries `obj` (an index, a slice or indices) along `axis` (None: of the flattened
    array)."""
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = _axis(axis, arr.ndim, "delete")
    if isinstance(obj, NDArray):
        obj = obj.asnumpy()
    kept = _onp.delete(_onp.arange(arr.shape[axis]), obj)
    return take(arr, array(kept, dtype=_onp.int64, ctx=arr.context), axis=axis)


@np_function
def insert(arr, obj, values, axis=None):
    """`arr` with `values` inserted before the entries `obj` (an index, a slice or indices) along `axis` (None: of
    the flattened array), by NumPy's rules: one scalar index takes a block of values, several take one each."""
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = _axis(axis, arr.ndim, "insert")
    length = arr.shape[axis]
    if isinstance(obj, NDArray):
        obj = obj.asnumpy()
    indices = _onp.arange(*obj.indices(length)) if isinstance(obj, slice) else _onp.array(obj)
    if indices.dtype == _onp.bool_:
        indices = _onp.flatnonzero(indices)
    if indices.ndim > 1:
        raise MXNetValueError("insert: index array argument obj must be one dimensional or scalar")
    indices = indices.astype(_onp.int64)
    if ((indices < -length) | (indices > length)).any():
        raise IndexError(f"insert: index {obj} is out of bounds for axis {axis} with size {length}")
    indices = _onp.where(indices < 0, indices + length, indices)
    block = values if isinstance(values, NDArray) else array(values, dtype=arr.dtype, ctx=arr.context)
    block = cast(block, arr.dtype)
    block = reshape(block, (1,) * (arr.ndim - block.ndim) + block.shape)
    if indices.size == 1:
        if indices.ndim == 0:
            block = moveaxis(block, 0, axis)
        count = block.shape[axis]
        positions = int(indices.reshape(-1)[0]) + _onp.arange(count)
    else:
        count = indices.size
        positions = indices.copy()
        positions[_onp.argsort(indices, kind="stable")] += _onp.arange(count)
    block = broadcast_to(block, arr.shape[:axis] + (count,) + arr.shape[axis + 1:])
    source = _onp.empty(length + count, dtype=_onp.int64)
    kept = _onp.ones(length + count, dtype=bool)
    kept[positions] = False
    source[kept] = _onp.arange(length)
    source[positions] = length + _onp.arange(count)
    return take(concatenate([arr, block], axis), array(source, dtype=_onp.int64, ctx=arr.context), axis=axis)
