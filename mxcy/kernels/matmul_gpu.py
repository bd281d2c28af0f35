"""Batched matrix products on CUDA, out_z (req)= alpha * op(A_z) @ op(B_z) + beta * C_z, on dense's tiled GEMM.
Every operand is a 4-D view (P, rows, Q, cols) holding matrix z = p * Q + q, so batch axes may sit before the
row axis (dot: P = Q = 1; batch_dot: Q = 1) or between rows and columns (linalg_gemm's row axis); op() transposes.
"""
from numba import cuda

from .common import REQ_NULL, assign
from .dense import TPB, gemm_grid, make_tiled_gemm

MAX_Z = 65535  # CUDA's limit on gridDim.z, which indexes the matrices


# geo = (Q, alpha, beta, has_c): matrix z is (p, q) = (z // Q, z % Q) of a (P, rows, Q, cols) view.
@cuda.jit(device=True, inline="always")
def _direct(a, geo, z, i, j):
    return a[z // geo[0], i, z % geo[0], j]


@cuda.jit(device=True, inline="always")
def _transposed(a, geo, z, i, j):
    return a[z // geo[0], j, z % geo[0], i]


@cuda.jit(device=True, inline="always")
def _store(out, c, geo, req, z, m, n, v):
    """out[m, n] (req)= alpha * v + beta * c[m, n] of matrix z; c is read only when has_c."""
    p = z // geo[0]
    q = z % geo[0]
    v = geo[1] * v
    if geo[3]:
        v += geo[2] * c[p, m, q, n]
    out[p, m, q, n] = assign(out[p, m, q, n], v, req)


def _make(ta, tb):
    # A's contiguous axis is k unless transposed; B's is n unless transposed (then k).
    return make_tiled_gemm(f"matmul_{'t' if ta else 'n'}{'t' if tb else 'n'}",
                           _transposed if ta else _direct, _transposed if tb else _direct, _store,
                           not ta, tb)


_PY = {(ta, tb): _make(ta, tb) for ta in (False, True) for tb in (False, True)}
_KERNELS = {flags: cuda.jit(fn) for flags, fn in _PY.items()}


def _sig(t):
    v = f"{t}[:, :, :, ::1]"
    return f"void({v}, {v}, {v}, {v}, Tuple((int64, float64, float64, int64)), int64, int64, int64, int64)"


PTX_CHECKS = [(fn, _sig(t)) for fn in _PY.values() for t in ("float32", "float64", "int32")]


def matmul_gpu(a, b, out, transpose_a, transpose_b, req, alpha=1.0, c=None, beta=0.0, stream=0):
    """out (req)= alpha * op(a) @ op(b) + beta * c per matrix; every array a (P, rows, Q, cols) device view of
    one dtype, op(x) = x^T (of each matrix) when transposed, c None or shaped like out. Sums in out's dtype."""
    if req == REQ_NULL or out.size == 0:
        return
    P, M, Q, N = out.shape
    K = a.shape[1] if transpose_a else a.shape[3]
    kernel = _KERNELS[(bool(transpose_a), bool(transpose_b))]
    # Matrices beyond gridDim.z's limit go in chunks of whole p (or of q when Q alone exceeds it).
    q_step = min(Q, MAX_Z)
    p_step = max(1, MAX_Z // q_step)
    for p0 in range(0, P, p_step):
        for q0 in range(0, Q, q_step):
            part = (slice(p0, p0 + p_step), slice(None), slice(q0, q0 + q_step))
            o = out[part]
            geo = (o.shape[2], float(alpha), float(beta), int(c is not None))
            kernel[gemm_grid(M, N, o.shape[0] * o.shape[2]), (TPB, TPB), stream](
                a[part], b[part], o, o if c is None else c[part], geo, req, M, N, K)
