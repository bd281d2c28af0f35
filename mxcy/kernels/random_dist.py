"""Random samplers on Philox4x32-10 (kernels.philox), CPU and CUDA: the same numbers on both devices from the same
(seed, call) key. Outputs are flat, C-contiguous, float32/float64 (integers for randint and multinomial indices).

Two stream layouts (kernels.philox describes the counter):
- packed: position b's four words serve consecutive outputs, four 32-bit draws (float32 uniforms, Dropout's keep
  test) or two 64-bit draws (float64 uniforms, randint); no float multiply-add feeds the value, so a GPU's fused
  multiply-add cannot round it differently: these are bit-identical across devices.
- per element: output i owns position i and draws blocks 0, 1, ... of it (normal, gamma, exponential, Poisson,
  negative binomials, per-element uniforms, multinomial). Transcendentals (log, cos, lgamma) may differ in the
  last bit between devices, so only the distribution is the same there.
"""
import math

import numba
import numpy as np
from numba import cuda

from .common import REQ_ADD, REQ_NULL, parallel_kernel
from .launch import dual, grid_1d
from .philox import DRAWS, below_bound, block, open_unit32, unit24, unit53

UNIFORM, NORMAL, GAMMA, EXPONENTIAL, POISSON, NEG_BINOMIAL, GEN_NEG_BINOMIAL = range(7)
KINDS = {"uniform": UNIFORM, "normal": NORMAL, "gamma": GAMMA, "exponential": EXPONENTIAL, "poisson": POISSON,
         "negative_binomial": NEG_BINOMIAL, "generalized_negative_binomial": GEN_NEG_BINOMIAL}
POISSON_MAX = 1e18  # larger rates give NaN: such counts are not meaningful in floats
_POISSON_BASE = DRAWS // 2  # a gamma-Poisson mixture draws its gamma from blocks below, its Poisson from above
_LIMIT = DRAWS // 2 - 1  # rejection rounds before giving up with NaN (acceptance is > 0.85 per round)
_INVERSION_MAX = 12.0  # Poisson rates below it are sampled by inversion, above by PTRS
_HALF_ULP53 = 2.0 ** -54


# ---------------------------------------------------------------- scalar helpers (CPU and CUDA)
@numba.njit(inline="always", nogil=True, cache=True)
def valid(kind, a, b):
    """Whether parameters (a, b) are in range for distribution `kind` (b unused by one-parameter kinds)."""
    if kind == UNIFORM:
        return b >= a
    if kind == NORMAL:
        return b >= 0
    if kind == GAMMA:
        return a >= 0 and b >= 0
    if kind == EXPONENTIAL:
        return a > 0
    if kind == POISSON:
        return a >= 0
    if kind == NEG_BINOMIAL:
        return a >= 0 and b > 0 and b <= 1
    return a >= 0 and b >= 0


@numba.njit(inline="always", nogil=True, cache=True)
def below(high, low, single):
    """The largest float32 (single) or float64 below `high` (towards `low`), as a float64."""
    if single:
        h = np.float32(high)
        return np.float64(h) if h < high else np.float64(math.nextafter(h, np.float32(low)))
    return math.nextafter(high, low)


@numba.njit(inline="always", nogil=True, cache=True)
def uniform_value(u, low, high, top):
    """low + (high - low) * u for u in [0, 1), at most `top` (the output type's largest value below high). The min
    separates the multiply from the add, which a GPU would otherwise fuse into one differently rounded fma."""
    span = high - low
    v = low + min(span * u, span)
    return min(v, top) if span > 0 else v


@numba.njit(inline="always", nogil=True, cache=True)
def box_muller(u_open, u):
    """A standard normal from u_open in (0, 1] and u in [0, 1)."""
    return math.sqrt(-2.0 * math.log(u_open)) * math.cos(2.0 * math.pi * u)


@numba.njit(inline="always", nogil=True, cache=True)
def standard_gamma(seed, call, pos, a, u_boost):
    """Gamma(a, 1) by Marsaglia and Tsang's squeeze (2000), boosted by u_boost**(1/a) for a < 1 (u_boost in
    (0, 1), from draw 0); draws 1 onwards."""
    if a <= 0:
        return 0.0
    boost = 1.0
    if a < 1:
        boost = u_boost ** (1.0 / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    for draw in range(1, _LIMIT):
        w0, w1, w2, _ = block(seed, call, pos, draw)
        x = box_muller(open_unit32(w0), unit24(w1))
        v = 1.0 + c * x
        if v <= 0:
            continue
        v = v * v * v
        if math.log(open_unit32(w2)) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * boost
    return math.nan


@numba.njit(inline="always", nogil=True, cache=True)
def poisson(seed, call, pos, lam):
    """Poisson(lam): inversion for small rates, Hormann's PTRS transformed rejection (1993) for large ones;
    draws from _POISSON_BASE onwards. NaN for a rate out of range."""
    if not (lam >= 0 and lam <= POISSON_MAX):
        return math.nan
    if lam < _INVERSION_MAX:
        w0, w1, _, _ = block(seed, call, pos, _POISSON_BASE)
        u = unit53(w0, w1)
        p = math.exp(-lam)
        cdf = p
        k = 0.0
        while u > cdf and p > 0:
            k += 1.0
            p *= lam / k
            cdf += p
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    for draw in range(_POISSON_BASE, _POISSON_BASE + _LIMIT):
        w0, w1, w2, w3 = block(seed, call, pos, draw)
        u = unit53(w0, w1) - 0.5
        v = unit53(w2, w3) + _HALF_ULP53
        us = 0.5 - abs(u)
        k = float(math.floor((2.0 * a / us + b) * u + lam + 0.43))
        if us >= 0.07 and v <= v_r:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1):
            return k
    return math.nan


@numba.njit(inline="always", nogil=True, cache=True)
def sample(kind, seed, call, pos, a, b, single):
    """One draw of distribution `kind` with parameters (a, b) for output position `pos`; NaN when they are out of
    range. single: the output is float32 (or narrower), which bounds a uniform's largest value."""
    if not valid(kind, a, b):
        return math.nan
    # Block 0 serves the one-block samplers and gamma's boost (one inlined Philox instead of several).
    w0, w1, w2, w3 = block(seed, call, pos, 0)
    if kind == UNIFORM:
        return uniform_value(unit53(w0, w1), a, b, below(b, a, single))
    if kind == NORMAL:
        return a + b * box_muller(unit53(w0, w1) + _HALF_ULP53, unit53(w2, w3))
    if kind == EXPONENTIAL:
        return -math.log1p(-unit53(w0, w1)) / a
    # Gamma and the Poisson family, written so that each sampler is inlined once: the negative binomials are
    # gamma-Poisson mixtures (also defined for k == 0: always 0), alpha == 0 is a plain Poisson.
    plain_poisson = kind == POISSON or (kind == GEN_NEG_BINOMIAL and b == 0)
    g = 0.0
    if not plain_poisson:
        shape = a if kind != GEN_NEG_BINOMIAL else 1.0 / b
        g = standard_gamma(seed, call, pos, shape, unit53(w0, w1) + _HALF_ULP53)
    if kind == GAMMA:
        return g * b
    if plain_poisson:
        return poisson(seed, call, pos, a)
    return poisson(seed, call, pos, g * ((1.0 - b) / b) if kind == NEG_BINOMIAL else g * b * a)


# ---------------------------------------------------------------- array helpers (dual: CPU and CUDA)
def _sample_one(kind, out, i, a_arr, b_arr, per, a, b, seed, call, single):
    """out[i] = a draw with parameters a_arr[i // per], b_arr[i // per], or the scalars a, b when a_arr is empty."""
    if a_arr.size:
        a = a_arr[i // per]
        b = b_arr[i // per] if b_arr.size else b
    out[i] = sample(kind, seed, call, i, a, b, single)


def _uniform_block(out, g, wide, low, high, top, seed, call):
    """Position g of the packed uniform stream: out[4g:4g+4] (float32) or out[2g:2g+2] (wide: float64)."""
    w = block(seed, call, g, 0)
    if wide:
        for j in range(2):
            if 2 * g + j < out.size:
                out[2 * g + j] = uniform_value(unit53(w[2 * j], w[2 * j + 1]), low, high, top)
    else:
        for j in range(4):
            if 4 * g + j < out.size:
                out[4 * g + j] = uniform_value(unit24(w[j]), low, high, top)


def _randint_block(out, g, low, span, seed, call):
    """Position g of the packed stream: out[2g:2g+2] = low + (64 random bits mod span), span = high - low as uint64
    (the remainder's bias is below span / 2**64)."""
    w = block(seed, call, g, 0)
    for j in range(2):
        if 2 * g + j < out.size:
            out[2 * g + j] = below_bound(w[2 * j], w[2 * j + 1], low, span)


def _dropout_group(x, out, mask, g, shape, draw_strides, threshold, scale, seed, call):
    """Elements 4g..4g+3 of Dropout: keep where the packed stream's word at the element's draw position (its index
    in data's shape with the shared axes' strides 0) is below threshold; mask = keep * scale (p = 1: 0 * inf = NaN,
    as MXNet), out = x * mask, rounded to the arrays' type first."""
    cached = -1
    w = (np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0))
    for i in range(4 * g, min(4 * g + 4, x.size)):
        d = 0
        rest = i
        for k in range(len(shape) - 1, -1, -1):
            d += (rest % shape[k]) * draw_strides[k]
            rest //= shape[k]
        if d // 4 != cached:
            cached = d // 4
            w = block(seed, call, cached, 0)
        mask[i] = (1.0 if w[d % 4] < threshold else 0.0) * scale
        out[i] = x[i] * mask[i]  # in the arrays' type on every device (the simulator's NumPy would keep float32)


def _multinomial_row_sample(probs, idx, logp, r, s, m, seed, call, get_prob):
    """Sample s of row r: the first category whose running probability sum exceeds u * (row sum); a category of
    probability 0 is never picked. Returns False when the row is not non-negative with a finite positive sum."""
    k = probs.shape[1]
    total = 0.0
    last = 0
    for j in range(k):
        if not probs[r, j] >= 0:
            return False
        total += probs[r, j]
        if probs[r, j] > 0:
            last = j
    if not (total > 0 and total < math.inf):
        return False
    w0, w1, _, _ = block(seed, call, r * m + s, 0)
    target = unit53(w0, w1) * total
    pick = last
    running = 0.0
    for j in range(last):
        running += probs[r, j]
        if target < running:
            pick = j
            break
    idx[r, s] = pick
    if get_prob:
        logp[r, s] = math.log(probs[r, pick])
    return True


def _multinomial_grad_row(ograd, probs, idx, grad, r, req):
    """grad[r, :] (req)= sum over samples s of row r of ograd[r, s] / probs[r, idx[r, s]] at idx[r, s]."""
    if req != REQ_ADD:
        for j in range(grad.shape[1]):
            grad[r, j] = 0
    for s in range(idx.shape[1]):
        c = int(idx[r, s])
        grad[r, c] += ograd[r, s] / probs[r, c]


def _fisher_yates(perm, seed, call):
    """perm = a uniformly random permutation of 0..n-1: step i swaps i with a draw in [0, i] (64 random bits mod
    i + 1), the draws taken from position i // 2 of the packed stream. Sequential by nature."""
    n = perm.size
    for i in range(n):
        perm[i] = i
    for i in range(n - 1, 0, -1):
        w = block(seed, call, i // 2, 0)
        j = below_bound(w[2 * (i % 2)], w[2 * (i % 2) + 1], 0, i + 1)
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t


sample_one, sample_one_dev = dual(_sample_one)
uniform_block, uniform_block_dev = dual(_uniform_block)
randint_block, randint_block_dev = dual(_randint_block)
dropout_group, dropout_group_dev = dual(_dropout_group)
multinomial_row_sample, multinomial_row_sample_dev = dual(_multinomial_row_sample)
multinomial_grad_row, multinomial_grad_row_dev = dual(_multinomial_grad_row)
fisher_yates, fisher_yates_dev = dual(_fisher_yates)


@numba.njit(inline="always", nogil=True, cache=True)
def _blocks(n, per_block):
    return (n + per_block - 1) // per_block


# ---------------------------------------------------------------- CPU drivers
@parallel_kernel(nogil=True, cache=True)
def sample_cpu(kind, out, a_arr, b_arr, per, a, b, seed, call, single):
    """out (flat) = draws of `kind` with per-element parameters (a_arr, b_arr: one per `per` outputs; b_arr may be
    empty for one-parameter kinds) or scalar ones (a_arr empty)."""
    for i in numba.prange(out.size):
        sample_one(kind, out, i, a_arr, b_arr, per, a, b, seed, call, single)


@parallel_kernel(nogil=True, cache=True)
def uniform_cpu(out, wide, low, high, top, seed, call):
    """out (flat float32, or float64 when wide) = the packed uniform stream on [low, high), at most top."""
    n = (out.size + 1) // 2 if wide else (out.size + 3) // 4
    for g in numba.prange(n):
        uniform_block(out, g, wide, low, high, top, seed, call)


@parallel_kernel(nogil=True, cache=True)
def randint_cpu(out, low, span, seed, call):
    """out (flat int32/int64) = integers in [low, low + span)."""
    for g in numba.prange(_blocks(out.size, 2)):
        randint_block(out, g, low, span, seed, call)


@parallel_kernel(nogil=True, cache=True)
def dropout_cpu(x, out, mask, shape, draw_strides, threshold, scale, seed, call):
    """Dropout's out and mask (flat, x's size and type) from x."""
    for g in numba.prange(_blocks(x.size, 4)):
        dropout_group(x, out, mask, g, shape, draw_strides, threshold, scale, seed, call)


@parallel_kernel(nogil=True, cache=True)
def multinomial_cpu(probs, idx, logp, seed, call, get_prob):
    """idx (rows, m) = category draws from the rows of probs (rows, k); logp = log(probs) at them when get_prob.
    Returns False when some row is not a valid distribution."""
    rows, m = idx.shape
    ok = np.ones(rows, np.bool_)
    for r in numba.prange(rows):
        for s in range(m):
            if not multinomial_row_sample(probs, idx, logp, r, s, m, seed, call, get_prob):
                ok[r] = False
                break
    return ok.all()


@parallel_kernel(nogil=True, cache=True)
def multinomial_grad_cpu(ograd, probs, idx, grad, req):
    """The gradient of multinomial's log-probabilities with respect to probs (rows, k)."""
    if req == REQ_NULL:
        return
    for r in numba.prange(probs.shape[0]):
        multinomial_grad_row(ograd, probs, idx, grad, r, req)


@numba.njit(nogil=True, cache=True)
def permutation_cpu(perm, seed, call):
    fisher_yates(perm, seed, call)


# ---------------------------------------------------------------- GPU drivers
@cuda.jit
def _sample_kernel(kind, out, a_arr, b_arr, per, a, b, seed, call, single):
    i = cuda.grid(1)
    while i < out.size:
        sample_one_dev(kind, out, i, a_arr, b_arr, per, a, b, seed, call, single)
        i += cuda.gridsize(1)


@cuda.jit
def _uniform_kernel(out, wide, low, high, top, seed, call):
    g = cuda.grid(1)
    n = _blocks(out.size, 2 if wide else 4)
    while g < n:
        uniform_block_dev(out, g, wide, low, high, top, seed, call)
        g += cuda.gridsize(1)


@cuda.jit
def _randint_kernel(out, low, span, seed, call):
    g = cuda.grid(1)
    while g < _blocks(out.size, 2):
        randint_block_dev(out, g, low, span, seed, call)
        g += cuda.gridsize(1)


@cuda.jit
def _dropout_kernel(x, out, mask, shape, draw_strides, threshold, scale, seed, call):
    g = cuda.grid(1)
    while g < _blocks(x.size, 4):
        dropout_group_dev(x, out, mask, g, shape, draw_strides, threshold, scale, seed, call)
        g += cuda.gridsize(1)


@cuda.jit
def _multinomial_kernel(probs, idx, logp, bad, seed, call, get_prob):
    rows, m = idx.shape
    t = cuda.grid(1)
    while t < rows * m:
        if not multinomial_row_sample_dev(probs, idx, logp, t // m, t % m, m, seed, call, get_prob):
            bad[0] = 1
        t += cuda.gridsize(1)


@cuda.jit
def _multinomial_grad_kernel(ograd, probs, idx, grad, req):
    r = cuda.grid(1)
    while r < probs.shape[0]:
        multinomial_grad_row_dev(ograd, probs, idx, grad, r, req)
        r += cuda.gridsize(1)


@cuda.jit
def _permutation_kernel(perm, seed, call):
    if cuda.grid(1) == 0:
        fisher_yates_dev(perm, seed, call)


def sample_gpu(kind, out, a_arr, b_arr, per, a, b, seed, call, single, stream=0):
    """Same contract as sample_cpu on device arrays."""
    if out.size:
        _sample_kernel[grid_1d(out.size) + (stream,)](kind, out, a_arr, b_arr, per, a, b, seed, call, single)


def uniform_gpu(out, wide, low, high, top, seed, call, stream=0):
    if out.size:
        _uniform_kernel[grid_1d(_blocks(out.size, 2 if wide else 4)) + (stream,)](out, wide, low, high, top, seed,
                                                                                  call)


def randint_gpu(out, low, span, seed, call, stream=0):
    if out.size:
        _randint_kernel[grid_1d(_blocks(out.size, 2)) + (stream,)](out, low, span, seed, call)


def dropout_gpu(x, out, mask, shape, draw_strides, threshold, scale, seed, call, stream=0):
    if x.size:
        _dropout_kernel[grid_1d(_blocks(x.size, 4)) + (stream,)](x, out, mask, shape, draw_strides, threshold,
                                                                 scale, seed, call)


def multinomial_gpu(probs, idx, logp, bad, seed, call, get_prob, stream=0):
    """Same draws as multinomial_cpu; bad (int32 (1,), zeroed by the caller) is set to 1 for an invalid row."""
    if idx.size:
        _multinomial_kernel[grid_1d(idx.size) + (stream,)](probs, idx, logp, bad, seed, call, get_prob)


def multinomial_grad_gpu(ograd, probs, idx, grad, req, stream=0):
    if req != REQ_NULL and probs.shape[0]:
        _multinomial_grad_kernel[grid_1d(probs.shape[0]) + (stream,)](ograd, probs, idx, grad, req)


def permutation_gpu(perm, seed, call, stream=0):
    """perm = permutation_cpu's permutation, drawn by one thread (Fisher-Yates is sequential)."""
    _permutation_kernel[1, 1, stream](perm, seed, call)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _v = f"{_t}[::1]"
    PTX_CHECKS += [
        (_sample_kernel.py_func, f"void(int64, {_v}, float64[::1], float64[::1], int64, float64, float64, uint64, "
                                 "uint64, boolean)"),
        (_uniform_kernel.py_func, f"void({_v}, boolean, float64, float64, float64, uint64, uint64)"),
        (_dropout_kernel.py_func, f"void({_v}, {_v}, {_v}, UniTuple(int64, 2), UniTuple(int64, 2), uint64, "
                                  f"float64, uint64, uint64)"),
        (_multinomial_kernel.py_func, f"void({_t}[:, ::1], int32[:, ::1], {_t}[:, ::1], int32[::1], uint64, uint64, "
                                      "boolean)"),
        (_multinomial_grad_kernel.py_func, f"void({_t}[:, ::1], {_t}[:, ::1], int32[:, ::1], {_t}[:, ::1], int64)"),
    ]
PTX_CHECKS += [(_randint_kernel.py_func, f"void({_t}[::1], int64, uint64, uint64, uint64)")
               for _t in ("int32", "int64")]
PTX_CHECKS.append((_permutation_kernel.py_func, "void(int64[::1], uint64, uint64)"))
