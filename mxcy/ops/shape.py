"""Operators that rearrange one array: transpose, SwapAxis, expand_dims, squeeze, Flatten,
reshape_like, tile, repeat, reverse, depth_to_space, space_to_depth, shape_array, size_array, diag
and clip. Most are NumPy views of the input, copied on the GPU by one strided-copy kernel."""
import numpy as np

from . import _gpu, registry
from ._gpu_layout import copy, dense, kernels, probe, to_device, view_computes, window, zero_unless_add
from ._helpers import norm_axis, store
from ._nn_common import put
from .partial_shape import UNKNOWN, merge, to_user
from .registry import OpDef, Param, first_type, zero_gradients


def _unary(fn):
    """Compute for an op whose output is fn(attrs, x) of its single input."""
    def compute(attrs, inputs, outputs, reqs):
        store(outputs[0], fn(attrs, inputs[0]), reqs[0])
    compute.__name__ = fn.__name__
    return compute


def _relabel_computes(fn):
    """{"cpu", "gpu"} computes of an op whose output fn(attrs, x) is x with another shape: the same elements
    in C order, so the GPU copies them flat."""
    return {"cpu": _unary(fn), "gpu": _gpu.copy}


def _reshaped_by(infer):
    """fn(attrs, x) for an op that only relabels the shape: x reshaped as `infer` says."""
    return lambda attrs, x: x.reshape(infer(attrs, [x.shape])[1][0])


def _back_to_input_shape(F, attrs, inputs, outputs, ograds):
    """Gradient of an op that only relabels the shape: the head gradient reshaped back."""
    return [F.reshape(ograds[0], shape=inputs[0].shape)]


def _register(name, params, infer, compute, gradient, doc, **kw):
    registry.register(OpDef(name, params=params, infer_shape=infer, compute=compute, gradient=gradient,
                            doc=doc, **kw))


# --- transpose and SwapAxis -------------------------------------------------------------------

def _perm(attrs, ndim):
    axes = attrs["axes"]
    if not axes:
        return tuple(range(ndim - 1, -1, -1))
    if len(axes) != ndim:
        raise ValueError(f"axes {axes} must name each of the {ndim} dimensions once")
    perm = tuple(norm_axis(a, ndim) for a in axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(f"axes {axes} is not a permutation of the {ndim} dimensions")
    return perm


def _transpose_infer(attrs, shapes, out_shapes=None):
    """On partial shapes: the axes permute known and unknown dimensions alike, and a known output gives the data
    back through the inverse permutation."""
    shape, out = shapes[0], out_shapes[0] if out_shapes else None
    if shape is None:
        return shapes, [None]
    if len(shape) > 6:
        raise ValueError(f"transpose supports at most 6 dimensions, got shape {to_user(shape)}")
    perm = _perm(attrs, len(shape))
    if out is not None and len(out) == len(shape):
        back = [UNKNOWN] * len(shape)
        for dim, axis in zip(out, perm):
            back[axis] = dim
        shape = merge(shape, back, "data and output (permuted back)")
    return [tuple(shape)], [tuple(shape[a] for a in perm)]


def _transpose_grad(F, attrs, inputs, outputs, ograds):
    inverse = np.argsort(_perm(attrs, inputs[0].ndim))
    return [F.transpose(ograds[0], axes=tuple(int(a) for a in inverse))]


def _swap_dims(attrs, ndim):
    return norm_axis(attrs["dim1"], ndim), norm_axis(attrs["dim2"], ndim)


def _swap_infer(attrs, shapes):
    out = list(shapes[0])
    a, b = _swap_dims(attrs, len(out))
    out[a], out[b] = out[b], out[a]
    return shapes, [tuple(out)]


_register("transpose", (Param("axes", "shape", (), "target axis order; empty reverses the axes"),),
          _transpose_infer, view_computes(lambda attrs, x: np.transpose(x, _perm(attrs, x.ndim))),
          _transpose_grad, "Permutes the dimensions of an array.", partial_shapes=True)
_register("SwapAxis", (Param("dim1", "int", 0, "the first axis to be swapped"),
                       Param("dim2", "int", 0, "the second axis to be swapped")),
          _swap_infer, view_computes(lambda attrs, x: np.swapaxes(x, *_swap_dims(attrs, x.ndim))),
          lambda F, attrs, inputs, outputs, ograds: [
              F.SwapAxis(ograds[0], dim1=attrs["dim1"], dim2=attrs["dim2"])],
          "Interchanges two axes of an array.", aliases=("swapaxes",))


# --- expand_dims, squeeze, Flatten, reshape_like ----------------------------------------------

def _expand_infer(attrs, shapes):
    shape = shapes[0]
    axis = norm_axis(attrs["axis"], len(shape) + 1)
    return shapes, [shape[:axis] + (1,) + shape[axis:]]


def _squeeze_infer(attrs, shapes):
    shape, axis = shapes[0], attrs["axis"]
    if axis is None:
        drop = {i for i, d in enumerate(shape) if d == 1}
    else:
        axes = (axis,) if isinstance(axis, int) else axis
        drop = {norm_axis(a, len(shape)) for a in axes}
        if len(drop) != len(axes):
            raise ValueError(f"duplicate value in axis {axis}")
        wide = [a for a in sorted(drop) if shape[a] != 1]
        if wide:
            raise ValueError(f"cannot squeeze axis {wide[0]} of shape {shape}: its size is not 1")
    # MXNet keeps at least one dimension: squeezing (1, 1) gives (1,), not a scalar
    return shapes, [tuple(d for i, d in enumerate(shape) if i not in drop) or (1,)]


def _flatten_infer(attrs, shapes):
    shape = shapes[0]
    return shapes, [(shape[0], int(np.prod(shape[1:], dtype=np.int64)))]


def _like_range(begin, end, ndim, side):
    """MXNet's ReshapeLikeRangeCanonicalize: [begin, end) over `ndim` dims, negatives wrapped."""
    b = 0 if begin is None else begin + ndim if begin < 0 else begin
    e = ndim if end is None else end + ndim if end < 0 else end
    # a 0-d array (x[i, j]'s value before it becomes shape (1,)) is the one empty range
    if not (0 <= b < e <= ndim or b == e == ndim == 0):
        raise ValueError(f"invalid {side}_begin={begin}, {side}_end={end} for {ndim} dimensions")
    return b, e


def _reshape_like_infer(attrs, shapes):
    lhs, rhs = shapes
    lb, le = _like_range(attrs["lhs_begin"], attrs["lhs_end"], len(lhs), "lhs")
    rb, re = _like_range(attrs["rhs_begin"], attrs["rhs_end"], len(rhs), "rhs")
    out = lhs[:lb] + rhs[rb:re] + lhs[le:]
    if np.prod(out, dtype=np.int64) != np.prod(lhs, dtype=np.int64):
        raise ValueError(f"cannot reshape lhs of shape {lhs} to {out}: the sizes differ")
    return shapes, [out]


def _reshape_like_compute(attrs, inputs, outputs, reqs):
    store(outputs[0], inputs[0].reshape(outputs[0].shape), reqs[0])


_register("expand_dims", (Param("axis", "int", doc="position of the new axis in [-ndim-1, ndim]"),),
          _expand_infer, _relabel_computes(_reshaped_by(_expand_infer)),
          _back_to_input_shape, "Inserts a new axis of size 1 into the array shape.")
_register("squeeze", (Param("axis", "axis", None, "axes of size 1 to remove; None removes all"),),
          _squeeze_infer, _relabel_computes(_reshaped_by(_squeeze_infer)),
          _back_to_input_shape, "Removes single-dimensional entries from the shape of an array.")
_register("Flatten", (), _flatten_infer, _relabel_computes(_reshaped_by(_flatten_infer)),
          _back_to_input_shape, "Flattens the input into a 2-D array (d1, d2*...*dk).",
          aliases=("flatten",))
registry.register(OpDef(
    "reshape_like", arguments=("lhs", "rhs"),
    params=tuple(Param(n, "int", None, f"{n.replace('_', ' ')} of the dimensions to use; "
                       "negative values count from the end") for n in
                 ("lhs_begin", "lhs_end", "rhs_begin", "rhs_end")),
    infer_shape=_reshape_like_infer, infer_type=first_type,
    compute={"cpu": _reshape_like_compute, "gpu": _gpu.copy},
    gradient=lambda F, attrs, inputs, outputs, ograds: [
        F.reshape(ograds[0], shape=inputs[0].shape), None],
    doc="Reshapes lhs (or the dims [lhs_begin, lhs_end)) to the shape of rhs[rhs_begin:rhs_end]."))


# --- tile and repeat ----------------------------------------------------------------------------

def _tile_layout(attrs, shape):
    """The input shape and reps, both padded with leading 1s to the output's rank."""
    reps = tuple(attrs["reps"])
    if any(r < 1 for r in reps):
        raise ValueError(f"reps {reps} must be positive integers")
    n = max(len(shape), len(reps))
    return (1,) * (n - len(shape)) + tuple(shape), (1,) * (n - len(reps)) + reps


def _tile_split(attrs, shape):
    """(reps, dims) pairs (r0, d0, r1, d1, ...): the output's shape with each axis split into its copies."""
    padded, reps = _tile_layout(attrs, shape)
    return tuple(v for pair in zip(reps, padded) for v in pair)


def _tile_view(attrs, x):
    # x as (1, d0, 1, d1, ...) broadcast to the (reps, dims) pairs: in C order that is np.tile's output
    padded, _ = _tile_layout(attrs, x.shape)
    return np.broadcast_to(x.reshape(tuple(v for d in padded for v in (1, d))), _tile_split(attrs, x.shape))


def _tile_infer(attrs, shapes):
    padded, reps = _tile_layout(attrs, shapes[0])
    return shapes, [tuple(d * r for d, r in zip(padded, reps))]


def _tile_grad(F, attrs, inputs, outputs, ograds):
    # tile lays the copies out as (r0, d0, r1, d1, ...): sum the r axes away
    split = _tile_split(attrs, inputs[0].shape)
    summed = F.sum(F.reshape(ograds[0], shape=split), axis=tuple(range(0, len(split), 2)))
    return [F.reshape(summed, shape=inputs[0].shape)]


def _repeat_args(attrs, shape):
    repeats, axis = attrs["repeats"], attrs["axis"]
    if repeats < 1:
        raise ValueError(f"repeats must be positive, got {repeats}")
    return repeats, None if axis is None else norm_axis(axis, len(shape))


def _repeat_infer(attrs, shapes):
    shape = shapes[0]
    repeats, axis = _repeat_args(attrs, shape)
    if axis is None:
        return shapes, [(int(np.prod(shape, dtype=np.int64)) * repeats,)]
    return shapes, [shape[:axis] + (shape[axis] * repeats,) + shape[axis + 1:]]


def _repeat_split(attrs, shape):
    """(axis of the copies, the output's shape with the copies of each element as an axis of their own after
    the repeated one); axis=None repeats the flattened input."""
    repeats, axis = _repeat_args(attrs, shape)
    if axis is None:
        shape, axis = (int(np.prod(shape, dtype=np.int64)),), 0
    return axis + 1, tuple(shape[:axis + 1]) + (repeats,) + tuple(shape[axis + 1:])


def _repeat_view(attrs, x):
    # each element broadcast along the copies axis (stride 0): in C order that is np.repeat's output
    copies, split = _repeat_split(attrs, x.shape)
    return np.broadcast_to(np.expand_dims(x.reshape(split[:copies] + split[copies + 1:]), copies), split)


def _repeat_grad(F, attrs, inputs, outputs, ograds):
    copies, split = _repeat_split(attrs, inputs[0].shape)
    summed = F.sum(F.reshape(ograds[0], shape=split), axis=copies)
    return [F.reshape(summed, shape=inputs[0].shape)]


_register("tile", (Param("reps", "shape", doc="repetitions per axis, padded with leading 1s"),),
          _tile_infer, view_computes(_tile_view), _tile_grad,
          "Repeats the whole array multiple times.")
_register("repeat", (Param("repeats", "int", doc="number of repetitions of each element"),
                     Param("axis", "int", None, "axis to repeat along; None flattens first")),
          _repeat_infer, view_computes(_repeat_view),
          _repeat_grad, "Repeats elements of an array.")


# --- reverse, depth_to_space, space_to_depth ---------------------------------------------------

def _reverse_axes(attrs, ndim):
    axis = attrs["axis"]
    if axis is None:
        raise ValueError("axis is required")
    return [norm_axis(a, ndim) for a in ((axis,) if isinstance(axis, int) else axis)]


def _reverse_infer(attrs, shapes):
    _reverse_axes(attrs, len(shapes[0]))
    return shapes, [shapes[0]]


def _reverse(attrs, x):
    # one flip per listed axis, as MXNet's kernel does, so a repeated axis cancels itself
    for axis in _reverse_axes(attrs, x.ndim):
        x = np.flip(x, axis)
    return x


def _block(attrs, shape, name):
    block = attrs["block_size"]
    if block < 1:
        raise ValueError(f"block_size must be positive, got {block}")
    if len(shape) != 4:
        raise ValueError(f"{name} needs a 4-D (N, C, H, W) input, got shape {shape}")
    if 0 in shape:
        raise ValueError(f"{name} needs every dimension of its input non-zero, got shape {shape}")
    return block


def _d2s_infer(attrs, shapes):
    b = _block(attrs, shapes[0], "depth_to_space")
    n, c, h, w = shape = shapes[0]
    if c % (b * b):
        raise ValueError(f"depth {c} of shape {shape} is not a multiple of block_size^2 = {b * b}")
    return shapes, [(n, c // (b * b), h * b, w * b)]


def _s2d_infer(attrs, shapes):
    b = _block(attrs, shapes[0], "space_to_depth")
    n, c, h, w = shape = shapes[0]
    if h % b or w % b:
        raise ValueError(f"height and width of shape {shape} must be multiples of block_size {b}")
    return shapes, [(n, c * b * b, h // b, w // b)]


def _depth_to_space(attrs, x):
    # (n, c/b², h, b, w, b) in C order is the (n, c/b², h·b, w·b) output
    b = attrs["block_size"]
    n, c, h, w = x.shape
    return x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)


def _space_to_depth(attrs, x):
    # (n, b, b, c, h/b, w/b) in C order is the (n, c·b², h/b, w/b) output
    b = attrs["block_size"]
    n, c, h, w = x.shape
    return x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)


_BLOCK = (Param("block_size", "int", doc="side of the blocks moved between depth and space"),)
_register("reverse", (Param("axis", "axis", doc="the axis or axes to reverse"),),
          _reverse_infer, view_computes(_reverse),
          lambda F, attrs, inputs, outputs, ograds: [F.reverse(ograds[0], axis=attrs["axis"])],
          "Reverses the order of elements along the given axes.", aliases=("flip",))
_register("depth_to_space", _BLOCK, _d2s_infer, view_computes(_depth_to_space),
          lambda F, attrs, inputs, outputs, ograds: [
              F.space_to_depth(ograds[0], block_size=attrs["block_size"])],
          "Moves (N, C, H, W) depth data into blocks of spatial data (DCR order).")
_register("space_to_depth", _BLOCK, _s2d_infer, view_computes(_space_to_depth),
          lambda F, attrs, inputs, outputs, ograds: [
              F.depth_to_space(ograds[0], block_size=attrs["block_size"])],
          "Moves blocks of (N, C, H, W) spatial data into depth; the inverse of depth_to_space.")


# --- shape_array, size_array ---------------------------------------------------------------------

def _int64(attrs, types):
    return types, np.dtype(np.int64)


def _metadata_computes(fn):
    """{"cpu", "gpu"} computes of an op whose output fn(attrs, x) depends on x's shape only: the GPU copies
    it over from the host."""
    def gpu(attrs, inputs, outputs, reqs):
        put(outputs[0], to_device(fn(attrs, inputs[0]), outputs[0].dtype), reqs[0])
    return {"cpu": _unary(fn), "gpu": gpu}


_register("shape_array", (), lambda attrs, shapes: (shapes, [(len(shapes[0]),)]),
          _metadata_computes(lambda attrs, x: np.array(x.shape, np.int64)), zero_gradients,
          "Returns a 1-D int64 array holding the shape of data.", infer_type=_int64)
_register("size_array", (), lambda attrs, shapes: (shapes, [(1,)]),
          _metadata_computes(lambda attrs, x: np.array([x.size], np.int64)), zero_gradients,
          "Returns a 1-element int64 array holding the size of data.", infer_type=_int64)


# --- diag ----------------------------------------------------------------------------------------

def _diag_axes(attrs, ndim):
    a1, a2 = norm_axis(attrs["axis1"], ndim), norm_axis(attrs["axis2"], ndim)
    if a1 == a2:
        raise ValueError(f"axis1 and axis2 both refer to axis {a1}")
    return a1, a2


def _diag_infer(attrs, shapes):
    shape, k = shapes[0], attrs["k"]
    if len(shape) == 1:
        return shapes, [(shape[0] + abs(k),) * 2]
    a1, a2 = _diag_axes(attrs, len(shape))
    length = min(shape[a1] - max(-k, 0), shape[a2] - max(k, 0))
    if length < 1:
        raise ValueError(f"diagonal k={k} does not exist in axes ({a1}, {a2}) of shape {shape}")
    return shapes, [tuple(d for i, d in enumerate(shape) if i not in (a1, a2)) + (length,)]


def _diagonal(attrs, x):
    return np.diagonal(x, attrs["k"], *_diag_axes(attrs, x.ndim))


def _diag(attrs, x):
    return np.diag(x, attrs["k"]) if x.ndim == 1 else _diagonal(attrs, x)


_DIAGONAL = view_computes(_diagonal)


def _diag_gpu(attrs, inputs, outputs, reqs):
    x, out, req = inputs[0], outputs[0], reqs[0]
    if x.ndim > 1:
        _DIAGONAL["gpu"](attrs, inputs, outputs, reqs)
        return
    # a 1-D input goes into the k-th diagonal of zeros
    base = probe(out.shape)
    zero_unless_add(out, req)
    copy(x, dense(x.shape), out, window(np.diagonal(base, attrs["k"]), base), req)


def _diag_key(shape, k, a1, a2):
    """Index arrays with x[key] == np.diagonal(x, k, a1, a2) for x of `shape`, in that layout."""
    rest = [d for d in range(len(shape)) if d not in (a1, a2)]
    steps = np.arange(min(shape[a1] - max(-k, 0), shape[a2] - max(k, 0)))
    key = [None] * len(shape)
    for pos, d in enumerate(rest):  # open grid over the other axes, the diagonal axis last
        key[d] = np.arange(shape[d]).reshape([-1 if i == pos else 1 for i in range(len(rest) + 1)])
    key[a1], key[a2] = steps + max(-k, 0), steps + max(k, 0)
    return tuple(key)


def _diag_grad(F, attrs, inputs, outputs, ograds):
    shape, k = inputs[0].shape, attrs["k"]
    if len(shape) == 1:
        return [F.diag(ograds[0], k=k)]
    key = _diag_key(shape, k, *_diag_axes(attrs, len(shape)))
    return [F._index_scatter_add(ograds[0], shape=shape, key=key)]


_register("diag", (Param("k", "int", 0, "diagonal offset: > 0 above the main diagonal, < 0 below"),
                   Param("axis1", "int", 0, "first axis of the 2-D planes (input ndim >= 2)"),
                   Param("axis2", "int", 1, "second axis of the 2-D planes (input ndim >= 2)")),
          _diag_infer, {"cpu": _unary(_diag), "gpu": _diag_gpu}, _diag_grad,
          "Extracts a diagonal (input ndim >= 2) or builds a diagonal matrix (1-D input).")


# --- clip ----------------------------------------------------------------------------------------

def _clip(attrs, x):
    # MXNet tests a_max first, so a_min > a_max does not behave like np.clip
    lo, hi = attrs["a_min"], attrs["a_max"]
    return np.where(x > hi, hi, np.where(x < lo, lo, x))


def _clip_gpu(attrs, inputs, outputs, reqs):
    kernels("select_gpu").clip_gpu(inputs[0], outputs[0], attrs["a_min"], attrs["a_max"], reqs[0])


_register("clip", (Param("a_min", "float", doc="minimum value"),
                   Param("a_max", "float", doc="maximum value")),
          lambda attrs, shapes: (shapes, [shapes[0]]), {"cpu": _unary(_clip), "gpu": _clip_gpu},
          lambda F, attrs, inputs, outputs, ograds: [
              ograds[0] * ((inputs[0] >= attrs["a_min"]) * (inputs[0] <= attrs["a_max"]))],
          "Clips (limits) the values in an array to [a_min, a_max].")
