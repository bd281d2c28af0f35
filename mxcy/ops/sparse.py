"""Sparse arrays as parts (values, indices, row pointers): engine operators for CSR products and
sparse-to-dense conversion (CPU: SciPy and NumPy; CUDA: kernels/sparse_gpu.py, a transposed operand's structure
built on the host), and NumPy functions on host parts (validation, dense-to-sparse, elementwise combination, row
slices) that mx.nd.sparse builds on."""
import numpy as np

from ..base import MXNetError
from . import registry
from ._helpers import store
from ._nn_common import cast, kernels, on_device_of, widen, widening
from .registry import OpDef, Param

_CSR_SHAPE = Param("csr_shape", "shape", doc="logical (rows, columns) of the CSR matrix")
_TA = Param("transpose_a", "bool", False, "use the transpose of the left operand")
_TB = Param("transpose_b", "bool", False, "use the transpose of the right operand")


def _check_csr(attrs, data, indices, indptr):
    shape = tuple(attrs["csr_shape"])
    if len(shape) != 2:
        raise ValueError(f"csr_shape must have 2 dimensions, got {shape}")
    if len(data) != 1 or tuple(indices) != tuple(data) or tuple(indptr) != (shape[0] + 1,):
        raise ValueError(f"CSR parts data {tuple(data)}, indices {tuple(indices)} and indptr "
                         f"{tuple(indptr)} do not fit shape {shape}")
    return shape


def _csr(attrs, data, indices, indptr):
    from scipy import sparse
    data = data.astype(widen(data.dtype), copy=False)  # scipy.sparse has no float16; results are stored back
    # Index parts may arrive in another dtype (e.g. float64 through a generic caller); scipy
    # needs integers.
    return sparse.csr_matrix((data, np.asarray(indices, np.int64), np.asarray(indptr, np.int64)),
                             shape=tuple(attrs["csr_shape"]))


def _op_shape(shape, transpose):
    return tuple(shape[::-1]) if transpose else tuple(shape)


def _matmul_shape(left, right, what):
    if right[0] != left[1]:
        raise ValueError(f"{what}: inner dimensions differ, {left} x {right}")
    return (left[0],) + tuple(right[1:])


def _value_type(value_index):
    """Output type of the float operands (inputs at `value_index`), which must agree."""
    def rule(attrs, types):
        kinds = [np.dtype(types[i]) for i in value_index]
        if any(t != kinds[0] for t in kinds):
            raise ValueError("the value arrays must share one dtype, got "
                             + ", ".join(t.name for t in kinds))
        return types, kinds[0]
    return rule


def _csr_dot_shape(attrs, shapes):
    data, indices, indptr, rhs = shapes
    csr = _check_csr(attrs, data, indices, indptr)
    if len(rhs) not in (1, 2) or (len(rhs) == 1 and attrs["transpose_b"]):
        raise ValueError(f"the dense operand must be 2-D, or 1-D without transpose_b, got shape "
                         f"{tuple(rhs)}")
    right = _op_shape(rhs, attrs["transpose_b"]) if len(rhs) == 2 else (rhs[0],)
    return shapes, [_matmul_shape(_op_shape(csr, attrs["transpose_a"]), right, "dot")]


def _csr_dot_compute(attrs, inputs, outputs, reqs):
    data, indices, indptr, rhs = inputs
    a = _csr(attrs, data, indices, indptr)
    a = a.T if attrs["transpose_a"] else a
    b = rhs.T if attrs["transpose_b"] else rhs
    store(outputs[0], np.asarray(a @ b), reqs[0])


def _compressed_rows(attrs, indices, indptr, transpose, like):
    """(ptr, idx, perm) on `like`'s device: the CSR matrix's rows as they are, or with `transpose` its transpose's rows,
    whose structure is built on the host (the entries sorted by column, stably; perm[k] is entry k's place in data)."""
    if not transpose:
        return cast(indptr, np.int64), cast(indices, np.int64), on_device_of(like, np.arange(indices.shape[0]))
    cols = indices.copy_to_host().astype(np.int64)
    ptr = indptr.copy_to_host().astype(np.int64)
    n_rows, n_cols = attrs["csr_shape"]
    perm = np.argsort(cols, kind="stable")
    t_ptr = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=n_cols))])
    t_idx = np.repeat(np.arange(n_rows), np.diff(ptr))[perm]
    return tuple(on_device_of(like, a.astype(np.int64)) for a in (t_ptr, t_idx, perm))


def _csr_dot_gpu(attrs, inputs, outputs, reqs):
    data, indices, indptr, rhs = inputs
    out = outputs[0]
    rows = _compressed_rows(attrs, indices, indptr, attrs["transpose_a"], out)
    if rhs.ndim == 1:
        rhs, out = rhs.reshape(rhs.shape[0], 1), out.reshape(out.shape[0], 1)
    kernels("sparse_gpu").sparse_rows_gpu(data, *rows, rhs, out, attrs["transpose_b"], reqs[0])


def _csr_dot_gradient(F, attrs, inputs, outputs, ograds):
    data, indices, indptr, _ = inputs
    og, shape, ta = ograds[0], attrs["csr_shape"], attrs["transpose_a"]
    if attrs["transpose_b"]:  # out = op(A) B^T, so dB = og^T op(A)
        grad = F._dot_dns_csr(og, data, indices, indptr, csr_shape=shape, transpose_a=True,
                              transpose_b=ta)
    else:  # out = op(A) B, so dB = op(A)^T og
        grad = F._csr_dot(data, indices, indptr, og, csr_shape=shape, transpose_a=not ta)
    return [None, None, None, grad]


registry.register(OpDef(
    "_csr_dot", arguments=("data", "indices", "indptr", "rhs"), params=(_CSR_SHAPE, _TA, _TB),
    infer_shape=_csr_dot_shape, infer_type=_value_type((0, 3)),
    compute={"cpu": _csr_dot_compute, "gpu": widening(_csr_dot_gpu)}, gradient=_csr_dot_gradient,
    doc="op(A) @ op(rhs) for a CSR matrix A given by its parts and a dense rhs."))


def _dns_csr_shape(attrs, shapes):
    lhs, data, indices, indptr = shapes
    csr = _check_csr(attrs, data, indices, indptr)
    if len(lhs) != 2:
        raise ValueError(f"the dense operand must be 2-D, got shape {tuple(lhs)}")
    return shapes, [_matmul_shape(_op_shape(lhs, attrs["transpose_a"]),
                                  _op_shape(csr, attrs["transpose_b"]), "dot")]


def _dns_csr_compute(attrs, inputs, outputs, reqs):
    lhs, data, indices, indptr = inputs
    a = _csr(attrs, data, indices, indptr)
    left = lhs.T if attrs["transpose_a"] else lhs
    # (L op(A)) computed as (op(A)^T L^T)^T keeps the sparse operand on the left for scipy.
    right_t = a if attrs["transpose_b"] else a.T
    store(outputs[0], np.asarray(right_t @ left.T).T, reqs[0])


def _dns_csr_gpu(attrs, inputs, outputs, reqs):
    # op(L) @ op(B) = op(L) @ S^T with S = op(B)^T: B's rows as they are when transpose_b, else its transpose's.
    lhs, data, indices, indptr = inputs
    rows = _compressed_rows(attrs, indices, indptr, not attrs["transpose_b"], outputs[0])
    kernels("sparse_gpu").sparse_cols_gpu(data, *rows, lhs, outputs[0], attrs["transpose_a"], reqs[0])


def _dns_csr_gradient(F, attrs, inputs, outputs, ograds):
    _, data, indices, indptr = inputs
    og, shape, tb = ograds[0], attrs["csr_shape"], attrs["transpose_b"]
    if attrs["transpose_a"]:  # out = L^T op(B), so dL = op(B) og^T
        grad = F._csr_dot(data, indices, indptr, og, csr_shape=shape, transpose_a=tb,
                          transpose_b=True)
    else:  # out = L op(B), so dL = og op(B)^T
        grad = F._dot_dns_csr(og, data, indices, indptr, csr_shape=shape, transpose_b=not tb)
    return [grad, None, None, None]


registry.register(OpDef(
    "_dot_dns_csr", arguments=("lhs", "data", "indices", "indptr"), params=(_CSR_SHAPE, _TA, _TB),
    infer_shape=_dns_csr_shape, infer_type=_value_type((0, 1)),
    compute={"cpu": _dns_csr_compute, "gpu": widening(_dns_csr_gpu)}, gradient=_dns_csr_gradient,
    doc="op(lhs) @ op(B) for a dense lhs and a CSR matrix B given by its parts."))


def _csr_todense_compute(attrs, inputs, outputs, reqs):
    data, indices, indptr = inputs
    store(outputs[0], _csr(attrs, data, indices, indptr).toarray(), reqs[0])


def _csr_todense_gpu(attrs, inputs, outputs, reqs):
    data, indices, indptr = inputs
    kernels("sparse_gpu").csr_todense_gpu(data, cast(indices, np.int64), cast(indptr, np.int64), outputs[0], reqs[0])


registry.register(OpDef(
    "_csr_todense", arguments=("data", "indices", "indptr"), params=(_CSR_SHAPE,),
    infer_shape=lambda attrs, shapes: (shapes, [_check_csr(attrs, *shapes)]),
    infer_type=lambda attrs, types: (types, types[0]),
    compute={"cpu": _csr_todense_compute, "gpu": widening(_csr_todense_gpu)},
    doc="The dense matrix of a CSR matrix given by its parts."))


def _rsp_shape(attrs, shapes):
    data, indices = shapes
    shape = tuple(attrs["shape"])
    if not shape or tuple(data) != tuple(indices) + shape[1:] or len(indices) != 1:
        raise ValueError(f"row_sparse parts data {tuple(data)} and indices {tuple(indices)} do "
                         f"not fit shape {shape}")
    return shapes, [shape]


def _rsp_todense_compute(attrs, inputs, outputs, reqs):
    data, indices = inputs
    dense = np.zeros(outputs[0].shape, data.dtype)
    dense[np.asarray(indices, np.int64)] = data
    store(outputs[0], dense, reqs[0])


def _rsp_todense_gpu(attrs, inputs, outputs, reqs):
    """The stored rows scattered on the device, after their indices are checked on the host (as many as rows)."""
    data, indices = inputs
    rows = indices.copy_to_host()
    if rows.size and (rows.min() < 0 or rows.max() >= outputs[0].shape[0]):
        raise ValueError(f"row indices must lie in [0, {outputs[0].shape[0]}), got {rows.tolist()}")
    kernels("sparse_gpu").rsp_todense_gpu(data, cast(indices, np.int64), outputs[0], reqs[0])


registry.register(OpDef(
    "_rsp_todense", arguments=("data", "indices"), params=(Param("shape", "shape"),),
    infer_shape=_rsp_shape, infer_type=lambda attrs, types: (types, types[0]),
    compute={"cpu": _rsp_todense_compute, "gpu": widening(_rsp_todense_gpu)},
    doc="The dense array of a row_sparse array given by its stored rows and their indices."))


# --- structure of host parts: aux is (indptr, indices) for csr, (indices,) for row_sparse ---------
def validate(func, stype, shape, values, aux, full=True):
    """MXNetError naming `func` unless the host parts form a valid `stype` array of `shape`;
    `full` also checks the index values (MXNet's check_format(full_check=True))."""
    def fail(what):
        raise MXNetError(f"{func}: invalid {stype} array of shape {tuple(shape)}: {what}")
    if stype == "csr":
        indptr, indices = aux
        if len(shape) != 2:
            fail("a CSR matrix must have 2 dimensions")
        if values.ndim != 1 or indices.shape != values.shape or indptr.shape != (shape[0] + 1,):
            fail(f"data {values.shape}, indices {indices.shape} and indptr {indptr.shape} must be "
                 f"1-D with len(data) == len(indices) and len(indptr) == {shape[0] + 1}")
        if not full:
            return
        if indptr[0] != 0 or indptr[-1] != indices.size or np.any(np.diff(indptr) < 0):
            fail(f"indptr must start at 0, be non-decreasing and end at nnz={indices.size}")
        if indices.size and (indices.min() < 0 or indices.max() >= shape[1]):
            fail(f"column indices must lie in [0, {shape[1]})")
        row_start = np.zeros(indices.size + 1, bool)
        row_start[indptr] = True
        if np.any((np.diff(indices) <= 0) & ~row_start[1:-1]):
            fail("column indices must be strictly increasing within each row")
        return
    (indices,) = aux
    if not shape:
        fail("a row_sparse array needs at least one dimension")
    if indices.ndim != 1 or values.shape != indices.shape + tuple(shape[1:]):
        fail(f"data {values.shape} must have shape (len(indices),) + {tuple(shape[1:])} with "
             f"1-D indices, got indices {indices.shape}")
    if full and indices.size and (indices.min() < 0 or indices.max() >= shape[0]
                                  or np.any(np.diff(indices) <= 0)):
        fail(f"row indices must be strictly increasing and lie in [0, {shape[0]})")


def dense_to_parts(stype, values):
    """(values, aux) of a dense host array: the elements (csr) or rows (row_sparse) not zero."""
    if stype == "csr":
        if values.ndim != 2:
            raise MXNetError(f"cast_storage: csr needs a 2-D array, got shape {values.shape}")
        rows, cols = np.nonzero(values)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=values.shape[0]))])
        return values[rows, cols], (indptr, cols)
    if values.ndim == 0:
        raise MXNetError("cast_storage: row_sparse needs at least one dimension, got a 0-d array")
    rows = np.flatnonzero(values.reshape(values.shape[0], -1).any(axis=1))
    return values[rows], (rows,)


def combine_parts(stype, shape, a, b, kind):
    """(values, aux) of a + b, a - b or a * b ('add', 'sub', 'mul') for host parts a, b =
    (values, aux) of two arrays of one storage type, shape and dtype; the result stays sparse."""
    (va, aux_a), (vb, aux_b) = a, b
    if stype == "csr":
        from scipy import sparse
        # scipy.sparse has no float16; float32 arithmetic rounded back gives the float16 result.
        x, y = (sparse.csr_matrix((v.astype(widen(v.dtype), copy=False), aux[1], aux[0]), shape=shape)
                for v, aux in (a, b))
        res = x + y if kind == "add" else x - y if kind == "sub" else x.multiply(y).tocsr()
        res.sum_duplicates()
        return res.data.astype(va.dtype), (res.indptr, res.indices)
    (ia,), (ib,) = aux_a, aux_b
    rows = np.union1d(ia, ib) if kind != "mul" else np.intersect1d(ia, ib)
    left = np.zeros((rows.size,) + tuple(shape[1:]), va.dtype)
    right = np.zeros_like(left)
    for dst, ids, vals in ((left, ia, va), (right, ib, vb)):
        found = np.isin(ids, rows)
        dst[np.searchsorted(rows, ids[found])] = vals[found]
    res = left + right if kind == "add" else left - right if kind == "sub" else left * right
    return res.astype(va.dtype), (rows,)


def csr_rows(values, aux, start, stop):
    """(values, aux) of rows start:stop of a CSR matrix given by host parts."""
    indptr, indices = aux
    ptr = indptr[start:stop + 1]
    part = slice(ptr[0], ptr[-1])
    return values[part], (ptr - ptr[0], indices[part])
