"""Selecting parts of arrays: slice, slice_axis, slice_like, take, pick, batch_take, one_hot, where,
gather_nd, scatter_nd, and the hidden scatter-add ops their gradients use. On the GPU, slices are strided
copies; index inputs are validated and normalised on the host by the CPU path's code, then drive CUDA gathers
and scatters.
"""
import ast

import numpy as np

from . import registry
from ._gpu_layout import kernels, put_rows, scatter_add, to_device, to_host, view_computes, zero_unless_add
from ._helpers import norm_axis, store
from ._nn_common import split3
from .partial_shape import merge, to_user
from .registry import REQUIRED, OpDef, Param, first_type
from ..base import parse_int


def _opt_ints(value):
    """MXNet's Tuple<optional<int>>: (1, None), [1, None], 1 or the JSON string '(1, None)'."""
    if isinstance(value, str):
        value = ast.literal_eval(value.strip())
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),)
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"expected a tuple of ints or None, got {value!r}")
    return tuple(None if v is None else parse_int(v) for v in value)


class _OptIntTuple(Param):
    """A Param holding a tuple whose entries are ints or None (slice's begin, end, step)."""
    __slots__ = ()

    def __init__(self, name, default=REQUIRED, doc=""):
        super().__init__(name, "any", default, doc)
        self._parse = _opt_ints


def _compute(fn):
    """Compute for a one-output op whose output is fn(attrs, *inputs)."""
    def compute(attrs, inputs, outputs, reqs):
        store(outputs[0], fn(attrs, *inputs), reqs[0])
    compute.__name__ = fn.__name__
    return compute


def _computes(fn, gpu):
    return {"cpu": _compute(fn), "gpu": gpu}


def _register(name, infer, compute, gradient, doc, **kw):
    registry.register(OpDef(name, infer_shape=infer, compute=compute, gradient=gradient, doc=doc, **kw))


def _scatter_back(key_of):
    """Gradient of an op returning x[key]: the head gradient added into zeros at `key`."""
    def gradient(F, attrs, inputs, outputs, ograds):
        shape = inputs[0].shape
        return [F._index_scatter_add(ograds[0], shape=shape, key=key_of(attrs, shape, inputs))] + \
            [None] * (len(inputs) - 1)
    return gradient


# --- slice, slice_axis, slice_like -------------------------------------------------------------

def _slice_ranges(attrs, shape):
    """MXNet's GetIndexRange: (begin, end, step) per axis, normalised; end -1 means 'before 0'."""
    begin, end, step = attrs["begin"], attrs["end"], attrs["step"]
    if len(begin) != len(end) or len(begin) > len(shape) or (step and len(step) != len(begin)):
        raise ValueError(f"begin {begin}, end {end} and step {step} must have one length, at most "
                         f"the {len(shape)} dimensions of the input")
    ranges = []
    for i, n in enumerate(shape):
        if i >= len(begin):
            ranges.append((0, n, 1))
            continue
        s = step[i] if step and step[i] is not None else 1
        if s == 0:
            raise ValueError(f"step[{i}] cannot be 0")
        b, e = begin[i], end[i]
        b = (n - 1 if s < 0 else 0) if b is None else b + n if b < 0 else b
        e = (-1 if s < 0 else n) if e is None else e + n if e < 0 else e
        b = 0 if b < 0 and s > 0 else n - 1 if b > n - 1 and s < 0 else b
        e = min(max(e, -1), n)
        if not 0 <= b < n or (e <= b if s > 0 else e >= b):
            raise ValueError(f"slice [{begin[i]}:{end[i]}:{s}] selects nothing from axis {i} of "
                             f"size {n}")
        ranges.append((b, e, s))
    return ranges


def _slice_key(attrs, shape, inputs=None):
    return tuple(slice(b, None if e < 0 else e, s) for b, e, s in _slice_ranges(attrs, shape))


def _slice_infer(attrs, shapes):
    return shapes, [tuple(len(range(b, e, s)) for b, e, s in _slice_ranges(attrs, shapes[0]))]


def _slice_axis_range(attrs, shape):
    axis = norm_axis(attrs["axis"], len(shape))
    n, begin, end = shape[axis], attrs["begin"], attrs["end"]
    b = begin + n if begin < 0 else begin
    e = n if end is None else end + n if end < 0 else end
    if not 0 <= b < e <= n:
        raise ValueError(f"begin={begin}, end={end} is not a non-empty range of axis {axis} of "
                         f"size {n}")
    return axis, b, e


def _slice_axis_key(attrs, shape, inputs=None):
    axis, b, e = _slice_axis_range(attrs, shape)
    return (slice(None),) * axis + (slice(b, e),)


def _slice_axis_infer(attrs, shapes):
    axis, b, e = _slice_axis_range(attrs, shapes[0])
    return shapes, [shapes[0][:axis] + (e - b,) + shapes[0][axis + 1:]]


def _like_axes(attrs, shape, like):
    if not attrs["axes"]:
        if len(shape) != len(like):
            raise ValueError(f"slicing every axis of shape {shape} like {like} needs equal ndim")
        return range(len(shape))
    axes = [norm_axis(a, len(shape)) for a in attrs["axes"]]
    for a in axes:
        if a >= len(like):
            raise ValueError(f"axis {a} exceeds the dimensions of shape_like {like}")
    return axes


def _slice_like_infer(attrs, shapes):
    shape, like = shapes
    out = list(shape)
    for a in _like_axes(attrs, shape, like):
        if like[a] > shape[a]:
            raise ValueError(f"axis {a} of shape_like {like} exceeds that of the input {shape}")
        out[a] = like[a]
    return shapes, [tuple(out)]


def _slice_like_key(attrs, shape, inputs):
    out = _slice_like_infer(attrs, [shape, inputs[1].shape])[1][0]
    return tuple(slice(0, d) for d in out)


_register("slice", _slice_infer, view_computes(lambda attrs, x: x[_slice_key(attrs, x.shape)]),
          _scatter_back(_slice_key), "Slices a region of the array (begin, end, step per axis).",
          params=(_OptIntTuple("begin", doc="start per axis; None is the start for the step's "
                               "direction"),
                  _OptIntTuple("end", doc="stop per axis (exclusive); None runs to the edge"),
                  _OptIntTuple("step", (), "step per axis; None or missing is 1")),
          aliases=("crop",))
_register("slice_axis", _slice_axis_infer,
          view_computes(lambda attrs, x: x[_slice_axis_key(attrs, x.shape)]),
          _scatter_back(_slice_axis_key), "Slices along a given axis.",
          params=(Param("axis", "int", doc="axis to slice; negative counts from the end"),
                  Param("begin", "int", doc="start index; negative counts from the end"),
                  Param("end", "int", REQUIRED, "stop index (exclusive); None is the axis size",
                        optional=True)))
_register("slice_like", _slice_like_infer,
          view_computes(lambda attrs, x, like: x[_slice_like_key(attrs, x.shape, (x, like))]),
          _scatter_back(_slice_like_key),
          "Slices data from the start to the size of shape_like, on `axes` or on every axis.",
          params=(Param("axes", "shape", (), "axes to slice; empty slices every axis"),),
          arguments=("data", "shape_like"), infer_type=first_type)


# --- take, pick, batch_take --------------------------------------------------------------------

def _norm_index(index, n, mode, axis):
    """Integer positions from index values: truncated like MXNet's cast, then clipped or wrapped."""
    j = index.astype(np.int64)
    if mode == "wrap":
        return np.mod(j, n)
    if mode == "raise":
        bad = (j < 0) | (j >= n)
        if bad.any():
            raise IndexError(f"index {int(j[bad][0])} is out of bounds for axis {axis} with "
                             f"size {n}")
        return j
    return np.clip(j, 0, n - 1)


def _take_infer(attrs, shapes):
    a, idx = shapes
    axis = norm_axis(attrs["axis"], len(a))
    return shapes, [a[:axis] + idx + a[axis + 1:]]


def _take_positions(attrs, shape, index):
    """(axis, positions along it) for take on data of `shape`."""
    axis = norm_axis(attrs["axis"], len(shape))
    return axis, _norm_index(index, shape[axis], attrs["mode"], axis)


def _take(attrs, a, index):
    axis, pos = _take_positions(attrs, a.shape, index)
    return np.take(a, pos, axis)


def _take_gpu(attrs, inputs, outputs, reqs):
    a, index = inputs
    axis, pos = _take_positions(attrs, a.shape, to_host(index))
    _, n, inner = split3(a.shape, axis)
    kernels("gather_gpu").take_gpu(a, to_device(pos), outputs[0], n, inner, reqs[0])


def _take_back_infer(attrs, shapes):
    shape = tuple(attrs["shape"])
    expected = _take_infer(attrs, [shape, shapes[1]])[1][0]
    if shapes[0] != expected:
        raise ValueError(f"head gradient of shape {shapes[0]} is not take's output {expected}")
    return shapes, [shape]


def _take_back(attrs, grad, index):
    shape = tuple(attrs["shape"])
    axis, pos = _take_positions(attrs, shape, index)
    out = np.zeros(shape, grad.dtype)
    np.add.at(out, (slice(None),) * axis + (pos,), grad)
    return out


def _take_back_gpu(attrs, inputs, outputs, reqs):
    grad, index = inputs
    shape = tuple(attrs["shape"])
    axis, pos = _take_positions(attrs, shape, to_host(index))
    _, n, inner = split3(shape, axis)
    scatter_add(grad, pos.ravel(), n, outputs[0], inner, reqs[0])


_TAKE = (Param("axis", "int", 0, "axis to take along; negative counts from the end"),
         Param("mode", "str", "clip", "out-of-range indices: clip, wrap, or raise an error",
               choices=("clip", "wrap", "raise")))
_register("take", _take_infer, _computes(_take, _take_gpu),
          lambda F, attrs, inputs, outputs, ograds: [
              F._backward_take(ograds[0], inputs[1], shape=inputs[0].shape, **attrs), None],
          "Takes elements from an array along an axis at the given indices.",
          params=_TAKE, arguments=("a", "indices"), infer_type=first_type)
_register("_backward_take", _take_back_infer, _computes(_take_back, _take_back_gpu),
          lambda F, attrs, inputs, outputs, ograds: [
              F.take(ograds[0], inputs[1], axis=attrs["axis"], mode=attrs["mode"]), None],
          "take's gradient: the head gradient added at the taken positions of zeros of `shape`.",
          params=_TAKE + (Param("shape", "shape", doc="shape of take's input"),),
          arguments=("ograd", "indices"), infer_type=first_type)


def _pick_shapes(attrs, shape):
    """(axis, index shape with keepdims, index shape without) for pick on data of `shape`."""
    if attrs["axis"] is None:
        raise ValueError("axis=None is not supported by pick; give an axis")
    axis = norm_axis(attrs["axis"], len(shape))
    keep = shape[:axis] + (1,) + shape[axis + 1:]
    return axis, keep, (shape[:axis] + shape[axis + 1:]) or (1,)


def _pick_infer(attrs, shapes, out_shapes=None):
    """On partial shapes (MXNet's PickOpShape): the data's rank must be known; the index has the data's shape
    without the axis (or with it kept as 1), and so has the output."""
    shape, index = shapes
    if shape is None:
        return shapes, [None]
    shape = tuple(shape)
    _, keep, reduced = _pick_shapes(attrs, shape)
    kept = index is not None and len(index) == len(keep) and len(keep) != len(reduced)  # keepdims-shaped index
    try:
        index = merge(index, keep if kept else reduced)
    except ValueError:
        raise ValueError(f"index of shape {to_user(index)} must have shape {to_user(reduced)} or {to_user(keep)} "
                         f"to pick from data of shape {to_user(shape)}") from None
    return [shape, index], [keep if attrs["keepdims"] else reduced]


def _pick_positions(attrs, shape, index):
    """(axis, keepdims shape, positions along the axis in that shape)."""
    axis, keep, _ = _pick_shapes(attrs, shape)
    return axis, keep, _norm_index(index, shape[axis], attrs["mode"], axis).reshape(keep)


def _pick(attrs, x, index):
    axis, _, reduced = _pick_shapes(attrs, x.shape)
    picked = np.take_along_axis(x, _pick_positions(attrs, x.shape, index)[2], axis)
    return picked if attrs["keepdims"] else picked.reshape(reduced)


def _pick_gpu(attrs, inputs, outputs, reqs):
    x, index = inputs
    axis, _, pos = _pick_positions(attrs, x.shape, to_host(index))
    _, n, inner = split3(x.shape, axis)
    kernels("gather_gpu").pick_gpu(x, to_device(pos), outputs[0], n, inner, reqs[0])


def _pick_back_infer(attrs, shapes):
    shape = tuple(attrs["shape"])
    expected = _pick_infer(attrs, [shape, shapes[1]])[1][0]
    if shapes[0] != expected:
        raise ValueError(f"head gradient of shape {shapes[0]} is not pick's output {expected}")
    return shapes, [shape]


def _pick_back(attrs, grad, index):
    shape = tuple(attrs["shape"])
    axis, keep, j = _pick_positions(attrs, shape, index)
    out = np.zeros(shape, grad.dtype)
    np.put_along_axis(out, j, grad.reshape(keep), axis)  # each picked position is distinct
    return out


def _pick_back_gpu(attrs, inputs, outputs, reqs):
    grad, index = inputs
    shape = tuple(attrs["shape"])
    axis, _, pos = _pick_positions(attrs, shape, to_host(index))
    _, n, inner = split3(shape, axis)
    kernels("gather_gpu").unpick_gpu(grad, to_device(pos), outputs[0], n, inner, reqs[0])


_PICK = (Param("axis", "int", -1, "axis to pick along; None is not supported", optional=True),
         Param("keepdims", "bool", False, "keep the picked axis with size 1"),
         Param("mode", "str", "clip", "out-of-range indices: clip or wrap",
               choices=("clip", "wrap")))
_register("pick", _pick_infer, _computes(_pick, _pick_gpu),
          lambda F, attrs, inputs, outputs, ograds: [
              F._backward_pick(ograds[0], inputs[1], shape=inputs[0].shape, **attrs), None],
          "Picks one element per position along an axis, at the given indices.",
          params=_PICK, arguments=("data", "index"), infer_type=first_type, aliases=("choose_element_0index",),
          partial_shapes=True)
_register("_backward_pick", _pick_back_infer, _computes(_pick_back, _pick_back_gpu),
          lambda F, attrs, inputs, outputs, ograds: [
              F.pick(ograds[0], inputs[1], axis=attrs["axis"], keepdims=attrs["keepdims"],
                     mode=attrs["mode"]), None],
          "pick's gradient: the head gradient placed at the picked positions of zeros of `shape`.",
          params=_PICK + (Param("shape", "shape", doc="shape of pick's data"),),
          arguments=("ograd", "index"), infer_type=first_type)


def _batch_take_infer(attrs, shapes):
    a, idx = shapes
    if len(a) != 2 or int(np.prod(idx, dtype=np.int64)) != a[0]:
        raise ValueError(f"batch_take needs a 2-D array and one index per row, got shapes {a} "
                         f"and {idx}")
    return shapes, [idx]


def _batch_take_type(attrs, types):
    if np.dtype(types[1]) != np.int32:
        raise ValueError(f"batch_take indices must be int32, got {np.dtype(types[1]).name}")
    return types, types[0]


def _batch_take_columns(shape, idx):
    return np.clip(idx.reshape(-1), 0, shape[1] - 1)


def _batch_take_gpu(attrs, inputs, outputs, reqs):
    a, idx = inputs
    kernels("gather_gpu").pick_gpu(a, to_device(_batch_take_columns(a.shape, to_host(idx))), outputs[0],
                                   a.shape[1], 1, reqs[0])


_register("batch_take", _batch_take_infer,
          _computes(lambda attrs, a, idx: a[np.arange(a.shape[0]), _batch_take_columns(a.shape, idx)]
                    .reshape(idx.shape), _batch_take_gpu),
          None, "Takes a[i, indices[i]] for each row i, clipping out-of-range indices (deprecated; "
          "use pick).", arguments=("a", "indices"), infer_type=_batch_take_type)


# --- one_hot and where -------------------------------------------------------------------------

def _one_hot_infer(attrs, shapes):
    if attrs["depth"] < 0:  # depth 0 gives an empty last axis, as in MXNet 1.9.1
        raise ValueError(f"depth must be a non-negative integer, got {attrs['depth']}")
    return shapes, [shapes[0] + (attrs["depth"],)]


def _one_hot(attrs, indices):
    depth, j = attrs["depth"], indices.astype(np.int64)[..., None]
    # indices outside [0, depth) give a row of off_value only
    return np.where(j == np.arange(depth), attrs["on_value"], attrs["off_value"])


def _one_hot_gpu(attrs, inputs, outputs, reqs):
    positions = to_host(inputs[0]).astype(np.int64)  # truncated as on the CPU
    kernels("select_gpu").one_hot_gpu(to_device(positions), outputs[0], attrs["depth"], attrs["on_value"],
                                      attrs["off_value"], reqs[0])


_register("one_hot", _one_hot_infer, _computes(_one_hot, _one_hot_gpu), None,
          "One-hot encoding: on_value at each index along a new last axis, off_value elsewhere.",
          params=(Param("depth", "int", doc="size of the one-hot dimension"),
                  Param("on_value", "float", 1.0, "value at the indexed positions"),
                  Param("off_value", "float", 0.0, "value elsewhere"),
                  Param("dtype", "dtype", "float32", "output data type")),
          arguments=("indices",),
          infer_type=lambda attrs, types: (types, np.dtype(attrs["dtype"])))


def _where_infer(attrs, shapes):
    cond, x, y = shapes
    if x != y:
        raise ValueError(f"x and y must have one shape, got {x} and {y}")
    if cond != x and not (len(cond) == 1 and cond[0] == x[0]):
        raise ValueError(f"condition of shape {cond} must have the shape of x {x} or be 1-D of "
                         f"length {x[0]}")
    return shapes, [x]


def _where_type(attrs, types):
    if types[1] != types[2]:
        raise ValueError(f"x and y must share a dtype, got {np.dtype(types[1]).name} and "
                         f"{np.dtype(types[2]).name}")
    return types, types[1]


def _where(attrs, cond, x, y):
    # a 1-D condition selects whole rows of x and y
    return np.where((cond != 0).reshape(cond.shape + (1,) * (x.ndim - cond.ndim)), x, y)


def _where_gpu(attrs, inputs, outputs, reqs):
    kernels("select_gpu").where_gpu(*inputs, outputs[0], reqs[0])


def _where_grad(F, attrs, inputs, outputs, ograds):
    cond, zeros = inputs[0], F.zeros_like(ograds[0])
    return [None, F.where(cond, ograds[0], zeros), F.where(cond, zeros, ograds[0])]


_register("where", _where_infer, _computes(_where, _where_gpu), _where_grad,
          "Takes x where condition is non-zero and y elsewhere (a 1-D condition picks rows).",
          arguments=("condition", "x", "y"), infer_type=_where_type)


# --- gather_nd, scatter_nd, _backward_gather_nd --------------------------------------------------

def _nd_check(indices, shape, what):
    if len(indices) < 2:
        raise ValueError(f"{what} needs indices of at least 2 dimensions, got shape {indices}")
    if indices[0] > min(len(shape), 10):
        raise ValueError(f"indices of shape {indices} address {indices[0]} dimensions; at most "
                         f"{min(len(shape), 10)} of shape {shape} can be")
    return indices[1:] + shape[indices[0]:]


def _nd_key(indices, shape):
    """A NumPy index from gather_nd-style indices (M, ...) into `shape`; negatives wrap once."""
    j = indices.astype(np.int64)
    dims = np.array(shape[:len(j)], np.int64).reshape((-1,) + (1,) * (j.ndim - 1))
    j = np.where(j < 0, j + dims, j)
    bad = (j < 0) | (j >= dims)
    if bad.any():
        axis = int(np.nonzero(bad)[0][0])
        raise IndexError(f"index {int(indices[bad][0])} is out of bounds for axis {axis} with "
                         f"size {shape[axis]}")
    return tuple(j)


def _nd_rows(indices, shape):
    """(rows, n, inner): the positions `indices` (M, ...) address in `shape` viewed as (n, inner) with the
    M leading axes merged into n rows."""
    key = _nd_key(indices, shape)
    lead, rest = shape[:len(key)], shape[len(key):]
    rows = np.ravel_multi_index(key, lead).ravel()
    return rows, int(np.prod(lead, dtype=np.int64)), int(np.prod(rest, dtype=np.int64))


def _gather_nd_gpu(attrs, inputs, outputs, reqs):
    data, indices = inputs
    rows, n, inner = _nd_rows(to_host(indices), data.shape)
    kernels("gather_gpu").take_gpu(data, to_device(rows), outputs[0], n, inner, reqs[0])


def _gather_nd_infer(attrs, shapes):
    return shapes, [_nd_check(shapes[1], shapes[0], "gather_nd")]


def _scatter_infer(what):
    def infer(attrs, shapes):
        data, indices = shapes
        out = tuple(attrs["shape"])
        if _nd_check(indices, out, what) != data:
            raise ValueError(f"data of shape {data} and indices of shape {indices} do not fit "
                             f"output shape {out}")
        return shapes, [out]
    return infer


def _scatter(accumulate):
    def fn(attrs, data, indices):
        out = np.zeros(tuple(attrs["shape"]), data.dtype)
        key = _nd_key(indices, out.shape)
        if accumulate:
            np.add.at(out, key, data)
        else:
            out[key] = data  # MXNet leaves duplicates undefined; here the last write wins
        return out
    return fn


def _scatter_gpu(accumulate):
    def compute(attrs, inputs, outputs, reqs):
        data, indices = inputs
        out, req = outputs[0], reqs[0]
        rows, n, inner = _nd_rows(to_host(indices), out.shape)
        if accumulate:
            scatter_add(data, rows, n, out, inner, req)
        else:
            zero_unless_add(out, req)
            put_rows(data, np.arange(rows.size), out, rows, inner, req)
    return compute


def _gather_of_head(F, attrs, inputs, outputs, ograds):
    return [F.gather_nd(ograds[0], inputs[1]), None]


_ND_SHAPE = (Param("shape", "shape", doc="shape of the output"),)
_register("gather_nd", _gather_nd_infer,
          _computes(lambda attrs, data, indices: data[_nd_key(indices, data.shape)], _gather_nd_gpu),
          lambda F, attrs, inputs, outputs, ograds: [
              F._backward_gather_nd(ograds[0], inputs[1], shape=inputs[0].shape), None],
          "Gathers data[indices[0][i], ..., indices[M-1][i]] into shape indices.shape[1:] + "
          "data.shape[M:].", arguments=("data", "indices"), infer_type=first_type)
_register("scatter_nd", _scatter_infer("scatter_nd"), _computes(_scatter(False), _scatter_gpu(False)),
          _gather_of_head,
          "Scatters data into zeros of `shape` at indices (the inverse of gather_nd).",
          params=_ND_SHAPE, arguments=("data", "indices"), infer_type=first_type)
_register("_backward_gather_nd", _scatter_infer("_backward_gather_nd"),
          _computes(_scatter(True), _scatter_gpu(True)), _gather_of_head,
          "Like scatter_nd, but values at repeated indices are summed.",
          params=_ND_SHAPE, arguments=("data", "indices"), infer_type=first_type)
