"""CUDA kernels of the interleaved attention matmuls (contrib.interleaved_matmul_*), on dense's tiled GEMM: three
batched products over the attention batches z = batch * heads + head, reading the interleaved (seq, z, width)
inputs in place (a part starts at a column offset) instead of copying them out. The CPU computes the same products
with NumPy's BLAS (mxcy/ops/contrib_misc.py)."""
from numba import cuda

from .common import REQ_NULL, assign
from .dense import TPB, gemm_grid, make_tiled_gemm

MAX_Z = 65535  # CUDA's limit on gridDim.z, which indexes the attention batches

# geo = (a column offset, b column offset, output column offset, scale, first attention batch of the launch).


@cuda.jit(device=True, inline="always")
def _a_seq(a, geo, z, m, k):
    """A_z[m, k] = a[m, z, a_off + k]: rows are sequence positions of a (seq, z, width) input."""
    return a[m, geo[4] + z, geo[0] + k]


@cuda.jit(device=True, inline="always")
def _a_batch(a, geo, z, m, k):
    """A_z[m, k] = a[z, m, k] of a (z, rows, cols) array."""
    return a[geo[4] + z, m, k]


@cuda.jit(device=True, inline="always")
def _a_batch_t(a, geo, z, m, k):
    """A_z[m, k] = a[z, k, m]: the transpose of each matrix of a (z, rows, cols) array."""
    return a[geo[4] + z, k, m]


@cuda.jit(device=True, inline="always")
def _b_seq(b, geo, z, k, n):
    """B_z[k, n] = b[k, z, b_off + n]: the reduction runs over the sequence of a (seq, z, width) input."""
    return b[k, geo[4] + z, geo[1] + n]


@cuda.jit(device=True, inline="always")
def _b_seq_t(b, geo, z, k, n):
    """B_z[k, n] = b[n, z, b_off + k]: columns are the sequence positions of a (seq, z, width) input."""
    return b[n, geo[4] + z, geo[1] + k]


@cuda.jit(device=True, inline="always")
def _store_batch(c, bias, geo, req, z, m, n, v):
    """c[z, m, n] (req)= scale * v."""
    c[geo[4] + z, m, n] = assign(c[geo[4] + z, m, n], geo[3] * v, req)


@cuda.jit(device=True, inline="always")
def _store_seq(c, bias, geo, req, z, m, n, v):
    """c[m, z, c_off + n] (req)= scale * v, into a (seq, z, width) array."""
    c[m, geo[4] + z, geo[2] + n] = assign(c[m, geo[4] + z, geo[2] + n], geo[3] * v, req)


# Reads are contiguous along the width (the feature axis) and along a batch-major matrix's rows.
_scores_py = make_tiled_gemm("attention_scores", _a_seq, _b_seq_t, _store_batch, True, True)
_mix_py = make_tiled_gemm("attention_mix", _a_batch, _b_seq, _store_seq, True, False)
_mix_t_py = make_tiled_gemm("attention_mix_t", _a_batch_t, _b_seq, _store_seq, False, False)
_scores = cuda.jit(_scores_py)
_mix = cuda.jit(_mix_py)
_mix_t = cuda.jit(_mix_t_py)


def _launch(kernel, a, b, c, offsets, scale, req, M, N, K, batches):
    if req == REQ_NULL or c.size == 0:
        return
    for z0 in range(0, batches, MAX_Z):
        geo = offsets + (float(scale), z0)
        kernel[gemm_grid(M, N, min(MAX_Z, batches - z0)), (TPB, TPB)](a, b, c, c, geo, req, M, N, K)


def scores_gpu(a, a_off, b, b_off, width, out, scale, req):
    """out[z, i, j] (req)= scale * sum_f a[i, z, a_off + f] * b[j, z, b_off + f] for f < width: a (Sa, Z, *),
    b (Sb, Z, *), out (Z, Sa, Sb); queries times keys, or a head gradient times values."""
    _launch(_scores, a, b, out, (a_off, b_off, 0), scale, req, out.shape[1], out.shape[2], width, out.shape[0])


def mix_gpu(w, b, b_off, width, out, out_off, scale, req):
    """out[i, z, out_off + f] (req)= scale * sum_j w[z, i, j] * b[j, z, b_off + f] for f < width: w (Z, Si, Sj),
    b (Sj, Z, *), out (Si, Z, *); attention weights times values, or a head gradient times keys."""
    _launch(_mix, w, b, out, (0, b_off, out_off), scale, req, w.shape[1], width, w.shape[2], w.shape[0])


def mix_t_gpu(w, b, b_off, width, out, out_off, scale, req):
    """out[j, z, out_off + f] (req)= scale * sum_i w[z, i, j] * b[i, z, b_off + f] for f < width: mix_gpu with each
    w[z] transposed; the gradients of the values and of the keys."""
    _launch(_mix_t, w, b, out, (0, b_off, out_off), scale, req, w.shape[2], width, w.shape[1], w.shape[0])


def _sig(t):
    a = f"{t}[:, :, ::1]"
    return f"void({a}, {a}, {a}, {a}, Tuple((int64, int64, int64, float64, int64)), int64, int64, int64, int64)"


PTX_CHECKS = [(fn, _sig(t)) for fn in (_scores_py, _mix_py, _mix_t_py) for t in ("float32", "float64")]
