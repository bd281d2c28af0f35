"""Elementwise activations (MXNet Activation, LeakyReLU, PReLU): forward and backward, CPU and CUDA.

Elementwise drivers take flat 1-D C-contiguous arrays; PReLU takes (outer, C, inner) views, channel = axis 1.
"""
import math

import numba
import numpy as np
from numba import cuda

from .common import LIGHT, REQ_ADD, REQ_NULL, assign, parallel_kernel
from .launch import block_sum, grid_1d, rows_launch

# Activation codes (ints, so one compiled driver serves every type). RELU_NAN is the relu operator's ReLU, which
# passes NaN on in value and gradient (MXNet 1.9.1's mshadow relu / relu_grad); Activation's maps it to 0.
RELU, SIGMOID, TANH, SOFTRELU, SOFTSIGN, LEAKY, ELU, SELU, GELU, RELU_NAN = range(10)
ACT_TYPES = {"relu": RELU, "sigmoid": SIGMOID, "tanh": TANH, "softrelu": SOFTRELU,
             "softsign": SOFTSIGN, "leaky": LEAKY, "elu": ELU, "selu": SELU, "gelu": GELU, "relu_nan": RELU_NAN}
# MXNet's backward reads the forward input x for these, the forward output y for all others.
USES_INPUT = frozenset((SOFTSIGN, GELU))

_SELU_LAMBDA = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717
_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@numba.njit(inline="always", nogil=True)
def act_value(t, act, slope):
    """f(t) for code `act`; slope is the leaky slope or the elu alpha. Constants take t's dtype."""
    one = type(t)(1.0)
    zero = type(t)(0.0)
    if act == RELU:
        return t if t > zero else zero
    if act == RELU_NAN:
        return t if t > zero or t != t else zero
    if act == SIGMOID:
        return one / (one + math.exp(-t))
    if act == TANH:
        return math.tanh(t)
    if act == SOFTRELU:
        # log1p(exp(t)) == t in float precision beyond 20, and exp would overflow far above it.
        return t if t > type(t)(20.0) else math.log1p(math.exp(t))
    if act == SOFTSIGN:
        return t / (one + abs(t))
    if act == LEAKY:
        return t if t > zero else t * type(t)(slope)
    if act == ELU:
        return t if t > zero else type(t)(slope) * math.expm1(t)
    if act == SELU:
        lam = type(t)(_SELU_LAMBDA)
        return lam * t if t > zero else lam * type(t)(_SELU_ALPHA) * math.expm1(t)
    # GELU, erf form (MXNet 1.9.1's LeakyReLU act_type='gelu').
    return type(t)(0.5) * t * (one + math.erf(t * type(t)(_INV_SQRT2)))


@numba.njit(inline="always", nogil=True)
def act_grad(x, y, act, slope):
    """df/dx for code `act` from forward input x and output y (each type reads only what MXNet reads)."""
    one = type(y)(1.0)
    zero = type(y)(0.0)
    if act == RELU:
        return one if y > zero else zero
    if act == RELU_NAN:
        return one if y > zero else y if y != y else zero
    if act == SIGMOID:
        return y * (one - y)
    if act == TANH:
        return one - y * y
    if act == SOFTRELU:
        return -math.expm1(-y)
    if act == SOFTSIGN:
        d = one + abs(x)
        return one / (d * d)
    if act == LEAKY:
        return one if y > zero else type(y)(slope)
    if act == ELU:
        # slope*exp(x) == y + slope on the negative side.
        return one if y > zero else y + type(y)(slope)
    if act == SELU:
        # lambda*alpha*exp(x) == y + lambda*alpha; MXNet 1.9.1's lambda*(y + alpha) is off by (lambda-1)*y.
        lam = type(y)(_SELU_LAMBDA)
        return lam if y > zero else y + lam * type(y)(_SELU_ALPHA)
    # GELU: Phi(x) + x * phi(x).
    return (type(x)(0.5) * (one + math.erf(x * type(x)(_INV_SQRT2)))
            + x * type(x)(_INV_SQRT_2PI) * math.exp(type(x)(-0.5) * x * x))


# ---------------------------------------------------------------- CPU drivers
_SPAN = 4096  # elements per parallel task


@numba.njit(inline="always", nogil=True)
def _fwd_span(x, out, lo, hi, act, slope, add):
    # Called with a constant act: once inlined its branches fold away and the loops vectorize (one per
    # request, unsigned indices: Numba's wraparound of signed ones blocks vectorizing).
    if add:
        for i in range(numba.uint64(lo), numba.uint64(hi)):
            out[i] += act_value(x[i], act, slope)
    elif x.ctypes.data == out.ctypes.data:
        # In place through a scratch block: a loop writing over what it reads became masked stores
        # (slow on AMD) or, through two names, failed LLVM's overlap check: ReLU over 800k float32 ran
        # 0.43 ms against 0.09 out of place, 0.12 this way.
        tmp = np.empty(hi - lo, out.dtype)
        for i in range(numba.uint64(0), numba.uint64(hi - lo)):
            tmp[i] = act_value(x[numba.uint64(lo) + i], act, slope)
        for i in range(numba.uint64(0), numba.uint64(hi - lo)):
            out[numba.uint64(lo) + i] = tmp[i]
    else:
        for i in range(numba.uint64(lo), numba.uint64(hi)):
            out[i] = act_value(x[i], act, slope)


@numba.njit(inline="always", nogil=True)
def _bwd_span(dy, x, y, dx, lo, hi, act, slope, add):
    if add:
        for i in range(numba.uint64(lo), numba.uint64(hi)):
            dx[i] += dy[i] * act_grad(x[i], y[i], act, slope)
    else:
        for i in range(numba.uint64(lo), numba.uint64(hi)):
            dx[i] = dy[i] * act_grad(x[i], y[i], act, slope)


@parallel_kernel(light=LIGHT, nogil=True, cache=True)
def act_fwd_cpu(x, out, act, slope, req):
    """out (req)= f(x), flat arrays."""
    if req == REQ_NULL:
        return
    add = req == REQ_ADD
    for s in numba.prange((x.size + _SPAN - 1) // _SPAN):
        lo, hi = s * _SPAN, min(x.size, (s + 1) * _SPAN)
        # One loop per act code, each free of per-element branches so it vectorizes.
        if act == RELU:
            _fwd_span(x, out, lo, hi, RELU, slope, add)
        elif act == RELU_NAN:
            _fwd_span(x, out, lo, hi, RELU_NAN, slope, add)
        elif act == SIGMOID:
            _fwd_span(x, out, lo, hi, SIGMOID, slope, add)
        elif act == TANH:
            _fwd_span(x, out, lo, hi, TANH, slope, add)
        elif act == SOFTRELU:
            _fwd_span(x, out, lo, hi, SOFTRELU, slope, add)
        elif act == SOFTSIGN:
            _fwd_span(x, out, lo, hi, SOFTSIGN, slope, add)
        elif act == LEAKY:
            _fwd_span(x, out, lo, hi, LEAKY, slope, add)
        elif act == ELU:
            _fwd_span(x, out, lo, hi, ELU, slope, add)
        elif act == SELU:
            _fwd_span(x, out, lo, hi, SELU, slope, add)
        else:
            _fwd_span(x, out, lo, hi, GELU, slope, add)


@parallel_kernel(light=LIGHT, nogil=True, cache=True)
def act_bwd_cpu(dy, x, y, dx, act, slope, req):
    """dx (req)= dy * f'(x), flat arrays; f' reads x (softsign, gelu) or y (all others)."""
    if req == REQ_NULL:
        return
    add = req == REQ_ADD
    for s in numba.prange((dy.size + _SPAN - 1) // _SPAN):
        lo, hi = s * _SPAN, min(dy.size, (s + 1) * _SPAN)
        if act == RELU:
            _bwd_span(dy, x, y, dx, lo, hi, RELU, slope, add)
        elif act == RELU_NAN:
            _bwd_span(dy, x, y, dx, lo, hi, RELU_NAN, slope, add)
        elif act == SIGMOID:
            _bwd_span(dy, x, y, dx, lo, hi, SIGMOID, slope, add)
        elif act == TANH:
            _bwd_span(dy, x, y, dx, lo, hi, TANH, slope, add)
        elif act == SOFTRELU:
            _bwd_span(dy, x, y, dx, lo, hi, SOFTRELU, slope, add)
        elif act == SOFTSIGN:
            _bwd_span(dy, x, y, dx, lo, hi, SOFTSIGN, slope, add)
        elif act == LEAKY:
            _bwd_span(dy, x, y, dx, lo, hi, LEAKY, slope, add)
        elif act == ELU:
            _bwd_span(dy, x, y, dx, lo, hi, ELU, slope, add)
        elif act == SELU:
            _bwd_span(dy, x, y, dx, lo, hi, SELU, slope, add)
        else:
            _bwd_span(dy, x, y, dx, lo, hi, GELU, slope, add)


@parallel_kernel(nogil=True, cache=True)
def prelu_fwd_cpu(x, gamma, out, req):
    """out = x > 0 ? x : gamma[c] * x over (outer, C, inner); gamma has C entries or 1 (shared)."""
    outer, nc, inner = x.shape
    if req == REQ_NULL:
        return
    for r in numba.prange(outer * nc):
        o, c = r // nc, r % nc
        g = gamma[c] if gamma.size > 1 else gamma[0]
        for i in range(inner):
            t = x[o, c, i]
            out[o, c, i] = assign(out[o, c, i], t if t > 0 else t * g, req)


@parallel_kernel(nogil=True, cache=True)
def prelu_bwd_cpu(dy, x, gamma, dx, dgamma, req_x, req_gamma):
    """dx = dy * (x > 0 ? 1 : gamma[c]);  dgamma[c] = sum of dy * x over channel c's elements with x <= 0
    (over every element when gamma is shared)."""
    outer, nc, inner = x.shape
    if req_x != REQ_NULL:
        for r in numba.prange(outer * nc):
            o, c = r // nc, r % nc
            g = gamma[c] if gamma.size > 1 else gamma[0]
            for i in range(inner):
                d = dy[o, c, i] if x[o, c, i] > 0 else dy[o, c, i] * g
                dx[o, c, i] = assign(dx[o, c, i], d, req_x)
    if req_gamma == REQ_NULL:
        return
    sums = np.zeros(nc)
    for c in numba.prange(nc):
        s = 0.0
        for o in range(outer):
            for i in range(inner):
                if not x[o, c, i] > 0:
                    s += dy[o, c, i] * x[o, c, i]
        sums[c] = s
    if dgamma.size == 1:
        dgamma[0] = assign(dgamma[0], sums.sum(), req_gamma)
    else:
        for c in range(nc):
            dgamma[c] = assign(dgamma[c], sums[c], req_gamma)


# ---------------------------------------------------------------- GPU drivers
def _act_fwd_kernel(x, out, act, slope, req):
    # out[i] = f(x[i]) over flat arrays, grid-stride.
    i = cuda.grid(1)
    while i < x.size:
        out[i] = assign(out[i], act_value(x[i], act, slope), req)
        i += cuda.gridsize(1)


def _act_bwd_kernel(dy, x, y, dx, act, slope, req):
    # dx[i] = dy[i] * f'(x[i], y[i]) over flat arrays, grid-stride.
    i = cuda.grid(1)
    while i < dy.size:
        dx[i] = assign(dx[i], dy[i] * act_grad(x[i], y[i], act, slope), req)
        i += cuda.gridsize(1)


def _prelu_fwd_kernel(x, gamma, out, req):
    # x, out: (outer * C, inner) rows; y threads walk rows, x threads walk a row (no per-element division).
    rows, inner = x.shape
    r = cuda.blockIdx.x * cuda.blockDim.y + cuda.threadIdx.y
    while r < rows:
        g = gamma[r % gamma.size]  # row o * C + c: channel c, or the one shared slope
        for i in range(cuda.threadIdx.x, inner, cuda.blockDim.x):
            t = x[r, i]
            out[r, i] = assign(out[r, i], t if t > 0 else t * g, req)
        r += cuda.gridDim.x * cuda.blockDim.y


def _prelu_dx_kernel(dy, x, gamma, dx, req):
    # dx = dy * (x > 0 ? 1 : gamma[c]) over (outer * C, inner) rows, as _prelu_fwd_kernel.
    rows, inner = x.shape
    r = cuda.blockIdx.x * cuda.blockDim.y + cuda.threadIdx.y
    while r < rows:
        g = gamma[r % gamma.size]
        for i in range(cuda.threadIdx.x, inner, cuda.blockDim.x):
            d = dy[r, i] if x[r, i] > 0 else dy[r, i] * g
            dx[r, i] = assign(dx[r, i], d, req)
        r += cuda.gridDim.x * cuda.blockDim.y


def _prelu_dgamma_kernel(dy, x, dgamma, nc, req):
    # Block b sums dgamma[b]: rows o * C + b of the (outer * C, inner) view, or every row when gamma is shared.
    rows, inner = x.shape
    acc = cuda.shared.array(256, numba.float64)
    tx, ty, b = cuda.threadIdx.x, cuda.threadIdx.y, cuda.blockIdx.x
    tid, nt = ty * cuda.blockDim.x + tx, cuda.blockDim.x * cuda.blockDim.y
    step = 1 if dgamma.size == 1 else nc
    s = 0.0
    for r in range(ty * step + (0 if dgamma.size == 1 else b), rows, cuda.blockDim.y * step):
        for i in range(tx, inner, cuda.blockDim.x):
            if not x[r, i] > 0:
                s += dy[r, i] * x[r, i]
    block_sum(acc, s, tid, nt)
    if tid == 0:
        dgamma[b] = assign(dgamma[b], acc[0], req)


act_fwd_kernel = cuda.jit(_act_fwd_kernel)
act_bwd_kernel = cuda.jit(_act_bwd_kernel)
prelu_fwd_kernel = cuda.jit(_prelu_fwd_kernel)
prelu_dx_kernel = cuda.jit(_prelu_dx_kernel)
prelu_dgamma_kernel = cuda.jit(_prelu_dgamma_kernel)


def act_fwd_gpu(x, out, act, slope, req, stream=0):
    """Same contract as act_fwd_cpu, on device arrays."""
    if req == REQ_NULL or x.size == 0:
        return
    blocks, threads = grid_1d(x.size)
    act_fwd_kernel[blocks, threads, stream](x, out, act, float(slope), req)


def act_bwd_gpu(dy, x, y, dx, act, slope, req, stream=0):
    """Same contract as act_bwd_cpu, on device arrays."""
    if req == REQ_NULL or dy.size == 0:
        return
    blocks, threads = grid_1d(dy.size)
    act_bwd_kernel[blocks, threads, stream](dy, x, y, dx, act, float(slope), req)


def prelu_fwd_gpu(x, gamma, out, req, stream=0):
    """Same contract as prelu_fwd_cpu, on device arrays."""
    outer, nc, inner = x.shape
    if req == REQ_NULL or x.size == 0:
        return
    blocks, threads = rows_launch(outer * nc, inner)
    prelu_fwd_kernel[blocks, threads, stream](x.reshape(outer * nc, inner), gamma, out.reshape(outer * nc, inner),
                                              req)


def prelu_bwd_gpu(dy, x, gamma, dx, dgamma, req_x, req_gamma, stream=0):
    """Same contract as prelu_bwd_cpu, on device arrays."""
    outer, nc, inner = x.shape
    if x.size == 0:
        return
    rows = (outer * nc, inner)
    if req_x != REQ_NULL:
        blocks, threads = rows_launch(*rows)
        prelu_dx_kernel[blocks, threads, stream](dy.reshape(*rows), x.reshape(*rows), gamma, dx.reshape(*rows), req_x)
    if req_gamma != REQ_NULL:
        _, threads = rows_launch(outer * nc if dgamma.size == 1 else outer, inner)
        prelu_dgamma_kernel[dgamma.size, threads, stream](dy.reshape(*rows), x.reshape(*rows), dgamma, nc, req_gamma)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _v, _a = f"{_t}[::1]", f"{_t}[:, ::1]"
    PTX_CHECKS += [
        (_act_fwd_kernel, f"void({_v}, {_v}, int64, float64, int64)"),
        (_act_bwd_kernel, f"void({_v}, {_v}, {_v}, {_v}, int64, float64, int64)"),
        (_prelu_fwd_kernel, f"void({_a}, {_v}, {_a}, int64)"),
        (_prelu_dx_kernel, f"void({_a}, {_a}, {_v}, {_a}, int64)"),
        (_prelu_dgamma_kernel, f"void({_a}, {_a}, {_v}, int64, int64)"),
    ]
