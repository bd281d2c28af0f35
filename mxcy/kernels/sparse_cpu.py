"""Structure kernels of sparse arrays on the CPU (Numba): the row-union sum of row_sparse arrays (add_n), and the
row gather (take) and column window (slice) of a CSR matrix given by its row pointers and column indices. Index
arrays are int64; values any NumPy dtype the callers pass (float16 is added in its own precision, as NumPy does)."""
import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def add_rows(total, positions, values):
    """total[positions[i]] += values[i] for each stored row i, in order (rows may repeat)."""
    for i in range(positions.shape[0]):
        dst = total[positions[i]]
        src = values[i]
        for j in range(dst.shape[0]):
            dst[j] += src[j]


@numba.njit(nogil=True, cache=True)
def csr_gather_rows(indptr, rows):
    """(new indptr, positions of the picked entries) of the CSR rows `rows`, in that order."""
    new_ptr = np.zeros(rows.shape[0] + 1, np.int64)
    for k in range(rows.shape[0]):
        new_ptr[k + 1] = new_ptr[k] + indptr[rows[k] + 1] - indptr[rows[k]]
    picked = np.empty(new_ptr[-1], np.int64)
    for k in range(rows.shape[0]):
        start = indptr[rows[k]]
        for j in range(new_ptr[k + 1] - new_ptr[k]):
            picked[new_ptr[k] + j] = start + j
    return new_ptr, picked


@numba.njit(nogil=True, cache=True)
def csr_column_window(indptr, cols, c0, c1):
    """(new indptr, positions of the entries) of a CSR matrix's columns c0 <= c < c1 (columns not shifted)."""
    n_rows = indptr.shape[0] - 1
    new_ptr = np.zeros(n_rows + 1, np.int64)
    kept = np.empty(cols.shape[0], np.int64)
    n = 0
    for r in range(n_rows):
        for p in range(indptr[r], indptr[r + 1]):
            if cols[p] >= c0 and cols[p] < c1:
                kept[n] = p
                n += 1
        new_ptr[r + 1] = n
    return new_ptr, kept[:n]
