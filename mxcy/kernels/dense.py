"""FullyConnected kernels, out (B, H) = x (B, I) @ w (H, I)^T + b: NumPy's BLAS on the CPU, and a
shared-memory tiled GEMM on CUDA whose template conv_gpu reuses for implicit-GEMM convolution.
"""
import math

import numpy as np
from numba import cuda

from . import blas_cpu
from .common import REQ_ADD, REQ_NULL, assign

TILE = 64                       # output tile edge (rows and columns) of one block
TPB = 16                        # threads per block edge: 256 threads, each owning MICRO x MICRO outputs
MICRO = TILE // TPB
BK = 16                         # reduction slice staged in shared memory per step
LOADS = TILE * BK // (TPB * TPB)
TILE_PAD = TILE + 1             # one padding column keeps k-fast stores into shared memory conflict-free


def make_tiled_gemm(name, load_a, load_b, store, a_k_fast, b_k_fast):
    """A kernel computing C_z[m, n] = sum_k A_z[m, k] B_z[k, n] for z = blockIdx.z over 64x64 tiles.

    load_a(a, geo, z, m, k) and load_b(b, geo, z, k, n) are device functions reading the operands
    (they may gather, as implicit-GEMM convolution does); store(c, bias, geo, req, z, m, n, v)
    writes a result. *_k_fast says whether consecutive threads should read consecutive k, to make
    the global reads coalesce. Launch as kernel[(ceil(N/64), ceil(M/64), Z), (16, 16)]
    (a, b, c, bias, geo, req, M, N, K).
    """
    def kernel(a, b, c, bias, geo, req, M, N, K):
        As = cuda.shared.array((BK, TILE_PAD), dtype=c.dtype)
        Bs = cuda.shared.array((BK, TILE_PAD), dtype=c.dtype)
        acc = cuda.local.array((MICRO, MICRO), dtype=c.dtype)
        ra = cuda.local.array(MICRO, dtype=c.dtype)
        rb = cuda.local.array(MICRO, dtype=c.dtype)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * TPB + tx
        m0 = cuda.blockIdx.y * TILE
        n0 = cuda.blockIdx.x * TILE
        z = cuda.blockIdx.z
        for i in range(MICRO):
            for j in range(MICRO):
                acc[i, j] = 0
        for k0 in range(0, K, BK):
            for e in range(LOADS):
                idx = tid + e * TPB * TPB
                kk = idx % BK if a_k_fast else idx // TILE
                mm = idx // BK if a_k_fast else idx % TILE
                As[kk, mm] = 0
                if m0 + mm < M and k0 + kk < K:
                    As[kk, mm] = load_a(a, geo, z, m0 + mm, k0 + kk)
                kk = idx % BK if b_k_fast else idx // TILE
                nn = idx // BK if b_k_fast else idx % TILE
                Bs[kk, nn] = 0
                if n0 + nn < N and k0 + kk < K:
                    Bs[kk, nn] = load_b(b, geo, z, k0 + kk, n0 + nn)
            cuda.syncthreads()
            for kk in range(BK):
                for i in range(MICRO):
                    ra[i] = As[kk, ty + i * TPB]
                for j in range(MICRO):
                    rb[j] = Bs[kk, tx + j * TPB]
                for i in range(MICRO):
                    for j in range(MICRO):
                        acc[i, j] += ra[i] * rb[j]
            cuda.syncthreads()
        for i in range(MICRO):
            m = m0 + ty + i * TPB
            for j in range(MICRO):
                n = n0 + tx + j * TPB
                if m < M and n < N:
                    store(c, bias, geo, req, z, m, n, acc[i, j])
    kernel.__name__ = kernel.__qualname__ = name
    return kernel


@cuda.jit(device=True, inline=True)
def _direct(a, geo, z, i, j):
    return a[i, j]


@cuda.jit(device=True, inline=True)
def _transposed(a, geo, z, i, j):
    return a[j, i]


@cuda.jit(device=True, inline=True)
def _store(c, bias, geo, req, z, m, n, v):
    """c[m, n] (+)= v + bias[n]; geo = (has_bias,)."""
    if geo[0]:
        v += bias[n]
    c[m, n] = assign(c[m, n], v, req)


# out = x @ w^T; dx = dy @ w; dw = dy^T @ x.  The fast axis of each operand is its contiguous one.
_fc_fwd_py = make_tiled_gemm("fc_fwd", _direct, _transposed, _store, True, True)
_fc_bwd_data_py = make_tiled_gemm("fc_bwd_data", _direct, _direct, _store, True, False)
_fc_bwd_weight_py = make_tiled_gemm("fc_bwd_weight", _transposed, _direct, _store, False, False)
_fc_fwd = cuda.jit(_fc_fwd_py)
_fc_bwd_data = cuda.jit(_fc_bwd_data_py)
_fc_bwd_weight = cuda.jit(_fc_bwd_weight_py)


def _colsum_py(dy, db, req):
    """db[j] (+)= sum_i dy[i, j], one thread per column so that the reads coalesce across threads."""
    j = cuda.grid(1)
    if j < dy.shape[1]:
        acc = 0.0
        for i in range(dy.shape[0]):
            acc += dy[i, j]
        db[j] = assign(db[j], acc, req)


_colsum = cuda.jit(_colsum_py)


def _gemm_sig(t, ndim_geo=1):
    return (f"void({t}[:, ::1], {t}[:, ::1], {t}[:, ::1], {t}[::1], UniTuple(int64, {ndim_geo}), "
            "int64, int64, int64, int64)")


PTX_CHECKS = [(fn, _gemm_sig(t)) for fn in (_fc_fwd_py, _fc_bwd_data_py, _fc_bwd_weight_py)
              for t in ("float32", "float64")]
PTX_CHECKS += [(_colsum_py, f"void({t}[:, ::1], {t}[::1], int64)") for t in ("float32", "float64")]


def gemm_grid(M, N, Z=1):
    """Launch grid of a make_tiled_gemm kernel for an M x N result, Z times."""
    return (math.ceil(N / TILE), math.ceil(M / TILE), Z)


# GEMMs below this many multiply-adds run on one BLAS thread (blas_cpu.single_threaded_blas): LeNet's 128 x 400 x 120 took 0.15 ms on one thread and 1.8 ms on two
# with the cores shared (load average 15; 1.2 M multiply-adds: 0.035 against 3-4 ms); from ~60 M on, two threads
# gained (32 x 2048 x 1000: 1.3 against 2.1 ms).
SMALL_GEMM = 1 << 25
# OpenBLAS itself runs GEMMs below 65536 x GEMM_MULTITHREAD_THRESHOLD (4) multiply-adds on one thread: no pinning.
SERIAL_GEMM = 1 << 18


def _matmul_into(out, a, b, req):
    """out (req)= a @ b through NumPy's BLAS: on one thread when the product is small, on Numba's threads when it
    is large (blas_cpu.threaded_matmul)."""
    work = a.shape[0] * a.shape[1] * b.shape[1]
    if work >= SMALL_GEMM and blas_cpu.threaded_matmul(out, a, b, req == REQ_ADD):
        return
    if blas_cpu.AVAILABLE and SERIAL_GEMM <= work < SMALL_GEMM:
        with blas_cpu.single_threaded_blas():
            _product(out, a, b, req)
    else:  # tiny products (a layer of 16 units at batch 1): no pin, no context on this hot path
        _product(out, a, b, req)


def _product(out, a, b, req):
    if req == REQ_ADD:
        out += a @ b
    else:
        np.matmul(a, b, out=out)


def fc_fwd_cpu(x, w, b, out, req):
    """out (+)= x @ w^T + b with one BLAS call (multi-threaded when large); x (B, I), w (H, I), b (H,) or None."""
    if req == REQ_NULL:
        return
    _matmul_into(out, x, w.T, req)
    if b is not None:
        out += b


def fc_bwd_cpu(dy, x, w, dx, dw, db, req_dx, req_dw, req_db):
    """dx (+)= dy @ w, dw (+)= dy^T @ x, db (+)= sum_i dy[i]; an output may be None (not needed)."""
    if dx is not None and req_dx != REQ_NULL:
        _matmul_into(dx, dy, w, req_dx)
    if dw is not None and req_dw != REQ_NULL:
        _matmul_into(dw, dy.T, x, req_dw)
    if db is not None and req_db != REQ_NULL:
        if req_db == REQ_ADD:
            db += np.add.reduce(dy, axis=0)
        else:
            np.add.reduce(dy, axis=0, out=db)


def fc_fwd_gpu(x, w, b, out, req, stream=0):
    """CUDA twin of fc_fwd_cpu on C-contiguous device arrays."""
    if req == REQ_NULL or out.size == 0:
        return
    M, K = x.shape
    N = w.shape[0]
    # Without a bias the kernel never reads `bias`; any array of the right type stands in for it.
    bias = out.reshape(-1) if b is None else b
    _fc_fwd[gemm_grid(M, N), (TPB, TPB), stream](x, w, out, bias, (int(b is not None),), req, M, N, K)


def fc_bwd_gpu(dy, x, w, dx, dw, db, req_dx, req_dw, req_db, stream=0):
    """CUDA twin of fc_bwd_cpu on C-contiguous device arrays."""
    B, H = dy.shape
    I = x.shape[1]
    if dx is not None and req_dx != REQ_NULL and dx.size:
        _fc_bwd_data[gemm_grid(B, I), (TPB, TPB), stream](
            dy, w, dx, dx.reshape(-1), (0,), req_dx, B, I, H)
    if dw is not None and req_dw != REQ_NULL and dw.size:
        _fc_bwd_weight[gemm_grid(H, I), (TPB, TPB), stream](
            dy, x, dw, dw.reshape(-1), (0,), req_dw, H, I, B)
    if db is not None and req_db != REQ_NULL and db.size:
        _colsum[math.ceil(H / 128), 128, stream](dy, db, req_db)
