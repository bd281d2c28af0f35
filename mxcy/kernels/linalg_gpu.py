"""CUDA kernels of the linalg ops that Cholesky-based code and the gradients of potrf/trsm/trmm need: potrf (one
block per matrix, column by column), trsm (one thread per right-hand side, substitution), trmm (one thread per output
element), the diagonal and triangle packers (one thread per matrix element, linalg_cpu's element rule), and the
gradients of potrf, trsm and trmm composed of these, matmul_gpu's GEMM and a triangle mirror/zero kernel (linalg_cpu's
element rule); potri (trtri, a thread per column of the inverse, then a GEMM), syrk (a GEMM) and sumlogdiag (a thread
per matrix). The factorizations (LU, LQ, eigen) are in linalg_factor_gpu.py. Arrays are C-contiguous stacks of
matrices, (batch, rows, cols), or of vectors, (batch, length); every kernel writes its output (requests are the op's
business). A GPU kernel cannot raise: potrf writes NaN from the first column of a matrix that is not positive
definite on (the CPU op raises), trsm divides by a zero diagonal (inf/NaN)."""
import functools
import math

from numba import cuda

from .common import REQ_WRITE
from .launch import grid_1d, max_blocks
from .linalg_cpu import off_triangle_dev, pack_element_dev, stored
from .matmul_gpu import matmul_gpu

_POTRF_THREADS = 64


@cuda.jit(device=True, inline="always")
def _tri(a, m, i, j, lower):
    """Entry (i, j) of matrix m of a as a triangular matrix: zero outside its `lower` triangle."""
    return a[m, i, j] if stored(lower, i, j) else 0.0  # not a[..] * 0: the other triangle may hold NaN


def _potrf_kernel(a, out, lower):
    """Cholesky-Crout per matrix (one block each): column j of the lower factor L from A's lower triangle and
    columns < j. L(i, k) lives at out[m, i, k] (lower) or out[m, k, i] (upper: U = L^T); A(i, j), i >= j, at
    a[m, i, j] or a[m, j, i]."""
    n, tid, nt = a.shape[1], cuda.threadIdx.x, cuda.blockDim.x
    for m in range(cuda.blockIdx.x, a.shape[0], cuda.gridDim.x):
        for e in range(tid, n * n, nt):  # the other triangle is zero
            i, j = e // n, e % n
            if not stored(lower, i, j):
                out[m, i, j] = 0
        for j in range(n):
            if tid == 0:
                d = a[m, j, j]
                for k in range(j):
                    ljk = out[m, j, k] if lower else out[m, k, j]
                    d -= ljk * ljk
                out[m, j, j] = math.sqrt(d) if d > 0 else math.nan
            cuda.syncthreads()
            for i in range(j + 1 + tid, n, nt):
                s = a[m, i, j] if lower else a[m, j, i]
                for k in range(j):
                    s -= (out[m, i, k] * out[m, j, k]) if lower else (out[m, k, i] * out[m, k, j])
                if lower:
                    out[m, i, j] = s / out[m, j, j]
                else:
                    out[m, j, i] = s / out[m, j, j]
            cuda.syncthreads()


def _trsm_kernel(a, b, out, lower, transpose, rightside, alpha):
    """One right-hand side per thread: column c of b (left side: op(T) x = alpha b) or row c (right side:
    x op(T) = alpha b, i.e. op(T)^T x^T = alpha b^T). M = op(T) (left) or op(T)^T (right) is triangular; forward
    substitution when M is lower, backward otherwise; x lands in out, read back for the later unknowns."""
    n = a.shape[1]
    vectors = b.shape[1] if rightside else b.shape[2]
    swap = transpose != rightside  # M(i, k) = T(k, i)
    forward = lower != swap
    # out may be b: a thread reads entry i of its right-hand side before it writes unknown i there.
    v = cuda.grid(1)
    while v < b.shape[0] * vectors:
        m, c = v // vectors, v % vectors
        for step in range(n):
            i = step if forward else n - 1 - step
            s = alpha * (b[m, c, i] if rightside else b[m, i, c])
            for q in range(step):
                k = q if forward else n - 1 - q
                mik = a[m, k, i] if swap else a[m, i, k]
                s -= mik * (out[m, c, k] if rightside else out[m, k, c])
            x = s / a[m, i, i]
            if rightside:
                out[m, c, i] = x
            else:
                out[m, i, c] = x
        v += cuda.gridsize(1)


def _trmm_kernel(a, b, out, lower, transpose, rightside, alpha):
    """One output element per thread: alpha op(T) B (left) or alpha B op(T) (right), T's `lower` triangle only."""
    n, rows, cols = a.shape[1], out.shape[1], out.shape[2]
    e = cuda.grid(1)
    while e < out.size:
        m, r, c = e // (rows * cols), e // cols % rows, e % cols
        s = 0.0
        for k in range(n):
            if rightside:  # B[r, k] op(T)[k, c]
                s += b[m, r, k] * (_tri(a, m, c, k, lower) if transpose else _tri(a, m, k, c, lower))
            else:  # op(T)[r, k] B[k, c]
                s += (_tri(a, m, k, r, lower) if transpose else _tri(a, m, r, k, lower)) * b[m, k, c]
        out[m, r, c] = alpha * s
        e += cuda.gridsize(1)


def _packing_kernel(mats, packed, offset, lower, triangle, pack):
    n = mats.shape[1]
    e = cuda.grid(1)
    while e < mats.size:
        pack_element_dev(mats, packed, e // (n * n), e // n % n, e % n, offset, lower, triangle, pack)
        e += cuda.gridsize(1)


@cuda.jit(device=True, inline="always")
def substitute(tri, x, m, c, lower, unit):
    """x[m, :, c] = T^-1 x[m, :, c] in place, T the `lower` (else upper) triangle of tri[m], with ones on its diagonal
    when `unit`: forward substitution for a lower T, backward for an upper one."""
    n = tri.shape[1]
    for step in range(n):
        i = step if lower else n - 1 - step
        s = x[m, i, c]
        for q in range(step):
            k = q if lower else n - 1 - q
            s -= tri[m, i, k] * x[m, k, c]
        x[m, i, c] = s if unit else s / tri[m, i, i]


def _trtri_kernel(a, inv, lower):
    """Column c of T^-1 per thread (T: a's `lower` triangle): T x = e_c by substitution."""
    n = a.shape[1]
    v = cuda.grid(1)
    while v < a.shape[0] * n:
        m, c = v // n, v % n
        for i in range(n):
            inv[m, i, c] = 1.0 if i == c else 0.0
        substitute(a, inv, m, c, lower, False)
        v += cuda.gridsize(1)


def _sumlogdiag_kernel(a, out):
    n = a.shape[1]
    m = cuda.grid(1)
    while m < a.shape[0]:
        s = 0.0
        for i in range(n):
            d = a[m, i, i]
            # log's domain spelled out: NumPy's NaN / -inf, which the simulator's math.log would raise for
            s += math.log(d) if d > 0 else (-math.inf if d == 0 else math.nan)
        out[m] = s
        m += cuda.gridsize(1)


def _off_triangle_kernel(mats, lower, mirror):
    n = mats.shape[1]
    e = cuda.grid(1)
    while e < mats.size:
        off_triangle_dev(mats, e // (n * n), e // n % n, e % n, lower, mirror)
        e += cuda.gridsize(1)


potrf_kernel, trsm_kernel, trmm_kernel, packing_kernel, off_triangle_kernel, trtri_kernel, sumlogdiag_kernel = (
    cuda.jit(k) for k in (_potrf_kernel, _trsm_kernel, _trmm_kernel, _packing_kernel, _off_triangle_kernel,
                          _trtri_kernel, _sumlogdiag_kernel))


def _stack(x, tail):
    """x as a stack of its last `tail` axes (one leading batch axis)."""
    shape = x.shape[x.ndim - tail:]
    return x.reshape((x.size // max(math.prod(shape), 1),) + shape)


def potrf_gpu(a, out, lower):
    """out = the Cholesky factors of the (..., n, n) matrices in a, read in their `lower` triangle."""
    a3, out3 = _stack(a, 2), _stack(out, 2)
    if out.size:
        potrf_kernel[min(a3.shape[0], max_blocks()), _POTRF_THREADS](a3, out3, lower)


def trsm_gpu(a, b, out, lower, transpose, rightside, alpha):
    """out = X with op(a) X = alpha b, or X op(a) = alpha b when rightside."""
    b3 = _stack(b, 2)
    if out.size:
        blocks, threads = grid_1d(b3.shape[0] * (b3.shape[1] if rightside else b3.shape[2]))
        trsm_kernel[blocks, threads](_stack(a, 2), b3, _stack(out, 2), lower, transpose, rightside, alpha)


def trmm_gpu(a, b, out, lower, transpose, rightside, alpha):
    """out = alpha op(a) b, or alpha b op(a) when rightside (a read in its `lower` triangle)."""
    if out.size:
        blocks, threads = grid_1d(out.size)
        trmm_kernel[blocks, threads](_stack(a, 2), _stack(b, 2), _stack(out, 2), lower, transpose, rightside, alpha)


def packing_gpu(mats, packed, offset, lower, triangle, pack):
    """CUDA twin of linalg_cpu.packing_cpu: one thread per matrix element."""
    if mats.size:
        blocks, threads = grid_1d(mats.size)
        packing_kernel[blocks, threads](_stack(mats, 2), _stack(packed, 1), offset, lower, triangle, pack)


def _batched(x):
    """A stack of matrices as the (batch, rows, 1, cols) view that matmul_gpu takes."""
    x3 = _stack(x, 2)
    return x3.reshape(x3.shape[:2] + (1, x3.shape[2]))


def _off_triangle(mats, lower, mirror):
    """Entries of each matrix outside its `lower` triangle: mirrored from inside (mirror) or zeroed."""
    if mats.size:
        blocks, threads = grid_1d(mats.size)
        off_triangle_kernel[blocks, threads](_stack(mats, 2), lower, mirror)


def potrf_backward_gpu(g, chol, out, lower):
    """CUDA twin of linalg_cpu.potrf_backward_cpu: trmm into out, mirrored, then two solves in place."""
    trmm_gpu(chol, g, out, lower, True, not lower, 1.0)
    _off_triangle(out, lower, True)
    trsm_gpu(chol, out, out, lower, lower, False, 1.0)
    trsm_gpu(chol, out, out, lower, not lower, True, 0.5)


def triangular_backward_gpu(name, g, a, other, da, db, lower, transpose, rightside, alpha):
    """CUDA twin of linalg_cpu.triangular_backward_cpu: trsm_gpu or trmm_gpu for db, matmul_gpu for da."""
    (trsm_gpu if name == "trsm" else trmm_gpu)(a, g, db, lower, not transpose, rightside, alpha)
    first = db if name == "trsm" else g
    x, y = (first, other) if rightside == transpose else (other, first)
    trans_x = transpose if rightside == transpose else not transpose
    matmul_gpu(*(_batched(v) for v in (x, y, da)), trans_x, not trans_x, REQ_WRITE,
               -1.0 / alpha if name == "trsm" else alpha)
    _off_triangle(da, lower, False)


def potri_gpu(a, out, lower):
    """out = the inverse of T T^T (lower) or T^T T from the Cholesky factors T in a's `lower` triangles."""
    a3 = _stack(a, 2)
    if out.size == 0:
        return
    inv = cuda.device_array(a3.shape, a3.dtype)
    blocks, threads = grid_1d(a3.shape[0] * a3.shape[1])
    trtri_kernel[blocks, threads](a3, inv, lower)
    matmul_gpu(_batched(inv), _batched(inv), _batched(out), lower, not lower, REQ_WRITE)


def syrk_gpu(a, out, transpose, alpha):
    """out = alpha a a^T, or alpha a^T a when transposed, per matrix."""
    matmul_gpu(_batched(a), _batched(a), _batched(out), transpose, not transpose, REQ_WRITE, alpha)


def sumlogdiag_gpu(a, out):
    """out = the sum of the logs of each matrix's diagonal (one value per matrix)."""
    a3 = _stack(a, 2)
    if a3.shape[0]:
        blocks, threads = grid_1d(a3.shape[0], 64)
        sumlogdiag_kernel[blocks, threads](a3, out.reshape(a3.shape[0]))


# trsm's gradients from (head gradient, A, output), trmm's from (head gradient, A, B).
trsm_backward_gpu, trmm_backward_gpu = (functools.partial(triangular_backward_gpu, name) for name in ("trsm", "trmm"))


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _m, _v = f"{_t}[:, :, ::1]", f"{_t}[:, ::1]"
    PTX_CHECKS += [(_potrf_kernel, f"void({_m}, {_m}, boolean)"),
                   (_trsm_kernel, f"void({_m}, {_m}, {_m}, boolean, boolean, boolean, {_t})"),
                   (_trmm_kernel, f"void({_m}, {_m}, {_m}, boolean, boolean, boolean, {_t})"),
                   (_packing_kernel, f"void({_m}, {_v}, int64, boolean, boolean, boolean)"),
                   (_off_triangle_kernel, f"void({_m}, boolean, boolean)"),
                   (_trtri_kernel, f"void({_m}, {_m}, boolean)"),
                   (_sumlogdiag_kernel, f"void({_m}, {_t}[::1])")]
