"""CUDA kernels of the sparse operators (the CPU's are SciPy and NumPy, mxcy/ops/sparse.py): sparse-to-dense
conversions (a CSR matrix gathered per dense element from its row's entries, duplicates adding up as in SciPy's
toarray; a row_sparse array's stored rows scattered to their places, its indices being unique) and the products of a
CSR matrix and a dense one, a gather per output element over one compressed row of the sparse operand (the CSR
itself, or its transpose built by the caller: ptr, idx and perm, the entry's place in data)."""
from numba import cuda

from .common import REQ_ADD, REQ_NULL, REQ_WRITE, assign
from .elemwise_gpu import fill_gpu
from .launch import grid_1d


def _csr_todense_kernel(data, indices, indptr, out, req):
    """out (rows, cols)[r, c] (req)= the sum of row r's entries in column c."""
    cols = out.shape[1]
    e = cuda.grid(1)
    while e < out.size:
        r, c = e // cols, e % cols
        acc = out.dtype.type(0)
        for k in range(indptr[r], indptr[r + 1]):
            if indices[k] == c:
                acc += data[k]
        out[r, c] = assign(out[r, c], acc, req)
        e += cuda.gridsize(1)


def _rsp_scatter_kernel(data, indices, out, req):
    """out (rows, width)[indices[i], j] (req)= data (stored, width)[i, j]."""
    width = out.shape[1]
    e = cuda.grid(1)
    while e < data.size:
        i, j = e // width, e % width
        out[indices[i], j] = assign(out[indices[i], j], data[i, j], req)
        e += cuda.gridsize(1)


def _sparse_rows_kernel(values, ptr, idx, perm, dense, out, dense_t, req):
    """out[s, j] (req)= sum over entries k of compressed row s of values[perm[k]] * D[idx[k], j], with D = dense or,
    when dense_t, its transpose."""
    cols = out.shape[1]
    e = cuda.grid(1)
    while e < out.size:
        r, j = e // cols, e % cols
        acc = out.dtype.type(0)
        for k in range(ptr[r], ptr[r + 1]):
            acc += values[perm[k]] * (dense[j, idx[k]] if dense_t else dense[idx[k], j])
        out[r, j] = assign(out[r, j], acc, req)
        e += cuda.gridsize(1)


def _sparse_cols_kernel(values, ptr, idx, perm, dense, out, dense_t, req):
    """out[i, s] (req)= sum over entries k of compressed row s of D[i, idx[k]] * values[perm[k]], with D = dense or,
    when dense_t, its transpose."""
    cols = out.shape[1]
    e = cuda.grid(1)
    while e < out.size:
        i, c = e // cols, e % cols
        acc = out.dtype.type(0)
        for k in range(ptr[c], ptr[c + 1]):
            acc += (dense[idx[k], i] if dense_t else dense[i, idx[k]]) * values[perm[k]]
        out[i, c] = assign(out[i, c], acc, req)
        e += cuda.gridsize(1)


csr_todense_kernel = cuda.jit(_csr_todense_kernel)
sparse_rows_kernel = cuda.jit(_sparse_rows_kernel)
sparse_cols_kernel = cuda.jit(_sparse_cols_kernel)
rsp_scatter_kernel = cuda.jit(_rsp_scatter_kernel)


def csr_todense_gpu(data, indices, indptr, out, req, stream=0):
    """out (rows, cols) (req)= the dense matrix of the CSR parts (int64 indices and indptr)."""
    if req != REQ_NULL and out.size:
        blocks, threads = grid_1d(out.size)
        csr_todense_kernel[blocks, threads, stream](data, indices, indptr, out, req)


def rsp_todense_gpu(data, indices, out, req, stream=0):
    """out (req)= the dense array of the row_sparse parts: data (stored rows, ...) at rows `indices` (int64), zero
    elsewhere."""
    if req == REQ_NULL or not out.size:
        return
    if req != REQ_ADD:
        fill_gpu(out, 0, REQ_WRITE, stream)
        req = REQ_WRITE
    width = out.size // out.shape[0]
    if data.size:
        blocks, threads = grid_1d(data.size)
        rsp_scatter_kernel[blocks, threads, stream](data.reshape(data.shape[0], width), indices,
                                                    out.reshape(out.shape[0], width), req)


def sparse_rows_gpu(values, ptr, idx, perm, dense, out, dense_t, req, stream=0):
    """out (rows, n) (req)= S @ op(dense) for S (rows, m) given as compressed rows (int64 ptr, idx, perm)."""
    if req != REQ_NULL and out.size:
        blocks, threads = grid_1d(out.size)
        sparse_rows_kernel[blocks, threads, stream](values, ptr, idx, perm, dense, out, bool(dense_t), req)


def sparse_cols_gpu(values, ptr, idx, perm, dense, out, dense_t, req, stream=0):
    """out (n, cols) (req)= op(dense) @ S^T for S (cols, m) given as compressed rows (int64 ptr, idx, perm)."""
    if req != REQ_NULL and out.size:
        blocks, threads = grid_1d(out.size)
        sparse_cols_kernel[blocks, threads, stream](values, ptr, idx, perm, dense, out, bool(dense_t), req)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    PTX_CHECKS += [(_csr_todense_kernel, f"void({_t}[::1], int64[::1], int64[::1], {_t}[:, ::1], int64)"),
                   (_rsp_scatter_kernel, f"void({_t}[:, ::1], int64[::1], {_t}[:, ::1], int64)")]
    PTX_CHECKS += [(fn, f"void({_t}[::1], int64[::1], int64[::1], int64[::1], {_t}[:, ::1], {_t}[:, ::1], boolean, "
                        "int64)") for fn in (_sparse_rows_kernel, _sparse_cols_kernel)]
