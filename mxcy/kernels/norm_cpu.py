"""Batch, layer, instance and group normalization, forward and backward, on CPU (norm_gpu.py mirrors it).
BatchNorm/LayerNorm take C-contiguous (outer, C, inner) views around the channel / normalized axis;
InstanceNorm/GroupNorm take (N, C, S) views, S the flattened spatial size."""
import math

import numba
import numpy as np

from .common import LIGHT, REQ_ADD, REQ_NULL, assign, parallel_kernel

_JIT = dict(nogil=True, cache=True, error_model="numpy")
# Fixed partial-sum count for channel reductions: results do not depend on the thread count.
_PARTS = 64


# ---------------------------------------------------------------- shared scalar helpers
@numba.njit(inline="always", nogil=True, error_model="numpy")
def moments(shift, s1, s2, n, eps):
    """(mean, biased var, 1/sqrt(var + eps)) from sums of d = x - shift and d^2 over n items; the shift
    keeps one-pass sums free of cancellation. invstd is 0 when var and eps are both 0 (MXNet's rule)."""
    m1 = s1 / n
    var = max(s2 / n - m1 * m1, 0.0)
    inv = 0.0 if var + eps == 0.0 else 1.0 / math.sqrt(var + eps)
    return shift + m1, var, inv


@numba.njit(inline="always", nogil=True)
def row_base(r, gmod, cpg):
    """First affine-parameter index of normalized row r: (r % gmod) * cpg. Layouts (gmod, cpg, span):
    LayerNorm (1, 0, 1); GroupNorm per channel (G, C/G, S), per group (G, 1, M); InstanceNorm (C, 1, S)."""
    return 0 if gmod == 1 else (r % gmod) * cpg


@numba.njit(inline="always", nogil=True)
def stat_base(o, c, ro, cpg, rc):
    """Saved-statistics row of element (o, c, 0) of a channel-reduction view; element (o, c, i) adds i * ri."""
    return o * ro + (c // cpg) * rc


@numba.njit(inline="always", nogil=True)
def gamma_index(base, j, span, nl):
    """Affine-parameter index of item j of a row of nl items: base + j // span, without the division for
    LayerNorm (span 1) and for one parameter per row (span >= nl)."""
    if span == 1:
        return base + j
    if span >= nl:
        return base
    return base + j // span


# ---------------------------------------------------------------- reductions shared by the drivers
@parallel_kernel(**_JIT)
def channel_moments(x):
    """Per channel c of x (outer, C, inner): shift x[0, c, 0] and float64 sums of d and d^2, d = x - shift.
    Chunks of (o, c) rows get private partial sums, combined in a fixed order."""
    outer, nc, inner = x.shape
    nrows = outer * nc
    parts = max(1, min(_PARTS, nrows))
    shift = np.zeros(nc)
    if x.size:
        for c in range(nc):
            shift[c] = x[0, c, 0]
    p1 = np.zeros((parts, nc))
    p2 = np.zeros((parts, nc))
    for p in numba.prange(parts):
        for r in range(p * nrows // parts, (p + 1) * nrows // parts):
            o, c = r // nc, r % nc
            a = 0.0
            b = 0.0
            for i in range(inner):
                d = x[o, c, i] - shift[c]
                a += d
                b += d * d
            p1[p, c] += a
            p2[p, c] += b
    return shift, p1.sum(axis=0), p2.sum(axis=0)


@parallel_kernel(**_JIT)
def channel_grad_sums(dy, x, mean, rstd, rows):
    """Per channel c of the (outer, C, inner) view: (sum dy, sum dy * xhat), xhat = (x - mean[k]) * rstd[k]
    with k = stat_base(o, c, *rows[:3]) + i * rows[3]. These are dbeta and dgamma for every normalization here.
    Layout parameters travel as small int arrays: literal ints would compile a new parfor per caller."""
    outer, nc, inner = x.shape
    ro, cpg, rc, ri = rows[0], rows[1], rows[2], rows[3]
    nrows = outer * nc
    parts = max(1, min(_PARTS, nrows))
    pa = np.zeros((parts, nc))
    pb = np.zeros((parts, nc))
    for p in numba.prange(parts):
        for r in range(p * nrows // parts, (p + 1) * nrows // parts):
            o, c = r // nc, r % nc
            k0 = stat_base(o, c, ro, cpg, rc)
            a = 0.0
            b = 0.0
            for i in range(inner):
                k = k0 + i * ri
                g = dy[o, c, i]
                a += g
                b += g * (x[o, c, i] - mean[k]) * rstd[k]
            pa[p, c] += a
            pb[p, c] += b
    return pa.sum(axis=0), pb.sum(axis=0)


@parallel_kernel(**_JIT)
def rownorm_fwd(x, gamma, beta, out, mean, sd, eps, layout, req):
    """Normalize each row (o, :, i) of x (outer, L, inner): out = (x - mean) / sqrt(var + eps) * gamma + beta,
    parameter index from row_base / gamma_index with layout[:3] = (gmod, cpg, span); saves mean and std
    (var when layout[3]) per row r = o * inner + i."""
    outer, nl, inner = x.shape
    gmod, cpg, span, save_var = layout[0], layout[1], layout[2], layout[3] != 0
    if inner == 1:
        for r in numba.prange(outer):
            sh = float(x[r, 0, 0])
            a = 0.0
            b = 0.0
            for j in range(nl):
                d = x[r, j, 0] - sh
                a += d
                b += d * d
            m, var, rs = moments(sh, a, b, nl, eps)
            mean[r] = m
            sd[r] = var if save_var else math.sqrt(var + eps)
            if req != REQ_NULL:
                base = row_base(r, gmod, cpg)
                for j in range(nl):
                    gi = gamma_index(base, j, span, nl)
                    v = (x[r, j, 0] - m) * rs * gamma[gi] + beta[gi]
                    out[r, j, 0] = assign(out[r, j, 0], v, req)
        return
    # Strided rows: walk inner lanes together so every pass streams contiguous memory.
    for o in numba.prange(outer):
        sh = np.empty(inner)
        a = np.zeros(inner)
        b = np.zeros(inner)
        for i in range(inner):
            sh[i] = x[o, 0, i]
        for j in range(nl):
            for i in range(inner):
                d = x[o, j, i] - sh[i]
                a[i] += d
                b[i] += d * d
        for i in range(inner):
            m, var, rs = moments(sh[i], a[i], b[i], nl, eps)
            mean[o * inner + i] = m
            sd[o * inner + i] = var if save_var else math.sqrt(var + eps)
            a[i] = m  # the sums are spent: reuse the lanes for mean and 1/std
            b[i] = rs
        if req != REQ_NULL:
            for j in range(nl):
                for i in range(inner):
                    gi = gamma_index(row_base(o * inner + i, gmod, cpg), j, span, nl)
                    v = (x[o, j, i] - a[i]) * b[i] * gamma[gi] + beta[gi]
                    out[o, j, i] = assign(out[o, j, i], v, req)


@parallel_kernel(**_JIT)
def rownorm_dx(dy, x, gamma, mean, rstd, dx, layout, req):
    """dx = rstd * (g - mean_j(g) - xhat * mean_j(g * xhat)) per row, g = dy * gamma, xhat = (x - mean) * rstd."""
    outer, nl, inner = x.shape
    gmod, cpg, span = layout[0], layout[1], layout[2]
    if req == REQ_NULL:
        return
    for o in numba.prange(outer):
        a = np.zeros(inner)
        b = np.zeros(inner)
        for j in range(nl):
            for i in range(inner):
                r = o * inner + i
                g = dy[o, j, i] * gamma[gamma_index(row_base(r, gmod, cpg), j, span, nl)]
                a[i] += g
                b[i] += g * (x[o, j, i] - mean[r]) * rstd[r]
        for j in range(nl):
            for i in range(inner):
                r = o * inner + i
                g = dy[o, j, i] * gamma[gamma_index(row_base(r, gmod, cpg), j, span, nl)]
                xh = (x[o, j, i] - mean[r]) * rstd[r]
                dx[o, j, i] = assign(dx[o, j, i], rstd[r] * (g - a[i] / nl - xh * b[i] / nl), req)


@numba.njit(**_JIT)
def write_param_grads(sum_dy, sum_dyxhat, dgamma, dbeta, zero_gamma, req_gamma, req_beta):
    """dgamma = sum dy*xhat (0 when gamma is fixed), dbeta = sum dy, under their write requests."""
    for c in range(sum_dy.size):
        if req_gamma != REQ_NULL:
            dgamma[c] = assign(dgamma[c], 0.0 if zero_gamma else sum_dyxhat[c], req_gamma)
        if req_beta != REQ_NULL:
            dbeta[c] = assign(dbeta[c], sum_dy[c], req_beta)


# ---------------------------------------------------------------- BatchNorm
@parallel_kernel(light=LIGHT, **_JIT)
def batch_norm_fwd_cpu(x, gamma, beta, moving_mean, moving_var, out, mean, invstd, eps, fix_gamma,
                       use_global_stats, req):
    """out = (x - mean[c]) * invstd[c] * gamma[c] + beta[c] over x (outer, C, inner), gamma = 1 if fix_gamma.
    Batch stats (biased var) unless use_global_stats (pass `use_global_stats or not is_train`), which reads
    moving_mean/var. Writes the outputs mean and invstd = 1/sqrt(var + eps) (MXNet's third output)."""
    outer, nc, inner = x.shape
    if use_global_stats:
        for c in range(nc):
            mean[c] = moving_mean[c]
            invstd[c] = 1.0 / math.sqrt(moving_var[c] + eps)
    else:
        shift, s1, s2 = channel_moments(x)
        for c in range(nc):
            m, var, inv = moments(shift[c], s1[c], s2[c], outer * inner, eps)
            mean[c] = m
            invstd[c] = inv
    if req == REQ_NULL:
        return
    t = x.dtype.type
    xf, of = x.reshape(x.size), out.reshape(out.size)
    for r in numba.prange(outer * nc):
        c = r % nc
        m, b = t(mean[c]), t(beta[c])
        a = t(float(invstd[c]) * (1.0 if fix_gamma else float(gamma[c])))
        # In x's type, one loop per request: both vectorize (the float64 form with a per-element request
        # branch ran ~10x slower).
        lo, hi = numba.uint64(r * inner), numba.uint64((r + 1) * inner)
        if req == REQ_ADD:
            for i in range(lo, hi):
                of[i] += (xf[i] - m) * a + b
        else:
            for i in range(lo, hi):
                of[i] = (xf[i] - m) * a + b


@numba.njit(**_JIT)
def batch_norm_update_moving_cpu(mean, invstd, moving_mean, moving_var, momentum, eps):
    """moving = moving * momentum + batch * (1 - momentum) from the saved mean and invstd, the (biased) batch
    variance recovered as 1/invstd^2 - eps. MXNet 1.9.1's CPU BatchNorm does this in backward
    (batch_norm_bwd_cpu with update_moving); callers that want it at forward time call it directly."""
    for c in range(mean.size):
        moving_mean[c] = moving_mean[c] * momentum + mean[c] * (1.0 - momentum)
        var = 1.0 / (float(invstd[c]) * invstd[c]) - eps
        moving_var[c] = moving_var[c] * momentum + var * (1.0 - momentum)


@parallel_kernel(**_JIT)
def batch_norm_bwd_cpu(dy, x, gamma, mean, invstd, moving_mean, moving_var, dx, dgamma, dbeta, eps, momentum,
                       fix_gamma, use_global_stats, update_moving, req_x, req_gamma, req_beta):
    """Batch stats: dx = (dy - mean(dy) - xhat * mean(dy * xhat)) * invstd * gamma; global stats:
    dx = dy * invstd * gamma with moving stats. dgamma = sum dy*xhat (0 if fix_gamma), dbeta = sum dy.
    With batch stats and update_moving, also batch_norm_update_moving_cpu (MXNet 1.9.1 CPU updates here)."""
    outer, nc, inner = x.shape
    n = outer * inner
    m = np.empty(nc)
    rs = np.empty(nc)
    for c in range(nc):
        m[c] = moving_mean[c] if use_global_stats else mean[c]
        rs[c] = 1.0 / math.sqrt(moving_var[c] + eps) if use_global_stats else invstd[c]
    if update_moving and not use_global_stats:
        batch_norm_update_moving_cpu(mean, invstd, moving_mean, moving_var, momentum, eps)
    sdy, sdyx = channel_grad_sums(dy, x, m, rs, np.array((0, 1, 1, 0)))
    if req_x != REQ_NULL:
        for r in numba.prange(outer * nc):
            o, c = r // nc, r % nc
            w = rs[c] * (1.0 if fix_gamma else float(gamma[c]))
            for i in range(inner):
                if use_global_stats:
                    v = dy[o, c, i] * w
                else:
                    xh = (x[o, c, i] - m[c]) * rs[c]
                    v = (dy[o, c, i] - sdy[c] / n - xh * sdyx[c] / n) * w
                dx[o, c, i] = assign(dx[o, c, i], v, req_x)
    write_param_grads(sdy, sdyx, dgamma, dbeta, fix_gamma, req_gamma, req_beta)


# ---------------------------------------------------------------- LayerNorm, GroupNorm, InstanceNorm
@parallel_kernel(**_JIT)
def layer_norm_fwd_cpu(x, gamma, beta, out, mean, std, eps, req):
    """Normalize x (outer, C, inner) over C: out = (x - mean) / std * gamma + beta, std = sqrt(var + eps);
    mean and std are (outer, inner) outputs (MXNet's output_mean_var)."""
    rownorm_fwd(x, gamma, beta, out, mean.reshape(mean.size), std.reshape(std.size), eps, np.array((1, 0, 1, 0)),
                req)


@parallel_kernel(**_JIT)
def layer_norm_bwd_cpu(dy, x, gamma, mean, std, dx, dgamma, dbeta, req_x, req_gamma, req_beta):
    """Gradients of layer_norm_fwd_cpu from its saved mean and std."""
    inner = x.shape[2]
    mu = mean.reshape(mean.size).astype(np.float64)  # float64, as BatchNorm passes: one compiled reduction
    rstd = 1.0 / std.reshape(std.size).astype(np.float64)
    rownorm_dx(dy, x, gamma, mu, rstd, dx, np.array((1, 0, 1)), req_x)
    sdy, sdyx = channel_grad_sums(dy, x, mu, rstd, np.array((inner, 1, 0, 1)))
    write_param_grads(sdy, sdyx, dgamma, dbeta, False, req_gamma, req_beta)


@parallel_kernel(**_JIT)
def group_norm_fwd_cpu(x, gamma, beta, out, mean, std, num_groups, eps, req):
    """x (N, C, S) split into num_groups groups of C/G channels, each normalized over (C/G, S); gamma/beta
    have C entries (per channel) or G (per group, MXNet 1.9.1's shape). mean, std: (N, G) outputs."""
    n, nc, ns = x.shape
    g = num_groups
    cpg = nc // g
    per_channel = gamma.size == nc
    rows = (n * g, cpg * ns, 1)
    layout = np.array((g, cpg if per_channel else 1, ns if per_channel else cpg * ns, 0))
    rownorm_fwd(x.reshape(rows), gamma, beta, out.reshape(rows), mean.reshape(mean.size), std.reshape(std.size),
                eps, layout, req)


@parallel_kernel(**_JIT)
def group_norm_bwd_cpu(dy, x, gamma, mean, std, dx, dgamma, dbeta, num_groups, req_x, req_gamma, req_beta):
    """Gradients of group_norm_fwd_cpu from its saved mean and std."""
    n, nc, ns = x.shape
    g = num_groups
    cpg = nc // g
    per_channel = gamma.size == nc
    mu = mean.reshape(mean.size).astype(np.float64)
    rstd = 1.0 / std.reshape(std.size).astype(np.float64)
    rows = (n * g, cpg * ns, 1)
    layout = np.array((g, cpg if per_channel else 1, ns if per_channel else cpg * ns))
    rownorm_dx(dy.reshape(rows), x.reshape(rows), gamma, mu, rstd, dx.reshape(rows), layout, req_x)
    if per_channel:
        sdy, sdyx = channel_grad_sums(dy, x, mu, rstd, np.array((g, cpg, 1, 0)))
    else:
        grouped = (n, g, cpg * ns)
        sdy, sdyx = channel_grad_sums(dy.reshape(grouped), x.reshape(grouped), mu, rstd, np.array((g, 1, 1, 0)))
    write_param_grads(sdy, sdyx, dgamma, dbeta, False, req_gamma, req_beta)


@parallel_kernel(**_JIT)
def instance_norm_fwd_cpu(x, gamma, beta, out, mean, var, eps, req):
    """Normalize each (n, c) plane of x (N, C, S) over S, per-channel gamma/beta; mean and var (N, C) outputs
    (InstanceNorm saves the variance, not the std)."""
    n, nc, ns = x.shape
    rows = (n * nc, ns, 1)
    rownorm_fwd(x.reshape(rows), gamma, beta, out.reshape(rows), mean.reshape(mean.size), var.reshape(var.size),
                eps, np.array((nc, 1, ns, 1)), req)


@parallel_kernel(**_JIT)
def instance_norm_bwd_cpu(dy, x, gamma, mean, var, dx, dgamma, dbeta, eps, req_x, req_gamma, req_beta):
    """Gradients of instance_norm_fwd_cpu from its saved mean and var."""
    n, nc, ns = x.shape
    mu = mean.reshape(mean.size).astype(np.float64)
    rstd = 1.0 / np.sqrt(var.reshape(var.size).astype(np.float64) + eps)
    rows = (n * nc, ns, 1)
    rownorm_dx(dy.reshape(rows), x.reshape(rows), gamma, mu, rstd, dx.reshape(rows), np.array((nc, 1, ns)), req_x)
    sdy, sdyx = channel_grad_sums(dy, x, mu, rstd, np.array((nc, 1, 1, 0)))
    write_param_grads(sdy, sdyx, dgamma, dbeta, False, req_gamma, req_beta)
