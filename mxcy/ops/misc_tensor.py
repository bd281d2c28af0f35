"""More standalone operators MXNet's tests use: reset_arrays, cumsum, histogram, amp_cast / amp_multicast,
fill_element_0index, and contrib's index_copy, isfinite / isinf / isnan and allclose.

cumsum (and its gradient, _backward_np_cumsum) runs on kernels/scan.py on the CPU and the GPU; the others on NumPy on
the host on the CPU and on the CUDA kernels of ops/_misc_gpu.py on a GPU (index_copy's and fill_element_0index's indices
checked on the host).
"""
import numpy as np

from ..error import MXNetValueError
from . import _misc_gpu, registry
from ._helpers import norm_axis, results_compute
from ._nn_common import kernel, kernel_compute, split3
from .registry import OpDef, Param, first_type

__all__ = ["histogram_args", "checked_indices"]


def _register(name, compute, infer_shape, gradient=None, *, gpu, **kw):
    """An op computed by NumPy on the CPU (compute(attrs, *inputs) -> results) and by `gpu` on a GPU."""
    registry.register(OpDef(name, compute={"cpu": results_compute(compute), "gpu": gpu}, infer_shape=infer_shape,
                            gradient=gradient, **kw))


def _numbered(prefix, count_key):
    return lambda attrs: [f"{prefix}{i}" for i in range(attrs[count_key])]


def _same_shape(attrs, shapes):
    return shapes, [tuple(shapes[0])]


# --- reset_arrays --------------------------------------------------------------------------------

def _reset_shape(attrs, shapes):
    if len(shapes) != attrs["num_arrays"]:
        raise ValueError(f"num_arrays={attrs['num_arrays']} but {len(shapes)} arrays were given")
    return shapes, []


def _reset(attrs, inputs, outputs, reqs):
    for a in inputs:
        a[...] = 0


registry.register(OpDef(
    "reset_arrays", compute={"cpu": _reset, "gpu": _misc_gpu.reset}, infer_shape=_reset_shape,
    infer_type=lambda attrs, types: (types, []),
    num_outputs=0, arguments=_numbered("array_", "num_arrays"), key_var_num_args="num_arrays",
    mutate_inputs=lambda attrs: tuple(range(attrs["num_arrays"])),
    params=(Param("num_arrays", "int", doc="number of input arrays"),),
    doc="Sets every input array to zero in place; no outputs."))


# --- cumsum --------------------------------------------------------------------------------------

def _cumsum_shape(attrs, shapes):
    shape = tuple(shapes[0])
    if attrs["axis"] is None:
        return shapes, [(int(np.prod(shape, dtype=np.int64)),)]
    norm_axis(attrs["axis"], len(shape))
    return shapes, [shape]


def _cumsum_type(attrs, types):
    if attrs["dtype"] is not None:
        return types, np.dtype(attrs["dtype"])
    return types, np.dtype(np.int64) if types[0] == np.bool_ else np.dtype(types[0])


def _scan(reverse):
    """The compute body of cumsum (reverse=False) and of its gradient, the cumsum from the end (reverse=True)."""
    def body(device, attrs, inputs, outputs, reqs):
        a, out, axis = inputs[0], outputs[0], attrs["axis"]
        if axis is None:
            a, axis = a.reshape(a.size), 0
        shape = split3(a.shape, norm_axis(axis, a.ndim))
        kernel("scan", "cumsum", device)(a.reshape(shape), out.reshape(shape), reverse, reqs[0])
    return body


def _scan_grad(backward_op):
    """Gradient of a scan: the scan the other way (backward_op names it) of the head gradient, in the input's shape."""
    def gradient(F, attrs, inputs, outputs, ograds):
        return [F.reshape_like(getattr(F, backward_op)(ograds[0], **attrs), inputs[0])]
    return gradient


_CUMSUM_PARAMS = (Param("axis", "int", None, "axis to sum along (None: the flattened array)", optional=True),
                  Param("dtype", "dtype", None, "type of the result (None: the input's; bool gives int64)",
                        optional=True))
registry.register(OpDef(
    "_np_cumsum", aliases=("cumsum",), arguments=("a",), compute=kernel_compute(_scan(False), (True,)),
    infer_shape=_cumsum_shape, infer_type=_cumsum_type, gradient=_scan_grad("_backward_np_cumsum"),
    grad_reads=((), ()), params=_CUMSUM_PARAMS, doc="Cumulative sum along an axis, or over the flattened array."))
registry.register(OpDef(
    "_backward_np_cumsum", arguments=("ograd",), compute=kernel_compute(_scan(True), (True,)),
    infer_shape=_cumsum_shape, infer_type=_cumsum_type, gradient=_scan_grad("_np_cumsum"), grad_reads=((), ()),
    params=_CUMSUM_PARAMS, doc="Gradient of cumsum: the cumulative sum from the end along the axis (the flattened "
                               "head gradient when axis is None)."))


# --- histogram -----------------------------------------------------------------------------------

def _histogram_shape(attrs, shapes):
    if attrs["bin_cnt"] is not None:
        if attrs["range"] is None or len(attrs["range"]) != 2 or attrs["range"][0] > attrs["range"][1]:
            raise ValueError(f"bin_cnt needs range=(low, high) with low <= high, got {attrs['range']}")
        if len(shapes) != 1:
            raise ValueError("with bin_cnt, give data only (no bins array)")
        return shapes, [(attrs["bin_cnt"],), (attrs["bin_cnt"] + 1,)]
    if attrs["range"] is not None:
        raise ValueError("range needs bin_cnt (with a bins array the edges are given)")
    if len(shapes) != 2 or len(shapes[1]) != 1 or shapes[1][0] < 2:
        raise ValueError(f"bins must be a vector of at least 2 edges, got {[tuple(s) for s in shapes[1:]]}")
    return shapes, [(shapes[1][0] - 1,), tuple(shapes[1])]


def _histogram(attrs, data, bins=None):
    """Counts of data in each bin (the last bin includes its right edge; values outside are dropped) and
    the bin edges, as NumPy's histogram."""
    if bins is None:
        low, high = attrs["range"]
        bins = low + np.arange(attrs["bin_cnt"] + 1) * ((high - low) / attrs["bin_cnt"])
    counts, _ = np.histogram(data, bins=bins.astype(np.float64))
    return counts, bins


def histogram_args(bins, value_range, array_type):
    """_histogram's arguments for MXNet's front end histogram(a, bins=10, range=None) of mx.nd and mx.sym:
    `bins` equal bins over the range, or the bin edges as an `array_type` (NDArray or Symbol)."""
    if isinstance(bins, array_type):
        return {"bins": bins}
    if isinstance(bins, (int, np.integer)):
        if value_range is None:
            raise MXNetValueError("histogram: range=(low, high) is needed with a number of bins")
        return {"bin_cnt": int(bins), "range": value_range}
    raise MXNetValueError(f"histogram: bins must be an int or an array of edges, got {type(bins).__name__}")


_register("_histogram", _histogram, _histogram_shape, gpu=_misc_gpu.histogram, num_outputs=2,
          arguments=lambda attrs: ["data"] if attrs["bin_cnt"] is not None else ["data", "bins"],
          infer_type=lambda attrs, types: (types, [np.dtype(np.int64), np.dtype(types[0])]),
          params=(Param("bin_cnt", "int", None, "number of equal bins over range", optional=True),
                  Param("range", "floats", None, "(low, high) of the equal bins", optional=True)),
          doc="Histogram of data: counts per bin (int64) and the bin edges.")


# --- amp_cast / amp_multicast --------------------------------------------------------------------

_AMP_FLOATS = (np.dtype(np.float16), np.dtype(np.float32))


def _amp_cast_type(attrs, types):
    return types, np.dtype(attrs["dtype"]) if np.dtype(types[0]) in _AMP_FLOATS else np.dtype(types[0])


def _cast_back(F, inputs, ograds):
    return [F.amp_cast(g, dtype=np.dtype(x.dtype).name) for x, g in zip(inputs, ograds)]


_register("amp_cast", lambda attrs, x: x, _same_shape,
          lambda F, attrs, inputs, outputs, ograds: _cast_back(F, inputs, ograds), gpu=_misc_gpu.amp_cast,
          infer_type=_amp_cast_type,
          grad_reads=((), ()), params=(Param("dtype", "dtype", doc="type float16/float32 inputs are cast to"),),
          doc="Casts float16/float32 data to dtype; other types pass through unchanged (AMP).")


def _multicast_shape(attrs, shapes):
    if len(shapes) != attrs["num_outputs"]:
        raise ValueError(f"num_outputs={attrs['num_outputs']} but {len(shapes)} arrays were given")
    return shapes, [tuple(s) for s in shapes]


def _multicast_type(attrs, types):
    types = [np.dtype(t) for t in types]
    if attrs["cast_narrow"]:
        target = np.dtype(np.float16) if np.dtype(np.float16) in types else np.dtype(np.float32)
    else:
        target = np.dtype(np.float32) if np.dtype(np.float32) in types else types[0]
    return types, [target if t in _AMP_FLOATS else t for t in types]


_register("amp_multicast", lambda attrs, *arrays: arrays, _multicast_shape,
          lambda F, attrs, inputs, outputs, ograds: _cast_back(F, inputs, ograds), gpu=_misc_gpu.amp_multicast,
          infer_type=_multicast_type,
          grad_reads=((), ()), num_outputs=lambda attrs: attrs["num_outputs"],
          arguments=_numbered("data_", "num_outputs"), key_var_num_args="num_outputs",
          params=(Param("num_outputs", "int", doc="number of input/output pairs"),
                  Param("cast_narrow", "bool", False, "cast to the narrowest float type instead of the widest")),
          doc="Casts float16/float32 inputs to their widest (or narrowest) float type; others unchanged (AMP).")


# --- fill_element_0index, contrib.index_copy -----------------------------------------------------

def _fill_element_shape(attrs, shapes):
    lhs, mhs, rhs = (tuple(s) for s in shapes)
    if len(lhs) != 2 or mhs != (lhs[0],) or rhs != (lhs[0],):
        raise ValueError(f"needs lhs (n, m) and mhs, rhs of shape (n,), got {lhs}, {mhs}, {rhs}")
    return shapes, [lhs]


def checked_indices(index, size, what):
    """index (host values) as int64 positions, truncated as MXNet casts them; ValueError naming `what` when one is
    outside [0, size)."""
    positions = index.astype(np.int64)
    if positions.size and (positions.min() < 0 or positions.max() >= size):
        raise ValueError(f"{what} {index.tolist()} out of range [0, {size})")
    return positions


def _fill_element(attrs, lhs, mhs, rhs):
    out = lhs.copy()
    out[np.arange(lhs.shape[0]), checked_indices(rhs, lhs.shape[1], "column indices")] = mhs
    return out


_register("fill_element_0index", _fill_element, _fill_element_shape, gpu=_misc_gpu.fill_element,
          arguments=("lhs", "mhs", "rhs"),
          doc="A copy of lhs with lhs[i, rhs[i]] = mhs[i] in each row i.")


def _index_copy_shape(attrs, shapes):
    old, index, new = (tuple(s) for s in shapes)
    if len(index) != 1 or len(new) != len(old) or new[1:] != old[1:] or new[0] != index[0]:
        raise ValueError(f"needs index_vector (k,) and new_tensor (k,) + old_tensor.shape[1:], got "
                         f"old_tensor {old}, index_vector {index}, new_tensor {new}")
    return shapes, [old]


def _index_copy(attrs, old, index, new):
    out = old.copy()
    out[checked_indices(index, old.shape[0], "index_vector")] = new
    return out


def _index_copy_grad(F, attrs, inputs, outputs, ograds):
    _, index, new = inputs
    return [F._contrib_index_copy(ograds[0], index, F.zeros_like(new)), None, F.take(ograds[0], index, axis=0)]


_register("_contrib_index_copy", _index_copy, _index_copy_shape, _index_copy_grad, gpu=_misc_gpu.index_copy,
          arguments=("old_tensor", "index_vector", "new_tensor"), grad_reads=((1, 2), ()), infer_type=first_type,
          doc="A copy of old_tensor with the rows at index_vector replaced by new_tensor's rows.")


# --- contrib.isfinite / isinf / isnan, contrib.allclose ------------------------------------------

for _name, _test in (("isfinite", np.isfinite), ("isinf", np.isinf), ("isnan", np.isnan)):
    _register(f"_contrib_{_name}", lambda attrs, x, test=_test: test(x), _same_shape, gpu=_misc_gpu.special(_name),
              doc=f"1 where np.{_name} holds for the element, else 0 (the input's dtype).")


def _uint8_out(attrs, types):
    return types, np.dtype(np.uint8)


def _allclose_shape(attrs, shapes):
    if tuple(shapes[0]) != tuple(shapes[1]):
        raise ValueError(f"a and b must have the same shape, got {tuple(shapes[0])} and {tuple(shapes[1])}")
    return shapes, [()]


def _allclose(attrs, a, b):
    """As MXNet: |a - b| is taken in the data's type (float16 rounds it), the tolerances are float32."""
    close = (a == b) | (np.abs(a - b) <= np.float32(attrs["atol"]) + np.float32(attrs["rtol"]) * np.abs(b))
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    close = np.where(nan_a | nan_b, attrs["equal_nan"] & nan_a & nan_b, close)
    return np.uint8(close.all())


_register("_contrib_allclose", _allclose, _allclose_shape, gpu=_misc_gpu.allclose, infer_type=_uint8_out,
          arguments=("a", "b"),
          params=(Param("rtol", "float", 1e-05, "relative tolerance"),
                  Param("atol", "float", 1e-08, "absolute tolerance"),
                  Param("equal_nan", "bool", True, "NaNs at the same place count as equal")),
          doc="1 (uint8, shape ()) when |a - b| <= atol + rtol |b| everywhere, else 0.")
