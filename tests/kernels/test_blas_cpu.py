"""blas_cpu.matmul through NumPy's OpenBLAS and through its np.dot fallback, against a float64 NumPy product; the\none pin of both libraries' thread counts, and kernels that leave the counts as they found them."""
import threading

import numpy as np
import pytest

import mxcy as mx
from mxcy.kernels import blas_cpu


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("through_blas", [True, False])
def test_matmul_matches_numpy(dtype, transpose_b, through_blas):
    if through_blas and not blas_cpu.AVAILABLE:
        pytest.skip("NumPy's BLAS is not scipy-openblas64 here")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 7)).astype(dtype)
    b = rng.standard_normal((3, 7) if transpose_b else (7, 3)).astype(dtype)
    out = np.full((5, 3), np.nan, dtype)
    blas_cpu.matmul(blas_cpu.gemm_of(dtype), through_blas, a, b, out, transpose_b, dtype(1))
    want = a.astype(np.float64) @ (b.T if transpose_b else b).astype(np.float64)
    np.testing.assert_allclose(out, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


def _counts():
    return [get() for get, _ in blas_cpu.THREAD_COUNTS]


@pytest.mark.skipif(not blas_cpu.THREAD_COUNTS, reason="no OpenBLAS thread count found")
def test_pin_covers_every_library_and_every_thread():
    before = _counts()
    seen = []
    with blas_cpu.single_threaded_blas():
        other = threading.Thread(target=lambda: seen.extend(_counts()))
        other.start()
        other.join()
        inside = _counts()
    assert inside == seen == [1] * len(before)
    assert _counts() == before


@pytest.mark.skipif(not blas_cpu.THREAD_COUNTS, reason="no OpenBLAS thread count found")
@pytest.mark.parametrize("run", ["rnn", "conv_pointwise_rows", "potrf_batch", "small_fc"])
def test_kernels_leave_the_thread_counts_as_they_found_them(run):
    # The RNN's chunks used to pin and restore the (process-wide) count each on its own thread: the chunk that
    # restored last put back the other's pin, and the BLAS stayed on one thread for every later GEMM.
    before = _counts()
    rng = np.random.default_rng(0)
    for _ in range(3):
        if run == "rnn":
            net = mx.gluon.rnn.LSTM(64, input_size=16)
            net.initialize()
            net(mx.nd.array(rng.standard_normal((20, 8, 16)))).wait_to_read()
        elif run == "conv_pointwise_rows":
            mx.nd.Convolution(mx.nd.array(rng.standard_normal((1, 32, 16, 16))),
                              mx.nd.array(rng.standard_normal((64, 32, 1, 1))), kernel=(1, 1), num_filter=64,
                              no_bias=True).wait_to_read()
        elif run == "potrf_batch":
            a = rng.standard_normal((4, 24, 24))
            mx.nd.linalg.potrf(mx.nd.array(a @ a.transpose(0, 2, 1) + 24 * np.eye(24))).wait_to_read()
        else:
            mx.nd.FullyConnected(mx.nd.array(rng.standard_normal((128, 400))),
                                 mx.nd.array(rng.standard_normal((120, 400))), num_hidden=120,
                                 no_bias=True).wait_to_read()
    assert _counts() == before


@pytest.mark.skipif(not blas_cpu.AVAILABLE, reason="NumPy's BLAS is not scipy-openblas64 here")
@pytest.mark.parametrize("shape", [(300, 70, 90), (5, 70, 900), (1, 3, 2)], ids=["rows", "columns", "tiny"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a, trans_b, accumulate", [(0, 0, 0), (1, 0, 1), (0, 1, 0), (1, 1, 1)])
def test_threaded_matmul_parts(shape, dtype, trans_a, trans_b, accumulate):
    # Parts of the output's rows (tall products) or columns (wide ones), operands stored either way round.
    M, K, N = shape
    rng = np.random.default_rng(1)
    a = rng.standard_normal((K, M) if trans_a else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if trans_b else (K, N)).astype(dtype)
    a, b = (a.T if trans_a else a), (b.T if trans_b else b)
    out = rng.standard_normal((M, N)).astype(dtype)
    want = a.astype(np.float64) @ b.astype(np.float64) + (out if accumulate else 0)
    assert blas_cpu.threaded_matmul(out, a, b, bool(accumulate))
    np.testing.assert_allclose(out, want, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)


def test_threaded_matmul_declines_what_it_cannot_split():
    a = np.ones((4, 6))[:, ::2]  # neither C- nor Fortran-ordered
    assert not blas_cpu.threaded_matmul(np.empty((4, 5)), a, np.ones((3, 5)), False)
    assert not blas_cpu.threaded_matmul(np.empty((2, 2), np.int64), np.ones((2, 2), np.int64),
                                        np.ones((2, 2), np.int64), False)
