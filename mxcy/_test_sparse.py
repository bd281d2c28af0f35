"""The sparse-array generators of mx.test_utils: rand_sparse_ndarray, create_sparse_array(_zd) and
shuffle_csr_column_indices (re-exported by mxcy.test_utils under MXNet's names)."""
import numpy as np
import numpy.random as rnd

from .base import MXNetError
from . import ndarray as nd


def _validate_csr_inputs(num_rows, num_cols, density, distribution):
    if not 0 <= density <= 1:
        raise MXNetError(f"rand_sparse_ndarray: density has to be between 0 and 1, got {density}")
    if num_rows <= 0 or num_cols <= 0:
        raise MXNetError(f"rand_sparse_ndarray: csr shape ({num_rows}, {num_cols}) must be positive")
    if distribution == "powerlaw" and int(num_rows * num_cols * density) < 2 * num_rows:
        raise MXNetError(f"rand_sparse_ndarray: powerlaw needs rows * cols * density >= 2 * rows; density "
                         f"{density} is too small for shape ({num_rows}, {num_cols})")


def shuffle_csr_column_indices(csr):
    """Shuffle the column indices (and not the values) within each row of a SciPy CSR matrix, in place:
    unordered indices are valid CSR that code must accept."""
    for start, end in zip(csr.indptr[:-1], csr.indptr[1:]):
        row = np.array(csr.indices[start:end])
        np.random.shuffle(row)
        csr.indices[start:end] = row


def _uniform_csr(num_rows, num_cols, density, dtype, data_init, shuffle_csr_indices):
    """About density * rows * cols entries at uniformly random positions, uniform [0, 1) values."""
    from scipy import sparse
    _validate_csr_inputs(num_rows, num_cols, density, "uniform")
    csr = sparse.random(num_rows, num_cols, density, dtype=dtype, format="csr")
    if data_init is not None:
        csr.data.fill(data_init)
    if shuffle_csr_indices:
        shuffle_csr_column_indices(csr)
    return nd.sparse.csr_matrix((csr.data, csr.indices, csr.indptr), shape=(num_rows, num_cols), dtype=dtype)


def _powerlaw_csr(num_rows, num_cols, density, dtype):
    """rows * cols * density entries in [1.001, 3): first one per row in column 0, then each row
    fills twice as many leading columns as the one before (capped at num_cols) until none are left."""
    _validate_csr_inputs(num_rows, num_cols, density, "powerlaw")
    left = int(num_rows * num_cols * density)
    dense = np.zeros((num_rows, num_cols), dtype=dtype)

    def fill(row, cols):
        nonlocal left
        take = min(len(cols), left)
        dense[row, cols[:take]] = 1 + rnd.uniform(0.001, 2, size=take)
        left -= take

    for row in range(num_rows):
        fill(row, np.array([0]))
    width = 2
    for row in range(num_rows):
        if left <= 0:
            break
        fill(row, np.arange(1, min(num_cols, width)))
        width *= 2
    if left > 0:
        raise MXNetError(f"rand_sparse_ndarray: powerlaw cannot place density {density} in shape "
                         f"({num_rows}, {num_cols})")
    return nd.array(dense, dtype=dtype).tostype("csr")


def rand_sparse_ndarray(shape, stype, density=None, dtype=None, distribution=None, data_init=None,
                        rsp_indices=None, modifier_func=None, shuffle_csr_indices=False, ctx=None):
    """A random sparse array and its parts: (RowSparseNDArray, (values, row indices)) or
    (CSRNDArray, (indptr, indices, data)). `density` (random if None) is the fraction of rows
    ('row_sparse', unless rsp_indices names them) or entries ('csr') kept; values are uniform in
    [0, 1) (or data_init), passed through modifier_func. distribution: 'uniform' or, for csr,
    'powerlaw' (see _powerlaw_csr)."""
    from .test_utils import assign_each, default_context, default_dtype
    ctx = ctx or default_context()
    density = rnd.rand() if density is None else density
    dtype = default_dtype() if dtype is None else dtype
    distribution = distribution or "uniform"
    if stype == "row_sparse":
        if distribution != "uniform":
            raise MXNetError(f"rand_sparse_ndarray: distribution {distribution!r} is not supported for row_sparse")
        if rsp_indices is not None:
            indices = np.asarray(rsp_indices)
            assert len(indices) <= shape[0]
        else:
            indices = np.argwhere(rnd.rand(shape[0]) < density).flatten()
        if indices.shape[0] == 0:
            return nd.zeros(shape, stype="row_sparse", dtype=dtype, ctx=ctx), (np.array([], dtype=dtype),
                                                                              np.array([]))
        values = rnd.rand(indices.shape[0], *shape[1:]).astype(dtype)
        if data_init is not None:
            values.fill(data_init)
        if modifier_func is not None:
            values = assign_each(values, modifier_func)
        return nd.sparse.row_sparse_array((values, indices), shape=shape, dtype=dtype, ctx=ctx), (values, indices)
    if stype == "csr":
        if len(shape) != 2:
            raise MXNetError(f"rand_sparse_ndarray: a csr array is 2-d, got shape {tuple(shape)}")
        if distribution == "uniform":
            csr = _uniform_csr(shape[0], shape[1], density, dtype, data_init, shuffle_csr_indices)
        elif distribution == "powerlaw":
            csr = _powerlaw_csr(shape[0], shape[1], density, dtype)
        else:
            raise MXNetError(f"rand_sparse_ndarray: unknown distribution {distribution!r}")
        csr = csr.as_in_context(ctx)
        return csr, (csr.indptr, csr.indices, csr.data)
    raise MXNetError(f"rand_sparse_ndarray: unknown storage type {stype!r} (expected 'csr' or 'row_sparse')")


def create_sparse_array(shape, stype, data_init=None, rsp_indices=None, dtype=None, modifier_func=None,
                        density=.5, shuffle_csr_indices=False):
    """rand_sparse_ndarray's array alone; row_sparse indices given are sorted first (canonical form)."""
    if stype not in ("row_sparse", "csr"):
        raise AssertionError("Unknown storage type: " + stype)
    if stype == "row_sparse" and rsp_indices is not None:
        rsp_indices = np.sort(np.asarray(rsp_indices))
    arr, _ = rand_sparse_ndarray(shape, stype, density=density, data_init=data_init,
                                 rsp_indices=rsp_indices if stype == "row_sparse" else None, dtype=dtype,
                                 modifier_func=modifier_func,
                                 shuffle_csr_indices=shuffle_csr_indices and stype == "csr")
    return arr


def create_sparse_array_zd(shape, stype, density, data_init=None, rsp_indices=None, dtype=None,
                           modifier_func=None, shuffle_csr_indices=False):
    """create_sparse_array where a row_sparse array's rows come only from rsp_indices (density 0)."""
    if stype == "row_sparse":
        density = 0.0
        if rsp_indices is not None:
            assert len(rsp_indices) <= shape[0]
    return create_sparse_array(shape, stype, data_init=data_init, rsp_indices=rsp_indices, dtype=dtype,
                               modifier_func=modifier_func, density=density,
                               shuffle_csr_indices=shuffle_csr_indices)
