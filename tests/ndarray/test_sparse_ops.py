"""Result storage types of registered ops on csr / row_sparse inputs, as MXNet 1.9.1 gives them
(elemwise_unary_op*.cc, square_sum-inl.h, the scalar ops' dense-result rule), with values against
NumPy float64 references."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx


def _sparse_matrix(rng, stype, shape=(4, 5)):
    d = rng.uniform(-1, 1, shape) * (rng.uniform(size=shape) < 0.4)
    if stype == "row_sparse":
        d[rng.uniform(size=shape[0]) < 0.5] = 0
    return d.astype(np.float32), mx.nd.array(d, dtype="float32").tostype(stype)


# (call, NumPy reference, keeps the input's storage for csr, for row_sparse)
_UNARY = [(name, getattr(np, ref)) for name, ref in (
    ("abs", "abs"), ("sign", "sign"), ("sqrt", "sqrt"), ("square", "square"), ("sin", "sin"), ("tan", "tan"),
    ("tanh", "tanh"), ("arcsin", "arcsin"), ("negative", "negative"), ("floor", "floor"), ("ceil", "ceil"),
    ("expm1", "expm1"), ("log1p", "log1p"), ("degrees", "degrees"), ("trunc", "trunc"))]
_DENSE_RESULT = [("exp", np.exp), ("cos", np.cos), ("sigmoid", lambda x: 1 / (1 + np.exp(-x)))]


@pytest.mark.parametrize("stype", ["csr", "row_sparse"])
@pytest.mark.parametrize("name,ref", _UNARY + _DENSE_RESULT, ids=lambda v: v if isinstance(v, str) else "")
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_unary_result_storage(stype, name, ref, seed):
    d, x = _sparse_matrix(np.random.default_rng(seed), stype)
    d = np.abs(d) if name in ("sqrt", "log1p") else d
    x = mx.nd.array(d).tostype(stype)
    y = getattr(mx.nd.sparse, name)(x)
    assert y.stype == (stype if (name, ref) in _UNARY else "default")
    np.testing.assert_allclose(y.asnumpy(), ref(d.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("stype", ["csr", "row_sparse"])
def test_scalar_ops_keep_storage_when_zero_maps_to_zero(stype):
    d, x = _sparse_matrix(np.random.default_rng(0), stype)
    for got, want, kept in ((x == 1, d == 1, True), (x == 0, d == 0, False), (x > 0, d > 0, True),
                            (x * 3, d * 3, True), (x / 2, d / 2, True), (x + 1, d + 1, False)):
        assert got.stype == (stype if kept else "default")
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6)
    assert mx.nd.sparse.clip(x, -0.5, 0.5).stype == stype
    assert mx.nd.sparse.clip(x, 0.1, 0.5).stype == "default"
    np.testing.assert_allclose(mx.nd.sparse.clip(x, -0.5, 0.5).asnumpy(), np.clip(d, -0.5, 0.5))
    assert mx.nd.zeros_like(x).stype == stype and not mx.nd.zeros_like(x).asnumpy().any()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_csr_slice_stays_csr(seed):
    rng = np.random.default_rng(seed)
    d, x = _sparse_matrix(rng, "csr", (5, 6))
    r0, c0 = int(rng.integers(0, 5)), int(rng.integers(0, 6))
    r1, c1 = int(rng.integers(r0 + 1, 6)), int(rng.integers(c0 + 1, 7))
    y = mx.nd.sparse.slice(x, begin=(r0, c0), end=(r1, c1))
    assert y.stype == "csr"
    y.check_format()
    np.testing.assert_array_equal(y.asnumpy(), d[r0:r1, c0:c1])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4))
def test_add_n_of_row_sparse_stays_row_sparse(seed, n):
    rng = np.random.default_rng(seed)
    parts = [_sparse_matrix(rng, "row_sparse") for _ in range(n)]
    y = mx.nd.sparse.add_n(*[x for _, x in parts])
    assert y.stype == "row_sparse"
    y.check_format()
    # float32 sums: an element that cancels keeps the rounding of its largest term
    scale = max(float(np.abs(d).max(initial=0.0)) for d, _ in parts)
    np.testing.assert_allclose(y.asnumpy(), sum(d.astype(np.float64) for d, _ in parts), rtol=1e-6,
                               atol=n * n * scale * 2.0 ** -24)
    mixed = mx.nd.sparse.add_n(parts[0][1], mx.nd.array(parts[0][0]))
    assert mixed.stype == "default"


def test_square_sum_of_row_sparse():
    d, x = _sparse_matrix(np.random.default_rng(1), "row_sparse")
    rows = mx.nd._internal._square_sum(x, axis=1, keepdims=True)
    assert rows.stype == "row_sparse"
    np.testing.assert_array_equal(rows.indices.asnumpy(), x.indices.asnumpy())
    np.testing.assert_allclose(rows.asnumpy(), (d.astype(np.float64) ** 2).sum(1, keepdims=True), rtol=1e-6)
    cols = mx.nd._internal._square_sum(x, axis=0)
    assert cols.stype == "default"
    np.testing.assert_allclose(cols.asnumpy(), (d.astype(np.float64) ** 2).sum(0), rtol=1e-6)


@pytest.mark.parametrize("stype", ["csr", "row_sparse"])
def test_dense_times_sparse_keeps_the_sparse_storage(stype):
    rng = np.random.default_rng(2)
    d, x = _sparse_matrix(rng, stype)
    other = rng.uniform(-1, 1, d.shape).astype(np.float32)
    for y in (mx.nd.elemwise_mul(mx.nd.array(other), x), mx.nd.elemwise_mul(x, mx.nd.array(other))):
        assert y.stype == stype
        np.testing.assert_allclose(y.asnumpy(), d * other, rtol=1e-6)


def test_cast_storage_and_retain_functions_and_sparse_out():
    d, x = _sparse_matrix(np.random.default_rng(3), "row_sparse")
    assert mx.nd.sparse.cast_storage(mx.nd.array(d), stype="csr").stype == "csr"
    kept = mx.nd.sparse.retain(x, indices=mx.nd.array([0, 2]))
    assert kept.stype == "row_sparse" and mx.nd.sparse.gs_retain is mx.nd.sparse.retain
    np.testing.assert_array_equal(kept.asnumpy(), d * np.array([[1], [0], [1], [0]]))
    out = mx.nd.sparse.zeros("csr", d.shape)
    mx.nd.broadcast_add(mx.nd.ones(d.shape), mx.nd.ones(d.shape), out=out)
    assert out.stype == "csr"
    np.testing.assert_array_equal(out.asnumpy(), np.full(d.shape, 2))


def test_quadratic_keeps_csr_only_when_c_is_zero():
    d, x = _sparse_matrix(np.random.default_rng(4), "csr")
    for c, stype in ((0.0, "csr"), (1.0, "default")):
        y = mx.nd.contrib.quadratic(x, a=0.5, b=-2.0, c=c)
        assert y.stype == stype
        np.testing.assert_allclose(y.asnumpy(), 0.5 * d.astype(np.float64) ** 2 - 2 * d + c, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("stype", ["csr", "row_sparse"])
def test_in_place_arithmetic_and_writes_into_sparse_arrays(stype):
    rng = np.random.default_rng(5)
    (a, x), (b, y) = _sparse_matrix(rng, stype), _sparse_matrix(rng, stype)
    x += y
    assert x.stype == stype
    np.testing.assert_allclose(x.asnumpy(), a + b, rtol=1e-6)
    x *= y
    np.testing.assert_allclose(x.asnumpy(), (a + b) * b, rtol=1e-6)
    target = mx.nd.sparse.zeros(stype, a.shape)
    assert mx.nd.array(a).copyto(target) is target and target.stype == stype
    np.testing.assert_array_equal(target.asnumpy(), a)
    assert target._num_aux == (2 if stype == "csr" else 1)


def test_random_draws_into_a_row_sparse_out_match_the_dense_draw():
    dense, rsp = mx.nd.zeros((4, 3)), mx.nd.sparse.zeros("row_sparse", (4, 3))
    for out in (dense, rsp):
        mx.random.seed(7)
        mx.nd.random.normal(shape=(4, 3), out=out)
    assert rsp.stype == "row_sparse"
    np.testing.assert_array_equal(rsp.asnumpy(), dense.asnumpy())
    rsp[:] = 2
    np.testing.assert_array_equal(rsp.asnumpy(), np.full((4, 3), 2))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), mode=st.sampled_from(["clip", "wrap"]))
def test_take_of_csr_rows_stays_csr(seed, mode):
    rng = np.random.default_rng(seed)
    d, x = _sparse_matrix(rng, "csr")
    index = rng.integers(-6, 9, size=int(rng.integers(1, 6)))
    y = mx.nd.take(x, mx.nd.array(index), mode=mode)
    assert y.stype == "csr"
    y.check_format()
    np.testing.assert_array_equal(y.asnumpy(), np.take(d, index, axis=0, mode=mode))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_getnnz_counts_stored_entries(axis):
    import scipy.sparse as sp
    d, x = _sparse_matrix(np.random.default_rng(6), "csr")
    np.testing.assert_array_equal(mx.nd.contrib.getnnz(x, axis=axis).asnumpy(),
                                  np.atleast_1d(sp.csr_matrix(d).getnnz(axis=axis)))


def test_add_n_of_float16_row_sparse_sums_in_float32():
    parts = [np.array([[0.5, 0], [0, 0], [1e-3, 2]], np.float16), np.array([[0.25, 1], [0, 0], [1e-3, 0]], np.float16)]
    y = mx.nd.sparse.add_n(*[mx.nd.array(p, dtype="float16").tostype("row_sparse") for p in parts])
    assert y.dtype == np.float16 and y.stype == "row_sparse"
    np.testing.assert_array_equal(y.asnumpy(), (parts[0].astype(np.float32) + parts[1]).astype(np.float16))
