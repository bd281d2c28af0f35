"""Operators MXNet's tests and Gluon code use that belong to no larger family: add_n (ElementWiseSum),
hard_sigmoid, smooth_l1, moments, khatri_rao, ravel_multi_index / unravel_index, all_finite, multi_all_finite,
multi_sum_sq, and contrib's div_sqrt_dim, quadratic and arange_like.

NumPy on the host on the CPU; on a GPU, the CUDA kernels of ops/_misc_gpu.py (arange_like's values built on the host
from its attributes and copied over).
"""
import math

import numpy as np

from . import _misc_gpu, registry
from ._helpers import norm_axes, results_compute, store
from .registry import OpDef, Param

__all__ = []


def _register(name, compute, infer_shape, gradient=None, *, gpu, **kw):
    """An op computed by NumPy on the CPU (compute(attrs, *inputs) -> results) and by `gpu` on a GPU."""
    registry.register(OpDef(name, compute={"cpu": results_compute(compute), "gpu": gpu}, infer_shape=infer_shape,
                            gradient=gradient, **kw))


def _same_shape(attrs, shapes):
    return shapes, [tuple(shapes[0])]


def _arg_names(count_key):
    return lambda attrs: [f"arg{i}" for i in range(attrs[count_key])]


def _counted(count_key):
    """Shape check of a variadic op: as many inputs as attrs[count_key]."""
    def check(attrs, shapes):
        if attrs[count_key] < 1 or len(shapes) != attrs[count_key]:
            raise ValueError(f"{count_key}={attrs[count_key]} but {len(shapes)} arrays were given")
    return check


def _float32_out(attrs, in_types):
    return in_types, np.dtype(np.float32)


# --- add_n ---------------------------------------------------------------------------------------

def _add_n_shape(attrs, shapes):
    _counted("num_args")(attrs, shapes)
    first = tuple(shapes[0])
    if any(tuple(s) != first for s in shapes):
        raise ValueError(f"every input must have the same shape, got {[tuple(s) for s in shapes]}")
    return shapes, [first]


def _add_n(attrs, *arrays):
    total = arrays[0].copy()
    for a in arrays[1:]:
        total += a
    return total


_register("add_n", _add_n, _add_n_shape, lambda F, attrs, inputs, outputs, ograds: [ograds[0]] * len(inputs),
          gpu=_misc_gpu.add_n, aliases=("ElementWiseSum",), arguments=_arg_names("num_args"),
          key_var_num_args="num_args",
          params=(Param("num_args", "int", doc="number of input arrays"),),
          doc="Sum of any number of arrays of one shape, element by element.")


# --- element-wise functions with parameters ------------------------------------------------------

def _hard_sigmoid_grad(F, attrs, inputs, outputs, ograds):
    y = outputs[0]
    inside = F._greater_scalar(y, scalar=0.0) * F._lesser_scalar(y, scalar=1.0)
    return [ograds[0] * inside * attrs["alpha"]]


_register("hard_sigmoid", lambda attrs, x: np.clip(attrs["alpha"] * x + attrs["beta"], 0, 1), _same_shape,
          _hard_sigmoid_grad, gpu=_misc_gpu.hard_sigmoid,
          params=(Param("alpha", "float", 0.2, "slope"), Param("beta", "float", 0.5, "bias")),
          doc="clip(alpha * x + beta, 0, 1), element by element.")


def _smooth_l1(attrs, x):
    s2 = attrs["scalar"] ** 2
    return np.where(np.abs(x) < 1 / s2, 0.5 * s2 * x * x, np.abs(x) - 0.5 / s2)


def _smooth_l1_grad(F, attrs, inputs, outputs, ograds):
    x, s2 = inputs[0], attrs["scalar"] ** 2
    inner = F._lesser_scalar(F.abs(x), scalar=1 / s2)
    return [ograds[0] * (inner * x * s2 + (1 - inner) * F.sign(x))]


_register("smooth_l1", _smooth_l1, _same_shape, _smooth_l1_grad, gpu=_misc_gpu.smooth_l1,
          params=(Param("scalar", "float", 1.0, "sigma: the quadratic part covers |x| < 1/sigma^2"),),
          doc="Smooth L1: (sigma x)^2 / 2 where |x| < 1/sigma^2, |x| - 0.5/sigma^2 elsewhere.")

_register("_contrib_div_sqrt_dim", lambda attrs, x: x / math.sqrt(x.shape[-1]), _same_shape,
          lambda F, attrs, inputs, outputs, ograds: [ograds[0] / math.sqrt(inputs[0].shape[-1])],
          gpu=_misc_gpu.div_sqrt_dim,
          doc="x divided by the square root of its last dimension.")
_register("_contrib_quadratic", lambda attrs, x: attrs["a"] * x * x + attrs["b"] * x + attrs["c"], _same_shape,
          lambda F, attrs, inputs, outputs, ograds: [ograds[0] * (2 * attrs["a"] * inputs[0] + attrs["b"])],
          gpu=_misc_gpu.quadratic,
          params=tuple(Param(k, "float", 0.0, f"coefficient {k} of a x^2 + b x + c") for k in "abc"),
          doc="a x^2 + b x + c, element by element.")


# --- moments -------------------------------------------------------------------------------------

def _moment_axes(attrs, ndim):
    if attrs["axes"] is not None and len(attrs["axes"]) == 0:
        raise ValueError("empty axes; pass every axis for global moments")
    return norm_axes(attrs["axes"], ndim)


def _moments_shape(attrs, shapes):
    shape = tuple(shapes[0])
    axes = _moment_axes(attrs, len(shape))
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
    # Reducing every axis without keepdims gives shape (1,), as MXNet 1.x's reductions do.
    out = kept if attrs["keepdims"] else tuple(d for i, d in enumerate(shape) if i not in axes) or (1,)
    return shapes, [out, out]


def _moments(attrs, x):
    axes = _moment_axes(attrs, x.ndim)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return mean, var


def _moments_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    axes = _moment_axes(attrs, x.ndim)
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    count = math.prod(x.shape[i] for i in axes)
    g_mean, g_var, mean = (F.reshape(a, shape=kept) for a in (ograds[0], ograds[1], outputs[0]))
    centred = F.broadcast_sub(x, mean)
    return [F.broadcast_add(F.broadcast_mul(centred, g_var) * (2.0 / count),
                            F.broadcast_mul(F.ones_like(x), g_mean) / count)]


_register("moments", _moments, _moments_shape, _moments_grad, gpu=_misc_gpu.moments, num_outputs=2,
          params=(Param("axes", "shape", None, "axes to compute the mean and variance over (None: all)"),
                  Param("keepdims", "bool", False, "keep the reduced axes with size 1")),
          doc="Mean and (population) variance of the data over `axes`.")


# --- khatri_rao ----------------------------------------------------------------------------------

def _khatri_rao_shape(attrs, shapes):
    _counted("num_args")(attrs, shapes)
    if any(len(s) != 2 for s in shapes) or len({s[1] for s in shapes}) != 1:
        raise ValueError(f"needs matrices with the same number of columns, got {[tuple(s) for s in shapes]}")
    return shapes, [(math.prod(s[0] for s in shapes), shapes[0][1])]


def _khatri_rao(attrs, *matrices):
    out = matrices[0]
    for m in matrices[1:]:  # column-wise Kronecker product: row i_a * rows(m) + i_m is a[i_a] * m[i_m]
        out = (out[:, None, :] * m[None, :, :]).reshape(-1, out.shape[1])
    return out


_register("khatri_rao", _khatri_rao, _khatri_rao_shape, gpu=_misc_gpu.khatri_rao, arguments=_arg_names("num_args"),
          key_var_num_args="num_args", params=(Param("num_args", "int", doc="number of input matrices"),),
          doc="Column-wise Kronecker (Khatri-Rao) product of matrices with the same number of columns.")


# --- ravel_multi_index / unravel_index -----------------------------------------------------------

def _ravel_shape(attrs, shapes):
    data, shape = tuple(shapes[0]), attrs["shape"]
    if len(data) != 2 or data[0] != len(shape):
        raise ValueError(f"data {data} must be ({len(shape)}, N) for shape {shape}")
    return shapes, [data[1:]]


def _ravel(attrs, data):
    strides = np.array([math.prod(attrs["shape"][i + 1:]) for i in range(len(attrs["shape"]))], np.int64)
    return (data.astype(np.int64) * strides[:, None]).sum(axis=0)


def _unravel_shape(attrs, shapes):
    data = tuple(shapes[0])
    if len(data) != 1:
        raise ValueError(f"data must be a vector of flat indices, got shape {data}")
    return shapes, [(len(attrs["shape"]),) + data]


def _unravel(attrs, data):
    rest, rows = data.astype(np.int64), []
    for size in reversed(attrs["shape"][1:]):
        rows.append(rest % size)
        rest = rest // size
    # As MXNet, the first coordinate takes what is left, so the leading size may be -1 (unknown).
    return np.stack([rest] + rows[::-1])


_SHAPE = Param("shape", "shape", None, "shape of the array the indices address")
_register("_ravel_multi_index", _ravel, _ravel_shape, gpu=_misc_gpu.ravel, aliases=("ravel_multi_index",),
          params=(_SHAPE,),
          doc="Flat indices of an (ndim, N) array of multi-indices into an array of `shape`.")
_register("_unravel_index", _unravel, _unravel_shape, gpu=_misc_gpu.unravel, aliases=("unravel_index",),
          params=(_SHAPE,),
          doc="(ndim, N) multi-indices of N flat indices into an array of `shape`.")


# --- all_finite, multi_all_finite, multi_sum_sq --------------------------------------------------

def _finite(attrs, *arrays):
    return np.float32(all(np.isfinite(a).all() for a in arrays))


def _finite_compute(attrs, inputs, outputs, reqs):
    """1.0 when every input is finite, else 0; without init_output a finite result leaves the output as it
    was (MXNet only ever writes the 0)."""
    finite = _finite(attrs, *inputs)
    if attrs["init_output"] or not finite:
        store(outputs[0], finite, reqs[0])


def _finite_shape(count_key):
    def infer_shape(attrs, shapes):
        if count_key:
            _counted(count_key)(attrs, shapes)
        return shapes, [(1,)]
    return infer_shape


_INIT_OUTPUT = Param("init_output", "bool", True, "write 1 first (otherwise only a 0 is ever written)")
registry.register(OpDef(
    "all_finite", compute={"cpu": _finite_compute, "gpu": _misc_gpu.finite}, infer_shape=_finite_shape(None),
    infer_type=_float32_out, params=(_INIT_OUTPUT,),
    doc="[1.0] when every element of data is finite, else [0.0] (float32)."))
registry.register(OpDef(
    "multi_all_finite", compute={"cpu": _finite_compute, "gpu": _misc_gpu.finite},
    infer_shape=_finite_shape("num_arrays"), infer_type=_float32_out, arguments=_arg_names("num_arrays"),
    key_var_num_args="num_arrays",
    params=(Param("num_arrays", "int", 1, "number of arrays"), _INIT_OUTPUT),
    doc="[1.0] when every element of every array is finite, else [0.0] (float32)."))


def _sum_sq_shape(attrs, shapes):
    _counted("num_arrays")(attrs, shapes)
    return shapes, [(attrs["num_arrays"],)]


_register("multi_sum_sq", lambda attrs, *arrays: np.array([np.sum(np.square(a, dtype=np.float64)) for a in arrays]),
          _sum_sq_shape, gpu=_misc_gpu.sum_sq, infer_type=_float32_out, arguments=_arg_names("num_arrays"),
          key_var_num_args="num_arrays",
          params=(Param("num_arrays", "int", doc="number of input arrays"),),
          doc="The sum of squares of each array (float32), as one vector.")


# --- contrib.arange_like -------------------------------------------------------------------------

def _arange_like_shape(attrs, shapes):
    shape = tuple(shapes[0])
    if attrs["axis"] is None:
        return shapes, [shape]
    return shapes, [(shape[norm_axes(attrs["axis"], len(shape))[0]],)]


def _arange_like(attrs, data):
    size = math.prod(_arange_like_shape(attrs, [data.shape])[1][0])
    return attrs["start"] + (np.arange(size) // attrs["repeat"]) * attrs["step"]


_register("_contrib_arange_like", _arange_like, _arange_like_shape,
          lambda F, attrs, inputs, outputs, ograds: [F.zeros_like(inputs[0])], gpu=_misc_gpu.from_host(_arange_like),
          grad_reads=((), ()),
          params=(Param("start", "float", 0.0, "first value"), Param("step", "float", 1.0, "spacing of the values"),
                  Param("repeat", "int", 1, "times each value repeats"),
                  Param("ctx", "str", "", "context (the input's context is used)"),
                  Param("axis", "int", None, "take the length of this axis (None: the whole shape)")),
          doc="start, start + step, ... shaped like data (or as long as data's `axis`).")
