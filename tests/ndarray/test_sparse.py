"""mx.nd.sparse: CSR / row_sparse round trips against dense and scipy, sparse dot against float64
dense products, elementwise ops, the NDArray surface of sparse arrays, and bad input."""
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, strategies as st

import mxcy as mx
from mxcy.base import NotSupportedForSparseNDArray
from mxcy.ndarray import sparse
from mxcy.ops import registry
from mxcy.ops.frontend import SPARSE_NAMESPACE
from tests.ops.opspec import OpSpec, check_forward, check_gradient, check_req_add

SEEDS = st.integers(0, 2 ** 32 - 1)
DTYPES = ["float32", "float64", "float16", "int32", "int64", "int8", "uint8"]


def _dense(rng, shape, density=None, dtype="float32"):
    """A random array with about `density` of its entries non-zero (whole rows zero sometimes)."""
    density = rng.uniform(0, 1) if density is None else density
    values = rng.integers(1, 100, size=shape) * rng.choice([-1, 1], size=shape)
    values = values.astype(dtype) if np.dtype(dtype).kind != "u" else np.abs(values).astype(dtype)
    mask = rng.random(shape) < density
    if shape and shape[0] > 1:
        mask[rng.integers(0, shape[0])] = False
    return np.where(mask, values, 0).astype(dtype)


def _matrix(seed, max_side=7):
    rng = np.random.default_rng(seed)
    return rng, _dense(rng, tuple(rng.integers(1, max_side, size=2)),
                       dtype=DTYPES[rng.integers(len(DTYPES))])


@given(seed=SEEDS)
def test_csr_round_trip_and_components_match_scipy(seed):
    _, d = _matrix(seed)
    csr = mx.nd.sparse.csr_matrix(d)
    ref = sp.csr_matrix(d.astype(np.float32) if d.dtype == np.float16 else d)
    assert isinstance(csr, sparse.CSRNDArray) and csr.stype == "csr"
    assert csr.shape == d.shape and csr.dtype == d.dtype
    np.testing.assert_array_equal(csr.asnumpy(), d)
    np.testing.assert_array_equal(csr.data.asnumpy(), ref.data)
    np.testing.assert_array_equal(csr.indices.asnumpy(), ref.indices)
    np.testing.assert_array_equal(csr.indptr.asnumpy(), ref.indptr)
    assert csr.indices.dtype == np.int64 and csr.indptr.dtype == np.int64
    np.testing.assert_array_equal(csr.tostype("default").asnumpy(), d)
    np.testing.assert_array_equal(mx.nd.array(d, dtype=d.dtype).tostype("csr").asnumpy(), d)
    if d.dtype != np.float16:
        np.testing.assert_array_equal(csr.asscipy().toarray(), d)
    rebuilt = mx.nd.sparse.csr_matrix((csr.data, csr.indices, csr.indptr), shape=d.shape)
    np.testing.assert_array_equal(rebuilt.asnumpy(), d)
    csr.check_format()


@given(seed=SEEDS, ndim=st.integers(1, 3))
def test_row_sparse_round_trip(seed, ndim):
    rng = np.random.default_rng(seed)
    d = _dense(rng, tuple(rng.integers(1, 6, size=ndim)), dtype=DTYPES[rng.integers(len(DTYPES))])
    rsp = mx.nd.sparse.row_sparse_array(d)
    assert isinstance(rsp, sparse.RowSparseNDArray) and rsp.stype == "row_sparse"
    rows = np.flatnonzero(d.reshape(d.shape[0], -1).any(axis=1))
    np.testing.assert_array_equal(rsp.indices.asnumpy(), rows)
    np.testing.assert_array_equal(rsp.data.asnumpy(), d[rows])
    np.testing.assert_array_equal(rsp.asnumpy(), d)
    np.testing.assert_array_equal(mx.nd.sparse.cast_storage(mx.nd.array(d, dtype=d.dtype),
                                                            "row_sparse")
                                  .tostype("default").asnumpy(), d)
    rebuilt = mx.nd.sparse.row_sparse_array((rsp.data, rsp.indices), shape=d.shape)
    np.testing.assert_array_equal(rebuilt.asnumpy(), d)


def test_construction_forms():
    d = np.array([[0, 2, 0], [0, 0, 0], [3, 0, 4]], np.float32)
    from_parts = mx.nd.sparse.csr_matrix(([2, 3, 4], [1, 0, 2], [0, 1, 1, 3]))
    assert from_parts.shape == (3, 3) and from_parts.dtype == np.float32  # lists -> float32
    np.testing.assert_array_equal(from_parts.asnumpy(), d)
    coo = mx.nd.sparse.csr_matrix((np.array([2.0, 3, 4]), ([0, 2, 2], [1, 0, 2])), shape=(3, 3))
    assert coo.dtype == np.float64  # a NumPy source keeps its dtype, as in MXNet's sparse API
    np.testing.assert_array_equal(coo.asnumpy(), d)
    # scipy input is canonicalised: duplicates summed, column indices sorted.
    raw = sp.csr_matrix((np.array([1.0, 1, 3, 4]), np.array([1, 1, 0, 2]), np.array([0, 2, 2, 4])),
                        shape=(3, 3))
    canon = mx.nd.array(raw)
    assert isinstance(canon, sparse.CSRNDArray)
    np.testing.assert_array_equal(canon.asnumpy(), raw.toarray())
    np.testing.assert_array_equal(canon.indices.asnumpy(), [1, 0, 2])
    assert mx.nd.sparse.csr_matrix(sp.coo_matrix(d)).stype == "csr"
    empty = mx.nd.sparse.csr_matrix((2, 5), dtype="float64")
    assert empty.shape == (2, 5) and empty.dtype == np.float64 and not empty.asnumpy().any()
    assert mx.nd.sparse.row_sparse_array((4, 2)).shape == (4, 2)
    rsp = mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [0, 3]))
    assert rsp.shape == (4, 2)
    assert mx.nd.sparse.zeros("row_sparse", (3, 2)).indices.shape == (0,)
    assert mx.nd.sparse.empty("csr", (3, 2)).indptr.shape == (4,)
    assert type(mx.nd.sparse.zeros("default", 3)) is mx.nd.NDArray
    assert mx.nd.zeros((2, 2), stype="csr").stype == "csr"
    copy = mx.nd.sparse.array(rsp, dtype="float64")
    assert copy.dtype == np.float64 and copy.stype == "row_sparse"
    np.testing.assert_array_equal(mx.nd.sparse.csr_matrix(from_parts).asnumpy(), d)


def _dot_case(seed):
    rng = np.random.default_rng(seed)
    m, k, n = (int(v) for v in rng.integers(1, 7, size=3))
    return rng, _dense(rng, (m, k), dtype="float64"), rng.standard_normal((k, n))


@given(seed=SEEDS)
def test_csr_dot_dense_matches_float64_dense_product(seed):
    rng, a, b = _dot_case(seed)
    csr = mx.nd.sparse.csr_matrix(a)
    out = mx.nd.sparse.dot(csr, mx.nd.array(b, dtype="float64"))
    assert out.stype == "default"
    np.testing.assert_allclose(out.asnumpy(), a @ b, rtol=1e-12, atol=1e-12)
    c = rng.standard_normal((a.shape[0], 3))
    t = mx.nd.sparse.dot(csr, mx.nd.array(c, dtype="float64"), transpose_a=True)
    assert t.stype == "row_sparse"
    np.testing.assert_array_equal(t.indices.asnumpy(), np.unique(csr.indices.asnumpy()))
    np.testing.assert_allclose(t.asnumpy(), a.T @ c, rtol=1e-12, atol=1e-12)
    dense_t = mx.nd.sparse.dot(csr, mx.nd.array(c, dtype="float64"), transpose_a=True,
                               forward_stype="default")
    np.testing.assert_allclose(dense_t.asnumpy(), a.T @ c, rtol=1e-12, atol=1e-12)
    bt = mx.nd.sparse.dot(csr, mx.nd.array(b.T, dtype="float64"), transpose_b=True)
    np.testing.assert_allclose(bt.asnumpy(), a @ b, rtol=1e-12, atol=1e-12)
    vec = mx.nd.sparse.dot(csr, mx.nd.array(b[:, 0], dtype="float64"))
    np.testing.assert_allclose(vec.asnumpy(), a @ b[:, 0], rtol=1e-12, atol=1e-12)
    lhs = rng.standard_normal((4, a.shape[0]))
    dc = mx.nd.sparse.dot(mx.nd.array(lhs, dtype="float64"), csr)
    assert dc.stype == "csr"
    np.testing.assert_allclose(dc.asnumpy(), lhs @ a, rtol=1e-12, atol=1e-12)
    dct = mx.nd.sparse.dot(mx.nd.array(lhs.T, dtype="float64"), csr, transpose_a=True)
    assert dct.stype == "default"
    np.testing.assert_allclose(dct.asnumpy(), lhs @ a, rtol=1e-12, atol=1e-12)


def test_dot_float32_and_row_sparse_rhs():
    rng = np.random.default_rng(0)
    a = _dense(rng, (5, 4), 0.4)
    b = _dense(rng, (4, 3), 0.5)
    out = mx.nd.sparse.dot(mx.nd.sparse.csr_matrix(a), mx.nd.sparse.row_sparse_array(b))
    np.testing.assert_allclose(out.asnumpy(), a.astype(np.float64) @ b, rtol=1e-6)
    half = mx.nd.sparse.dot(mx.nd.sparse.csr_matrix(a.astype("float16")),
                            mx.nd.array(b, dtype="float16"))
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.asnumpy(), a @ b, rtol=1e-2)
    dense = mx.nd.sparse.dot(mx.nd.array(a), mx.nd.array(b))
    np.testing.assert_allclose(dense.asnumpy(), a @ b, rtol=1e-6)


@given(seed=SEEDS, transpose_a=st.booleans(), transpose_b=st.booleans())
def test_dot_gradient_with_respect_to_the_dense_operand(seed, transpose_a, transpose_b):
    rng = np.random.default_rng(seed)
    a = _dense(rng, (4, 3), dtype="float64")
    op_a = a.T if transpose_a else a
    w = rng.standard_normal((op_a.shape[1], 2))
    w_in = w.T if transpose_b else w
    head = rng.standard_normal((op_a.shape[0], 2))
    x = mx.nd.array(w_in, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.sparse.dot(mx.nd.sparse.csr_matrix(a), x, transpose_a=transpose_a,
                             transpose_b=transpose_b, forward_stype="default")
    y.backward(mx.nd.array(head, dtype="float64"))
    grad = op_a.T @ head
    np.testing.assert_allclose(x.grad.asnumpy(), grad.T if transpose_b else grad, atol=1e-12)
    # and a dense left operand: out = op(L) @ A
    left = rng.standard_normal((2, a.shape[0]))
    left_in = left.T if transpose_a else left
    lx = mx.nd.array(left_in, dtype="float64")
    lx.attach_grad()
    with mx.autograd.record():
        z = mx.nd.sparse.dot(lx, mx.nd.sparse.csr_matrix(a), transpose_a=transpose_a,
                             forward_stype="default")
    z.backward(mx.nd.array(np.ones((2, 3)), dtype="float64"))
    lgrad = np.ones((2, 3)) @ a.T
    np.testing.assert_allclose(lx.grad.asnumpy(), lgrad.T if transpose_a else lgrad, atol=1e-12)


@given(seed=SEEDS, stype=st.sampled_from(["csr", "row_sparse"]))
def test_elementwise_ops_keep_storage(seed, stype):
    rng = np.random.default_rng(seed)
    a, b = _dense(rng, (5, 4)), _dense(rng, (5, 4))
    x, y = mx.nd.array(a).tostype(stype), mx.nd.array(b).tostype(stype)
    for got, want in ((x + y, a + b), (x - y, a - b), (mx.nd.sparse.multiply(x, y), a * b),
                      (mx.nd.sparse.elemwise_add(x, y), a + b), (x * 2, a * 2), (3 * x, 3 * a),
                      (x / 4, a / 4), (-x, -a), (abs(x), np.abs(a))):
        assert got.stype == stype
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6)
        got.check_format()
    for got, want in ((x + 1, a + 1), (x + mx.nd.array(b), a + b), (mx.nd.array(b) - x, b - a),
                      (mx.nd.sparse.add(mx.nd.array(a), y), a + b), (x == y, a == b),
                      (mx.nd.sparse.divide(x, mx.nd.ones((5, 4))), a)):
        assert got.stype == "default"
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6)


def test_dispatch_gives_storage_fallback_and_sparse_kernels():
    d = np.array([[0.0, 1.0], [2.0, 0.0]], np.float32)
    csr = mx.nd.sparse.csr_matrix(d)
    (out,) = sparse.dispatch(registry.get("exp"), [csr], {})
    np.testing.assert_allclose(out.asnumpy(), np.exp(d), rtol=1e-6)
    dot = registry.get("dot")
    (prod,) = sparse.dispatch(dot, [csr, mx.nd.array(d)], dot.parse_attrs({}))
    np.testing.assert_allclose(prod.asnumpy(), d @ d)
    (both,) = sparse.dispatch(registry.get("elemwise_add"), [csr, csr], {})
    assert both.stype == "csr"
    # a dense result written into a sparse out= is stored in out's storage type (MXNet's output fallback)
    target = mx.nd.sparse.zeros("csr", (2, 2))
    (written,) = sparse.dispatch(registry.get("exp"), [csr], {}, out=target)
    assert written is target and target.stype == "csr"
    np.testing.assert_allclose(target.asnumpy(), np.exp(d), rtol=1e-6)


def test_sparse_ndarray_surface():
    d = np.array([[0, 1.5, 0], [0, 0, 0], [2.5, 0, 3.5]], np.float32)
    csr, rsp = mx.nd.sparse.csr_matrix(d), mx.nd.sparse.row_sparse_array(d)
    assert repr(csr) == "\n<CSRNDArray 3x3 @cpu(0)>"
    assert repr(rsp).strip() == "<RowSparseNDArray 3x3 @cpu(0)>"
    assert (csr.size, csr.ndim, len(csr), csr.context) == (9, 2, 3, mx.cpu())
    np.testing.assert_array_equal(np.asarray(csr), d)
    on1 = csr.copyto(mx.cpu(1))
    assert on1.context == mx.cpu(1) and on1.indices.context == mx.cpu(1)
    np.testing.assert_array_equal(on1.asnumpy(), d)
    target = mx.nd.sparse.zeros("csr", (3, 3))
    assert csr.copyto(target) is target
    np.testing.assert_array_equal(target.asnumpy(), d)
    dense = mx.nd.zeros((3, 3))
    csr.copyto(dense)
    np.testing.assert_array_equal(dense.asnumpy(), d)
    cast = csr.astype("float64")
    assert cast.dtype == np.float64 and cast.stype == "csr"
    assert csr.astype("float32", copy=False) is csr
    for arr in (csr, rsp):
        back = pickle.loads(pickle.dumps(arr))
        assert type(back) is type(arr)
        np.testing.assert_array_equal(back.asnumpy(), d)
    np.testing.assert_array_equal(csr[2].asnumpy(), d[2:])
    np.testing.assert_array_equal(csr[-2:].asnumpy(), d[-2:])
    np.testing.assert_array_equal(csr[1:1].asnumpy(), d[1:1])
    assert rsp[:] is rsp
    np.testing.assert_array_equal(rsp.retain(mx.nd.array([0, 1])).asnumpy(), d * [[1], [1], [0]])
    np.testing.assert_array_equal(mx.nd.sparse.retain(rsp, mx.nd.array([2])).indices.asnumpy(), [2])
    rsp[:] = np.ones((3, 3))
    np.testing.assert_array_equal(rsp.asnumpy(), np.ones((3, 3)))
    csr[:] = mx.nd.sparse.csr_matrix(d * 2)
    np.testing.assert_array_equal(csr.asnumpy(), d * 2)
    assert csr.detach().stype == "csr"
    csr.wait_to_read()


def test_a_sparse_parts_property_is_a_copy():
    csr = mx.nd.sparse.csr_matrix(np.eye(2, dtype=np.float32))
    values = csr.data
    values[:] = 7
    np.testing.assert_array_equal(csr.asnumpy(), np.eye(2))


@pytest.mark.parametrize("call,match", [
    # csr_matrix checks the parts' shapes; their index values are check_format's (as MXNet)
    (lambda: mx.nd.sparse.csr_matrix(([1.0, 2.0], [0, 1], [0, 2, 1]), shape=(2, 2)).check_format(),
     "indptr"),
    (lambda: mx.nd.sparse.csr_matrix(([1.0, 2.0], [0, 3], [0, 1, 2]), shape=(2, 3)).check_format(),
     r"\[0, 3\)"),
    (lambda: mx.nd.sparse.csr_matrix(([1.0, 2.0], [1, 0], [0, 2, 2]), shape=(2, 3)).check_format(),
     "increasing"),
    (lambda: mx.nd.sparse.csr_matrix(([1.0, 2.0], [0, 1], [0, 1, 2]), shape=(3, 3)),
     "len\\(indptr\\)"),
    (lambda: mx.nd.sparse.csr_matrix(([1.0], [0, 1], [0, 1, 2]), shape=(2, 3)), "len\\(data\\)"),
    (lambda: mx.nd.sparse.csr_matrix(([1.0], [0.5], [0, 1]), shape=(1, 2)), "integers"),
    (lambda: mx.nd.sparse.csr_matrix(np.zeros((2, 2, 2))), "2-D"),
    (lambda: mx.nd.sparse.csr_matrix(np.zeros((2, 2)), shape=(3, 2)), "does not match"),
    (lambda: mx.nd.sparse.csr_matrix(([1.0], [0])), "tuple of 2"),
    (lambda: mx.nd.sparse.csr_matrix(mx.nd.sparse.zeros("row_sparse", (2, 2))), "RowSparseNDArray"),
    (lambda: mx.nd.sparse.row_sparse_array(([[1.0], [2.0]], [3, 1]), shape=(4, 1)).check_format(), "increasing"),
    (lambda: mx.nd.sparse.row_sparse_array(([[1.0]], [4]), shape=(4, 1)).check_format(), r"\[0, 4\)"),
    (lambda: mx.nd.sparse.row_sparse_array(([[1.0, 2.0]], [0]), shape=(4, 1)), "must have shape"),
    (lambda: mx.nd.sparse.row_sparse_array((np.zeros((0, 2)), [])), "shape is required"),
    (lambda: mx.nd.sparse.zeros("csr", (2, 2, 2)), "stype"),
    (lambda: mx.nd.sparse.zeros("coo", (2, 2)), "stype"),
    (lambda: mx.nd.sparse.array(np.zeros(2)), "sparse NDArray or scipy"),
    (lambda: mx.nd.sparse.csr_matrix(np.eye(2)).tostype("row_sparse"), "not supported"),
    (lambda: mx.nd.sparse.cast_storage(mx.nd.zeros(2), "dense"), "invalid value 'dense' for argument 'stype'"),
    (lambda: mx.nd.sparse.dot(mx.nd.sparse.csr_matrix(np.eye(3)), mx.nd.zeros((2, 2))), "dot"),
    (lambda: mx.nd.sparse.dot(mx.nd.sparse.csr_matrix(np.eye(3, dtype=np.float32)),
                              mx.nd.zeros((3, 2), dtype="float64")), "dtype"),
    (lambda: mx.nd.sparse.dot(mx.nd.zeros((2, 2)), mx.nd.zeros((2, 2)), forward_stype="x"),
     "forward_stype"),
    (lambda: mx.nd.sparse.retain(mx.nd.sparse.zeros("row_sparse", (2, 2)), [0]), "_sparse_retain"),
    (lambda: mx.nd.sparse.csr_matrix(np.eye(2)) + mx.nd.sparse.csr_matrix(np.eye(2, dtype="f4")),
     "dtypes differ"),
    (lambda: mx.nd.sparse.csr_matrix(np.eye(2))[5], "out of range"),
    (lambda: mx.nd.sparse.csr_matrix(np.eye(2))[::2], "step 1"),
    (lambda: mx.nd.sparse.csr_matrix(np.eye(2, dtype=np.float16)).asscipy(), "float16"),
    (lambda: mx.nd.sparse.row_sparse_array(np.eye(2))[0], "only x\\[:\\]"),
])
def test_bad_input_raises_mxnet_error(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


def test_dense_ops_on_sparse_inputs_fall_back_to_dense_like_mxnet():
    csr = mx.nd.sparse.csr_matrix(np.array([[0, 2], [3, 0]], dtype=np.float32))
    exp = mx.nd.exp(csr)
    assert exp.stype == "default"
    np.testing.assert_allclose(exp.asnumpy(), np.exp([[0, 2], [3, 0]]), rtol=1e-6)
    assert mx.nd.sum(csr).asscalar() == 5


def test_dense_only_operations_refuse_sparse_arrays():
    csr = mx.nd.sparse.csr_matrix(np.eye(2, dtype=np.float32))
    with pytest.raises(NotSupportedForSparseNDArray, match="reshape"):
        csr.reshape(4)  # (attach_grad works on sparse arrays, as in MXNet: tests/test_autograd.py)
    csr += 1  # MXNet's output fallback: the dense sum stored back as csr
    assert csr.stype == "csr"
    np.testing.assert_array_equal(csr.asnumpy(), np.eye(2) + 1)


def test_check_format_finds_corrupted_parts():
    csr = mx.nd.sparse.csr_matrix(np.eye(3, dtype=np.float32))
    csr._aux[1][:] = mx.nd.array([0, 1, 5], dtype="int64")
    csr.check_format(full_check=False)
    with pytest.raises(mx.MXNetError, match="check_format"):
        csr.check_format()


# --- the part-level operators against the OpSpec contract (tests/ops/opspec.py) ----------------

def _csr_parts(rng, m, k):
    a = _dense(rng, (m, k), dtype="float64")
    ref = sp.csr_matrix(a)
    return a, [ref.data, ref.indices.astype(np.int64), ref.indptr.astype(np.int64)]


def _make_csr_dot(rng):
    m, k, n = (int(v) for v in rng.integers(1, 5, size=3))
    ta, tb = bool(rng.integers(2)), bool(rng.integers(2))
    _, parts = _csr_parts(rng, *((k, m) if ta else (m, k)))
    rhs = rng.uniform(-1, 1, (n, k) if tb else (k, n))
    return parts + [rhs], {"csr_shape": (k, m) if ta else (m, k), "transpose_a": ta,
                           "transpose_b": tb}


def _make_dns_csr(rng):
    m, k, n = (int(v) for v in rng.integers(1, 5, size=3))
    ta, tb = bool(rng.integers(2)), bool(rng.integers(2))
    _, parts = _csr_parts(rng, *((n, k) if tb else (k, n)))
    lhs = rng.uniform(-1, 1, (k, m) if ta else (m, k))
    return [lhs] + parts, {"csr_shape": (n, k) if tb else (k, n), "transpose_a": ta,
                           "transpose_b": tb}


def _todense(data, indices, indptr, csr_shape):
    return sp.csr_matrix((data, indices, indptr), shape=csr_shape).toarray()


def _make_csr_todense(rng):
    m, k = (int(v) for v in rng.integers(1, 6, size=2))
    return _csr_parts(rng, m, k)[1], {"csr_shape": (m, k)}


def _t(x, flag):
    return x.T if flag else x


def _make_rsp(rng):
    shape = tuple(int(d) for d in rng.integers(1, 5, size=rng.integers(1, 4)))
    d = _dense(rng, shape, dtype="float64")
    rows = np.flatnonzero(d.reshape(shape[0], -1).any(axis=1))
    return [d[rows], rows.astype(np.int64)], {"shape": shape}


def _rsp_dense(data, indices, shape):
    out = np.zeros(shape)
    out[indices] = data
    return out


# Sparse values are integers up to 99: float32 sums of a few products reach ~400, and a result that
# cancels to near zero keeps their rounding error (~400 * 2^-24 per term).
_DOT_ATOL = 1e-4

SPECS = [
    OpSpec("_csr_dot", _make_csr_dot, lambda d, i, p, rhs, csr_shape, transpose_a, transpose_b:
           _t(_todense(d, i, p, csr_shape), transpose_a) @ _t(rhs, transpose_b), grad_inputs=(3,),
           atol=_DOT_ATOL),
    OpSpec("_dot_dns_csr", _make_dns_csr, lambda lhs, d, i, p, csr_shape, transpose_a, transpose_b:
           _t(lhs, transpose_a) @ _t(_todense(d, i, p, csr_shape), transpose_b), grad_inputs=(0,),
           atol=_DOT_ATOL),
    OpSpec("_csr_todense", _make_csr_todense, _todense, grad=False,
           why="densifies a sparse array, which autograd does not take as a variable"),
    OpSpec("_rsp_todense", _make_rsp, _rsp_dense, grad=False,
           why="densifies a sparse array, which autograd does not take as a variable"),
]


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@given(seed=SEEDS)
def test_part_ops_forward_and_req_add(spec, seed):
    check_forward(spec, np.random.default_rng(seed))
    check_req_add(spec, np.random.default_rng(seed))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.grad], ids=repr)
@given(seed=SEEDS)
def test_part_ops_gradient(spec, seed):
    check_gradient(spec, np.random.default_rng(seed))


@pytest.mark.parametrize("name", sorted(n for n in SPARSE_NAMESPACE if n in registry.names()))
def test_sparse_namespaces_reach_the_same_operator(name):
    # MXNet lists these ops in mx.nd.sparse and mx.sym.sparse too: the same operator (mx.nd.sparse's own
    # storage-aware functions, such as dot, take precedence there).
    assert vars(mx.sym.sparse)[name] is vars(mx.sym._internal)[name]
    nd_fn = vars(mx.nd.sparse)[name]
    assert nd_fn is vars(mx.nd._internal)[name] or nd_fn.__module__ == sparse.__name__


def test_sparse_namespace_functions_compute_on_sparse_and_dense_inputs():
    x = np.array([[0.0, -1.5], [2.0, 0.0]], np.float32)
    np.testing.assert_array_equal(mx.nd.sparse.abs(mx.nd.array(x)).asnumpy(), np.abs(x))
    np.testing.assert_array_equal(mx.nd.sparse.abs(mx.nd.sparse.csr_matrix(x)).asnumpy(), np.abs(x))
    out = mx.sym.sparse.sqrt(mx.sym.var("a")).eval(a=mx.nd.array(np.abs(x)))[0]
    np.testing.assert_allclose(out.asnumpy(), np.sqrt(np.abs(x)))


def test_sparse_dot_symbol_with_row_sparse_weight_initializes_in_a_module():
    # MXNet's test_init.py::test_rsp_const_init: a row_sparse weight of a sparse dot takes the constant.
    data = mx.sym.var("data", stype="csr")
    weight = mx.sym.var("weight", shape=(10, 2), init=mx.init.Constant(value=2.0), stype="row_sparse")
    mod = mx.mod.Module(mx.sym.sparse.dot(data, weight), label_names=None)
    mod.bind(data_shapes=[("data", (10, 10))])
    mod.init_params()
    (value,) = mod.get_params()[0].values()
    assert value.stype == "row_sparse"
    np.testing.assert_array_equal(value.asnumpy(), np.full((10, 2), 2.0))
    x = np.random.default_rng(0).random((10, 10)).astype(np.float32)
    mod.forward(mx.io.DataBatch([mx.nd.sparse.csr_matrix(x)]), is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), x @ np.full((10, 2), 2.0), rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda: mx.nd.sparse.csr_matrix(mx.nd.ones((2, 2)), shape=(3, 2)),
    lambda: mx.nd.sparse.csr_matrix((2, 2), shape=(3, 2)),
    lambda: mx.nd.sparse.row_sparse_array((2, 2), shape=(3, 2)),
    lambda: mx.nd.sparse.zeros("invalid_stype", (2, 2)),
    lambda: mx.nd.array([1, 2, 3]).tostype("csr"),
    lambda: mx.nd.sparse.csr_matrix((np.zeros(0), np.zeros(0), np.zeros(3))),
    lambda: mx.nd.sparse.row_sparse_array((np.zeros((0, 2)), np.zeros(0))),
])
def test_shape_and_stype_mismatches_are_value_errors_as_in_mxnet(call):
    with pytest.raises(ValueError):
        call()
    with pytest.raises(mx.MXNetError):
        call()
