"""Local response normalization across channels, forward and backward, CPU and CUDA, on C-contiguous (N, C, S)
views of NCHW data (S = H * W). With r = (nsize - 1) // 2 and the window c - r .. c + r clipped to [0, C)
(MXNet 1.9.1's CPU window, nsize - 1 channels for an even nsize):
    tmp = knorm + alpha / nsize * window sum of x^2,    out = x * tmp^-beta,
    dx = dy * tmp^-beta - 2 * alpha * beta / nsize * x * window sum of dy * x * tmp^(-beta - 1).
Window sums run in float64; a zero tmp gives inf / nan as NumPy would."""
import numba
from numba import cuda

from .common import REQ_NULL, assign, parallel_kernel
from .launch import dual, grid_1d

_JIT = dict(nogil=True, cache=True, error_model="numpy")


@numba.njit(inline="always", nogil=True)
def window(c, r, nc):
    """Channels c - r .. c + r clipped to [0, nc): range(lo, hi)."""
    return max(c - r, 0), min(c + r + 1, nc)


def _tmp_norm(x, n, c, s, r, nsize, alpha, knorm):
    """knorm + alpha / nsize * sum of x[n, k, s]^2 over channel k in c's window."""
    lo, hi = window(c, r, x.shape[1])
    acc = 0.0
    for k in range(lo, hi):
        v = numba.float64(x[n, k, s])
        acc += v * v
    return knorm + alpha / nsize * acc


def _lrn_dx(dy, x, tmp, n, c, s, r, nsize, alpha, beta):
    """dx[n, c, s]: the head-gradient term and the window sum of dy * x * tmp^(-beta - 1)."""
    lo, hi = window(c, r, x.shape[1])
    acc = 0.0
    for k in range(lo, hi):
        acc += numba.float64(dy[n, k, s]) * x[n, k, s] * numba.float64(tmp[n, k, s]) ** (-beta - 1.0)
    return dy[n, c, s] * numba.float64(tmp[n, c, s]) ** -beta - 2.0 * alpha * beta / nsize * x[n, c, s] * acc


tmp_norm, tmp_norm_dev = dual(_tmp_norm)
lrn_dx, lrn_dx_dev = dual(_lrn_dx)


# ---------------------------------------------------------------- CPU drivers
@parallel_kernel(**_JIT)
def lrn_fwd_cpu(x, out, tmp, nsize, alpha, beta, knorm, req_out, req_tmp):
    """out (req_out)= x * tmp^-beta and tmp (req_tmp)= tmp_norm over x, out, tmp of shape (N, C, S)."""
    nn, nc, ns = x.shape
    r = (nsize - 1) // 2
    for row in numba.prange(nn * nc):
        n, c = row // nc, row % nc
        for s in range(ns):
            t = tmp_norm(x, n, c, s, r, nsize, alpha, knorm)
            if req_out != REQ_NULL:
                out[n, c, s] = assign(out[n, c, s], x[n, c, s] * t ** -beta, req_out)
            if req_tmp != REQ_NULL:
                tmp[n, c, s] = assign(tmp[n, c, s], t, req_tmp)


@parallel_kernel(**_JIT)
def lrn_bwd_cpu(dy, x, tmp, dx, nsize, alpha, beta, req):
    """dx (req)= LRN's data gradient from the head gradient dy, the data x and the forward's tmp."""
    nn, nc, ns = x.shape
    if req == REQ_NULL:
        return
    r = (nsize - 1) // 2
    for row in numba.prange(nn * nc):
        n, c = row // nc, row % nc
        for s in range(ns):
            dx[n, c, s] = assign(dx[n, c, s], lrn_dx(dy, x, tmp, n, c, s, r, nsize, alpha, beta), req)


# ---------------------------------------------------------------- GPU drivers
def _lrn_fwd_kernel(x, out, tmp, nsize, alpha, beta, knorm, req_out, req_tmp):
    # One thread per element (n, c, s), grid-stride.
    nn, nc, ns = x.shape
    r = (nsize - 1) // 2
    e = cuda.grid(1)
    while e < x.size:
        n, c, s = e // (nc * ns), (e // ns) % nc, e % ns
        t = tmp_norm_dev(x, n, c, s, r, nsize, alpha, knorm)
        if req_out != REQ_NULL:
            out[n, c, s] = assign(out[n, c, s], x[n, c, s] * t ** -beta, req_out)
        if req_tmp != REQ_NULL:
            tmp[n, c, s] = assign(tmp[n, c, s], t, req_tmp)
        e += cuda.gridsize(1)


def _lrn_bwd_kernel(dy, x, tmp, dx, nsize, alpha, beta, req):
    # One thread per element (n, c, s), grid-stride; a gather over the window, so no atomics.
    nn, nc, ns = x.shape
    r = (nsize - 1) // 2
    e = cuda.grid(1)
    while e < x.size:
        n, c, s = e // (nc * ns), (e // ns) % nc, e % ns
        dx[n, c, s] = assign(dx[n, c, s], lrn_dx_dev(dy, x, tmp, n, c, s, r, nsize, alpha, beta), req)
        e += cuda.gridsize(1)


lrn_fwd_kernel = cuda.jit(_lrn_fwd_kernel)
lrn_bwd_kernel = cuda.jit(_lrn_bwd_kernel)


def lrn_fwd_gpu(x, out, tmp, nsize, alpha, beta, knorm, req_out, req_tmp, stream=0):
    """Same contract as lrn_fwd_cpu, on device arrays."""
    if x.size and (req_out != REQ_NULL or req_tmp != REQ_NULL):
        blocks, threads = grid_1d(x.size)
        lrn_fwd_kernel[blocks, threads, stream](x, out, tmp, nsize, float(alpha), float(beta), float(knorm),
                                                req_out, req_tmp)


def lrn_bwd_gpu(dy, x, tmp, dx, nsize, alpha, beta, req, stream=0):
    """Same contract as lrn_bwd_cpu, on device arrays."""
    if x.size and req != REQ_NULL:
        blocks, threads = grid_1d(x.size)
        lrn_bwd_kernel[blocks, threads, stream](dy, x, tmp, dx, nsize, float(alpha), float(beta), req)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a = f"{_t}[:, :, ::1]"
    PTX_CHECKS += [
        (_lrn_fwd_kernel, f"void({_a}, {_a}, {_a}, int64, float64, float64, float64, int64, int64)"),
        (_lrn_bwd_kernel, f"void({_a}, {_a}, {_a}, {_a}, int64, float64, float64, int64)"),
    ]
