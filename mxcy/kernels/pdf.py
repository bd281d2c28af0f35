"""Kernels of the random_pdf_* operators, CPU and CUDA from one source: log-densities of samples under the
distributions MXNet 1.9.1's pdf ops know and their gradients, in float64. Each parameter element (the Dirichlet's:
each parameter vector) owns `inner` consecutive samples; the backward runs one loop item per parameter element, which
writes its samples' gradients and sums its own, so no two items write one place. digamma is the unary op's
(unary_gpu.py). Arrays are flat and C-contiguous."""
import math

import numba
from numba import cuda, prange

from .common import REQ_NULL, assign, flat, parallel_kernel
from .launch import dual, grid_1d
from .unary_gpu import digamma

# The scalar distributions, two parameters a, b each (b unused by the one-parameter ones).
UNIFORM, NORMAL, GAMMA, EXPONENTIAL, POISSON, NEGATIVE_BINOMIAL, GENERALIZED_NEGATIVE_BINOMIAL = range(7)
KINDS = {"uniform": UNIFORM, "normal": NORMAL, "gamma": GAMMA, "exponential": EXPONENTIAL, "poisson": POISSON,
         "negative_binomial": NEGATIVE_BINOMIAL, "generalized_negative_binomial": GENERALIZED_NEGATIVE_BINOMIAL}
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_scalar = numba.njit(inline="always", nogil=True, error_model="numpy")


@_scalar
def _psi(x):
    return digamma(x, 0.0)


@_scalar
def _nb_limit_prob(kind, a, b):
    """(limit, success probability) of a negative binomial given as (k, p), or generalized as (mu, alpha)."""
    if kind == GENERALIZED_NEGATIVE_BINOMIAL:
        return 1.0 / b, 1.0 / (a * b + 1.0)
    return a, b


@_scalar
def _lpdf(kind, x, a, b):
    """The log-density of sample x under distribution `kind` with parameters (a, b)."""
    if kind == UNIFORM:  # MXNet ignores whether x lies in [a, b)
        return -math.log(b - a)
    if kind == NORMAL:
        z = (x - a) / b
        return -0.5 * z * z - _LOG_SQRT_2PI - math.log(b)
    if kind == GAMMA:
        return a * math.log(b) + (a - 1.0) * math.log(x) - b * x - math.lgamma(a)
    if kind == EXPONENTIAL:
        return math.log(a) - a * x
    if kind == POISSON:
        return x * math.log(a) - math.lgamma(x + 1.0) - a
    limit, prob = _nb_limit_prob(kind, a, b)
    return math.lgamma(x + limit) - math.lgamma(x + 1.0) - math.lgamma(limit) + limit * math.log(prob) + \
        x * math.log1p(-prob)


@_scalar
def _grads(kind, x, a, b):
    """(d lpdf / d x as MXNet gives it, d lpdf / d a, d lpdf / d b): MXNet's sample gradient is zero for the uniform
    and the discrete distributions."""
    if kind == UNIFORM:
        return 0.0, 1.0 / (b - a), 1.0 / (a - b)
    if kind == NORMAL:
        s2 = b * b
        return (a - x) / s2, (x - a) / s2, ((x - a) * (x - a) - s2) / (s2 * b)
    if kind == GAMMA:
        return (a - 1.0) / x - b, math.log(b) + math.log(x) - _psi(a), a / b - x
    if kind == EXPONENTIAL:
        return -a, 1.0 / a - x, 0.0
    if kind == POISSON:
        return 0.0, x / a - 1.0, 0.0
    limit, prob = _nb_limit_prob(kind, a, b)
    d_limit = _psi(x + limit) - _psi(limit) + math.log(prob)
    d_prob = limit / prob - x / (1.0 - prob)
    if kind == NEGATIVE_BINOMIAL:
        return 0.0, d_limit, d_prob
    den2 = (a * b + 1.0) * (a * b + 1.0)
    return 0.0, -d_prob * b / den2, -d_limit / (b * b) - d_prob * a / den2


@_scalar
def _density(v, is_log):
    return v if is_log else math.exp(v)


@_scalar
def _scaling(g, out, is_log):
    """Head gradient g times d output / d lpdf at an output of value out: the density itself unless is_log."""
    return 1.0 * g if is_log else 1.0 * g * out


def _scalar_value(x, a, b, e, inner, kind, is_log):
    pi = e // inner
    return _density(_lpdf(kind, 1.0 * x[e], 1.0 * a[pi], 1.0 * b[pi]), is_log)


def _scalar_param_grads(g, x, a, b, out, dx, da, db, pi, inner, kind, is_log, rx, ra, rb):
    """Parameter element pi: its samples' gradients into dx, and the sums of its parameters' into da, db."""
    ga = gb = 0.0
    for e in range(pi * inner, (pi + 1) * inner):
        s = _scaling(g[e], out[e], is_log)
        gx, g_a, g_b = _grads(kind, 1.0 * x[e], 1.0 * a[pi], 1.0 * b[pi])
        if rx != REQ_NULL:
            dx[e] = assign(dx[e], s * gx, rx)
        ga += s * g_a
        gb += s * g_b
    if ra != REQ_NULL:
        da[pi] = assign(da[pi], ga, ra)
    if rb != REQ_NULL:
        db[pi] = assign(db[pi], gb, rb)


def _dirichlet_value(x, alpha, v, inner, k, is_log):
    """Sample vector v (of k entries) under the Dirichlet of parameter vector v // inner."""
    a0 = v // inner * k
    total = lp = 0.0
    for j in range(k):
        aj = 1.0 * alpha[a0 + j]
        total += aj
        lp += (aj - 1.0) * math.log(x[v * k + j]) - math.lgamma(aj)
    return _density(lp + math.lgamma(total), is_log)


def _dirichlet_param_grads(g, x, alpha, out, dx, dalpha, pv, inner, k, is_log, rx, ra):
    """Parameter vector pv: its sample vectors' gradients into dx and its entries' sums into dalpha."""
    total = 0.0
    for j in range(k):
        total += alpha[pv * k + j]
    psi_total = _psi(total)
    for j in range(k):
        aj = 1.0 * alpha[pv * k + j]
        d_a = psi_total - _psi(aj)
        acc = 0.0
        for v in range(pv * inner, (pv + 1) * inner):
            s = _scaling(g[v], out[v], is_log)
            xj = 1.0 * x[v * k + j]
            if rx != REQ_NULL:
                dx[v * k + j] = assign(dx[v * k + j], s * (aj - 1.0) / xj, rx)
            acc += s * (math.log(xj) + d_a)
        if ra != REQ_NULL:
            dalpha[pv * k + j] = assign(dalpha[pv * k + j], acc, ra)


_scalar_value_cpu, _scalar_value_dev = dual(_scalar_value)
_scalar_param_grads_cpu, _scalar_param_grads_dev = dual(_scalar_param_grads)
_dirichlet_value_cpu, _dirichlet_value_dev = dual(_dirichlet_value)
_dirichlet_param_grads_cpu, _dirichlet_param_grads_dev = dual(_dirichlet_param_grads)


@parallel_kernel(nogil=True, cache=True)
def _scalar_fwd_cpu(x, a, b, out, inner, kind, is_log, req):
    for e in prange(out.size):
        out[e] = assign(out[e], _scalar_value_cpu(x, a, b, e, inner, kind, is_log), req)


@parallel_kernel(nogil=True, cache=True)
def _scalar_bwd_cpu(g, x, a, b, out, dx, da, db, inner, kind, is_log, rx, ra, rb):
    for pi in prange(a.size):
        _scalar_param_grads_cpu(g, x, a, b, out, dx, da, db, pi, inner, kind, is_log, rx, ra, rb)


@parallel_kernel(nogil=True, cache=True)
def _dirichlet_fwd_cpu(x, alpha, out, inner, k, is_log, req):
    for v in prange(out.size):
        out[v] = assign(out[v], _dirichlet_value_cpu(x, alpha, v, inner, k, is_log), req)


@parallel_kernel(nogil=True, cache=True)
def _dirichlet_bwd_cpu(g, x, alpha, out, dx, dalpha, inner, k, is_log, rx, ra):
    for pv in prange(alpha.size // k):
        _dirichlet_param_grads_cpu(g, x, alpha, out, dx, dalpha, pv, inner, k, is_log, rx, ra)


def _scalar_fwd_kernel(x, a, b, out, inner, kind, is_log, req):
    e = cuda.grid(1)
    while e < out.size:
        out[e] = assign(out[e], _scalar_value_dev(x, a, b, e, inner, kind, is_log), req)
        e += cuda.gridsize(1)


def _scalar_bwd_kernel(g, x, a, b, out, dx, da, db, inner, kind, is_log, rx, ra, rb):
    pi = cuda.grid(1)
    while pi < a.size:
        _scalar_param_grads_dev(g, x, a, b, out, dx, da, db, pi, inner, kind, is_log, rx, ra, rb)
        pi += cuda.gridsize(1)


def _dirichlet_fwd_kernel(x, alpha, out, inner, k, is_log, req):
    v = cuda.grid(1)
    while v < out.size:
        out[v] = assign(out[v], _dirichlet_value_dev(x, alpha, v, inner, k, is_log), req)
        v += cuda.gridsize(1)


def _dirichlet_bwd_kernel(g, x, alpha, out, dx, dalpha, inner, k, is_log, rx, ra):
    pv = cuda.grid(1)
    while pv < alpha.size // k:
        _dirichlet_param_grads_dev(g, x, alpha, out, dx, dalpha, pv, inner, k, is_log, rx, ra)
        pv += cuda.gridsize(1)


_GPU = {name: cuda.jit(fn) for name, fn in (("scalar_fwd", _scalar_fwd_kernel), ("scalar_bwd", _scalar_bwd_kernel),
                                            ("dirichlet_fwd", _dirichlet_fwd_kernel),
                                            ("dirichlet_bwd", _dirichlet_bwd_kernel))}
_CPU = {"scalar_fwd": _scalar_fwd_cpu, "scalar_bwd": _scalar_bwd_cpu, "dirichlet_fwd": _dirichlet_fwd_cpu,
        "dirichlet_bwd": _dirichlet_bwd_cpu}


def _run(device, name, items, *args):
    arrays = [flat(a) if hasattr(a, "shape") else a for a in args]
    if device == "cpu":
        _CPU[name](*arrays)
    elif items:
        blocks, threads = grid_1d(items)
        _GPU[name][blocks, threads](*arrays)


def _one_or_two(params, grads, reqs):
    """(a, b, da, db, ra, rb): a one-parameter distribution passes its parameter as b too, with no b gradient."""
    if len(params) == 2:
        return params[0], params[1], grads[0], grads[1], reqs[0], reqs[1]
    return params[0], params[0], grads[0], grads[0], reqs[0], REQ_NULL


def _pdf_forward(device, name, sample, params, out, is_log, req):
    """out (req)= the density (log-density with is_log) of sample under `name` with params (each of one shape,
    indexing the sample's leading axes; the Dirichlet's last axis is the vector)."""
    if req == REQ_NULL:
        return
    if name == "dirichlet":
        k = params[0].shape[params[0].ndim - 1]
        _run(device, "dirichlet_fwd", out.size, sample, params[0], out, out.size // (params[0].size // k), k, is_log,
             req)
    else:
        a, b = params[0], params[len(params) - 1]
        _run(device, "scalar_fwd", out.size, sample, a, b, out, sample.size // a.size, KINDS[name], is_log, req)


def _pdf_backward(device, name, ograd, sample, params, out, grads, is_log, reqs):
    """grads (the sample's, then each parameter's) (reqs)= the gradients of _pdf_forward's output for head ograd."""
    if name == "dirichlet":
        k = params[0].shape[params[0].ndim - 1]
        _run(device, "dirichlet_bwd", params[0].size // k, ograd, sample, params[0], out, grads[0], grads[1],
             out.size // (params[0].size // k), k, is_log, reqs[0], reqs[1])
    else:
        a, b, da, db, ra, rb = _one_or_two(params, grads[1:], reqs[1:])
        _run(device, "scalar_bwd", a.size, ograd, sample, a, b, out, grads[0], da, db, sample.size // a.size,
             KINDS[name], is_log, reqs[0], ra, rb)


def forward_cpu(name, sample, params, out, is_log, req):
    _pdf_forward("cpu", name, sample, params, out, is_log, req)


def forward_gpu(name, sample, params, out, is_log, req):
    """CUDA twin of forward_cpu."""
    _pdf_forward("gpu", name, sample, params, out, is_log, req)


def backward_cpu(name, ograd, sample, params, out, grads, is_log, reqs):
    _pdf_backward("cpu", name, ograd, sample, params, out, grads, is_log, reqs)


def backward_gpu(name, ograd, sample, params, out, grads, is_log, reqs):
    """CUDA twin of backward_cpu."""
    _pdf_backward("gpu", name, ograd, sample, params, out, grads, is_log, reqs)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a, _i, _b = f"{_t}[::1]", "int64", "boolean"
    PTX_CHECKS += [
        (_scalar_fwd_kernel, f"void({_a}, {_a}, {_a}, {_a}, {_i}, {_i}, {_b}, {_i})"),
        (_scalar_bwd_kernel, f"void({', '.join([_a] * 8)}, {_i}, {_i}, {_b}, {_i}, {_i}, {_i})"),
        (_dirichlet_fwd_kernel, f"void({_a}, {_a}, {_a}, {_i}, {_i}, {_b}, {_i})"),
        (_dirichlet_bwd_kernel, f"void({', '.join([_a] * 6)}, {_i}, {_i}, {_b}, {_i}, {_i})"),
    ]
