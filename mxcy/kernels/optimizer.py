"""Optimizer update rules (MXNet 1.9.1's sgd/nag/adam/rmsprop/ftrl/ftml/signum/adamw/lamb/adagrad updates), CPU and
CUDA: one pass over flat weight, gradient and state arrays, states rewritten in place.

Every rule is one scalar function (`rule`, picked by an integer kind) that CPU drivers and CUDA kernels both call,
so the two devices compute the same arithmetic: in float32 for float32 arrays, float64 for float64 ones. Drivers
take up to three states (empty arrays when a rule has fewer, always last) and `master`: an empty array, or the
float32 master weights of a multi-precision update (read as the weight and rewritten with the new weight). Scalars
arrive as one tuple of N_SCALARS numbers of the arrays' float type, in the op's order.
"""
import math

import numba
from numba import cuda, prange

from .common import LIGHT, REQ_NULL, assign, parallel_kernel
from .launch import block_sum, dual, grid_1d

_KERNEL = dict(nogil=True, cache=True)
N_SCALARS = 8

# Rule kinds; the scalars each reads are listed in `rule`.
(SGD, SGD_MOM, NAG_MOM, ADAM, ADAMW, RMSPROP, RMSPROPALEX, FTRL, FTML, SIGNSGD, SIGNUM, LAMB1, LAMB2,
 ADAGRAD) = range(14)


@numba.njit(inline="always", nogil=True)
def clip(x, bound):
    """x limited to [-bound, bound]; bound < 0 turns clipping off (MXNet's `clip_gradient >= 0` test)."""
    if bound >= 0.0:
        return max(min(x, bound), -bound)
    return x


@numba.njit(inline="always", nogil=True)
def sign(x):
    return numba.float64((x > 0.0) - (x < 0.0))


@numba.njit(inline="always", nogil=True)
def rule(kind, w, g, a, b, c, p):
    """(new weight, new a, b, c) of one element under update `kind`: w the weight, g the raw gradient, a/b/c the
    states (0 where the rule has fewer), p the scalars in the op's order (named in each branch).

    The common rules are written without float literals (beta*a + (1-beta)*g as g + beta*(a - g), ...), so that
    float32 arrays with float32 scalars compute in float32, as MXNet's kernels do: float64 square roots and
    divisions made Adam compute-bound at ~5x the float32 time."""
    if kind == SGD:  # lr, wd, rescale_grad, clip_gradient
        return w - p[0] * (p[1] * w + clip(p[2] * g, p[3])), a, b, c
    if kind == SGD_MOM:  # lr, momentum, wd, rescale_grad, clip_gradient
        m = p[1] * a - p[0] * p[2] * w - p[0] * clip(p[3] * g, p[4])
        return w + m, m, b, c
    if kind == NAG_MOM:  # lr, momentum, wd, rescale_grad, clip_gradient
        gw = clip(p[3] * g, p[4]) + p[2] * w
        step = p[1] * a - p[0] * gw  # w - mom*a + (momentum+1)*(mom*a - lr*g) = w + momentum*step - lr*g
        return w + p[1] * step - p[0] * gw, step, b, c
    if kind == ADAM:  # lr, beta1, beta2, epsilon, wd, rescale_grad, clip_gradient
        gw = clip(p[5] * g + p[4] * w, p[6])
        m = gw + p[1] * (a - gw)
        v = gw * gw + p[2] * (b - gw * gw)
        return w - p[0] * m / (math.sqrt(v) + p[3]), m, v, c
    if kind == ADAMW:  # lr, beta1, beta2, epsilon, wd, eta, rescale_grad, clip_gradient
        gw = clip(p[6] * g, p[7])
        m = gw + p[1] * (a - gw)
        v = gw * gw + p[2] * (b - gw * gw)
        return w - p[5] * (p[0] * m / (math.sqrt(v) + p[3]) + p[4] * w), m, v, c
    if kind == RMSPROP:  # lr, gamma1, epsilon, wd, rescale_grad, clip_gradient, clip_weights
        gw = clip(p[4] * g + p[3] * w, p[5])
        n = gw * gw + p[1] * (a - gw * gw)
        return clip(w - p[0] * gw / math.sqrt(n + p[2]), p[6]), n, b, c
    if kind == RMSPROPALEX:  # lr, gamma1, gamma2, epsilon, wd, rescale_grad, clip_gradient, clip_weights
        gw = clip(p[5] * g + p[4] * w, p[6])
        n = gw * gw + p[1] * (a - gw * gw)
        avg = gw + p[1] * (b - gw)
        d = p[2] * c - p[0] * gw / math.sqrt(n - avg * avg + p[3])
        return clip(w + d, p[7]), n, avg, d
    if kind == FTRL:  # lr, lamda1, beta, wd, rescale_grad, clip_gradient; a = z, b = n
        gw = clip(p[4] * g, p[5])
        z = a + gw - (math.sqrt(b + gw * gw) - math.sqrt(b)) * w / p[0]
        n = b + gw * gw
        new_w = (sign(z) * p[1] - z) / ((p[2] + math.sqrt(n)) / p[0] + p[3]) if abs(z) > p[1] else 0.0
        return new_w, z, n, c
    if kind == FTML:  # lr, beta1, beta2, epsilon, t, wd, rescale_grad, clip_grad; a = d, b = v, c = z
        gw = clip(p[6] * g + p[5] * w, p[7])
        v = p[2] * b + (1.0 - p[2]) * gw * gw
        d_t = (1.0 - p[1] ** p[4]) / p[0] * (math.sqrt(v / (1.0 - p[2] ** p[4])) + p[3])
        z = p[1] * c + (1.0 - p[1]) * gw - (d_t - p[1] * a) * w
        return -z / d_t, d_t, v, z
    if kind == SIGNSGD:  # lr, wd (MXNet ignores rescale_grad and clip_gradient here)
        return (1.0 - p[0] * p[1]) * w - p[0] * sign(g), a, b, c
    if kind == SIGNUM:  # lr, momentum, wd, rescale_grad, clip_gradient, wd_lh
        m = p[1] * a - (1.0 - p[1]) * p[2] * w - (1.0 - p[1]) * clip(p[3] * g, p[4])
        return (1.0 - p[0] * p[5]) * w + p[0] * sign(m), m, b, c
    if kind == LAMB1:  # beta1, beta2, epsilon, mean scale, var scale, wd, rescale_grad, clip_gradient
        gw = clip(p[6] * g, p[7])  # the scales are 1/(1-beta^t) with bias correction, else 1
        m = gw + p[0] * (a - gw)
        v = gw * gw + p[1] * (b - gw * gw)
        return m * p[3] / (math.sqrt(v * p[4]) + p[2]) + p[5] * w, m, v, c
    if kind == LAMB2:  # lr already scaled by the trust ratio (lamb_lr); g is phase 1's step
        return w - p[0] * g, a, b, c
    # ADAGRAD: lr, epsilon, rescale_grad, clip_gradient (MXNet's sparse adagrad has no weight decay)
    gw = clip(p[2] * g, p[3])
    h = a + gw * gw
    return w - p[0] * gw / math.sqrt(h + p[1]), h, b, c


@numba.njit(inline="always", nogil=True)
def lamb_lr(lr, r1, r2, lower_bound, upper_bound):
    """LAMB phase 2's step size: lr * r1/r2 (lr alone when either norm is 0), r1 first limited to
    [lower_bound, upper_bound] (a bound < 0 is off, MXNet's `>= 0` test)."""
    if lower_bound >= 0.0:
        r1 = max(r1, lower_bound)
    if upper_bound >= 0.0:
        r1 = min(r1, upper_bound)
    if r1 != 0.0 and r2 != 0.0:
        return lr * r1 / r2
    return lr


def _step(kind, n_states, has_master, i, weight, grad, s0, s1, s2, master, out, p, req):
    """Element i of an update: read weight (or master, when has_master) and the first n_states states, apply
    `rule`, write states, master and out."""
    zero = p[0] - p[0]  # 0 in the scalars' type: the compute type (float32 or float64)
    w = master[i] if has_master else weight[i]
    a = s0[i] if n_states > 0 else zero
    b = s1[i] if n_states > 1 else zero
    c = s2[i] if n_states > 2 else zero
    new_w, a, b, c = rule(kind, w, grad[i], a, b, c, p)
    if n_states > 0:
        s0[i] = a
    if n_states > 1:
        s1[i] = b
    if n_states > 2:
        s2[i] = c
    if has_master:
        master[i] = new_w
    if req != REQ_NULL:
        out[i] = assign(out[i], new_w, req)


_step_cpu, _step_gpu = dual(_step)
_cpu_drivers = {}


def _cpu_driver(kind, n_states, has_master):
    """The CPU driver of rule `kind` with n_states states and maybe a master, compiled with those as constants,
    so that the loop holds one rule and no tests of absent arrays and vectorizes (float32: ~5x faster for Adam
    than a run-time rule choice). Closures over ints are cached per value."""
    @parallel_kernel(light=LIGHT, **_KERNEL)
    def driver(weight, grad, s0, s1, s2, master, out, p, req):
        for i in prange(out.size):
            _step_cpu(kind, n_states, has_master, i, weight, grad, s0, s1, s2, master, out, p, req)
    return driver


def _n_states(s0, s1, s2):
    return 3 if s2.size else 2 if s1.size else 1 if s0.size else 0


def update_cpu(kind, weight, grad, s0, s1, s2, master, out, p, req):
    """One update of flat arrays under rule `kind` (see the module docstring); empty states come last."""
    key = (kind, _n_states(s0, s1, s2), bool(master.size))
    driver = _cpu_drivers.get(key)
    if driver is None:
        driver = _cpu_drivers[key] = _cpu_driver(*key)
    driver(weight, grad, s0, s1, s2, master, out, p, req)


def _update_kernel(kind, n_states, has_master, weight, grad, s0, s1, s2, master, out, p, req):
    i = cuda.grid(1)
    while i < out.size:
        _step_gpu(kind, n_states, has_master, i, weight, grad, s0, s1, s2, master, out, p, req)
        i += cuda.gridsize(1)


update_kernel = cuda.jit(_update_kernel)


def update_gpu(kind, weight, grad, s0, s1, s2, master, out, p, req, stream=0):
    """Same contract as update_cpu, on device arrays."""
    if out.size:
        blocks, threads = grid_1d(out.size)
        update_kernel[blocks, threads, stream](kind, _n_states(s0, s1, s2), bool(master.size), weight, grad, s0,
                                               s1, s2, master, out, p, req)


# ---------------------------------------------------------------- sum of squares (LAMB's norms), multi_lars
@numba.njit(nogil=True, cache=True)
def sum_sq_cpu(x):
    """sum(x^2) in float64."""
    acc = 0.0
    for i in range(x.size):
        v = numba.float64(x[i])
        acc += v * v
    return acc


_SUM_THREADS = 256


def _sum_sq_kernel(x, out):
    # Each block sums a grid-stride share of x^2 in shared memory, then adds it into out[0].
    acc = cuda.shared.array(_SUM_THREADS, numba.float64)
    tid = cuda.threadIdx.x
    total = 0.0
    i = cuda.grid(1)
    while i < x.size:
        v = numba.float64(x[i])
        total += v * v
        i += cuda.gridsize(1)
    block_sum(acc, total, tid, _SUM_THREADS)
    if tid == 0:
        cuda.atomic.add(out, 0, acc[0])


sum_sq_kernel = cuda.jit(_sum_sq_kernel)


def sum_sq_gpu(x, out, stream=0):
    """out[0] += sum(x^2), out a float64 device array; the caller zeroes it."""
    if x.size:
        blocks, _ = grid_1d(x.size, _SUM_THREADS)
        sum_sq_kernel[blocks, _SUM_THREADS, stream](x, out)


def _lars(i, lrs, weights_sum_sq, grads_sum_sq, wds, out, eta, eps, rescale_grad, req):
    """multi_lars for weight i: lr * eta * |w| / (|g| * rescale_grad + wd * |w| + eps) when both norms are > 0."""
    w_norm = math.sqrt(numba.float64(weights_sum_sq[i]))
    g_sum = numba.float64(grads_sum_sq[i])
    lr = numba.float64(lrs[i])
    if w_norm > 0.0 and g_sum > 0.0:
        lr = lr * eta * w_norm / (math.sqrt(g_sum) * rescale_grad + wds[i] * w_norm + eps)
    if req != REQ_NULL:
        out[i] = assign(out[i], lr, req)


_lars_cpu, _lars_gpu = dual(_lars)


@numba.njit(nogil=True, cache=True)
def multi_lars_cpu(lrs, weights_sum_sq, grads_sum_sq, wds, out, eta, eps, rescale_grad, req):
    for i in range(out.size):
        _lars_cpu(i, lrs, weights_sum_sq, grads_sum_sq, wds, out, eta, eps, rescale_grad, req)


def _multi_lars_kernel(lrs, weights_sum_sq, grads_sum_sq, wds, out, eta, eps, rescale_grad, req):
    i = cuda.grid(1)
    while i < out.size:
        _lars_gpu(i, lrs, weights_sum_sq, grads_sum_sq, wds, out, eta, eps, rescale_grad, req)
        i += cuda.gridsize(1)


multi_lars_kernel = cuda.jit(_multi_lars_kernel)


def multi_lars_gpu(lrs, weights_sum_sq, grads_sum_sq, wds, out, eta, eps, rescale_grad, req, stream=0):
    if out.size:
        blocks, threads = grid_1d(out.size)
        multi_lars_kernel[blocks, threads, stream](lrs, weights_sum_sq, grads_sum_sq, wds, out, eta, eps,
                                                   rescale_grad, req)


# ---------------------------------------------------------------- group AdaGrad (one history value per row)
def _group_adagrad_row(r, weight, grad, history, out, lr, epsilon, rescale_grad, clip_gradient, req):
    """Row r of (rows, cols) arrays: history[r] += mean(g'^2) over the row; w -= lr * g' / sqrt(history[r] + eps),
    g' = clip(rescale_grad * g)."""
    cols = weight.shape[1]
    ssq = 0.0
    for j in range(cols):
        g = clip(rescale_grad * numba.float64(grad[r, j]), clip_gradient)
        ssq += g * g
    h = numba.float64(history[r, 0]) + ssq / cols
    history[r, 0] = h
    if req != REQ_NULL:
        for j in range(cols):
            g = clip(rescale_grad * numba.float64(grad[r, j]), clip_gradient)
            out[r, j] = assign(out[r, j], numba.float64(weight[r, j]) - lr * g / math.sqrt(h + epsilon), req)


_group_adagrad_row_cpu, _group_adagrad_row_gpu = dual(_group_adagrad_row)


@parallel_kernel(**_KERNEL)
def group_adagrad_cpu(weight, grad, history, out, lr, epsilon, rescale_grad, clip_gradient, req):
    for r in prange(weight.shape[0]):
        _group_adagrad_row_cpu(r, weight, grad, history, out, lr, epsilon, rescale_grad, clip_gradient, req)


def _group_adagrad_kernel(weight, grad, history, out, lr, epsilon, rescale_grad, clip_gradient, req):
    # One thread per row: a row's history value is a sum over the row.
    r = cuda.grid(1)
    while r < weight.shape[0]:
        _group_adagrad_row_gpu(r, weight, grad, history, out, lr, epsilon, rescale_grad, clip_gradient, req)
        r += cuda.gridsize(1)


group_adagrad_kernel = cuda.jit(_group_adagrad_kernel)


def group_adagrad_gpu(weight, grad, history, out, lr, epsilon, rescale_grad, clip_gradient, req, stream=0):
    if weight.shape[0]:
        blocks, threads = grid_1d(weight.shape[0])
        group_adagrad_kernel[blocks, threads, stream](weight, grad, history, out, lr, epsilon, rescale_grad,
                                                      clip_gradient, req)


def _ptx_checks():
    checks = []
    for t in ("float32", "float64"):
        v, m = f"{t}[::1]", f"{t}[:, ::1]"
        scalars = f"UniTuple({t}, {N_SCALARS})"
        checks += [
            (_update_kernel, f"void(int64, int64, boolean, {v}, {v}, {v}, {v}, {v}, {v}, {v}, {scalars}, int64)"),
            (_sum_sq_kernel, f"void({v}, float64[::1])"),
            (_multi_lars_kernel, f"void({v}, {v}, {v}, {v}, {v}, float64, float64, float64, int64)"),
            (_group_adagrad_kernel, f"void({m}, {m}, {m}, {m}, float64, float64, float64, float64, int64)"),
        ]
    return checks  # multi-precision runs float32 throughout (float16 weights are widened first)


PTX_CHECKS = _ptx_checks()
