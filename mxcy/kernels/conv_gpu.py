"""CUDA convolution kernels (MXNet Convolution / Deconvolution, NCW/NCHW/NCDHW, weight (O, C/groups, *k)):
implicit GEMM on dense.make_tiled_gemm, gathering im2col entries on the fly; no atomics.
"""
import math

import numba
from numba import cuda

from .common import REQ_NULL, REQ_WRITE, assign
from .conv_common import as_5d, geometry_3d
from .dense import BK, TPB, gemm_grid, make_tiled_gemm
from .launch import block_sum

# geo, the geometry tuple every kernel here takes (all ints):
#   0 N, 1 G, 2 Cg, 3 Og, 4-6 D H W, 7-9 OD OH OW, 10-12 KD KH KW, 13-15 stride, 16-18 pad,
#   19-21 dilate, 22 has_bias, 23 S (reduction splits), 24 kc (reduction length per split).
GEO_LEN = 25
MAX_Z = 65535                   # CUDA's limit on gridDim.z
TARGET_BLOCKS = 512             # weight gradient: split the reduction until about this many blocks
SPLIT_MIN = 1024                # ... but never into pieces shorter than this
BIAS_THREADS = 128


@cuda.jit(device=True, inline=True)
def _in_pos(geo, t, p):
    """Flat input position that tap t reads for flat output position p, or -1 inside the padding."""
    D, H, W, OD, OH, OW, KD, KH, KW, sd, sh, sw, pd, ph, pw, dd, dh, dw = geo[4:22]
    id_ = p // (OH * OW) * sd - pd + t // (KH * KW) * dd
    ih = p // OW % OH * sh - ph + t // KW % KH * dh
    iw = p % OW * sw - pw + t % KW * dw
    if 0 <= id_ < D and 0 <= ih < H and 0 <= iw < W:
        return (id_ * H + ih) * W + iw
    return -1


@cuda.jit(device=True, inline=True)
def _out_pos(geo, t, i):
    """Flat output position whose tap t reads flat input position i, or -1 when there is none."""
    D, H, W, OD, OH, OW, KD, KH, KW, sd, sh, sw, pd, ph, pw, dd, dh, dw = geo[4:22]
    qd = i // (H * W) + pd - t // (KH * KW) * dd
    qh = i // W % H + ph - t // KW % KH * dh
    qw = i % W + pw - t % KW * dw
    if qd < 0 or qh < 0 or qw < 0 or qd % sd != 0 or qh % sh != 0 or qw % sw != 0:
        return -1
    od, oh, ow = qd // sd, qh // sh, qw // sw
    if od >= OD or oh >= OH or ow >= OW:
        return -1
    return (od * OH + oh) * OW + ow


@cuda.jit(device=True, inline=True)
def _kvol(geo):
    return geo[10] * geo[11] * geo[12]


# Forward, z = n*G + g: out[n, g] (Og, P) = w[g] (Og, Cg*kvol) @ col(x[n, g]) (Cg*kvol, P) + b.
@cuda.jit(device=True, inline=True)
def _fwd_a(w, geo, z, m, k):
    return w[z % geo[1] * geo[3] + m, k]


@cuda.jit(device=True, inline=True)
def _fwd_b(x, geo, z, k, p):
    kv = _kvol(geo)
    i = _in_pos(geo, k % kv, p)
    if i < 0:
        return x.dtype.type(0)
    return x[z // geo[1], z % geo[1] * geo[2] + k // kv, i]


@cuda.jit(device=True, inline=True)
def _fwd_store(out, bias, geo, req, z, m, p, v):
    o = z % geo[1] * geo[3] + m
    if geo[22]:
        v += bias[o]
    n = z // geo[1]
    out[n, o, p] = assign(out[n, o, p], v, req)


# Backward data, z = n*G + g: dx[n, g] (Cg, S) = A (Cg, Og*kvol) @ B (Og*kvol, S) (+ b) with
# A[c, (o, t)] = w[g*Og + o, c, t] and B[(o, t), i] = dy[n, g*Og + o, the output that tap t maps to i].
@cuda.jit(device=True, inline=True)
def _bwd_data_a(w, geo, z, c, k):
    kv = _kvol(geo)
    return w[z % geo[1] * geo[3] + k // kv, c * kv + k % kv]


@cuda.jit(device=True, inline=True)
def _bwd_data_b(dy, geo, z, k, i):
    kv = _kvol(geo)
    q = _out_pos(geo, k % kv, i)
    if q < 0:
        return dy.dtype.type(0)
    return dy[z // geo[1], z % geo[1] * geo[3] + k // kv, q]


@cuda.jit(device=True, inline=True)
def _bwd_data_store(dx, bias, geo, req, z, c, i, v):
    ch = z % geo[1] * geo[2] + c
    if geo[22]:
        v += bias[ch]
    n = z // geo[1]
    dx[n, ch, i] = assign(dx[n, ch, i], v, req)


# Backward weight, z = g*S + s: part[s, g] (Og, Cg*kvol) = sum over the s-th slice of r = n*P + p
# of dy[n, g*Og + o, p] * col(x[n, g])[(c, t), p].
@cuda.jit(device=True, inline=True)
def _bwd_weight_a(dy, geo, z, o, r):
    P = geo[7] * geo[8] * geo[9]
    rr = z % geo[23] * geo[24] + r
    if rr >= geo[0] * P:
        return dy.dtype.type(0)
    return dy[rr // P, z // geo[23] * geo[3] + o, rr % P]


@cuda.jit(device=True, inline=True)
def _bwd_weight_b(x, geo, z, r, k):
    P = geo[7] * geo[8] * geo[9]
    rr = z % geo[23] * geo[24] + r
    kv = _kvol(geo)
    i = _in_pos(geo, k % kv, rr % P)
    if rr >= geo[0] * P or i < 0:
        return x.dtype.type(0)
    return x[rr // P, z // geo[23] * geo[2] + k // kv, i]


@cuda.jit(device=True, inline=True)
def _bwd_weight_store(part, bias, geo, req, z, o, k, v):
    s, o = z % geo[23], z // geo[23] * geo[3] + o
    part[s, o, k] = assign(part[s, o, k], v, req)


# Consecutive k walk along a weight row in A and along taps in B; consecutive n along positions.
_fwd_py = make_tiled_gemm("conv_fwd", _fwd_a, _fwd_b, _fwd_store, True, False)
_bwd_data_py = make_tiled_gemm("conv_bwd_data", _bwd_data_a, _bwd_data_b, _bwd_data_store, True, False)
_bwd_weight_py = make_tiled_gemm("conv_bwd_weight", _bwd_weight_a, _bwd_weight_b, _bwd_weight_store,
                                 True, True)
_fwd = cuda.jit(_fwd_py)
_bwd_data = cuda.jit(_bwd_data_py)
_bwd_weight = cuda.jit(_bwd_weight_py)


def _sum_parts_py(part, dw, req):
    """dw[o, k] (+)= sum_s part[s, o, k]: the split reduction of the weight gradient."""
    j = cuda.grid(1)
    K = dw.shape[1]
    if j < dw.shape[0] * K:
        o, k = j // K, j % K
        acc = part[0, o, k]
        for s in range(1, part.shape[0]):
            acc += part[s, o, k]
        dw[o, k] = assign(dw[o, k], acc, req)


def _bias_grad_py(dy, db, req):
    """db[o] (+)= sum_{n, p} dy[n, o, p], one block per channel and a shared-memory tree sum."""
    buf = cuda.shared.array(BIAS_THREADS, dtype=numba.float64)
    o = cuda.blockIdx.x
    t = cuda.threadIdx.x
    P = dy.shape[2]
    acc = 0.0
    for j in range(t, dy.shape[0] * P, BIAS_THREADS):
        acc += dy[j // P, o, j % P]
    block_sum(buf, acc, t, BIAS_THREADS)
    if t == 0:
        db[o] = assign(db[o], buf[0], req)


_sum_parts = cuda.jit(_sum_parts_py)
_bias_grad = cuda.jit(_bias_grad_py)


def _sig(t, a_dims, b_dims, c_dims):
    arr = {1: f"{t}[::1]", 2: f"{t}[:, ::1]", 3: f"{t}[:, :, ::1]"}
    return (f"void({arr[a_dims]}, {arr[b_dims]}, {arr[c_dims]}, {arr[1]}, UniTuple(int64, {GEO_LEN}), "
            "int64, int64, int64, int64)")


PTX_CHECKS = []
for _t in ("float32", "float64"):
    PTX_CHECKS += [(_fwd_py, _sig(_t, 2, 3, 3)), (_bwd_data_py, _sig(_t, 2, 3, 3)),
                   (_bwd_weight_py, _sig(_t, 3, 3, 3)),
                   (_sum_parts_py, f"void({_t}[:, :, ::1], {_t}[:, ::1], int64)"),
                   (_bias_grad_py, f"void({_t}[:, :, ::1], {_t}[::1], int64)")]


def _views(xs, w, ys, stride, pad, dilate, groups):
    """geo (without its last 3 entries) and the (N, C, S) / (O, Cg*kvol) / (N, O, P) views of the
    input side xs (x or dx), the weight and the output side ys (out or dy)."""
    for a in (xs, w, ys):
        if not a.is_c_contiguous():
            raise ValueError("convolution kernels need C-contiguous arrays")
    s, p, d = geometry_3d(stride, pad, dilate)
    x5, w5, y5 = as_5d(xs), as_5d(w), as_5d(ys)
    N, C = x5.shape[:2]
    O, Cg = w5.shape[:2]
    geo = (N, groups, Cg, O // groups) + x5.shape[2:] + y5.shape[2:] + w5.shape[2:] + s + p + d
    return (geo, x5.reshape(N, C, math.prod(x5.shape[2:])), w5.reshape(O, math.prod(w5.shape[1:])),
            y5.reshape(N, O, math.prod(y5.shape[2:])))


def _per_batch_slices(N, G):
    """Batch ranges small enough that (images x groups) fits gridDim.z."""
    step = max(1, MAX_Z // G)
    return [(n0, min(N, n0 + step)) for n0 in range(0, N, step)]


def conv_fwd_gpu(x, w, b, out, req, stride, pad, dilate, groups, stream=0):
    """CUDA twin of conv_cpu.conv_fwd_cpu on C-contiguous device arrays."""
    if req == REQ_NULL or out.size == 0:
        return
    geo, x3, w2, y3 = _views(x, w, out, stride, pad, dilate, groups)
    G, Og = geo[1], geo[3]
    # Without a bias the kernel never reads `bias`; any array of the right type stands in for it.
    bias = y3.reshape(y3.size) if b is None else b
    geo += (int(b is not None), 1, 0)
    for n0, n1 in _per_batch_slices(geo[0], G):
        _fwd[gemm_grid(Og, y3.shape[2], (n1 - n0) * G), (TPB, TPB), stream](
            w2, x3[n0:n1], y3[n0:n1], bias, geo, req, Og, y3.shape[2], w2.shape[1])


def conv_bwd_data_gpu(dy, w, dx, req, stride, pad, dilate, groups, bias=None, stream=0):
    """CUDA twin of conv_cpu.conv_bwd_data_cpu (also the Deconvolution forward pass)."""
    if req == REQ_NULL or dx.size == 0:
        return
    geo, x3, w2, y3 = _views(dx, w, dy, stride, pad, dilate, groups)
    G, Cg, Og = geo[1], geo[2], geo[3]
    b = x3.reshape(x3.size) if bias is None else bias
    geo += (int(bias is not None), 1, 0)
    kred = Og * geo[10] * geo[11] * geo[12]
    for n0, n1 in _per_batch_slices(geo[0], G):
        _bwd_data[gemm_grid(Cg, x3.shape[2], (n1 - n0) * G), (TPB, TPB), stream](
            w2, y3[n0:n1], x3[n0:n1], b, geo, req, Cg, x3.shape[2], kred)


def conv_bwd_weight_gpu(x, dy, dw, req, stride, pad, dilate, groups, stream=0):
    """CUDA twin of conv_cpu.conv_bwd_weight_cpu (also the Deconvolution weight gradient)."""
    if req == REQ_NULL or dw.size == 0:
        return
    geo, x3, w2, y3 = _views(x, dw, dy, stride, pad, dilate, groups)
    G, Og = geo[1], geo[3]
    O, K = w2.shape
    R = geo[0] * y3.shape[2]
    # Split the long reduction over batch and positions into S slices, summed by a second kernel,
    # so that a few output tiles still fill the GPU.
    tiles = gemm_grid(Og, K)[0] * gemm_grid(Og, K)[1] * G
    S = max(1, min(math.ceil(TARGET_BLOCKS / tiles), math.ceil(R / SPLIT_MIN), MAX_Z // G))
    kc = max(BK, math.ceil(math.ceil(R / S) / BK) * BK)
    S = max(1, math.ceil(R / kc))
    geo += (0, S, kc)
    if S == 1:
        part, part_req = w2.reshape(1, O, K), req
    else:
        part, part_req = cuda.device_array((S, O, K), dtype=dw.dtype, stream=stream), REQ_WRITE
    _bwd_weight[gemm_grid(Og, K, G * S), (TPB, TPB), stream](
        y3, x3, part, w2.reshape(O * K), geo, part_req, Og, K, kc)
    if S > 1:
        _sum_parts[math.ceil(O * K / 256), 256, stream](part, w2, req)


def conv_bwd_bias_gpu(dy, db, req, stream=0):
    """CUDA twin of conv_cpu.conv_bwd_bias_cpu."""
    if req == REQ_NULL or db.size == 0:
        return
    N, O = dy.shape[:2]
    dy3 = dy.reshape(N, O, math.prod(dy.shape[2:]))
    _bias_grad[O, BIAS_THREADS, stream](dy3, db, req)
