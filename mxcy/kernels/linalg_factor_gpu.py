"""CUDA kernels of the dense linalg factorizations: LU with partial pivoting (det, slogdet, inverse), Householder LQ
(gelqf) and cyclic Jacobi eigendecomposition (syevd). The factorizations are sequential per matrix and the ops' matrices
small, so one thread factors one matrix; the inverse's solves run one thread per (matrix, column). Results follow
LAPACK's conventions as the CPU ops (NumPy/SciPy) give them: getrf's pivots (the first row of largest magnitude,
1-based), gelqf's Householder signs, syevd's ascending eigenvalues with each eigenvector's largest entry positive.
Arrays are C-contiguous stacks (batch, rows, cols) of one float type; a kernel cannot raise, so a singular matrix's
inverse holds inf/NaN where the CPU op raises."""
import math

import numpy as np
from numba import cuda

from .launch import grid_1d
from .linalg_gpu import _stack, substitute

_JACOBI_SWEEPS = 50  # cyclic Jacobi converges quadratically: 6-10 sweeps in practice


def _lu_kernel(a, lu, pivots):
    """getrf per matrix: lu holds the unit lower L (below the diagonal) and U of P A = L U, pivots[k] the 1-based row
    swapped with row k at step k."""
    n = a.shape[1]
    m = cuda.grid(1)
    while m < a.shape[0]:
        for i in range(n):
            for j in range(n):
                lu[m, i, j] = a[m, i, j]
        for k in range(n):
            p = k
            for i in range(k + 1, n):
                if abs(lu[m, i, k]) > abs(lu[m, p, k]):
                    p = i
            pivots[m, k] = p + 1
            if p != k:
                for j in range(n):
                    swap = lu[m, k, j]
                    lu[m, k, j] = lu[m, p, j]
                    lu[m, p, j] = swap
            d = lu[m, k, k]
            if d != 0:  # a zero pivot leaves a zero column below it: nothing to eliminate (LAPACK's info > 0)
                for i in range(k + 1, n):
                    f = lu[m, i, k] / d
                    lu[m, i, k] = f
                    for j in range(k + 1, n):
                        lu[m, i, j] -= f * lu[m, k, j]
        m += cuda.gridsize(1)


def _determinant_kernel(lu, pivots, sign, value, log):
    """From getrf's factors per matrix: sign (-1, 0 or 1) and the determinant (log: log |det|, -inf when 0)."""
    n = lu.shape[1]
    m = cuda.grid(1)
    while m < lu.shape[0]:
        s = 1.0
        v = 0.0 if log else 1.0
        for k in range(n):
            if pivots[m, k] != k + 1:
                s = -s
            d = lu[m, k, k]
            if d < 0:
                s, d = -s, -d
            elif d == 0:
                s = 0.0
            if log:
                v += math.log(d) if d > 0 else -math.inf
            else:
                v *= d
        sign[m] = s
        value[m] = v if log else s * v
        m += cuda.gridsize(1)


def _lu_inverse_kernel(lu, pivots, out):
    """Column c of A^-1 per thread: the pivots applied to e_c, then L and U substituted."""
    n = lu.shape[1]
    v = cuda.grid(1)
    while v < lu.shape[0] * n:
        m, c = v // n, v % n
        for i in range(n):
            out[m, i, c] = 1.0 if i == c else 0.0
        for k in range(n):
            p = pivots[m, k] - 1
            if p != k:
                swap = out[m, k, c]
                out[m, k, c] = out[m, p, c]
                out[m, p, c] = swap
        substitute(lu, out, m, c, True, True)
        substitute(lu, out, m, c, False, False)
        v += cuda.gridsize(1)


@cuda.jit(device=True, inline="always")
def _reflect(x, t, r, work, i, tau):
    """Row r of x[t] times the reflector I - tau v v^T from the right, v = (1 at i, work[t, i, i + 1:] after it)."""
    dot = x[t, r, i]
    for j in range(i + 1, x.shape[2]):
        dot += x[t, r, j] * work[t, i, j]
    dot *= tau
    x[t, r, i] -= dot
    for j in range(i + 1, x.shape[2]):
        x[t, r, j] -= dot * work[t, i, j]


def _gelqf_kernel(a, q, low, work, tau):
    """LQ per matrix (rows <= cols) by Householder reflectors from the right, LAPACK's gelq2/orglq: reflector i maps
    row i's tail to beta e_i with beta = -sign(alpha) |(alpha, x)| (none when x is zero), stored as v = (1, x / (alpha
    - beta)) in work's row i and tau[i]; L is work's lower triangle, Q = [I 0] H_{rows-1} ... H_0."""
    rows, cols = a.shape[1], a.shape[2]
    t = cuda.grid(1)
    while t < a.shape[0]:
        for i in range(rows):
            for j in range(cols):
                work[t, i, j] = a[t, i, j]
        for i in range(rows):
            alpha = work[t, i, i]
            tail = 0.0
            for j in range(i + 1, cols):
                tail += work[t, i, j] * work[t, i, j]
            tau[t, i] = 0.0
            if tail > 0:
                norm = math.sqrt(alpha * alpha + tail)
                beta = -norm if alpha >= 0 else norm
                tau[t, i] = (beta - alpha) / beta
                for j in range(i + 1, cols):
                    work[t, i, j] /= alpha - beta
                work[t, i, i] = beta
                for r in range(i + 1, rows):
                    _reflect(work, t, r, work, i, tau[t, i])
        for i in range(rows):
            for j in range(rows):
                low[t, i, j] = work[t, i, j] if j <= i else 0.0
            for j in range(cols):
                q[t, i, j] = 1.0 if i == j else 0.0
        for i in range(rows - 1, -1, -1):
            for r in range(rows):
                _reflect(q, t, r, work, i, tau[t, i])
        t += cuda.gridsize(1)


def _syevd_kernel(a, u, lam, work, eps):
    """Eigendecomposition A = U^T diag(lam) U of the symmetric matrix of A's lower triangle per matrix: Jacobi
    rotations zero work's off-diagonal entries one pair (p, q) at a time, sweep after sweep, until their squares sum
    to at most eps^2 of the whole; U's rows collect the rotations. Then lam ascending (rows of U with them) and each
    row's first entry of largest magnitude made positive."""
    n = a.shape[1]
    t = cuda.grid(1)
    while t < a.shape[0]:
        for i in range(n):
            for j in range(n):
                work[t, i, j] = a[t, i, j] if i >= j else a[t, j, i]
                u[t, i, j] = 1.0 if i == j else 0.0
        for _ in range(_JACOBI_SWEEPS):
            off, total = 0.0, 0.0
            for i in range(n):
                for j in range(n):
                    sq = work[t, i, j] * work[t, i, j]
                    total += sq
                    if i != j:
                        off += sq
            if off <= eps * eps * total:
                break
            for p in range(n - 1):
                for r in range(p + 1, n):
                    apr = work[t, p, r]
                    if apr == 0:
                        continue
                    theta = (work[t, r, r] - work[t, p, p]) / (2 * apr)
                    if abs(theta) > 1e15:  # theta^2 would overflow float32: tan ~ 1 / (2 theta)
                        tan = 0.5 / theta
                    else:
                        tan = 1 / (abs(theta) + math.sqrt(theta * theta + 1))
                        if theta < 0:
                            tan = -tan
                    c = 1 / math.sqrt(tan * tan + 1)
                    s = tan * c
                    for k in range(n):  # columns p, r of work J
                        wp, wr = work[t, k, p], work[t, k, r]
                        work[t, k, p] = c * wp - s * wr
                        work[t, k, r] = s * wp + c * wr
                    for k in range(n):  # rows p, r of J^T work, and of U
                        wp, wr = work[t, p, k], work[t, r, k]
                        work[t, p, k] = c * wp - s * wr
                        work[t, r, k] = s * wp + c * wr
                        up, ur = u[t, p, k], u[t, r, k]
                        u[t, p, k] = c * up - s * ur
                        u[t, r, k] = s * up + c * ur
        for i in range(n):
            lam[t, i] = work[t, i, i]
        for i in range(n):  # selection sort, ascending
            low = i
            for j in range(i + 1, n):
                if lam[t, j] < lam[t, low]:
                    low = j
            if low != i:
                swap = lam[t, i]
                lam[t, i] = lam[t, low]
                lam[t, low] = swap
                for k in range(n):
                    swap = u[t, i, k]
                    u[t, i, k] = u[t, low, k]
                    u[t, low, k] = swap
        for i in range(n):
            lead = 0
            for k in range(1, n):
                if abs(u[t, i, k]) > abs(u[t, i, lead]):
                    lead = k
            if u[t, i, lead] < 0:
                for k in range(n):
                    u[t, i, k] = -u[t, i, k]
        t += cuda.gridsize(1)


lu_kernel, determinant_kernel, lu_inverse_kernel, gelqf_kernel, syevd_kernel = (
    cuda.jit(k) for k in (_lu_kernel, _determinant_kernel, _lu_inverse_kernel, _gelqf_kernel, _syevd_kernel))


def _lu(a3, lu3, pivots2):
    blocks, threads = grid_1d(a3.shape[0], 64)
    lu_kernel[blocks, threads](a3, lu3, pivots2)


def _determinant(a, value, sign, lu, pivots, log):
    """getrf's factors into lu and pivots, then each matrix's sign and determinant (log: log |det|)."""
    a3, lu3 = _stack(a, 2), _stack(lu, 2)
    if a3.shape[0] == 0:
        return
    pivots2 = pivots.reshape(a3.shape[:2])
    _lu(a3, lu3, pivots2)
    blocks, threads = grid_1d(a3.shape[0], 64)
    determinant_kernel[blocks, threads](lu3, pivots2, sign.reshape(a3.shape[0]), value.reshape(a3.shape[0]), log)


def det_gpu(a, det, lu, pivots):
    """det = the determinants of the (..., n, n) matrices a, with getrf's factors and 1-based pivots (MXNet's hidden
    outputs)."""
    _determinant(a, det, cuda.device_array(det.shape, det.dtype), lu, pivots, False)


def slogdet_gpu(a, sign, logabs, lu, pivots):
    """sign and log |det| of the matrices a, with getrf's factors and pivots."""
    _determinant(a, logabs, sign, lu, pivots, True)


def inverse_gpu(a, out):
    """out = the inverses of the (..., n, n) matrices a, by getrf's factors."""
    a3, out3 = _stack(a, 2), _stack(out, 2)
    if out.size == 0:
        return
    lu3 = cuda.device_array(a3.shape, a3.dtype)
    pivots2 = cuda.device_array(a3.shape[:2], "int32")
    _lu(a3, lu3, pivots2)
    blocks, threads = grid_1d(a3.shape[0] * a3.shape[1])
    lu_inverse_kernel[blocks, threads](lu3, pivots2, out3)


def gelqf_gpu(a, q, low):
    """A = L Q for the (..., m, n) matrices a (m <= n): q (..., m, n) with orthonormal rows, low (..., m, m) lower
    triangular."""
    a3 = _stack(a, 2)
    if a.size == 0:
        return
    blocks, threads = grid_1d(a3.shape[0], 64)
    gelqf_kernel[blocks, threads](a3, _stack(q, 2), _stack(low, 2), cuda.device_array(a3.shape, a3.dtype),
                                  cuda.device_array(a3.shape[:2], a3.dtype))


def syevd_gpu(a, u, lam):
    """Eigenvectors (the rows of u) and ascending eigenvalues lam of the symmetric matrices of a's lower triangles."""
    a3 = _stack(a, 2)
    if a.size == 0:
        return
    blocks, threads = grid_1d(a3.shape[0], 64)
    syevd_kernel[blocks, threads](a3, _stack(u, 2), lam.reshape(a3.shape[:2]), cuda.device_array(a3.shape, a3.dtype),
                                  float(np.finfo(a3.dtype).eps))


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _m, _v = f"{_t}[:, :, ::1]", f"{_t}[:, ::1]"
    PTX_CHECKS += [(_lu_kernel, f"void({_m}, {_m}, int32[:, ::1])"),
                   (_determinant_kernel, f"void({_m}, int32[:, ::1], {_t}[::1], {_t}[::1], boolean)"),
                   (_lu_inverse_kernel, f"void({_m}, int32[:, ::1], {_m})"),
                   (_gelqf_kernel, f"void({_m}, {_m}, {_m}, {_m}, {_v})"),
                   (_syevd_kernel, f"void({_m}, {_m}, {_v}, {_m}, float64)")]
