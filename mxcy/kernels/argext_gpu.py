"""CUDA argmax/argmin along the middle axis of a C-contiguous (outer, n, inner) array, as NumPy resolves them:
out[o * inner + i] (req)= the first j where x[o, j, i] is extreme, or the first NaN when the row has one.
x-threads of a block stride along a row and a shared-memory tree keeps the winner; y-threads take other rows."""
import numba
from numba import cuda

from .common import REQ_NULL, assign
from .launch import rows_launch

THREADS = 256


@cuda.jit(device=True, inline="always")
def _wins(v, j, best, bj, is_max):
    """Whether item (v, j) beats the candidate (best, bj), bj < 0 meaning none: NaN beats numbers, then the
    larger (is_max) or smaller value, then the smaller index."""
    if j < 0:
        return False
    if bj < 0:
        return True
    if v != v:
        return best == best or j < bj
    if best != best:
        return False
    if v == best:
        return j < bj
    return v > best if is_max else v < best


def _arg_extreme_kernel(x, out, n, inner, is_max, req):
    vals = cuda.shared.array(THREADS, x.dtype)
    idxs = cuda.shared.array(THREADS, numba.int64)
    tx = cuda.threadIdx.x
    nx = cuda.blockDim.x
    slot = cuda.threadIdx.y * nx + tx
    # Every thread runs every pass of this loop, so that all reach the barriers.
    for r0 in range(cuda.blockIdx.x * cuda.blockDim.y, out.size, cuda.gridDim.x * cuda.blockDim.y):
        r = r0 + cuda.threadIdx.y
        best = x[0]  # any value of x's type; bj = -1 says it is no candidate
        bj = -1
        if r < out.size:
            start = r // inner * n * inner + r % inner
            for j in range(tx, n, nx):
                v = x[start + j * inner]
                if _wins(v, j, best, bj, is_max):
                    best = v
                    bj = j
        vals[slot] = best
        idxs[slot] = bj
        cuda.syncthreads()
        step = nx // 2
        while step > 0:
            if tx < step and _wins(vals[slot + step], idxs[slot + step], vals[slot], idxs[slot], is_max):
                vals[slot] = vals[slot + step]
                idxs[slot] = idxs[slot + step]
            cuda.syncthreads()
            step //= 2
        if tx == 0 and r < out.size:
            out[r] = assign(out[r], idxs[slot], req)
        cuda.syncthreads()  # the next rows reuse the shared arrays


_arg_extreme = cuda.jit(_arg_extreme_kernel)

PTX_CHECKS = [(_arg_extreme_kernel, f"void({t}[::1], {t}[::1], int64, int64, boolean, int64)")
              for t in ("float32", "float64", "int32")]


def arg_extreme_gpu(x, out, n, inner, is_max, req, stream=0):
    """out (req)= argmax (is_max) or argmin of flat x seen as (outer, n, inner) along n, as out's dtype; flat out
    holds outer * inner results in C order, n >= 1."""
    if req == REQ_NULL or out.size == 0:
        return
    blocks, threads = rows_launch(out.size, n, THREADS)
    _arg_extreme[blocks, threads, stream](x, out, n, inner, bool(is_max), req)
