"""Ordering operators: sort, argsort and topk, and the gather/scatter pair their gradients use.

Orders are stable both ways: equal values keep their input order, ascending or descending, and NaN is the
largest value. On a GPU they run on kernels.sort_gpu and kernels.along_axis_gpu.
"""
import numpy as np

from . import registry
from ._helpers import norm_axis, store
from ._nn_common import kernels, split3, widening
from .registry import OpDef, Param
from ..base import MXNetError

_INDEX_DTYPES = ("uint8", "int32", "int64", "float16", "float32", "float64")
# The largest index each index dtype holds exactly (MXNet refuses the others).
_EXACT_UP_TO = {"uint8": 255, "float16": 2 ** 11, "float32": 2 ** 24, "int32": 2 ** 31 - 1}


def _sort_axis(attrs, shape):
    """(axis, length) that the op orders along; axis None orders the flattened array."""
    if attrs["axis"] is None:
        return None, int(np.prod(shape, dtype=np.int64))
    axis = norm_axis(attrs["axis"], len(shape))
    return axis, shape[axis]


def _order(x, axis, is_ascend):
    """(x, axis, indices that order x along axis), x flattened when axis is None."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    if is_ascend:
        return x, axis, np.argsort(x, axis=axis, kind="stable")
    # Descending and stable: sort the reversed array ascending, reverse that, map indices back.
    n = x.shape[axis]
    return x, axis, n - 1 - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


# --- topk, with sort and argsort as its k = all special cases ------------------------------------

def _topk_k(attrs, length):
    k = attrs["k"] if attrs["k"] > 0 else length  # k < 1 sorts everything
    if not 1 <= k <= length:
        raise ValueError(f"k={attrs['k']} is out of range: there are {length} elements to choose "
                         "from")
    return k


def _topk_shape(attrs, shapes):
    shape = shapes[0]
    axis, length = _sort_axis(attrs, shape)
    k = _topk_k(attrs, length)
    if attrs["ret_typ"] in ("indices", "both") and \
            length - 1 > _EXACT_UP_TO.get(attrs["dtype"], length):
        raise ValueError(f"dtype {attrs['dtype']} cannot represent the indices of {length} "
                         "elements exactly")
    if attrs["ret_typ"] == "mask":
        return shapes, [tuple(shape)]
    out = (k,) if axis is None else shape[:axis] + (k,) + shape[axis + 1:]
    return shapes, [out] * (2 if attrs["ret_typ"] == "both" else 1)


def _topk_type(attrs, types):
    index = np.dtype(attrs["dtype"])
    return types, {"value": [types[0]], "mask": [types[0]], "indices": [index],
                   "both": [types[0], index]}[attrs["ret_typ"]]


def _topk_compute(attrs, inputs, outputs, reqs):
    x, axis, order = _order(inputs[0], attrs["axis"], attrs["is_ascend"])
    top = np.take(order, np.arange(_topk_k(attrs, x.shape[axis])), axis=axis)
    ret = attrs["ret_typ"]
    if ret == "mask":
        mask = np.zeros(x.shape, outputs[0].dtype)
        np.put_along_axis(mask, top, 1, axis)
        store(outputs[0], mask.reshape(outputs[0].shape), reqs[0])
        return
    if ret == "indices":
        results = (top,)
    else:
        values = np.take_along_axis(x, top, axis)
        results = (values, top) if ret == "both" else (values,)
    for out, value, req in zip(outputs, results, reqs):
        store(out, value, req)


def _topk_compute_gpu(attrs, inputs, outputs, reqs):
    x = inputs[0]
    axis, n = _sort_axis(attrs, x.shape)
    inner = 1 if axis is None else split3(x.shape, axis)[2]
    kernels("sort_gpu").sort_gpu(x, n, inner, _topk_k(attrs, n), attrs["is_ascend"], attrs["ret_typ"], outputs, reqs)


_TOPK_GPU = widening(_topk_compute_gpu)


def _scatter_values(F, attrs, x, g, index):
    """The gradient of taking values at `index` along the sort axis: g put back where it was."""
    axis = attrs["axis"]
    if axis is None:
        return F.reshape(F._scatter_axis(g, index, axis=0, size=x.size), shape=x.shape)
    axis = norm_axis(axis, x.ndim)
    return F._scatter_axis(g, index, axis=axis, size=x.shape[axis])


def _topk_gradient(F, attrs, inputs, outputs, ograds):
    x, ret = inputs[0], attrs["ret_typ"]
    if ret in ("indices", "mask"):
        return [F.zeros_like(x)]
    index = outputs[1] if ret == "both" else F.topk(
        x, axis=attrs["axis"], k=attrs["k"], ret_typ="indices", is_ascend=attrs["is_ascend"],
        dtype="int64")
    return [_scatter_values(F, attrs, x, ograds[0], index)]


def _sort_gradient(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    index = F.argsort(x, axis=attrs["axis"], is_ascend=attrs["is_ascend"], dtype="int64")
    return [_scatter_values(F, attrs, x, ograds[0], index)]


def _as_topk(ret_typ, compute):
    """sort / argsort through topk's rules with k covering the whole axis."""
    def call(attrs, *rest):
        return compute(dict(attrs, k=0, ret_typ=ret_typ), *rest)
    return call


_AXIS = Param("axis", "int", -1, "axis to order along; None orders the flattened array",
              optional=True)
_IS_ASCEND = "order ascending (smallest first) rather than descending"
_DTYPE = Param("dtype", "dtype", "float32", "dtype of the returned indices", choices=_INDEX_DTYPES)

registry.register(OpDef(
    "topk", params=(_AXIS, Param("k", "int", 1, "how many elements to keep; < 1 keeps all"),
                    Param("ret_typ", "str", "indices", "what to return",
                          choices=("value", "indices", "mask", "both")),
                    Param("is_ascend", "bool", False, "keep the k smallest instead of the largest"),
                    _DTYPE),
    num_outputs=lambda attrs: 2 if attrs["ret_typ"] == "both" else 1,
    infer_shape=_topk_shape, infer_type=_topk_type, compute={"cpu": _topk_compute, "gpu": _TOPK_GPU},
    gradient=_topk_gradient,
    doc="Returns the top k elements (values, indices or mask) along an axis."))
registry.register(OpDef(
    "sort", params=(_AXIS, Param("is_ascend", "bool", True, _IS_ASCEND)),
    infer_shape=_as_topk("value", _topk_shape), infer_type=registry.first_type,
    compute={"cpu": _as_topk("value", _topk_compute), "gpu": _as_topk("value", _TOPK_GPU)},
    gradient=_sort_gradient,
    doc="Returns a sorted copy of the input along an axis."))
registry.register(OpDef(
    "argsort", params=(_AXIS, Param("is_ascend", "bool", True, _IS_ASCEND), _DTYPE),
    infer_shape=_as_topk("indices", _topk_shape), infer_type=_as_topk("indices", _topk_type),
    compute={"cpu": _as_topk("indices", _topk_compute), "gpu": _as_topk("indices", _TOPK_GPU)},
    gradient=lambda F, attrs, inputs, outputs, ograds: [F.zeros_like(inputs[0])],
    doc="Returns the indices that sort the input along an axis."))


# --- _gather_axis / _scatter_axis: each one's gradient is the other ------------------------------

def _open_index(index, axis):
    """A NumPy index selecting index[..., j, ...] along axis at every other position."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index.astype(np.intp)
    return tuple(grid)


def _gather_shape(attrs, shapes):
    data, index = shapes
    axis = norm_axis(attrs["axis"], len(data))
    if len(index) != len(data) or any(a != b for i, (a, b) in enumerate(zip(data, index))
                                      if i != axis):
        raise ValueError(f"index of shape {index} must match data of shape {data} except on "
                         f"axis {axis}")
    return shapes, [tuple(index)]


def _gather_compute(attrs, inputs, outputs, reqs):
    data, index = inputs
    store(outputs[0], data[_open_index(index, norm_axis(attrs["axis"], data.ndim))], reqs[0])


def _out_of_range(op, index, data, axis):
    n = data.shape[axis]
    return MXNetError(f"{op}: index (shape {tuple(index.shape)}) has entries outside [-{n}, {n}), the range of "
                      f"axis {axis} of data (shape {tuple(data.shape)})")


def _gather_compute_gpu(attrs, inputs, outputs, reqs):
    data, index = inputs
    axis = norm_axis(attrs["axis"], data.ndim)
    _, n, inner = split3(data.shape, axis)
    if not kernels("along_axis_gpu").gather_axis_gpu(data, index, outputs[0], n, index.shape[axis], inner, reqs[0]):
        raise _out_of_range("_gather_axis", index, data, axis)


def _scatter_shape(attrs, shapes):
    data, index = shapes
    if data != index:
        raise ValueError(f"index of shape {index} must have the shape of data {data}")
    axis = norm_axis(attrs["axis"], len(data))
    return shapes, [data[:axis] + (attrs["size"],) + data[axis + 1:]]


def _scatter_compute(attrs, inputs, outputs, reqs):
    data, index = inputs
    out = np.zeros(outputs[0].shape, data.dtype)
    np.add.at(out, _open_index(index, norm_axis(attrs["axis"], data.ndim)), data)
    store(outputs[0], out, reqs[0])


def _scatter_compute_gpu(attrs, inputs, outputs, reqs):
    data, index = inputs
    axis = norm_axis(attrs["axis"], data.ndim)
    _, k, inner = split3(data.shape, axis)
    if not kernels("along_axis_gpu").scatter_axis_gpu(data, index, outputs[0], k, attrs["size"], inner, reqs[0]):
        raise _out_of_range("_scatter_axis", index, outputs[0], axis)


_INDEX_AXIS = Param("axis", "int", 0, "the axis that index addresses")
registry.register(OpDef(
    "_gather_axis", arguments=("data", "index"), params=(_INDEX_AXIS,),
    infer_shape=_gather_shape, infer_type=registry.first_type,
    compute={"cpu": _gather_compute, "gpu": widening(_gather_compute_gpu)},
    gradient=lambda F, attrs, inputs, outputs, ograds: [
        F._scatter_axis(ograds[0], inputs[1], axis=attrs["axis"],
                        size=inputs[0].shape[norm_axis(attrs["axis"], inputs[0].ndim)]), None],
    doc="out[..., j, ...] = data[..., index[..., j, ...], ...] along axis."))
registry.register(OpDef(
    "_scatter_axis", arguments=("data", "index"),
    params=(_INDEX_AXIS, Param("size", "int", doc="length of the output along axis")),
    infer_shape=_scatter_shape, infer_type=registry.first_type,
    compute={"cpu": _scatter_compute, "gpu": widening(_scatter_compute_gpu)},
    gradient=lambda F, attrs, inputs, outputs, ograds: [
        F._gather_axis(ograds[0], inputs[1], axis=attrs["axis"]), None],
    doc="Zeros with data added at index along axis (inverse of _gather_axis)."))
