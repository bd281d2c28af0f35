"""mx.test_utils: comparisons report the worst element, random helpers, numeric_grad, get_mnist."""
import bz2
import gzip
import os
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import mxcy as mx
from scipy import stats
from mxcy import test_utils as tu


def test_assert_almost_equal_reports_worst_element():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = a.copy()
    b[1, 0] = 3.5
    b[0, 1] = 2.01
    with pytest.raises(AssertionError, match=r"Location of maximum error: \(1, 0\).*a=3.0.*b=3.5") as err:
        tu.assert_almost_equal(a, b, rtol=1e-3, atol=1e-3)
    assert "2 of 4 elements differ" in str(err.value)
    tu.assert_almost_equal(mx.nd.array(a), a)
    tu.assert_almost_equal(np.array([np.nan]), np.array([np.nan]), equal_nan=True)
    with pytest.raises(AssertionError, match="Shapes differ"):
        tu.assert_almost_equal(np.ones(2), np.ones((1, 2)), use_broadcast=False)


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3), elements=st.floats(-10, 10)))
def test_almost_equal_agrees_with_numpy(a):
    b = a + 1e-3
    assert tu.almost_equal(a, b, rtol=0, atol=2e-3) and not tu.almost_equal(a, b, rtol=0, atol=1e-4)
    assert tu.same(a, a.copy()) and not tu.same(a, b)


# (x dtype, y dtype, (rtol, atol)) as MXNet 1.9.1's get_tols prints them
@pytest.mark.parametrize("x, y, tols", [
    (np.ones(1, np.float16), np.ones(1, np.float16), (1e-2, 1e-1)),
    (np.ones(1, np.float64), np.ones(1, np.float32), (1e-4, 1e-3)),
    (np.ones(1, np.int32), np.ones(1, np.int64), (0, 0)),
    (1.0, np.ones(1, np.float32), (1e-4, 1e-3)),
    (np.ones(1), np.ones(1), (1e-5, 1e-20)),
])
def test_default_tolerances_are_mxnets(x, y, tols):
    assert tu.get_tols(x, y, None, None) == tols


def test_tolerance_dicts_and_numbers():
    f32 = np.ones(1, np.float32)
    assert tu.get_tols(f32, np.ones(1), {np.dtype(np.float32): 0.5}, 0)[0] == 0.5
    assert tu.get_tols(f32, f32, 0.25, 0.125) == (0.25, 0.125)
    assert tu.get_rtol() == 1e-5 and tu.get_atol() == 1e-20 and tu.get_rtol(dtype=np.float16) == 1e-2
    assert tu.get_etol() == 0 and tu.get_etol(0.1) == 0.1
    assert tu.default_numeric_eps()[np.dtype(np.float32)] == 2.0 ** -9
    assert tu.effective_dtype(mx.nd.ones(2, dtype=np.float16)) == np.float16


def test_assert_almost_equal_variants():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = a.copy()
    b[2] = 30
    tu.assert_almost_equal_with_err(a, b, rtol=1e-5, atol=1e-5, etol=0.25)
    with pytest.raises(AssertionError, match="1 of 4 elements differ"):
        tu.assert_almost_equal_with_err(a, b, rtol=1e-5, atol=1e-5, etol=0.2)
    c = a.copy()
    c[1] = np.nan
    tu.assert_almost_equal_ignore_nan(a, c)
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(a, c)
    with pytest.raises(AssertionError):
        tu.assert_allclose(a, a + 1e-6)
    tu.assert_almost_equal(np.array([True, False]), np.array([True, False]))
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(np.array([True, False]), np.array([True, True]))
    with pytest.raises(AssertionError, match="are not equal"):
        tu.checkShapes(np.ones(2), np.ones(3))
    assert tu.locationError(a, b, (2,), ("a", "b"), maxError=True) == \
        "Location of maximum error: (2,), a=3.00000000, b=30.00000000"


def test_assert_exception():
    tu.assert_exception(lambda: 1 / 0, ZeroDivisionError)
    with pytest.raises(AssertionError):
        tu.assert_exception(lambda: 1, ZeroDivisionError)


def test_default_context_is_the_current_context():
    assert tu.default_context() == mx.cpu()
    tu.set_default_context(mx.cpu(1))
    try:
        assert tu.default_context() == mx.cpu(1) and mx.nd.ones(1).context == mx.cpu(1)
        with mx.cpu(2):
            assert tu.default_context() == mx.cpu(2)
        assert tu.default_context() == mx.cpu(1)
    finally:
        tu.set_default_context(mx.cpu())


def test_random_shapes_and_arrays():
    for shape in (tu.rand_shape_2d(3, 4), tu.rand_shape_3d(2, 2, 2), tu.rand_shape_nd(4, 3)):
        assert all(d >= 1 for d in shape)
    a, b = tu.random_arrays((2, 3), (4,))
    assert a.shape == (2, 3) and b.shape == (4,) and a.dtype == np.float32
    csr = tu.rand_ndarray((5, 6), "csr", density=0.3)
    assert csr.stype == "csr" and csr.shape == (5, 6)
    rsp = tu.rand_ndarray((5, 6), "row_sparse", density=0.5)
    assert rsp.stype == "row_sparse"
    assert tu.rand_ndarray((2, 2), dtype=np.float64).dtype == np.float64


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, max_side=4), elements=st.floats(-5, 5)),
       st.booleans())
def test_np_reduce(dat, keepdims):
    np.testing.assert_allclose(tu.np_reduce(dat, (0, -1), keepdims, np.sum),
                               np.sum(dat, axis=(0, dat.ndim - 1), keepdims=keepdims))


def test_numeric_grad_of_known_function():
    x = np.array([0.5, -1.0, 2.0])
    grads = tu.numeric_grad(lambda loc: np.sin(loc["x"]) * loc["x"], {"x": x}, eps=1e-6, dtype=np.float64)
    np.testing.assert_allclose(grads["x"], np.cos(x) * x + np.sin(x), rtol=1e-6)


def test_numeric_grad_of_a_non_c_contiguous_location():
    """np.copy of a transposed view keeps Fortran order (MXNet's test_gemm passes such arrays)."""
    x = np.copy(np.arange(6.0).reshape(2, 3).T)
    assert not x.flags.c_contiguous
    grads = tu.numeric_grad(lambda loc: loc["x"] ** 2, {"x": x}, eps=1e-6, dtype=np.float64)
    np.testing.assert_allclose(grads["x"], 2 * x, rtol=1e-6, atol=1e-8)


def test_get_mnist_reads_local_files_only(tmp_path):
    with pytest.raises(mx.MXNetError, match="train-images-idx3-ubyte.*not found.*does not download"):
        tu.get_mnist(str(tmp_path))
    images = np.arange(2 * 784, dtype=np.uint8)
    for prefix, n in (("train", 2), ("t10k", 2)):
        with gzip.open(tmp_path / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 2051, n, 28, 28) + images[:n * 784].tobytes())
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + bytes([3, 7]))
    data = tu.get_mnist(str(tmp_path))
    assert data["train_data"].shape == (2, 1, 28, 28) and data["test_label"].tolist() == [3, 7]
    assert data["train_data"][0, 0, 0, 1] == pytest.approx(1 / 255)
    assert data["train_label"].dtype == np.int8


def test_star_import_hands_out_mxnets_module_names():
    names = {}
    exec("from mxcy.test_utils import *", names)
    assert names["np"] is np and names["mx"] is mx and names["os"] is os
    for name in ("Context", "current_context", "array", "Symbol", "use_np", "getenv", "setenv", "Features",
                 "environment", "verify_generator", "rand_sparse_ndarray", "DummyIter", "npt", "rnd", "json"):
        assert name in names, name


def test_random_helpers():
    np.random.seed(0)
    sample = tu.random_sample(list(range(10)), 4)
    assert len(set(sample)) == 4 and set(sample) <= set(range(10))
    a, b = tu.random_uniform_arrays((3, 2), (5,), low=2, high=3, dtype=np.float64)
    assert a.shape == (3, 2) and b.dtype == np.float64 and a.min() >= 2 and a.max() < 3
    with pytest.raises(TypeError):
        tu.random_uniform_arrays((2,), scale=1)
    x, y = tu.rand_coord_2d(1, 3, 10, 12)
    assert 1 <= x < 3 and 10 <= y < 12
    np.testing.assert_array_equal(tu.assign_each(np.array([[1.0, 4.0]]), np.sqrt), [[1.0, 2.0]])
    np.testing.assert_array_equal(tu.assign_each2(np.array([1.0, 2.0]), np.array([3.0, 4.0]), max), [3.0, 4.0])
    np.testing.assert_array_equal(tu.create_2d_tensor(3, 2).asnumpy(), [[0, 0], [1, 1], [2, 2]])
    np.testing.assert_array_equal(tu.create_vector(4).asnumpy(), [0, 1, 2, 3])
    np.testing.assert_array_equal(tu.get_identity_mat_batch(2).asnumpy(), [np.eye(2)] * 2)


def test_rand_sparse_ndarray():
    rsp, (values, indices) = tu.rand_sparse_ndarray((5, 3), "row_sparse", rsp_indices=np.array([1, 3]),
                                                    data_init=2.0)
    dense = np.zeros((5, 3), np.float32)
    dense[[1, 3]] = 2.0
    np.testing.assert_array_equal(rsp.asnumpy(), dense)
    np.testing.assert_array_equal(indices, [1, 3])
    csr, (indptr, col, data) = tu.rand_sparse_ndarray((20, 30), "csr", density=0.1, dtype=np.float64)
    assert csr.stype == "csr" and csr.dtype == np.float64
    assert (csr.asnumpy() != 0).sum() == 60 == data.shape[0]
    # MXNet 1.9.1's powerlaw layout for (4, 8) at density 0.5: 2, 4, 8, then the 2 left
    pattern = tu.rand_sparse_ndarray((4, 8), "csr", density=0.5, distribution="powerlaw")[0].asnumpy() != 0
    assert pattern.sum(axis=1).tolist() == [2, 4, 8, 2] and pattern[:, 0].all()
    with pytest.raises(mx.MXNetError, match="unknown storage type"):
        tu.rand_sparse_ndarray((2, 2), "dense")
    rsp = tu.create_sparse_array_zd((6, 2), "row_sparse", density=0.9, rsp_indices=[4, 0])
    assert sorted(np.nonzero(rsp.asnumpy().any(axis=1))[0].tolist()) == [0, 4]
    assert tu.create_sparse_array((4, 4), "csr", density=1.0).stype == "csr"


def test_shuffle_csr_column_indices_keeps_rows():
    from scipy import sparse
    csr = sparse.random(6, 10, 0.5, format="csr", random_state=1)
    rows = [sorted(csr.indices[s:e]) for s, e in zip(csr.indptr[:-1], csr.indptr[1:])]
    tu.shuffle_csr_column_indices(csr)
    assert rows == [sorted(csr.indices[s:e]) for s, e in zip(csr.indptr[:-1], csr.indptr[1:])]


def test_distribution_checks():
    # MXNet 1.9.1: gen_buckets_probs_with_ppf(lambda x: x * 2, 4)
    assert tu.gen_buckets_probs_with_ppf(lambda x: x * 2, 4) == \
        ([(0.0, 0.5), (0.5, 1.0), (1.0, 1.5), (1.5, 2.0)], [0.25] * 4)
    assert tu.mean_check(lambda n: np.full(n, 1.0), 1.0, 1.0, 100)
    assert not tu.mean_check(lambda n: np.full(n, 1.5), 1.0, 1.0, 100)
    two_point = lambda n: np.tile([-1.0, 1.0], n // 2)  # variance n / (n - 1)
    assert tu.var_check(two_point, 1.0, 10000) and not tu.var_check(two_point, 2.0, 10000)
    p, observed, expected = tu.chi_square_check(lambda n: np.repeat([0.25, 0.75], [n // 4, 3 * n // 4]),
                                                [(0.0, 0.5), (0.5, 1.0)], [0.5, 0.5], nsamples=100)
    assert observed.tolist() == [25, 75] and expected.tolist() == [50, 50]
    assert p == pytest.approx(stats.chisquare([25, 75], [50, 50])[1])
    p, observed, _ = tu.chi_square_check(lambda n: np.tile([1, 2, 2, 3], n // 4), [1, 2, 3],
                                         [0.25, 0.5, 0.25], nsamples=40)
    assert observed.tolist() == [10, 20, 10] and p == pytest.approx(1.0)
    # thirds of 100 truncate to 33 each: p comes from expected counts scaled to the 100 observed
    p, observed, expected = tu.chi_square_check(lambda n: np.tile([0, 1, 2, 2], 25), [0, 1, 2], [1 / 3] * 3,
                                                nsamples=100)
    assert expected.tolist() == [33, 33, 33] and observed.tolist() == [25, 25, 50]
    assert p == pytest.approx(stats.chisquare([25, 25, 50], [100 / 3] * 3)[1])
    uniform = lambda n: np.random.uniform(size=n)
    buckets, probs = tu.gen_buckets_probs_with_ppf(lambda q: q, 5)
    assert len(tu.verify_generator(uniform, buckets, probs, nsamples=2000, nrepeat=3)) == 3
    with pytest.raises(AssertionError, match="Generator test fails"):
        tu.verify_generator(lambda n: np.random.uniform(0, 0.5, n), buckets, probs, nsamples=2000, nrepeat=3)


def test_environment_restores_variables():
    os.environ.pop("MXCY_TEST_A", None)
    os.environ["MXCY_TEST_B"] = "old"
    with tu.environment({"MXCY_TEST_A": "1", "MXCY_TEST_B": None}):
        assert os.environ["MXCY_TEST_A"] == "1" and "MXCY_TEST_B" not in os.environ
        assert tu.getenv("MXCY_TEST_A") == "1"
    assert "MXCY_TEST_A" not in os.environ and os.environ["MXCY_TEST_B"] == "old"
    with pytest.raises(ValueError):
        with tu.environment("MXCY_TEST_B", "new"):
            assert os.environ["MXCY_TEST_B"] == "new"
            raise ValueError
    assert os.environ.pop("MXCY_TEST_B") == "old"


def test_retry_reruns_only_assertion_failures():
    calls = []

    @tu.retry(3)
    def flaky():
        calls.append(1)
        assert len(calls) == 2

    flaky()
    assert len(calls) == 2
    with pytest.raises(AssertionError):
        tu.retry(2)(lambda: calls.append(1) or False or (_ for _ in ()).throw(AssertionError))()


def test_discard_stderr_silences_fd_2(capfd):
    with tu.discard_stderr():
        os.write(2, b"hidden\n")
    os.write(2, b"shown\n")
    assert capfd.readouterr().err == "shown\n"


def test_same_array_and_symbol_structure():
    a = mx.nd.zeros((2, 3))
    assert tu.same_array(a, a[:]) and not tu.same_array(a, a.copy())
    np.testing.assert_array_equal(a.asnumpy(), 0)
    x = mx.sym.Variable("x")
    assert tu.same_symbol_structure(mx.sym.relu(x), mx.sym.relu(mx.sym.Variable("y"), name="other"))
    assert not tu.same_symbol_structure(mx.sym.relu(x), mx.sym.sigmoid(x))


def test_collapse_sum_like():
    # MXNet 1.9.1 prints [[60.], [92.], [124.]]
    np.testing.assert_array_equal(tu.collapse_sum_like(np.arange(24.).reshape(2, 3, 4), (3, 1)),
                                  [[60.], [92.], [124.]])


def test_matrices_with_real_eigenvalues():
    np.random.seed(1)
    m = tu.new_matrix_with_real_eigvals_nd((2, 3, 3))
    assert m.shape == (2, 3, 3) and np.allclose(np.linalg.eigvals(m).imag, 0)
    s = tu.new_sym_matrix_with_real_eigvals_nd((2, 4, 4))
    np.testing.assert_allclose(s, np.swapaxes(s, -1, -2), atol=1e-12)
    q = tu.new_orthonormal_matrix_2d(3)
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-12)


def test_platform_queries():
    assert tu.is_op_runnable() and not tu.has_tvm_ops()
    assert list(tu.list_gpus()) == list(range(mx.context.num_gpus()))
    assert tu.is_cd_run() == (os.environ.get("CD_JOB") == "1")


def test_data_helpers_use_local_files_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(mx.MXNetError, match="data/cifar/train.rec.*does not download"):
        tu.get_cifar10()
    with pytest.raises(mx.MXNetError, match="x.bin.*example.org"):
        tu.download("http://example.org/x.bin", dirname="d")
    (tmp_path / "d" / "x.bin").write_bytes(b"1")
    assert tu.download("http://example.org/x.bin", dirname="d") == os.path.join("d", "x.bin")
    os.makedirs("data")
    with zipfile.ZipFile("data/mnist.zip", "w") as zf:
        for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                     "t10k-labels-idx1-ubyte"):
            zf.writestr(name, b"x")
    tu.get_mnist_ubyte()
    assert os.path.exists("data/t10k-labels-idx1-ubyte")
    with bz2.open("data/kdda.t.bz2", "wb") as f:
        f.write(b"1 2:3\n")
    tu.get_bz2_data("data", "kdda.t", "http://example.org/kdda.t.bz2", "kdda.t.bz2")
    assert open("data/kdda.t").read() == "1 2:3\n" and not os.path.exists("data/kdda.t.bz2")
    assert tu.download_model("m", dst_dir=".", meta_info={}) == (None, 0)
    with pytest.raises(mx.MXNetError, match="m-symbol.json"):
        tu.download_model("m", dst_dir=".")
    with pytest.raises(IOError):
        tu.get_im2rec_path()


def test_dummy_iter_repeats_first_batch():
    class Batches:
        provide_data, provide_label, batch_size = [("data", (2,))], [], 2

        def __init__(self):
            self.items = iter(["first", "second"])

        def __next__(self):
            return next(self.items)

    it = tu.DummyIter(Batches())
    assert [next(it) for _ in range(3)] == ["first"] * 3 and it.batch_size == 2


class _ScaledSGD:
    """A stand-in optimizer: state = a copy of the weight, update w -= lr * g (multi-tensor form too)."""
    def __init__(self, lr):
        self.lr = lr

    def create_state_multi_precision(self, index, weight):
        return weight.copy()

    def update_multi_precision(self, index, weight, grad, state):
        if isinstance(index, list):
            for w, g in zip(weight, grad):
                w[:] = w - self.lr * g
        else:
            weight[:] = weight - self.lr * grad


def test_compare_optimizer():
    tu.compare_optimizer(_ScaledSGD(0.1), _ScaledSGD(0.1), (3, 2), np.float32, compare_states=False)
    tu.compare_optimizer(_ScaledSGD(0.1), _ScaledSGD(0.1), [(2,), (3,)], np.float32, compare_states=False,
                         ntensors=2)
    with pytest.raises(AssertionError):
        tu.compare_optimizer(_ScaledSGD(0.1), _ScaledSGD(0.2), (3, 2), np.float32, compare_states=False)


def test_numeric_grad_of_an_executor_with_several_arguments():
    """Each argument's perturbations reach the executor (unchanged arguments are not rewritten between runs)."""
    a, b = mx.sym.var("a"), mx.sym.var("b")
    exe = (a * a * b).simple_bind(mx.cpu(), a=(2, 3), b=(2, 3), type_dict={"a": "float64", "b": "float64"})
    rng = np.random.default_rng(0)
    loc = {"a": rng.uniform(-1, 1, (2, 3)), "b": rng.uniform(-1, 1, (2, 3))}
    grads = tu.numeric_grad(exe, loc, eps=1e-6, dtype=np.float64)
    np.testing.assert_allclose(grads["a"], 2 * loc["a"] * loc["b"], rtol=1e-6)
    np.testing.assert_allclose(grads["b"], loc["a"] ** 2, rtol=1e-6)
