"""Computes on the sparse structure for registered operators whose result MXNet 1.9.1 stores sparsely (the
storage types themselves are ndarray/sparse_stypes.py's rules): values-only ops, csr slice/take, row_sparse
add_n/square_sum, dense * sparse, _scatter_elemwise_div, getnnz. Other sparse results are computed densely and cast
(ndarray/sparse.py's dispatch). The structural work (row unions, column windows, row gathers) runs in Numba kernels
(kernels/sparse_cpu.py) on host copies of the parts, index bookkeeping around them in NumPy; the value math runs
through the ops' own kernels."""
import numpy as np

from ..base import MXNetError
from ..kernels import sparse_cpu
from ..ops.gather import _slice_ranges
from ..ops._nn_common import widen
from ..ops.invoke import invoke
from ..ops.sparse import csr_rows
from .sparse_stypes import computes_on_values

__all__ = ["sparse_result"]


def _on_values(op, x, attrs):
    return x._like(invoke(op, [x._values], attrs)[0])


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


def _square_sum_rsp(x):
    from .sparse import _make
    values, (rows,) = x._host()
    sums = np.square(values.astype(np.float64)).sum(axis=1, keepdims=True).astype(x.dtype)
    return _make("row_sparse", (x.shape[0], 1), sums, (rows,), x.context)


def _scatter_div_rsp(x, rhs):
    """lhs / rhs on the stored rows of row_sparse lhs only (MXNet's _scatter_elemwise_div)."""
    from .sparse import _dense, _make
    values, (rows,) = x._host()
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = values / _dense(rhs).asnumpy()[rows]
    return _make("row_sparse", x.shape, quotient.astype(x.dtype), (rows,), x.context)


def _mul_dense(x, other):
    """sparse x * dense other of one shape: only x's stored entries can be non-zero."""
    from .sparse import _make
    values, aux = x._host()
    other = other.asnumpy()
    if x.stype == "row_sparse":
        picked = other[aux[0]]
    else:
        picked = other[np.repeat(np.arange(x.shape[0]), np.diff(aux[0])), aux[1]]
    return _make(x.stype, x.shape, (values * picked).astype(x.dtype), aux, x.context)


def sparse_result(op, inputs, attrs, targets):
    """[result] computed on the sparse structure when `op` has such a compute for these inputs and result storage
    types `targets` (sparse_stypes.storage_types), else None (the caller computes densely and casts)."""
    from .sparse import BaseSparseNDArray, _cast_storage, _retain, zeros
    name, x = op.name, inputs[0]
    if name == "cast_storage":
        return [_cast_storage(x, attrs["stype"])]
    if name == "_sparse_retain":
        return [_retain(x, inputs[1])]
    if name == "_contrib_getnnz" and x.stype == "csr":  # stored entries, explicit zeros included
        indptr = x._aux[0].asnumpy()
        counts = {None: indptr[-1:], 1: np.diff(indptr),
                  0: np.bincount(x._aux[1].asnumpy(), minlength=x.shape[1])}[attrs["axis"]]
        from . import array
        return [array(counts.astype(np.int64), ctx=x.context, dtype=np.int64)]
    target = targets[0]
    if len(targets) != 1 or target == "default":
        return None
    if computes_on_values(op) and x.stype == target:
        return [_on_values(op, x, attrs)]
    if name == "zeros_like":
        return [zeros(x.stype, x.shape, x.context, x.dtype)]
    if name in ("add_n", "ElementWiseSum"):
        return [_add_n(inputs)]
    if name == "slice":
        return [_slice_csr(x, attrs)]
    if name == "take":
        return [_take_csr_rows(x, inputs[1].asnumpy().astype(np.int64), attrs["mode"])]
    if name == "_square_sum" and x.ndim == 2:
        return [_square_sum_rsp(x)]
    if name == "_scatter_elemwise_div":
        return [_scatter_div_rsp(x, inputs[1])]
    if name == "elemwise_mul":
        sparse, other = (x, inputs[1]) if isinstance(x, BaseSparseNDArray) else (inputs[1], x)
        if other.stype == "default" and other.shape == sparse.shape:
            return [_mul_dense(sparse, other)]
    return None
