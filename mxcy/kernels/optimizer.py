"""Optimizer update rules (MXNet 1.9.1's sgd/nag/adam/rmsprop/ftrl/ftml/signum/adamw/lamb updates) as CPU kernels:
one parallel pass over flat weight, gradient and state arrays, states rewritten in place.

Every driver takes `master`: an empty array, or the float32 master weights of a multi-precision update (read as
the weight and rewritten with the new weight). Scalars arrive as float64; arithmetic is float64, as a
reference. The per-element rules are scalar helpers, so CUDA twins can reuse them.
"""
import math

import numba
from numba import prange

from .common import REQ_NULL, assign

_KERNEL = dict(parallel=True, nogil=True, cache=True)


@numba.njit(inline="always", nogil=True)
def clip(x, bound):
    """x limited to [-bound, bound]; bound < 0 turns clipping off (MXNet's `clip_gradient >= 0` test)."""
    if bound >= 0.0:
        return max(min(x, bound), -bound)
    return x


@numba.njit(inline="always", nogil=True)
def sign(x):
    return (x > 0.0) - (x < 0.0)


@numba.njit(inline="always", nogil=True)
def weight_at(weight, master, i):
    if master.size:
        return numba.float64(master[i])
    return numba.float64(weight[i])


@numba.njit(inline="always", nogil=True)
def put(out, master, i, value, req):
    if master.size:
        master[i] = value
    if req != REQ_NULL:
        out[i] = assign(out[i], value, req)


@numba.njit(**_KERNEL)
def sgd_update_cpu(weight, grad, master, out, lr, wd, rescale_grad, clip_gradient, req):
    """w = (1 - lr*wd) * w - lr * clip(rescale_grad * g)."""
    for i in prange(out.size):
        w = weight_at(weight, master, i)
        put(out, master, i, (1.0 - lr * wd) * w - lr * clip(rescale_grad * grad[i], clip_gradient), req)


@numba.njit(**_KERNEL)
def sgd_mom_update_cpu(weight, grad, mom, master, out, lr, momentum, wd, rescale_grad, clip_gradient, req):
    """mom = momentum*mom - lr*wd*w - lr*clip(rescale_grad*g); w = w + mom."""
    for i in prange(out.size):
        w = weight_at(weight, master, i)
        m = momentum * mom[i] - lr * wd * w - lr * clip(rescale_grad * grad[i], clip_gradient)
        mom[i] = m
        put(out, master, i, w + m, req)


@numba.njit(**_KERNEL)
def nag_mom_update_cpu(weight, grad, mom, master, out, lr, momentum, wd, rescale_grad, clip_gradient, req):
    """g' = clip(rescale_grad*g) + wd*w; mom = momentum*mom; w = w - mom + (momentum+1)*(mom - lr*g');
    mom = mom - lr*g'."""
    for i in prange(out.size):
        w = weight_at(weight, master, i)
        g = clip(rescale_grad * grad[i], clip_gradient) + wd * w
        m = momentum * mom[i]
        new_w = w - m + (momentum + 1.0) * (m - lr * g)
        mom[i] = m - lr * g
        put(out, master, i, new_w, req)


@numba.njit(**_KERNEL)
def adam_update_cpu(weight, grad, mean, var, out, lr, beta1, beta2, epsilon, wd, rescale_grad, clip_gradient,
                    req):
    """g' = clip(rescale_grad*g + wd*w); mean, var = moving g', g'^2; w -= lr*mean/(sqrt(var) + epsilon)."""
    for i in prange(out.size):
        w = numba.float64(weight[i])
        g = clip(rescale_grad * grad[i] + wd * w, clip_gradient)
        m = beta1 * mean[i] + (1.0 - beta1) * g
        v = beta2 * var[i] + (1.0 - beta2) * g * g
        mean[i] = m
        var[i] = v
        if req != REQ_NULL:
            out[i] = assign(out[i], w - lr * m / (math.sqrt(v) + epsilon), req)


@numba.njit(**_KERNEL)
def adamw_update_cpu(weight, grad, mean, var, master, out, lr, beta1, beta2, epsilon, wd, eta, rescale_grad,
                     clip_gradient, req):
    """Adam with decoupled weight decay: g' = clip(rescale_grad*g); w -= eta*(lr*mean/(sqrt(var)+epsilon) + wd*w)."""
    for i in prange(out.size):
        w = weight_at(weight, master, i)
        g = clip(rescale_grad * grad[i], clip_gradient)
        m = beta1 * mean[i] + (1.0 - beta1) * g
        v = beta2 * var[i] + (1.0 - beta2) * g * g
        mean[i] = m
        var[i] = v
        put(out, master, i, w - eta * (lr * m / (math.sqrt(v) + epsilon) + wd * w), req)


@numba.njit(**_KERNEL)
def rmsprop_update_cpu(weight, grad, n, out, lr, gamma1, epsilon, wd, rescale_grad, clip_gradient, clip_weights,
                       req):
    """Tieleman & Hinton: n = (1-gamma1)*g'^2 + gamma1*n; w -= lr*g'/sqrt(n + epsilon), then clip_weights."""
    for i in prange(out.size):
        w = numba.float64(weight[i])
        g = clip(rescale_grad * grad[i] + wd * w, clip_gradient)
        s = (1.0 - gamma1) * g * g + gamma1 * n[i]
        n[i] = s
        if req != REQ_NULL:
            out[i] = assign(out[i], clip(w - lr * g / math.sqrt(s + epsilon), clip_weights), req)


@numba.njit(**_KERNEL)
def rmspropalex_update_cpu(weight, grad, n, g_avg, delta, out, lr, gamma1, gamma2, epsilon, wd, rescale_grad,
                           clip_gradient, clip_weights, req):
    """Graves' centered RMSProp: n, g_avg = moving g'^2, g'; delta = gamma2*delta - lr*g'/sqrt(n - g_avg^2 + eps)."""
    for i in prange(out.size):
        w = numba.float64(weight[i])
        g = clip(rescale_grad * grad[i] + wd * w, clip_gradient)
        s = (1.0 - gamma1) * g * g + gamma1 * n[i]
        a = (1.0 - gamma1) * g + gamma1 * g_avg[i]
        d = gamma2 * delta[i] - lr * g / math.sqrt(s - a * a + epsilon)
        n[i] = s
        g_avg[i] = a
        delta[i] = d
        if req != REQ_NULL:
            out[i] = assign(out[i], clip(w + d, clip_weights), req)


@numba.njit(**_KERNEL)
def ftrl_update_cpu(weight, grad, z, n, out, lr, lamda1, beta, wd, rescale_grad, clip_gradient, req):
    """FTRL-proximal: z += g' - (sqrt(n + g'^2) - sqrt(n))*w/lr; n += g'^2;
    w = (sign(z)*lamda1 - z) / ((beta + sqrt(n))/lr + wd) where |z| > lamda1, else 0."""
    for i in prange(out.size):
        w = numba.float64(weight[i])
        g = clip(rescale_grad * grad[i], clip_gradient)
        old_n = numba.float64(n[i])
        zi = z[i] + g - (math.sqrt(old_n + g * g) - math.sqrt(old_n)) * w / lr
        ni = old_n + g * g
        z[i] = zi
        n[i] = ni
        if req != REQ_NULL:
            value = (sign(zi) * lamda1 - zi) / ((beta + math.sqrt(ni)) / lr + wd) if abs(zi) > lamda1 else 0.0
            out[i] = assign(out[i], value, req)


@numba.njit(**_KERNEL)
def ftml_update_cpu(weight, grad, d, v, z, out, lr, beta1, beta2, epsilon, t, wd, rescale_grad, clip_grad, req):
    """FTML (Zheng & Kwok 2017) at step t: d_t = (1-beta1^t)/lr * (sqrt(v/(1-beta2^t)) + epsilon);
    z = beta1*z + (1-beta1)*g' - (d_t - beta1*d)*w; w = -z/d_t."""
    for i in prange(out.size):
        w = numba.float64(weight[i])
        g = clip(rescale_grad * grad[i] + wd * w, clip_grad)
        vi = beta2 * v[i] + (1.0 - beta2) * g * g
        d_t = (1.0 - beta1 ** t) / lr * (math.sqrt(vi / (1.0 - beta2 ** t)) + epsilon)
        zi = beta1 * z[i] + (1.0 - beta1) * g - (d_t - beta1 * d[i]) * w
        v[i] = vi
        z[i] = zi
        d[i] = d_t
        if req != REQ_NULL:
            out[i] = assign(out[i], -zi / d_t, req)


@numba.njit(**_KERNEL)
def signsgd_update_cpu(weight, grad, out, lr, wd, req):
    """w = (1 - lr*wd)*w - lr*sign(g) (MXNet ignores rescale_grad and clip_gradient here)."""
    if req == REQ_NULL:
        return
    for i in prange(out.size):
        out[i] = assign(out[i], (1.0 - lr * wd) * weight[i] - lr * sign(grad[i]), req)


@numba.njit(**_KERNEL)
def signum_update_cpu(weight, grad, mom, out, lr, momentum, wd, rescale_grad, clip_gradient, wd_lh, req):
    """mom = momentum*mom - (1-momentum)*(wd*w + clip(rescale_grad*g)); w = (1 - lr*wd_lh)*w + lr*sign(mom)."""
    for i in prange(out.size):
        w = numba.float64(weight[i])
        m = momentum * mom[i] - (1.0 - momentum) * wd * w \
            - (1.0 - momentum) * clip(rescale_grad * grad[i], clip_gradient)
        mom[i] = m
        if req != REQ_NULL:
            out[i] = assign(out[i], (1.0 - lr * wd_lh) * w + lr * sign(m), req)


@numba.njit(**_KERNEL)
def lamb_update_phase1_cpu(weight, grad, mean, var, out, beta1, beta2, epsilon, t, bias_correction, wd,
                           rescale_grad, clip_gradient, req):
    """LAMB phase 1: mean, var = moving g', g'^2 of g' = clip(rescale_grad*g); out = m/(sqrt(v) + epsilon) + wd*w
    with m, v the bias-corrected mean/(1-beta1^t), var/(1-beta2^t) when bias_correction (else mean, var)."""
    mean_scale = 1.0 / (1.0 - beta1 ** t) if bias_correction != 0.0 else 1.0
    var_scale = 1.0 / (1.0 - beta2 ** t) if bias_correction != 0.0 else 1.0
    for i in prange(out.size):
        g = clip(rescale_grad * grad[i], clip_gradient)
        m = beta1 * mean[i] + (1.0 - beta1) * g
        v = beta2 * var[i] + (1.0 - beta2) * g * g
        mean[i] = m
        var[i] = v
        if req != REQ_NULL:
            step = m * mean_scale / (math.sqrt(v * var_scale) + epsilon) + wd * numba.float64(weight[i])
            out[i] = assign(out[i], step, req)


@numba.njit(**_KERNEL)
def lamb_update_phase2_cpu(weight, g, out, lr, r1, r2, lower_bound, upper_bound, req):
    """LAMB phase 2: w -= lr * r1/r2 * g (lr alone when r1 or r2 is 0), r1 first limited to
    [lower_bound, upper_bound] (a bound < 0 is off, MXNet's `>= 0` test)."""
    if lower_bound >= 0.0:
        r1 = max(r1, lower_bound)
    if upper_bound >= 0.0:
        r1 = min(r1, upper_bound)
    if r1 != 0.0 and r2 != 0.0:
        lr = lr * r1 / r2
    if req == REQ_NULL:
        return
    for i in prange(out.size):
        out[i] = assign(out[i], weight[i] - lr * g[i], req)


@numba.njit(nogil=True, cache=True)
def multi_sgd_cpu(weights, grads, moms, masters, outs, lrs, wds, momentum, rescale_grad, clip_gradient, req):
    """MXNet's multi_*sgd*_update in one call over typed lists of flat arrays: sgd_mom_update_cpu for weight k
    with lrs[k], wds[k] (sgd_update_cpu when moms[k] is empty); masters[k] is empty or the float32 master."""
    for k in range(len(outs)):
        if moms[k].size:
            sgd_mom_update_cpu(weights[k], grads[k], moms[k], masters[k], outs[k], lrs[k], momentum, wds[k],
                               rescale_grad, clip_gradient, req)
        else:
            sgd_update_cpu(weights[k], grads[k], masters[k], outs[k], lrs[k], wds[k], rescale_grad, clip_gradient,
                           req)
