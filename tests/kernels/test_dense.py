"""FullyConnected kernels against a float64 NumPy reference, CPU and CUDA (simulator when no GPU)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import dense
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE
from mxcy.kernels.dense import fc_bwd_cpu, fc_bwd_gpu, fc_fwd_cpu, fc_fwd_gpu

REQS = [REQ_WRITE, REQ_ADD, REQ_NULL]


def expected(old, value, req):
    return {REQ_NULL: old, REQ_WRITE: value, REQ_ADD: old + value}[req]


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


def check_fc(B, I, H, dtype, bias, reqs, fwd, bwd, to_dev=np.asarray, to_host=np.asarray):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, I)).astype(dtype)
    w = rng.standard_normal((H, I)).astype(dtype)
    b = rng.standard_normal(H).astype(dtype) if bias else None
    dy = rng.standard_normal((B, H)).astype(dtype)
    x64, w64, dy64 = x.astype(np.float64), w.astype(np.float64), dy.astype(np.float64)
    olds = [rng.standard_normal(s).astype(dtype) for s in [(B, H), (B, I), (H, I), (H,)]]
    outs = [to_dev(o.copy()) for o in olds]
    fwd(to_dev(x), to_dev(w), None if b is None else to_dev(b), outs[0], reqs[0])
    ref_out = np.einsum("bi,hi->bh", x64, w64) + (0 if b is None else b)
    bwd(to_dev(dy), to_dev(x), to_dev(w), outs[1], outs[2], outs[3], *reqs[1:])
    refs = [ref_out, np.einsum("bh,hi->bi", dy64, w64), np.einsum("bh,bi->hi", dy64, x64), dy64.sum(0)]
    for old, out, ref, req in zip(olds, outs, refs, reqs):
        np.testing.assert_allclose(to_host(out), expected(old, ref, req), **tol(dtype))


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 40), st.sampled_from([np.float32, np.float64]),
       st.booleans(), st.lists(st.sampled_from(REQS), min_size=4, max_size=4))
def test_cpu(B, I, H, dtype, bias, reqs):
    check_fc(B, I, H, dtype, bias, reqs, fc_fwd_cpu, fc_bwd_cpu)


@pytest.mark.parametrize("small_gemm, serial_gemm, threaded, pinned",
                         [(0, 0, 3, 3), (1 << 40, 0, 0, 3), (1 << 40, 1 << 40, 0, 0)],
                         ids=["numba_threads", "one_blas_thread", "serial_in_blas"])
def test_cpu_blas_threads(small_gemm, serial_gemm, threaded, pinned, monkeypatch):
    # From SMALL_GEMM multiply-adds on, products are split over Numba's threads (blas_cpu.threaded_matmul); from
    # SERIAL_GEMM on they run under the BLAS pin (one thread); below SERIAL_GEMM OpenBLAS runs on one thread by
    # itself and nothing is pinned.
    monkeypatch.setattr(dense, "SMALL_GEMM", small_gemm)
    monkeypatch.setattr(dense, "SERIAL_GEMM", serial_gemm)
    calls = {"pinned": 0, "threaded": 0}
    pin, real_threaded = dense.blas_cpu.single_threaded_blas, dense.blas_cpu.threaded_matmul

    def count(kind, fn):
        def counted(*args):
            calls[kind] += 1
            return fn(*args)
        return counted
    monkeypatch.setattr(dense.blas_cpu, "single_threaded_blas", count("pinned", pin))
    monkeypatch.setattr(dense.blas_cpu, "threaded_matmul", count("threaded", real_threaded))
    check_fc(7, 5, 6, np.float64, True, [REQ_WRITE, REQ_ADD, REQ_WRITE, REQ_ADD], fc_fwd_cpu, fc_bwd_cpu)
    if not dense.blas_cpu.AVAILABLE:
        pinned = 0
    assert calls == {"pinned": pinned, "threaded": threaded}


def test_cpu_outputs_not_needed():
    x, w, dy = np.ones((2, 3)), np.ones((4, 3)), np.ones((2, 4))
    dw = np.zeros((4, 3))
    fc_bwd_cpu(dy, x, w, None, dw, None, REQ_WRITE, REQ_WRITE, REQ_WRITE)
    np.testing.assert_array_equal(dw, np.full((4, 3), 2.0))


@pytest.mark.cuda
@settings(max_examples=5)
@given(st.integers(1, 9), st.integers(1, 20), st.integers(1, 9), st.sampled_from([np.float32, np.float64]),
       st.booleans(), st.lists(st.sampled_from(REQS), min_size=4, max_size=4))
def test_gpu(B, I, H, dtype, bias, reqs):
    check_fc(B, I, H, dtype, bias, reqs, fc_fwd_gpu, fc_bwd_gpu, cuda.to_device, lambda a: a.copy_to_host())


@pytest.mark.cuda
def test_gpu_tile_edges():
    # More rows than one 64-row tile, and a reduction longer than one 16-wide shared-memory slice.
    check_fc(70, 37, 3, np.float32, True, [REQ_WRITE, REQ_ADD, REQ_WRITE, REQ_ADD], fc_fwd_gpu, fc_bwd_gpu,
             cuda.to_device, lambda a: a.copy_to_host())
