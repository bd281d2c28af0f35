"""Reductions (sum, mean, max, norm, argmax, ...) and broadcasting, their inverse.

Axis reductions are one table row each: the NumPy reduction and the gradient rule. On a GPU they run on
kernels.elemwise_gpu's reductions (norm as its norm1/norm2 kinds), argmax/argmin on kernels.argext_gpu
and _fill_nan on kernels.unary_gpu.
"""
import math

import numpy as np

from . import _gpu, registry
from ._helpers import norm_axes, norm_axis, store
from ._nn_common import kernels, split3, widen, widening
from .binary import unbroadcast
from .registry import OpDef, Param
from ..kernels.common import REQ_ADD, REQ_NULL

__all__ = ["reduce_axes", "reduced_shape"]


def reduce_axes(shape, axis, exclude=False):
    """The sorted axes that reducing `shape` over `axis` (None, int or tuple) collapses.

    No axis (None or ()) means every axis, whatever `exclude` says, as in MXNet.
    """
    if axis is None or axis == ():
        return tuple(range(len(shape)))
    return norm_axes(axis, len(shape), exclude)


def reduced_shape(shape, axes, keepdims):
    """The output shape of a reduction; (1,) when nothing is left (legacy MXNet has no 0-d)."""
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes) or (1,)


class _Spread:
    """Spreads a reduction's outputs back over its input x, for gradient rules (registered ops)."""

    def __init__(self, F, x, axes):
        self.F, self.x, self.axes = F, x, axes
        self.kept = reduced_shape(x.shape, axes, True)
        self.count = math.prod(x.shape[a] for a in axes)

    def back(self, z):
        """A reduced array broadcast to x's shape."""
        if z.shape == self.x.shape:
            return z
        if z.shape != self.kept:
            z = self.F.reshape(z, shape=self.kept)
        return self.F.broadcast_like(z, self.x)

    def keep(self, op, z):
        """z (shaped like x) reduced by `op` over the same axes, broadcast back."""
        if not self.axes:  # an empty axis tuple would mean "all axes" to the op
            return z
        return self.back(getattr(self.F, op)(z, axis=self.axes, keepdims=True))


def _prod_rule(F, x, y, g, spread):
    """d prod / dx_i is the product of the other elements: y / x_i, except where x_i is 0.

    There it is the product of the non-zero rest if x_i is the only zero, else 0; dividing would
    give nan.
    """
    zero = F._equal_scalar(x, scalar=0.0)
    safe = x + zero
    others = spread.keep("prod", safe) * F._equal_scalar(spread.keep("sum", zero), scalar=1.0)
    return g * (y / safe * (1 - zero) + others * zero)


def _nanprod_rule(F, x, y, g, spread):
    # nanprod is prod reading NaN as 1, and NaN positions get no gradient.
    return _prod_rule(F, F._fill_nan(x, value=1.0), y, g, spread) * F.broadcast_equal(x, x)


def _argext_rule(F, x, y, g, spread):
    # Every element equal to the extreme gets the whole gradient (MXNet does not split ties).
    return g * F.broadcast_equal(x, y)


# name -> (NumPy reduction, aliases, gradient rule(F, x, y, g, spread) where y and g are the
# output and its gradient already spread over x's shape; y is None for rules not in _READS_OUTPUT)
_REDUCE = {
    "sum": (np.sum, ("sum_axis",), lambda F, x, y, g, spread: g),
    "mean": (np.mean, (), lambda F, x, y, g, spread: g / spread.count),
    "prod": (np.prod, (), _prod_rule),
    "max": (np.max, ("max_axis",), _argext_rule),
    "min": (np.min, ("min_axis",), _argext_rule),
    "nansum": (np.nansum, (), lambda F, x, y, g, spread: g * F.broadcast_equal(x, x)),
    "nanprod": (np.nanprod, (), _nanprod_rule),
}

_READS_OUTPUT = (_prod_rule, _nanprod_rule, _argext_rule)

_AXIS_DOC = ("axis or axes to reduce; None or () reduces every axis into shape (1,); "
             "negative values count from the end")
_KEEPDIMS = Param("keepdims", "bool", False, "keep reduced axes as dimensions of size one")
_REDUCE_PARAMS = (Param("axis", "axis", None, _AXIS_DOC), _KEEPDIMS,
                  Param("exclude", "bool", False, "reduce the axes NOT listed in axis instead"))


def _reduce_shape(name):
    def infer_shape(attrs, shapes):
        shape = shapes[0]
        axes = reduce_axes(shape, attrs["axis"], attrs["exclude"])
        if name in ("max", "min") and 0 in shape:
            raise ValueError(f"cannot take the {name} of an empty array of shape {shape}")
        return shapes, [reduced_shape(shape, axes, attrs["keepdims"])]
    return infer_shape


def _reduce_into(fn, x, axes, out, req):
    """out (req) = fn(x) over axes; floating-point writes go straight into out, without a copy."""
    kept = reduced_shape(x.shape, axes, True)
    if req != REQ_ADD and req != REQ_NULL and out.dtype.kind == "f" and out.flags.c_contiguous:
        fn(x, axis=axes, keepdims=True, out=out.reshape(kept))
    else:
        store(out, fn(x, axis=axes, keepdims=True).reshape(out.shape), req)


def _reduce_compute(fn):
    def compute(attrs, inputs, outputs, reqs):
        x = inputs[0]
        _reduce_into(fn, x, reduce_axes(x.shape, attrs["axis"], attrs["exclude"]), outputs[0],
                     reqs[0])
    return compute


def _reduce_gradient(rule):
    def gradient(F, attrs, inputs, outputs, ograds):
        x = inputs[0]
        spread = _Spread(F, x, reduce_axes(x.shape, attrs["axis"], attrs["exclude"]))
        y = spread.back(outputs[0]) if rule in _READS_OUTPUT else None
        return [rule(F, x, y, spread.back(ograds[0]), spread)]
    return gradient


for _name, (_fn, _aliases, _rule) in _REDUCE.items():
    registry.register(OpDef(
        _name, aliases=_aliases, params=_REDUCE_PARAMS, infer_shape=_reduce_shape(_name),
        compute={"cpu": _reduce_compute(_fn), "gpu": _gpu.reduction(_name)},
        gradient=_reduce_gradient(_rule),
        doc=f"Computes the {_name} of array elements over given axes."))


def _fill_nan_compute(attrs, inputs, outputs, reqs):
    x = inputs[0]
    store(outputs[0], np.where(np.isnan(x), x.dtype.type(attrs["value"]), x), reqs[0])


def _fill_nan_compute_gpu(attrs, inputs, outputs, reqs):
    kernels("unary_gpu").unary_param_gpu("_fill_nan", inputs[0], outputs[0], reqs[0], attrs["value"])


registry.register(OpDef(
    "_fill_nan", params=(Param("value", "float", 0.0, "replacement for NaN"),),
    infer_shape=lambda attrs, shapes: (shapes, [shapes[0]]),
    compute={"cpu": _fill_nan_compute, "gpu": widening(_fill_nan_compute_gpu)},
    gradient=lambda F, attrs, inputs, outputs, ograds: [
        ograds[0] * F.broadcast_equal(inputs[0], inputs[0])],
    doc="data with NaN replaced by value (used by nanprod's gradient)."))


# --- norm ----------------------------------------------------------------------------------------

_OUT_DTYPES = (None, "float16", "float32", "float64", "int32", "int64", "int8")


def _norm_shape(attrs, shapes):
    if attrs["ord"] not in (1, 2):
        raise ValueError(f"ord={attrs['ord']} is not supported; norm supports ord=1 and ord=2")
    axes = reduce_axes(shapes[0], attrs["axis"])
    return shapes, [reduced_shape(shapes[0], axes, attrs["keepdims"])]


def _norm_type(attrs, types):
    out = attrs["out_dtype"]
    return types, np.dtype(out) if out is not None else types[0]


def _l2(x, axis, keepdims, out=None):
    # float16 squares overflow early: accumulate them in float32.
    return np.sqrt(np.sum(np.square(x, dtype=widen(x.dtype)), axis=axis, keepdims=keepdims), out=out)


def _l1(x, axis, keepdims, out=None):
    return np.sum(np.abs(x), axis=axis, keepdims=keepdims, out=out)


def _norm_compute(attrs, inputs, outputs, reqs):
    x = inputs[0]
    _reduce_into(_l1 if attrs["ord"] == 1 else _l2, x, reduce_axes(x.shape, attrs["axis"]),
                 outputs[0], reqs[0])


def _norm_compute_gpu(attrs, inputs, outputs, reqs):
    x = inputs[0]
    kernels("elemwise_gpu").reduce_gpu(x, outputs[0], reduce_axes(x.shape, attrs["axis"]), f"norm{attrs['ord']}",
                                       reqs[0])


def _norm_gradient(F, attrs, inputs, outputs, ograds):
    x, y, g = inputs[0], outputs[0], ograds[0]
    if y.dtype != x.dtype:  # out_dtype: the gradient flows back in the input's type
        dtype = np.dtype(x.dtype).name
        y, g = F.Cast(y, dtype=dtype), F.Cast(g, dtype=dtype)
    spread = _Spread(F, x, reduce_axes(x.shape, attrs["axis"]))
    y, g = spread.back(y), spread.back(g)
    if attrs["ord"] == 1:
        return [g * F.sign(x)]
    # A zero norm has only zeros under it: give them gradient 0 rather than 0/0.
    return [g * x / (y + F._equal_scalar(y, scalar=0.0))]


registry.register(OpDef(
    "norm", params=(Param("ord", "int", 2, "order of the norm: 1 or 2"),
                    Param("axis", "axis", None, _AXIS_DOC),
                    Param("out_dtype", "dtype", None, "data type of the output",
                          choices=_OUT_DTYPES),
                    _KEEPDIMS),
    infer_shape=_norm_shape, infer_type=_norm_type,
    compute={"cpu": _norm_compute, "gpu": widening(_norm_compute_gpu)},
    gradient=_norm_gradient, doc="Computes the L1 or L2 norm of array elements over given axes."))


# --- argmax, argmin, argmax_channel --------------------------------------------------------------

def _search_shape(attrs, shapes):
    shape, axis = shapes[0], attrs["axis"]
    if 0 in shape:
        raise ValueError(f"cannot search an empty array of shape {shape}")
    if axis is None:
        return shapes, [(1,) * len(shape) if attrs["keepdims"] else (1,)]
    axis = norm_axis(axis, len(shape))
    return shapes, [reduced_shape(shape, (axis,), attrs["keepdims"])]


def _search_compute(fn):
    def compute(attrs, inputs, outputs, reqs):
        x, axis = inputs[0], attrs["axis"]
        # The index is returned in the input's dtype, as MXNet does (float32 in, float32 out).
        found = fn(x, axis=None) if axis is None else fn(x, axis=norm_axis(axis, x.ndim))
        store(outputs[0], np.reshape(found, outputs[0].shape), reqs[0])
    return compute


def _search_compute_gpu(is_max):
    def compute(attrs, inputs, outputs, reqs):
        x, axis, out = inputs[0], attrs["axis"], outputs[0]
        _, n, inner = (1, x.size, 1) if axis is None else split3(x.shape, norm_axis(axis, x.ndim))
        kernels("argext_gpu").arg_extreme_gpu(x.reshape(x.size), out.reshape(out.size), n, inner, is_max, reqs[0])
    return compute


_SEARCH_PARAMS = (Param("axis", "int", None, "axis to search; None searches the flattened array"),
                  _KEEPDIMS)
for _name, _fn, _what in (("argmax", np.argmax, "maximum"), ("argmin", np.argmin, "minimum")):
    registry.register(OpDef(
        _name, params=_SEARCH_PARAMS, infer_shape=_search_shape,
        compute={"cpu": _search_compute(_fn), "gpu": widening(_search_compute_gpu(_name == "argmax"))},
        gradient=registry.zero_gradients,  # MXNet's MakeZeroGradNodes: no head gradient needed
        doc=f"Returns indices of the {_what} values along an axis (first occurrence)."))
_CHANNEL = {"axis": 1, "keepdims": False}  # argmax_channel has no parameters: argmax over axis 1


def _on_channels(compute):
    return lambda attrs, *args: compute(_CHANNEL, *args)


registry.register(OpDef(
    "argmax_channel", infer_shape=lambda attrs, shapes: _search_shape(_CHANNEL, shapes),
    compute={"cpu": _on_channels(_search_compute(np.argmax)), "gpu": widening(_on_channels(_search_compute_gpu(True)))},
    doc="Returns the argmax along axis 1 (the channels) of the input array."))


# --- broadcast_to, broadcast_like, broadcast_axis ------------------------------------------------

def _broadcast_from(src, target):
    """Check that `src` broadcasts to `target` (same rank; 0 in target keeps src's size)."""
    if len(src) != len(target):
        raise ValueError(f"operand of shape {src} cannot be broadcast to {target}")
    out = tuple(s if t == 0 else t for s, t in zip(src, target))
    for s, t in zip(src, out):
        if s != t and s != 1:
            raise ValueError(f"array of shape {src} cannot be broadcast to {target}")
    return out


def _broadcast_to_shape(attrs, shapes):
    return shapes, [_broadcast_from(shapes[0], attrs["shape"])]


def _broadcast_like_shape(attrs, shapes):
    lhs, rhs = shapes
    lhs_axes, rhs_axes = attrs["lhs_axes"], attrs["rhs_axes"]
    if lhs_axes is None or rhs_axes is None:
        return shapes, [_broadcast_from(lhs, rhs)]
    if len(lhs_axes) != len(rhs_axes) or not lhs_axes:
        raise ValueError(f"lhs_axes {lhs_axes} and rhs_axes {rhs_axes} must be non-empty and of "
                         "equal length")
    out = list(lhs)
    for a, b in zip(lhs_axes, rhs_axes):
        a, b = norm_axis(a, len(lhs)), norm_axis(b, len(rhs))
        if lhs[a] != 1:
            raise ValueError(f"axis {a} of lhs {lhs} has size {lhs[a]}, not 1: cannot broadcast")
        out[a] = rhs[b]
    return shapes, [tuple(out)]


def _broadcast_axis_shape(attrs, shapes):
    axis, size = attrs["axis"], attrs["size"]
    shape = list(shapes[0])
    if len(axis) != len(size):
        raise ValueError(f"axis {axis} and size {size} must have equal lengths")
    for a, n in zip(axis, size):
        a = norm_axis(a, len(shape))
        if shape[a] != 1:
            raise ValueError(f"broadcast axis {a} of shape {shapes[0]} must have size 1")
        shape[a] = n
    return shapes, [tuple(shape)]


def _broadcast_compute(attrs, inputs, outputs, reqs):
    store(outputs[0], inputs[0], reqs[0])  # store broadcasts the input over the output


def _broadcast_gradient(F, attrs, inputs, outputs, ograds):
    grads = [unbroadcast(F, ograds[0], inputs[0].shape)]
    return grads + [F.zeros_like(x) for x in inputs[1:]]  # broadcast_like's rhs gives only a shape


_AXES_LIKE = "axes of {} to take part; None broadcasts whole shapes"
for _name, _params, _args, _infer, _aliases in (
        ("broadcast_to", (Param("shape", "shape", (), "target shape; 0 keeps the input's size"),),
         ("data",), _broadcast_to_shape, ()),
        ("broadcast_like", (Param("lhs_axes", "shape", None, _AXES_LIKE.format("lhs")),
                            Param("rhs_axes", "shape", None, _AXES_LIKE.format("rhs"))),
         ("lhs", "rhs"), _broadcast_like_shape, ()),
        ("broadcast_axis", (Param("axis", "shape", (), "axes to broadcast (each of size 1)"),
                            Param("size", "shape", (), "target size of each axis")),
         ("data",), _broadcast_axis_shape, ("broadcast_axes",))):
    registry.register(OpDef(
        _name, aliases=_aliases, params=_params, arguments=_args, infer_shape=_infer,
        infer_type=registry.first_type, compute={"cpu": _broadcast_compute, "gpu": _gpu.broadcast},
        gradient=_broadcast_gradient, doc="Broadcasts the input to a larger shape."))
