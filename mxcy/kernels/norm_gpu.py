"""Batch, layer, instance and group normalization on CUDA: norm_cpu.py's drivers, same signatures.
Channel reductions: (channel, split) blocks write float64 partials summed in a fixed order (no atomics);
row normalizations: one block per row with shared-memory sums."""
import math

import numba
from numba import cuda

from .launch import block_sum_pair, pow2_threads, rows_launch
from .common import REQ_NULL, assign
from .norm_cpu import gamma_index, moments, row_base, stat_base

# Items one block of a channel reduction covers before the channel is split over more blocks.
ITEMS_PER_BLOCK = 2048
# Enough (channel, split) blocks to fill the GPU when channels are few.
_TARGET_BLOCKS = 512


def _chan_moments_kernel(x, p1, p2):
    # Block (c, s): sums of d = x - x[0, c, 0] and d^2 over outer slice s of channel c; y threads walk outer
    # rows, x threads walk inner (no per-element division).
    outer, nc, inner = x.shape
    sa = cuda.shared.array(256, numba.float64)
    sb = cuda.shared.array(256, numba.float64)
    tx, ty, bx, by = cuda.threadIdx.x, cuda.threadIdx.y, cuda.blockDim.x, cuda.blockDim.y
    tid = ty * bx + tx
    c, s, ns = cuda.blockIdx.x, cuda.blockIdx.y, cuda.gridDim.y
    shift = float(x[0, c, 0])
    a = 0.0
    b = 0.0
    for o in range(s * outer // ns + ty, (s + 1) * outer // ns, by):
        for i in range(tx, inner, bx):
            d = x[o, c, i] - shift
            a += d
            b += d * d
    block_sum_pair(sa, sb, a, b, tid, bx * by)
    if tid == 0:
        p1[c, s] = sa[0]
        p2[c, s] = sb[0]


def _bn_stats_kernel(x, p1, p2, moving_mean, moving_var, mean, invstd, eps, use_global_stats):
    # Thread per channel: mean and invstd from the partial sums in split order, or from the moving stats.
    outer, nc, inner = x.shape
    c = cuda.grid(1)
    if c >= nc:
        return
    if use_global_stats:
        mean[c] = moving_mean[c]
        invstd[c] = 1.0 / math.sqrt(moving_var[c] + eps)
        return
    a = 0.0
    b = 0.0
    for s in range(p1.shape[1]):
        a += p1[c, s]
        b += p2[c, s]
    m, var, inv = moments(float(x[0, c, 0]), a, b, outer * inner, eps)
    mean[c] = m
    invstd[c] = inv


def _bn_apply_kernel(x, gamma, beta, mean, invstd, out, fix_gamma, req):
    # x, out: (outer * C, inner) rows; y threads walk rows, x threads walk a row.
    rows, inner = x.shape
    nc = mean.size
    r = cuda.blockIdx.x * cuda.blockDim.y + cuda.threadIdx.y
    while r < rows:
        c = r % nc
        m = float(mean[c])
        a = float(invstd[c]) * (1.0 if fix_gamma else float(gamma[c]))
        for i in range(cuda.threadIdx.x, inner, cuda.blockDim.x):
            out[r, i] = assign(out[r, i], (x[r, i] - m) * a + beta[c], req)
        r += cuda.gridDim.x * cuda.blockDim.y


def _bn_bwd_prep_kernel(mean, invstd, moving_mean, moving_var, m, rs, eps, use_global_stats):
    # Per channel: the mean and 1/std the gradient uses (saved batch stats, or the moving ones).
    c = cuda.grid(1)
    if c < m.size:
        m[c] = moving_mean[c] if use_global_stats else mean[c]
        rs[c] = 1.0 / math.sqrt(moving_var[c] + eps) if use_global_stats else invstd[c]


def _bn_moving_kernel(mean, invstd, moving_mean, moving_var, momentum, eps):
    # Per channel: norm_cpu.batch_norm_update_moving_cpu.
    c = cuda.grid(1)
    if c < mean.size:
        moving_mean[c] = moving_mean[c] * momentum + mean[c] * (1.0 - momentum)
        var = 1.0 / (float(invstd[c]) * invstd[c]) - eps
        moving_var[c] = moving_var[c] * momentum + var * (1.0 - momentum)


def _chan_grad_kernel(dy, x, mean, rstd, ro, cpg, rc, ri, pa, pb):
    # Block (c, s): sums of dy and dy * xhat over outer slice s of channel c, statistics row from stat_base.
    outer, nc, inner = x.shape
    sa = cuda.shared.array(256, numba.float64)
    sb = cuda.shared.array(256, numba.float64)
    tx, ty, bx, by = cuda.threadIdx.x, cuda.threadIdx.y, cuda.blockDim.x, cuda.blockDim.y
    tid = ty * bx + tx
    c, s, ns = cuda.blockIdx.x, cuda.blockIdx.y, cuda.gridDim.y
    a = 0.0
    b = 0.0
    for o in range(s * outer // ns + ty, (s + 1) * outer // ns, by):
        k0 = stat_base(o, c, ro, cpg, rc)
        for i in range(tx, inner, bx):
            k = k0 + i * ri
            g = dy[o, c, i]
            a += g
            b += g * (x[o, c, i] - mean[k]) * rstd[k]
    block_sum_pair(sa, sb, a, b, tid, bx * by)
    if tid == 0:
        pa[c, s] = sa[0]
        pb[c, s] = sb[0]


def _chan_grad_finish_kernel(pa, pb, sdy, sdyx, dgamma, dbeta, zero_gamma, req_gamma, req_beta):
    # Thread per channel: sum the partials in split order; dgamma = sum dy*xhat (0 if fixed), dbeta = sum dy.
    c = cuda.grid(1)
    if c >= pa.shape[0]:
        return
    a = 0.0
    b = 0.0
    for s in range(pa.shape[1]):
        a += pa[c, s]
        b += pb[c, s]
    sdy[c] = a
    sdyx[c] = b
    if req_gamma != REQ_NULL:
        dgamma[c] = assign(dgamma[c], 0.0 if zero_gamma else b, req_gamma)
    if req_beta != REQ_NULL:
        dbeta[c] = assign(dbeta[c], a, req_beta)


def _bn_dx_kernel(dy, x, gamma, m, rs, sdy, sdyx, dx, fix_gamma, use_global_stats, req):
    # (outer * C, inner) rows as in _bn_apply_kernel.
    rows, inner = x.shape
    nc = m.size
    n = rows // nc * inner
    r = cuda.blockIdx.x * cuda.blockDim.y + cuda.threadIdx.y
    while r < rows:
        c = r % nc
        w = rs[c] * (1.0 if fix_gamma else float(gamma[c]))
        for i in range(cuda.threadIdx.x, inner, cuda.blockDim.x):
            if use_global_stats:
                v = dy[r, i] * w
            else:
                v = (dy[r, i] - sdy[c] / n - (x[r, i] - m[c]) * rs[c] * sdyx[c] / n) * w
            dx[r, i] = assign(dx[r, i], v, req)
        r += cuda.gridDim.x * cuda.blockDim.y


def _rownorm_fwd_kernel(x, gamma, beta, out, mean, sd, eps, gmod, cpg, span, save_var, req):
    # Block per row r = o * inner + i of x (outer, L, inner); see norm_cpu.rownorm_fwd.
    outer, nl, inner = x.shape
    sa = cuda.shared.array(256, numba.float64)
    sb = cuda.shared.array(256, numba.float64)
    tid, nt, r = cuda.threadIdx.x, cuda.blockDim.x, cuda.blockIdx.x
    o, i = r // inner, r % inner
    shift = float(x[o, 0, i])
    a = 0.0
    b = 0.0
    for j in range(tid, nl, nt):
        d = x[o, j, i] - shift
        a += d
        b += d * d
    block_sum_pair(sa, sb, a, b, tid, nt)
    m, var, rs = moments(shift, sa[0], sb[0], nl, eps)
    if tid == 0:
        mean[r] = m
        sd[r] = var if save_var else math.sqrt(var + eps)
    if req != REQ_NULL:
        base = row_base(r, gmod, cpg)
        for j in range(tid, nl, nt):
            gi = gamma_index(base, j, span, nl)
            out[o, j, i] = assign(out[o, j, i], (x[o, j, i] - m) * rs * gamma[gi] + beta[gi], req)


def _rownorm_dx_kernel(dy, x, gamma, mean, rstd, dx, gmod, cpg, span, req):
    # Block per row: shared sums of g = dy * gamma and g * xhat, then norm_cpu.rownorm_dx's formula.
    outer, nl, inner = x.shape
    sa = cuda.shared.array(256, numba.float64)
    sb = cuda.shared.array(256, numba.float64)
    tid, nt, r = cuda.threadIdx.x, cuda.blockDim.x, cuda.blockIdx.x
    o, i = r // inner, r % inner
    m, rs = float(mean[r]), rstd[r]
    base = row_base(r, gmod, cpg)
    a = 0.0
    b = 0.0
    for j in range(tid, nl, nt):
        g = dy[o, j, i] * gamma[gamma_index(base, j, span, nl)]
        a += g
        b += g * (x[o, j, i] - m) * rs
    block_sum_pair(sa, sb, a, b, tid, nt)
    for j in range(tid, nl, nt):
        g = dy[o, j, i] * gamma[gamma_index(base, j, span, nl)]
        xh = (x[o, j, i] - m) * rs
        dx[o, j, i] = assign(dx[o, j, i], rs * (g - sa[0] / nl - xh * sb[0] / nl), req)


def _rstd_kernel(sd, rstd, eps, from_var):
    # 1/std from a saved std, or 1/sqrt(var + eps) from a saved variance.
    k = cuda.grid(1)
    if k < sd.size:
        rstd[k] = 1.0 / math.sqrt(sd[k] + eps) if from_var else 1.0 / sd[k]


chan_moments_kernel = cuda.jit(_chan_moments_kernel)
bn_stats_kernel = cuda.jit(_bn_stats_kernel)
bn_apply_kernel = cuda.jit(_bn_apply_kernel)
bn_bwd_prep_kernel = cuda.jit(_bn_bwd_prep_kernel)
bn_moving_kernel = cuda.jit(_bn_moving_kernel)
chan_grad_kernel = cuda.jit(_chan_grad_kernel)
chan_grad_finish_kernel = cuda.jit(_chan_grad_finish_kernel)
bn_dx_kernel = cuda.jit(_bn_dx_kernel)
rownorm_fwd_kernel = cuda.jit(_rownorm_fwd_kernel)
rownorm_dx_kernel = cuda.jit(_rownorm_dx_kernel)
rstd_kernel = cuda.jit(_rstd_kernel)


# ---------------------------------------------------------------- host-side drivers
def _splits(outer, inner, n_channels):
    """Blocks per channel for a channel reduction: slices of the outer dim, enough to fill the GPU."""
    return max(1, min(outer, -(-outer * inner // ITEMS_PER_BLOCK), -(-_TARGET_BLOCKS // n_channels)))


def _per_item(n):
    # (blocks, threads) for one thread per item.
    return 1 if n <= 0 else -(-n // 256), min(256, max(1, n))


def _channel_grads(dy, x, mean, rstd, rows, dgamma, dbeta, zero_gamma, req_gamma, req_beta, stream):
    """Launch the split channel reduction and its finish; returns float64 (sum dy, sum dy*xhat)."""
    outer, nc, inner = x.shape
    if nc == 0:
        return None, None
    ns = _splits(outer, inner, nc)
    pa = cuda.device_array((nc, ns), dtype="float64", stream=stream)
    pb = cuda.device_array((nc, ns), dtype="float64", stream=stream)
    sdy = cuda.device_array(nc, dtype="float64", stream=stream)
    sdyx = cuda.device_array(nc, dtype="float64", stream=stream)
    _, threads = rows_launch(-(-outer // ns), inner)
    chan_grad_kernel[(nc, ns), threads, stream](dy, x, mean, rstd, *rows, pa, pb)
    blocks, threads = _per_item(nc)
    chan_grad_finish_kernel[blocks, threads, stream](pa, pb, sdy, sdyx, dgamma, dbeta, zero_gamma, req_gamma,
                                                     req_beta)
    return sdy, sdyx


def _rstd(sd, eps, from_var, stream):
    # float64 1/std per statistics row from a saved std or variance.
    flat = sd.reshape(sd.size)
    rstd = cuda.device_array(sd.size, dtype="float64", stream=stream)
    blocks, threads = _per_item(sd.size)
    rstd_kernel[blocks, threads, stream](flat, rstd, float(eps), from_var)
    return rstd


def batch_norm_fwd_gpu(x, gamma, beta, moving_mean, moving_var, out, mean, invstd, eps, fix_gamma,
                       use_global_stats, req, stream=0):
    """Same contract as norm_cpu.batch_norm_fwd_cpu, on device arrays."""
    outer, nc, inner = x.shape
    if x.size == 0:
        return
    ns = 1 if use_global_stats else _splits(outer, inner, nc)
    p1 = cuda.device_array((nc, ns), dtype="float64", stream=stream)
    p2 = cuda.device_array((nc, ns), dtype="float64", stream=stream)
    if not use_global_stats:
        _, threads = rows_launch(-(-outer // ns), inner)
        chan_moments_kernel[(nc, ns), threads, stream](x, p1, p2)
    blocks, threads = _per_item(nc)
    bn_stats_kernel[blocks, threads, stream](x, p1, p2, moving_mean, moving_var, mean, invstd, float(eps),
                                             bool(use_global_stats))
    if req != REQ_NULL:
        rows = (outer * nc, inner)
        blocks, threads = rows_launch(*rows)
        bn_apply_kernel[blocks, threads, stream](x.reshape(*rows), gamma, beta, mean, invstd, out.reshape(*rows),
                                                 bool(fix_gamma), req)


def batch_norm_update_moving_gpu(mean, invstd, moving_mean, moving_var, momentum, eps, stream=0):
    """Same contract as norm_cpu.batch_norm_update_moving_cpu, on device arrays."""
    blocks, threads = _per_item(mean.size)
    bn_moving_kernel[blocks, threads, stream](mean, invstd, moving_mean, moving_var, float(momentum), float(eps))


def batch_norm_bwd_gpu(dy, x, gamma, mean, invstd, moving_mean, moving_var, dx, dgamma, dbeta, eps, momentum,
                       fix_gamma, use_global_stats, update_moving, req_x, req_gamma, req_beta, stream=0):
    """Same contract as norm_cpu.batch_norm_bwd_cpu, on device arrays."""
    outer, nc, inner = x.shape
    m = cuda.device_array(nc, dtype="float64", stream=stream)
    rs = cuda.device_array(nc, dtype="float64", stream=stream)
    blocks, threads = _per_item(nc)
    bn_bwd_prep_kernel[blocks, threads, stream](mean, invstd, moving_mean, moving_var, m, rs, float(eps),
                                                bool(use_global_stats))
    if update_moving and not use_global_stats:
        batch_norm_update_moving_gpu(mean, invstd, moving_mean, moving_var, momentum, eps, stream)
    if x.size == 0:
        return
    sdy, sdyx = _channel_grads(dy, x, m, rs, (0, 1, 1, 0), dgamma, dbeta, bool(fix_gamma), req_gamma, req_beta,
                               stream)
    if req_x != REQ_NULL:
        rows = (outer * nc, inner)
        blocks, threads = rows_launch(*rows)
        bn_dx_kernel[blocks, threads, stream](dy.reshape(*rows), x.reshape(*rows), gamma, m, rs, sdy, sdyx,
                                              dx.reshape(*rows), bool(fix_gamma), bool(use_global_stats), req_x)


def _rownorm_fwd(x, gamma, beta, out, mean, sd, eps, gmod, cpg, span, save_var, req, stream):
    # One block per normalized row of x (outer, L, inner).
    outer, nl, inner = x.shape
    if outer * inner == 0:
        return
    rownorm_fwd_kernel[outer * inner, pow2_threads(nl), stream](
        x, gamma, beta, out, mean.reshape(mean.size), sd.reshape(sd.size), float(eps), gmod, cpg, span,
        save_var, req)


def _rownorm_dx(dy, x, gamma, mean, rstd, dx, gmod, cpg, span, req, stream):
    # One block per normalized row of x (outer, L, inner).
    outer, nl, inner = x.shape
    if req != REQ_NULL and outer * inner:
        rownorm_dx_kernel[outer * inner, pow2_threads(nl), stream](dy, x, gamma, mean, rstd, dx, gmod, cpg,
                                                                   span, req)


def layer_norm_fwd_gpu(x, gamma, beta, out, mean, std, eps, req, stream=0):
    """Same contract as norm_cpu.layer_norm_fwd_cpu, on device arrays."""
    _rownorm_fwd(x, gamma, beta, out, mean, std, eps, 1, 0, 1, False, req, stream)


def layer_norm_bwd_gpu(dy, x, gamma, mean, std, dx, dgamma, dbeta, req_x, req_gamma, req_beta, stream=0):
    """Same contract as norm_cpu.layer_norm_bwd_cpu, on device arrays."""
    mu = mean.reshape(mean.size)
    rstd = _rstd(std, 0.0, False, stream)
    _rownorm_dx(dy, x, gamma, mu, rstd, dx, 1, 0, 1, req_x, stream)
    _channel_grads(dy, x, mu, rstd, (x.shape[2], 1, 0, 1), dgamma, dbeta, False, req_gamma, req_beta, stream)


def _group_layout(x, gamma, num_groups):
    # x (N, C, S) as (N * G, C/G * S, 1) rows, and the gamma layout (per channel, or per group: MXNet 1.9.1).
    n, nc, ns = x.shape
    cpg = nc // num_groups
    per_channel = gamma.size == nc
    rows = (n * num_groups, cpg * ns, 1)
    return rows, per_channel, (num_groups, cpg if per_channel else 1, ns if per_channel else cpg * ns)


def group_norm_fwd_gpu(x, gamma, beta, out, mean, std, num_groups, eps, req, stream=0):
    """Same contract as norm_cpu.group_norm_fwd_cpu, on device arrays."""
    rows, _, gmap = _group_layout(x, gamma, num_groups)
    _rownorm_fwd(x.reshape(*rows), gamma, beta, out.reshape(*rows), mean, std, eps, *gmap, False, req, stream)


def group_norm_bwd_gpu(dy, x, gamma, mean, std, dx, dgamma, dbeta, num_groups, req_x, req_gamma, req_beta,
                       stream=0):
    """Same contract as norm_cpu.group_norm_bwd_cpu, on device arrays."""
    n, nc, ns = x.shape
    rows, per_channel, gmap = _group_layout(x, gamma, num_groups)
    mu = mean.reshape(mean.size)
    rstd = _rstd(std, 0.0, False, stream)
    _rownorm_dx(dy.reshape(*rows), x.reshape(*rows), gamma, mu, rstd, dx.reshape(*rows), *gmap, req_x, stream)
    if per_channel:
        _channel_grads(dy, x, mu, rstd, (num_groups, nc // num_groups, 1, 0), dgamma, dbeta, False, req_gamma,
                       req_beta, stream)
    else:
        grouped = (n, num_groups, rows[1])
        _channel_grads(dy.reshape(*grouped), x.reshape(*grouped), mu, rstd, (num_groups, 1, 1, 0), dgamma, dbeta,
                       False, req_gamma, req_beta, stream)


def instance_norm_fwd_gpu(x, gamma, beta, out, mean, var, eps, req, stream=0):
    """Same contract as norm_cpu.instance_norm_fwd_cpu, on device arrays."""
    n, nc, ns = x.shape
    rows = (n * nc, ns, 1)
    _rownorm_fwd(x.reshape(*rows), gamma, beta, out.reshape(*rows), mean, var, eps, nc, 1, ns, True, req, stream)


def instance_norm_bwd_gpu(dy, x, gamma, mean, var, dx, dgamma, dbeta, eps, req_x, req_gamma, req_beta, stream=0):
    """Same contract as norm_cpu.instance_norm_bwd_cpu, on device arrays."""
    n, nc, ns = x.shape
    rows = (n * nc, ns, 1)
    mu = mean.reshape(mean.size)
    rstd = _rstd(var, eps, True, stream)
    _rownorm_dx(dy.reshape(*rows), x.reshape(*rows), gamma, mu, rstd, dx.reshape(*rows), nc, 1, ns, req_x, stream)
    _channel_grads(dy, x, mu, rstd, (nc, 1, 1, 0), dgamma, dbeta, False, req_gamma, req_beta, stream)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a, _r, _v = f"{_t}[:, :, ::1]", f"{_t}[:, ::1]", f"{_t}[::1]"
    _p, _d = "float64[:, ::1]", "float64[::1]"
    _i4 = "int64, int64, int64, int64"
    PTX_CHECKS += [
        (_chan_moments_kernel, f"void({_a}, {_p}, {_p})"),
        (_bn_stats_kernel, f"void({_a}, {_p}, {_p}, {_v}, {_v}, {_v}, {_v}, float64, boolean)"),
        (_bn_apply_kernel, f"void({_r}, {_v}, {_v}, {_v}, {_v}, {_r}, boolean, int64)"),
        (_bn_bwd_prep_kernel, f"void({_v}, {_v}, {_v}, {_v}, {_d}, {_d}, float64, boolean)"),
        (_bn_moving_kernel, f"void({_v}, {_v}, {_v}, {_v}, float64, float64)"),
        (_chan_grad_kernel, f"void({_a}, {_a}, {_d}, {_d}, {_i4}, {_p}, {_p})"),
        (_chan_grad_kernel, f"void({_a}, {_a}, {_v}, {_d}, {_i4}, {_p}, {_p})"),
        (_chan_grad_finish_kernel, f"void({_p}, {_p}, {_d}, {_d}, {_v}, {_v}, boolean, int64, int64)"),
        (_bn_dx_kernel, f"void({_r}, {_r}, {_v}, {_d}, {_d}, {_d}, {_d}, {_r}, boolean, boolean, int64)"),
        (_rownorm_fwd_kernel, f"void({_a}, {_v}, {_v}, {_a}, {_v}, {_v}, float64, int64, int64, int64, boolean, "
                              "int64)"),
        (_rownorm_dx_kernel, f"void({_a}, {_a}, {_v}, {_v}, {_d}, {_a}, int64, int64, int64, int64)"),
        (_rstd_kernel, f"void({_v}, {_d}, float64, boolean)"),
    ]
