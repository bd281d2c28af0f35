"""CUDA kernels of contrib.fft / contrib.ifft (the CPU's is NumPy's FFT, mxcy/ops/contrib_misc.py): the unnormalised
1-D discrete Fourier transform of each row as a direct sum, one thread per output value (O(n) each), in float64;
the angle's k * j product is reduced mod n in integers first, so long rows keep their phase digits. Complex values are
(real, imaginary) pairs in the last dimension; arrays are (rows, n) views."""
import math

from numba import cuda

from .common import REQ_NULL, assign
from .launch import grid_1d


def _fft_kernel(x, out, req):
    """out (rows, 2n)[r, 2k + part] (req)= the real (part 0) or imaginary (part 1) part of
    sum_j x[r, j] exp(-2 pi i k j / n) for real x (rows, n)."""
    n = x.shape[1]
    e = cuda.grid(1)
    while e < out.size:
        r, k, part = e // (2 * n), e % (2 * n) // 2, e % 2
        acc = 0.0
        for j in range(n):
            angle = 2.0 * math.pi * (k * j % n) / n
            acc += x[r, j] * (math.cos(angle) if part == 0 else -math.sin(angle))
        out[r, 2 * k + part] = assign(out[r, 2 * k + part], acc, req)
        e += cuda.gridsize(1)


def _ifft_kernel(x, out, req):
    """out (rows, n)[r, j] (req)= the real part of sum_k (x[r, 2k] + i x[r, 2k + 1]) exp(2 pi i k j / n)."""
    n = out.shape[1]
    e = cuda.grid(1)
    while e < out.size:
        r, j = e // n, e % n
        acc = 0.0
        for k in range(n):
            angle = 2.0 * math.pi * (k * j % n) / n
            acc += x[r, 2 * k] * math.cos(angle) - x[r, 2 * k + 1] * math.sin(angle)
        out[r, j] = assign(out[r, j], acc, req)
        e += cuda.gridsize(1)


fft_kernel = cuda.jit(_fft_kernel)
ifft_kernel = cuda.jit(_ifft_kernel)


def _rows(a):
    width = a.shape[a.ndim - 1]
    return a.reshape(a.size // width if width else 0, width)


def fft_gpu(x, out, req, stream=0):
    """out (..., 2n) (req)= the FFT of the last axis of real x (..., n), as (real, imaginary) pairs."""
    if req != REQ_NULL and out.size:
        blocks, threads = grid_1d(out.size)
        fft_kernel[blocks, threads, stream](_rows(x), _rows(out), req)


def ifft_gpu(x, out, req, stream=0):
    """out (..., n) (req)= the real part of the unnormalised inverse FFT of the pairs in x (..., 2n)."""
    if req != REQ_NULL and out.size:
        blocks, threads = grid_1d(out.size)
        ifft_kernel[blocks, threads, stream](_rows(x), _rows(out), req)


PTX_CHECKS = [(fn, f"void({t}[:, ::1], {t}[:, ::1], int64)") for fn in (_fft_kernel, _ifft_kernel)
              for t in ("float32", "float64")]
