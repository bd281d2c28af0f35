"""MXNet 1.9.1's result storage types for registered operators on sparse inputs: which ops keep a
csr / row_sparse input's storage (and compute on its stored values only), and how. Ops not covered
here fall back to dense inputs and a dense result (ndarray/sparse.py's dispatch). The structural work
(row unions, column windows, row gathers) runs in Numba kernels (kernels/sparse_cpu.py) on host copies of the
parts, index bookkeeping around them in NumPy; the value math runs through the ops' own kernels."""
import numpy as np

from ..base import MXNetError
from ..kernels import sparse_cpu
from ..ops.gather import _slice_ranges
from ..ops._nn_common import widen
from ..ops.invoke import invoke
from ..ops.sparse import csr_rows

__all__ = ["sparse_result"]

# Unary ops MXNet registers with row_sparse and csr kernels (f(0) == 0): the result keeps the storage.
KEEP_UNARY = frozenset((
    "relu", "negative", "abs", "sign", "round", "rint", "ceil", "floor", "trunc", "fix", "log1p", "expm1",
    "square", "sqrt", "cbrt", "sin", "tan", "arcsin", "arctan", "degrees", "radians", "sinh", "tanh", "arcsinh",
    "arctanh", "_contrib_round_ste", "_contrib_sign_ste", "BlockGrad", "make_loss", "_copy"))


def _on_values(op, x, attrs):
    return x._like(invoke(op, [x._values], attrs)[0])


def _maps_zero_to_zero(op, x, attrs):
    """Whether the scalar op sends an implicit zero of x's dtype to zero (MXNet then keeps the storage)."""
    from . import array
    zero = array(np.zeros(1, x.dtype), ctx=x.context, dtype=x.dtype)
    return float(invoke(op, [zero], attrs)[0].asnumpy()[0]) == 0


def _add_n(inputs):
    from .sparse import _make
    parts = [x._host() for x in inputs]
    ids = np.concatenate([aux[0] for _, aux in parts])
    rows = np.unique(ids)
    dtype = inputs[0].dtype
    work = widen(dtype)  # Numba has no float16 arithmetic: summed in float32, stored back
    total = np.zeros((rows.size, int(np.prod(inputs[0].shape[1:], dtype=np.int64))), work)
    values = np.concatenate([v.reshape(v.shape[0], total.shape[1]) for v, _ in parts]).astype(work, copy=False)
    sparse_cpu.add_rows(total, np.searchsorted(rows, ids), values)
    return _make("row_sparse", inputs[0].shape, total.reshape((rows.size,) + inputs[0].shape[1:]).astype(dtype),
                 (rows,), inputs[0].context)


def _slice_csr(x, attrs):
    from .sparse import _make
    try:
        (r0, r1, _), (c0, c1, _) = _slice_ranges(attrs, x.shape)
    except ValueError as err:
        raise MXNetError(f"slice: {err} (input shape {x.shape})") from None
    values, (indptr, cols) = csr_rows(*x._host(), r0, r1)
    new_ptr, kept = sparse_cpu.csr_column_window(indptr.astype(np.int64), cols.astype(np.int64), c0, c1)
    return _make("csr", (r1 - r0, c1 - c0), values[kept], (new_ptr, cols[kept] - c0), x.context)


def _take_csr_rows(x, index, mode):
    from .sparse import _make
    n = x.shape[0]
    rows = np.clip(index, 0, n - 1) if mode == "clip" else np.mod(index, n)
    values, (indptr, cols) = x._host()
    new_ptr, picked = sparse_cpu.csr_gather_rows(indptr.astype(np.int64), rows)
    return _make("csr", (rows.size, x.shape[1]), values[picked], (new_ptr, cols[picked]), x.context)


def _square_sum_rsp(x, attrs):
    from .sparse import _make
    values, (rows,) = x._host()
    axis = attrs["axis"] if isinstance(attrs["axis"], tuple) else (attrs["axis"],)
    if axis != (1,) or not attrs["keepdims"] or attrs["exclude"] or x.ndim != 2:
        return None
    sums = np.square(values.astype(np.float64)).sum(axis=1, keepdims=True).astype(x.dtype)
    return _make("row_sparse", (x.shape[0], 1), sums, (rows,), x.context)


def sparse_result(op, inputs, attrs):
    """[result] when MXNet 1.9.1 gives `op` on these inputs a sparse result, else None."""
    from .sparse import BaseSparseNDArray, _cast_storage, _retain, zeros
    if not inputs:  # creation and random ops: computed dense, then stored into a sparse out=
        return None
    name, x = op.name, inputs[0]
    sparse_in = isinstance(x, BaseSparseNDArray)
    if name == "cast_storage":
        return [_cast_storage(x, attrs["stype"])]
    if name == "_sparse_retain":
        return [_retain(x, inputs[1])]
    if not sparse_in:
        if name == "elemwise_mul" and isinstance(inputs[1], BaseSparseNDArray):
            return sparse_result(op, inputs[::-1], attrs)
        return None
    if len(inputs) == 1 and name in KEEP_UNARY:
        return [_on_values(op, x, attrs)]
    if name in ("_mul_scalar", "_div_scalar"):  # MXNet scales the stored values only, even for x / 0
        return [_on_values(op, x, attrs)]
    # scalar ops and quadratic (c = 0) keep the storage when an implicit zero stays zero (dense result else)
    if len(inputs) == 1 and ("scalar" in op.params or name == "_contrib_quadratic") and \
            _maps_zero_to_zero(op, x, attrs):
        return [_on_values(op, x, attrs)]
    if name == "clip" and attrs["a_min"] <= 0 <= attrs["a_max"]:
        return [_on_values(op, x, attrs)]
    if name == "zeros_like":
        return [zeros(x.stype, x.shape, x.context, x.dtype)]
    if name in ("add_n", "ElementWiseSum") and all(i.stype == "row_sparse" for i in inputs):
        return [_add_n(inputs)]
    if name == "slice" and x.stype == "csr" and all(s in (None, 1) for s in attrs["step"] or ()):
        return [_slice_csr(x, attrs)]
    if name == "_contrib_getnnz" and x.stype == "csr":  # stored entries, explicit zeros included
        indptr = x._aux[0].asnumpy()
        counts = {None: indptr[-1:], 1: np.diff(indptr),
                  0: np.bincount(x._aux[1].asnumpy(), minlength=x.shape[1])}[attrs["axis"]]
        from . import array
        return [array(counts.astype(np.int64), ctx=x.context, dtype=np.int64)]
    if name == "take" and x.stype == "csr" and attrs["axis"] == 0 and attrs["mode"] in ("clip", "wrap"):
        return [_take_csr_rows(x, inputs[1].asnumpy().astype(np.int64), attrs["mode"])]
    if name == "_square_sum" and x.stype == "row_sparse":
        out = _square_sum_rsp(x, attrs)
        return None if out is None else [out]
    if name == "elemwise_mul" and inputs[1].stype == "default" and x.shape == inputs[1].shape:
        # dense * sparse keeps the sparse operand's storage: only its stored entries can be non-zero
        from .sparse import _make
        values, aux = x._host()
        other = inputs[1].asnumpy()
        if x.stype == "row_sparse":
            picked = other[aux[0]]
        else:
            picked = other[np.repeat(np.arange(x.shape[0]), np.diff(aux[0])), aux[1]]
        return [_make(x.stype, x.shape, (values * picked).astype(x.dtype), aux, x.context)]
    return None

