"""GPU computes of the standalone ops in misc_ops.py and misc_tensor.py (and contrib's backward_index_copy): the
element-wise, cast, fill, reduction and row kernels composed where the op is a composition of them, kernels/misc_gpu.py
where it is not. Index inputs are validated on the host, as take's are; arange_like's values (from attributes and a
shape only) are built on the host and copied over, as arange's are."""
import math

import numpy as np

from ._gpu import copy
from ._gpu_layout import put_rows, to_device, to_host
from ._helpers import norm_axes
from ._nn_common import cast, fill, kernels, scratch, widen, widening
from ..kernels.common import REQ_NULL, REQ_WRITE

__all__ = ["add_n", "hard_sigmoid", "smooth_l1", "div_sqrt_dim", "quadratic", "moments", "khatri_rao", "ravel",
           "unravel", "finite", "sum_sq", "from_host", "reset", "histogram", "amp_cast", "amp_multicast",
           "fill_element", "index_copy", "backward_index_copy", "special", "allclose"]


def _k():
    return kernels("elemwise_gpu")


def _misc():
    return kernels("misc_gpu")


def _add_n(attrs, inputs, outputs, reqs):
    """((a0 + a1) + a2) + ..., in the CPU's order."""
    out, req = outputs[0], reqs[0]
    *firsts, last = inputs
    if not firsts:
        _k().copy_gpu(last, out, req)
        return
    total = firsts[0]
    if len(firsts) > 1:
        total = scratch(out, out.dtype)
        _k().binary_gpu("add", firsts[0], firsts[1], total, REQ_WRITE)
        for a in firsts[2:]:
            _k().binary_gpu("add", total, a, total, REQ_WRITE)
    _k().binary_gpu("add", total, last, out, req)


def _hard_sigmoid(attrs, inputs, outputs, reqs):
    x = inputs[0]
    line = scratch(x, x.dtype)
    _k().scalar_gpu("mul", x, attrs["alpha"], line, False, REQ_WRITE)
    _k().scalar_gpu("add", line, attrs["beta"], line, False, REQ_WRITE)
    kernels("select_gpu").clip_gpu(line, outputs[0], 0.0, 1.0, reqs[0])


def _smooth_l1(attrs, inputs, outputs, reqs):
    _misc().smooth_l1_gpu(inputs[0], outputs[0], attrs["scalar"], reqs[0])


def _div_sqrt_dim(attrs, inputs, outputs, reqs):
    x = inputs[0]  # the simulator's device shapes take no negative index
    _k().scalar_gpu("div", x, math.sqrt(x.shape[x.ndim - 1]), outputs[0], False, reqs[0])


def _quadratic(attrs, inputs, outputs, reqs):
    """(a x) x + b x + c, in the CPU's order."""
    x = inputs[0]
    k, square, line = _k(), scratch(x, x.dtype), scratch(x, x.dtype)
    k.scalar_gpu("mul", x, attrs["a"], square, False, REQ_WRITE)
    k.binary_gpu("mul", square, x, square, REQ_WRITE)
    k.scalar_gpu("mul", x, attrs["b"], line, False, REQ_WRITE)
    k.binary_gpu("add", square, line, square, REQ_WRITE)
    k.scalar_gpu("add", square, attrs["c"], outputs[0], False, reqs[0])


def _moments(attrs, inputs, outputs, reqs):
    """The mean, then the mean of the squared deviations from it (the CPU's two passes)."""
    x = inputs[0]
    axes = norm_axes(attrs["axes"], x.ndim)
    k = _k()
    mean = scratch(x, x.dtype, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    k.reduce_gpu(x, mean, axes, "mean", REQ_WRITE)
    centred = scratch(x, x.dtype)
    k.binary_gpu("sub", x, mean, centred, REQ_WRITE)
    k.unary_gpu("square", centred, centred, REQ_WRITE)
    k.reduce_gpu(centred, outputs[1], axes, "mean", reqs[1])
    k.copy_gpu(mean, outputs[0], reqs[0])


def _khatri_rao(attrs, inputs, outputs, reqs):
    """Broadcast products, one matrix at a time: row i_a * rows(m) + i_m of (a, m)'s product is a[i_a] * m[i_m]."""
    out, req = outputs[0], reqs[0]
    cols = out.shape[1]
    product = inputs[0]
    for n, m in enumerate(inputs[1:], start=2):
        rows = product.shape[0] * m.shape[0]
        target = out if n == len(inputs) else scratch(out, out.dtype, (rows, cols))
        _k().binary_gpu("mul", product.reshape(product.shape[0], 1, cols), m.reshape(1, m.shape[0], cols),
                        target.reshape(product.shape[0], m.shape[0], cols), req if target is out else REQ_WRITE)
        product = target
    if len(inputs) == 1:
        _k().copy_gpu(product, out, req)


def _ravel(attrs, inputs, outputs, reqs):
    strides = kernels("layout_gpu").c_strides(attrs["shape"])
    _misc().ravel_gpu(inputs[0], to_device(strides), outputs[0], reqs[0])


def _unravel(attrs, inputs, outputs, reqs):
    _misc().unravel_gpu(inputs[0], to_device(attrs["shape"]), outputs[0], reqs[0])


def _finite(attrs, inputs, outputs, reqs):
    """A flag set to 1, cleared by any inf or nan; stored as the CPU does (without init_output, only a 0)."""
    flag = scratch(outputs[0], np.float32, (1,))
    _k().fill_gpu(flag, 1, REQ_WRITE)
    for a in inputs:
        _misc().clear_unless_finite_gpu(a, flag)
    _misc().store_flag_gpu(flag, outputs[0], attrs["init_output"], reqs[0])


def _sum_sq(attrs, inputs, outputs, reqs):
    """Each array squared in float64 (as the CPU), then summed into its entry of the output."""
    out = outputs[0]
    for i, a in enumerate(inputs):
        squares = scratch(a, np.float64)
        _k().copy_gpu(a, squares, REQ_WRITE)
        _k().unary_gpu("square", squares, squares, REQ_WRITE)
        _k().reduce_gpu(squares, out[i:i + 1], tuple(range(a.ndim)), "sum", reqs[0])


def from_host(values):
    """GPU compute of an op whose output depends on attributes and its input's shape only: values(attrs, input) built
    by NumPy on the host and copied over."""
    def compute(attrs, inputs, outputs, reqs):
        from numba import cuda
        out = outputs[0]
        host = np.ascontiguousarray(np.reshape(values(attrs, inputs[0]), out.shape).astype(out.dtype))
        _k().copy_gpu(cuda.to_device(host), out, reqs[0])
    return compute


def reset(attrs, inputs, outputs, reqs):
    for a in inputs:
        _k().fill_gpu(a, 0, REQ_WRITE)


def histogram(attrs, inputs, outputs, reqs):
    """Counts by atomic adds into a zeroed int64 buffer, then stored; float16 data counted in float32 (exact), against
    the edges in float64 as the CPU bins them. Given edges are checked on the host as NumPy checks them; the edges
    output is the given edges, or the equal bins' edges cast by NumPy, as the CPU stores them."""
    data = cast(inputs[0], widen(inputs[0].dtype))
    counts_out, edges_out = outputs
    if len(inputs) == 2:
        shown = inputs[1]
        edges = to_host(shown).astype(np.float64)
        if np.any(edges[:-1] > edges[1:]):
            raise ValueError(f"`bins` must increase monotonically, when an array (got {edges.tolist()})")
    else:
        (low, high), count = attrs["range"], attrs["bin_cnt"]
        edges = low + np.arange(count + 1) * ((high - low) / count)
        shown = to_device(edges, edges_out.dtype)
    counts = scratch(data, np.int64, counts_out.shape)
    _k().fill_gpu(counts, 0, REQ_WRITE)
    _misc().histogram_gpu(data, to_device(edges, np.float64), counts)
    _k().copy_gpu(counts, counts_out, reqs[0])
    _k().copy_gpu(shown, edges_out, reqs[1])


def amp_multicast(attrs, inputs, outputs, reqs):
    for a, out, req in zip(inputs, outputs, reqs):
        _k().copy_gpu(a, out, req)


def _replace_rows(base, rows, new, new_rows, inner, out, req):
    """out (req)= base viewed as (*, inner) with row rows[k] replaced by new's row new_rows[k] (the last k where rows
    repeat, as NumPy's assignment): a copy, then the row scatter, through a buffer unless the request writes."""
    if req == REQ_NULL:
        return
    target = out if req == REQ_WRITE else scratch(out, out.dtype)
    _k().copy_gpu(base, target, REQ_WRITE)
    put_rows(new, new_rows, target, rows, inner, REQ_WRITE)
    if target is not out:
        _k().copy_gpu(target, out, req)


def _checked(index, size, what):
    from .misc_tensor import checked_indices
    return checked_indices(to_host(index), size, what)


def _fill_element(attrs, inputs, outputs, reqs):
    """lhs with element (i, rhs[i]) of each row replaced: rows of one element each, at i * m + rhs[i]."""
    lhs, mhs, rhs = inputs
    n, m = lhs.shape
    cols = _checked(rhs, m, "column indices")
    _replace_rows(lhs, np.arange(n) * m + cols, mhs, np.arange(n), 1, outputs[0], reqs[0])


def _row_layout(old, index):
    """(validated row positions, items per row) of an index_copy on old_tensor."""
    return _checked(index, old.shape[0], "index_vector"), math.prod(old.shape[1:])


def _index_copy(attrs, inputs, outputs, reqs):
    old, index, new = inputs
    rows, inner = _row_layout(old, index)
    _replace_rows(old, rows, new, np.arange(len(rows)), inner, outputs[0], reqs[0])


def _backward_index_copy(attrs, inputs, outputs, reqs):
    """ograd with the copied rows zeroed, zeros for the indices, and ograd's copied rows."""
    ograd, old, index, _ = inputs
    rows, inner = _row_layout(old, index)
    zero_row = scratch(ograd, ograd.dtype, (1, inner))
    _k().fill_gpu(zero_row, 0, REQ_WRITE)
    _replace_rows(ograd, rows, zero_row, np.zeros(len(rows), np.int64), inner, outputs[0], reqs[0])
    fill(outputs[1], 0, reqs[1])
    if reqs[2] != REQ_NULL and rows.size:
        kernels("gather_gpu").take_gpu(ograd, to_device(rows), outputs[2], old.shape[0], inner, reqs[2])


def special(test):
    """GPU compute of contrib.<test> (isfinite, isinf, isnan)."""
    def compute(attrs, inputs, outputs, reqs):
        _misc().special_gpu(test, inputs[0], outputs[0], reqs[0])
    return widening(compute)


def allclose(attrs, inputs, outputs, reqs):
    """Run on the data's own type (float16 included: the CPU takes |a - b| in it); the float32 tolerances widen as
    NumPy widens them against the data."""
    a, b = inputs
    tolerance_type = np.float32 if a.dtype.kind == "f" and a.dtype.itemsize <= 4 else np.float64
    atol, rtol = (tolerance_type(np.float32(attrs[k])) for k in ("atol", "rtol"))
    flag = scratch(a, np.uint8, (1,))
    _k().fill_gpu(flag, 1, REQ_WRITE)
    _misc().clear_unless_close_gpu(a, b, atol, rtol, attrs["equal_nan"], flag)
    _misc().store_flag_gpu(flag, outputs[0], True, reqs[0])


add_n = widening(_add_n)
hard_sigmoid = widening(_hard_sigmoid)
smooth_l1 = widening(_smooth_l1)
div_sqrt_dim = widening(_div_sqrt_dim)
quadratic = widening(_quadratic)
moments = widening(_moments)
khatri_rao = widening(_khatri_rao)
ravel = widening(_ravel)
unravel = widening(_unravel)
finite = widening(_finite)
sum_sq = widening(_sum_sq)
amp_cast = copy
fill_element = widening(_fill_element)
index_copy = widening(_index_copy)
backward_index_copy = widening(_backward_index_copy)
