"""contrib.hawkesll's kernels, CPU and CUDA from one source: per sample (a loop item each), the walk over its events
that gives the log likelihood of K univariate Hawkes processes, their state at max_time and the log likelihood's
derivatives in (lda, alpha, beta) per mark. The walk carries d state / d beta along the events. Marks and valid
lengths arrive validated; sums in float64; arrays C-contiguous (N, K) / (N, T)."""
import math

import numba
import numpy as np
from numba import cuda, prange

from .common import REQ_NULL, assign, parallel_kernel
from .launch import dual


def _compensate(lda, alpha, n, c, d, ed, s, ds, g_mu, g_alpha, g_beta):
    """The integral of mark c's intensity over a gap d without its events: its log-likelihood term (returned) and
    derivatives (added to the gradient rows of sample n)."""
    g_mu[n, c] -= d
    g_alpha[n, c] -= s[n, c] * (1.0 - ed)
    g_beta[n, c] -= alpha[c] * (ds[n, c] * (1.0 - ed) + s[n, c] * d * ed)
    return -(lda[n, c] * d + alpha[c] * s[n, c] * (1.0 - ed))


_compensate_cpu, _compensate_dev = dual(_compensate)


def _walk_with(compensate):
    """The walk on one device's compilation of `_compensate`."""
    def walk(lda, alpha, beta, state, lags, marks, valid_length, max_time, n, s, ds, last, g_mu, g_alpha, g_beta):
        """Sample n: returns its log likelihood; s[n] ends as its state at max_time, g_* rows as its derivatives."""
        k = lda.shape[1]
        for c in range(k):
            s[n, c], ds[n, c], last[n, c] = 1.0 * state[n, c], 0.0, 0.0
            g_mu[n, c] = g_alpha[n, c] = g_beta[n, c] = 0.0
        ll, t = 0.0, 0.0
        for i in range(int(valid_length[n])):
            t += lags[n, i]
            c = int(marks[n, i])
            d = t - last[n, c]
            ed = math.exp(-beta[c] * d)
            intensity = lda[n, c] + alpha[c] * beta[c] * s[n, c] * ed
            ll += math.log(intensity)
            g_mu[n, c] += 1.0 / intensity
            g_alpha[n, c] += beta[c] * s[n, c] * ed / intensity
            g_beta[n, c] += alpha[c] * ed * (s[n, c] * (1.0 - beta[c] * d) + beta[c] * ds[n, c]) / intensity
            ll += compensate(lda, alpha, n, c, d, ed, s, ds, g_mu, g_alpha, g_beta)
            s[n, c], ds[n, c], last[n, c] = 1.0 + s[n, c] * ed, ed * (ds[n, c] - d * s[n, c]), t
        for c in range(k):
            d = max_time[n] - last[n, c]
            ed = math.exp(-beta[c] * d)
            ll += compensate(lda, alpha, n, c, d, ed, s, ds, g_mu, g_alpha, g_beta)
            s[n, c] *= ed
        return ll
    return walk


_walk_cpu = numba.njit(inline="always", nogil=True)(_walk_with(_compensate_cpu))
_walk_dev = cuda.jit(device=True, inline="always")(_walk_with(_compensate_dev))


def _store_sample(ll, s, n, out_ll, out_state, reqs):
    """Sample n's log likelihood and final state into the outputs, under their requests."""
    if reqs[0] != REQ_NULL:
        out_ll[n] = assign(out_ll[n], ll, reqs[0])
    if reqs[1] != REQ_NULL:
        for c in range(s.shape[1]):
            out_state[n, c] = assign(out_state[n, c], s[n, c], reqs[1])


def _mark_grads(g_mu, g_alpha, g_beta, ograd, c, d_lda, d_alpha, d_beta, reqs):
    """Mark c's gradients for head gradient ograd (N,): lda's per sample, alpha's and beta's summed over samples."""
    ga = gb = 0.0
    for n in range(g_mu.shape[0]):
        if reqs[0] != REQ_NULL:
            d_lda[n, c] = assign(d_lda[n, c], g_mu[n, c] * ograd[n], reqs[0])
        ga += g_alpha[n, c] * ograd[n]
        gb += g_beta[n, c] * ograd[n]
    if reqs[1] != REQ_NULL:
        d_alpha[c] = assign(d_alpha[c], ga, reqs[1])
    if reqs[2] != REQ_NULL:
        d_beta[c] = assign(d_beta[c], gb, reqs[2])


_store_sample_cpu, _store_sample_dev = dual(_store_sample)
_mark_grads_cpu, _mark_grads_dev = dual(_mark_grads)


@parallel_kernel(nogil=True, cache=True)
def _forward_cpu(lda, alpha, beta, state, lags, marks, valid_length, max_time, work, out_ll, out_state, reqs):
    s, ds, last, g_mu, g_alpha, g_beta = work[0], work[1], work[2], work[3], work[4], work[5]
    for n in prange(lda.shape[0]):
        ll = _walk_cpu(lda, alpha, beta, state, lags, marks, valid_length, max_time, n, s, ds, last, g_mu, g_alpha,
                       g_beta)
        _store_sample_cpu(ll, s, n, out_ll, out_state, reqs)


@parallel_kernel(nogil=True, cache=True)
def _backward_cpu(lda, alpha, beta, state, lags, marks, valid_length, max_time, work, ograd, d_lda, d_alpha,
                  d_beta, reqs):
    s, ds, last, g_mu, g_alpha, g_beta = work[0], work[1], work[2], work[3], work[4], work[5]
    for n in prange(lda.shape[0]):
        _walk_cpu(lda, alpha, beta, state, lags, marks, valid_length, max_time, n, s, ds, last, g_mu, g_alpha, g_beta)
    for c in prange(lda.shape[1]):
        _mark_grads_cpu(g_mu, g_alpha, g_beta, ograd, c, d_lda, d_alpha, d_beta, reqs)


def _forward_kernel(lda, alpha, beta, state, lags, marks, valid_length, max_time, work, out_ll, out_state, reqs):
    n = cuda.grid(1)
    if n < lda.shape[0]:
        ll = _walk_dev(lda, alpha, beta, state, lags, marks, valid_length, max_time, n, work[0], work[1], work[2],
                       work[3], work[4], work[5])
        _store_sample_dev(ll, work[0], n, out_ll, out_state, reqs)


def _walk_kernel(lda, alpha, beta, state, lags, marks, valid_length, max_time, work):
    n = cuda.grid(1)
    if n < lda.shape[0]:
        _walk_dev(lda, alpha, beta, state, lags, marks, valid_length, max_time, n, work[0], work[1], work[2], work[3],
                  work[4], work[5])


def _mark_grads_kernel(work, ograd, d_lda, d_alpha, d_beta, reqs):
    c = cuda.grid(1)
    if c < d_alpha.shape[0]:
        _mark_grads_dev(work[3], work[4], work[5], ograd, c, d_lda, d_alpha, d_beta, reqs)


forward_kernel = cuda.jit(_forward_kernel)
walk_kernel = cuda.jit(_walk_kernel)
mark_grads_kernel = cuda.jit(_mark_grads_kernel)


def _work(lda):
    """The walk's float64 workspace: state, its beta derivative, last event time, and the three derivative rows."""
    shape = (6,) + tuple(lda.shape)
    return np.empty(shape) if isinstance(lda, np.ndarray) else cuda.device_array(shape, np.float64)


def _blocks(n):
    return max(1, -(-n // 64)), 64


def forward_cpu(inputs, out_ll, out_state, reqs):
    """out_ll (N,), out_state (N, K) (reqs)= hawkesll of inputs (lda, alpha, beta, state, lags, marks, valid_length,
    max_time)."""
    _forward_cpu(*inputs, _work(inputs[0]), out_ll, out_state, tuple(reqs))


def backward_cpu(inputs, ograd, d_lda, d_alpha, d_beta, reqs):
    """d_lda (N, K), d_alpha (K,), d_beta (K,) (reqs)= the log likelihood's gradients for head gradient ograd (N,)."""
    _backward_cpu(*inputs, _work(inputs[0]), ograd, d_lda, d_alpha, d_beta, tuple(reqs))


def forward_gpu(inputs, out_ll, out_state, reqs, stream=0):
    """CUDA twin of forward_cpu: one thread per sample."""
    n = inputs[0].shape[0]
    if n:
        forward_kernel[_blocks(n) + (stream,)](*inputs, _work(inputs[0]), out_ll, out_state, tuple(reqs))


def backward_gpu(inputs, ograd, d_lda, d_alpha, d_beta, reqs, stream=0):
    """CUDA twin of backward_cpu: one thread per sample for the walks, then one per mark for the sums."""
    n, k = inputs[0].shape
    if n and k:
        work = _work(inputs[0])
        walk_kernel[_blocks(n) + (stream,)](*inputs, work)
        mark_grads_kernel[_blocks(k) + (stream,)](work, ograd, d_lda, d_alpha, d_beta, tuple(reqs))


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a1, _a2, _w, _r = f"{_t}[::1]", f"{_t}[:, ::1]", "float64[:, :, ::1]", "UniTuple(int64, {})"
    _ins = f"{_a2}, {_a1}, {_a1}, {_a2}, {_a2}, {_a2}, {_a1}, {_a1}"
    PTX_CHECKS += [(_forward_kernel, f"void({_ins}, {_w}, {_a1}, {_a2}, {_r.format(2)})"),
                   (_walk_kernel, f"void({_ins}, {_w})"),
                   (_mark_grads_kernel, f"void({_w}, {_a1}, {_a2}, {_a1}, {_a1}, {_r.format(3)})")]
