"""CUDA kernels of the sparse-to-dense conversions (the CPU's are SciPy and NumPy, mxcy/ops/sparse.py): a CSR matrix
gathered per dense element from its row's entries (duplicates add up, as SciPy's toarray), and a row_sparse array's
stored rows scattered to their places (indices are unique: a valid row_sparse array's are sorted)."""
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


csr_todense_kernel = cuda.jit(_csr_todense_kernel)
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


PTX_CHECKS = []
for _t in ("float32", "float64"):
    PTX_CHECKS += [(_csr_todense_kernel, f"void({_t}[::1], int64[::1], int64[::1], {_t}[:, ::1], int64)"),
                   (_rsp_scatter_kernel, f"void({_t}[:, ::1], int64[::1], {_t}[:, ::1], int64)")]
