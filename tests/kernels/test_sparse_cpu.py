"""kernels/sparse_cpu.py against NumPy references: row-union sums, CSR row gathers and column windows."""
import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

from mxcy.kernels import sparse_cpu

SEEDS = st.integers(0, 2 ** 32 - 1)


def _csr(rng):
    shape = tuple(int(d) for d in rng.integers(1, 7, size=2))
    return sp.random(*shape, density=float(rng.uniform(0, 1)), format="csr", random_state=int(rng.integers(1 << 30)))


@settings(max_examples=20, deadline=None)
@given(seed=SEEDS)
def test_add_rows_matches_numpy_add_at(seed):
    rng = np.random.default_rng(seed)
    total = rng.uniform(-1, 1, (4, 3))
    positions = rng.integers(0, 4, size=int(rng.integers(0, 8)))
    values = rng.uniform(-1, 1, (positions.size, 3))
    want = total.copy()
    np.add.at(want, positions, values)
    sparse_cpu.add_rows(total, positions, values)
    np.testing.assert_allclose(total, want, rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=SEEDS)
def test_csr_gather_rows_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    m = _csr(rng)
    rows = rng.integers(0, m.shape[0], size=int(rng.integers(0, 6)))
    ptr, picked = sparse_cpu.csr_gather_rows(m.indptr.astype(np.int64), rows)
    got = sp.csr_matrix((m.data[picked], m.indices[picked], ptr), shape=(rows.size, m.shape[1]))
    np.testing.assert_array_equal(got.toarray(), m.toarray()[rows])


@settings(max_examples=20, deadline=None)
@given(seed=SEEDS)
def test_csr_column_window_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    m = _csr(rng)
    c0 = int(rng.integers(0, m.shape[1]))
    c1 = int(rng.integers(c0 + 1, m.shape[1] + 1))
    ptr, kept = sparse_cpu.csr_column_window(m.indptr.astype(np.int64), m.indices.astype(np.int64), c0, c1)
    got = sp.csr_matrix((m.data[kept], m.indices[kept] - c0, ptr), shape=(m.shape[0], c1 - c0))
    np.testing.assert_array_equal(got.toarray(), m.toarray()[:, c0:c1])
