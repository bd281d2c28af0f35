"""Connectionist temporal classification, CPU and CUDA: per-sequence negative log-likelihood and its gradient with
respect to the unnormalised activations, by the forward-backward recursions in log space (Graves et al. 2006).

data (T, N, C) activations; labels (N, L) int64 with row n's first label_len[n] entries in use, each a class;
data_len (N,) the time steps of each sequence. Callers validate lengths and label values (kernels trust
them). A sequence that no alignment fits (fewer steps than labels plus repeated neighbours) costs 0 and gets a
zero gradient, as MXNet 1.9.1 reports it; so do time steps past a sequence's length.
"""
import math

import numba
import numpy as np
from numba import cuda

from .common import REQ_NULL, REQ_WRITE, assign, parallel_kernel
from .launch import dual, grid_1d
from .softmax import softmax_fwd_cpu, softmax_fwd_gpu

_NO_LENGTH = np.empty((0, 0), np.int64)


@numba.njit(inline="always", nogil=True)
def log_plus(a, b):
    """log(exp(a) + exp(b)) without overflow; -inf is the log of zero."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def _symbol(labels, n, s, blank):
    """The class of position s of row n's label sequence with blanks around and between its labels."""
    return blank if s % 2 == 0 else labels[n, s // 2]


def _skips_to(labels, n, s, blank):
    """Whether a forward step may jump from position s - 2 into s: s is a label other than the blank that differs
    from the label before it."""
    return s % 2 == 1 and s >= 3 and labels[n, s // 2] != labels[n, s // 2 - 1] and labels[n, s // 2] != blank


def _skips_from(labels, n, s, positions, blank):
    """Whether a backward step may jump from position s to s + 2: s is a label other than the blank that differs
    from the label after it. For labels without the blank both rules are the standard CTC jump; a label equal to
    the blank (which MXNet 1.9.1 accepts) is, as in MXNet, not jumped into forward nor out of backward."""
    return (s % 2 == 1 and s + 2 < positions and labels[n, s // 2] != labels[n, s // 2 + 1]
            and labels[n, s // 2] != blank)


symbol, symbol_dev = dual(_symbol)
skips_to, skips_to_dev = dual(_skips_to)
skips_from, skips_from_dev = dual(_skips_from)


def _make_sequence(symbol, skips_to, skips_from):
    def sequence(lp, labels, label_len, data_len, blank, alpha, beta, log_z, cost, n, req):
        """Sequence n: alpha[n, t, s] = log P(prefix to position s at step t) + log P(rest from s at t), which
        counts step t's emission twice (the gradient divides it out); log_z[n] the log-likelihood (-inf when no
        alignment fits); cost[n] (req)= its negative. beta (N, 2, S) holds two steps of the backward pass."""
        steps, n_labels = data_len[n], label_len[n]
        positions = 2 * n_labels + 1
        repeats = 0
        for i in range(1, n_labels):
            if labels[n, i] == labels[n, i - 1]:
                repeats += 1
        if steps == 0 or n_labels + repeats > steps:
            log_z[n] = -math.inf
            if req != REQ_NULL:
                cost[n] = assign(cost[n], 0.0, req)
            return
        for s in range(positions):
            alpha[n, 0, s] = -math.inf
        alpha[n, 0, 0] = lp[0, n, blank]
        if positions > 1:
            alpha[n, 0, 1] = lp[0, n, labels[n, 0]]
        for t in range(1, steps):
            for s in range(positions):
                a = alpha[n, t - 1, s]
                if s >= 1:
                    a = log_plus(a, alpha[n, t - 1, s - 1])
                if skips_to(labels, n, s, blank):
                    a = log_plus(a, alpha[n, t - 1, s - 2])
                alpha[n, t, s] = a + lp[t, n, symbol(labels, n, s, blank)]
        last = steps - 1
        z = alpha[n, last, positions - 1]
        if positions > 1:
            z = log_plus(z, alpha[n, last, positions - 2])
        row = last % 2
        for s in range(positions):
            beta[n, row, s] = -math.inf
        beta[n, row, positions - 1] = lp[last, n, blank]
        if positions > 1:
            beta[n, row, positions - 2] = lp[last, n, labels[n, n_labels - 1]]
        for s in range(positions):
            alpha[n, last, s] += beta[n, row, s]
        for t in range(last - 1, -1, -1):
            row, prev = t % 2, (t + 1) % 2
            for s in range(positions):
                b = beta[n, prev, s]
                if s + 1 < positions:
                    b = log_plus(b, beta[n, prev, s + 1])
                if skips_from(labels, n, s, positions, blank):
                    b = log_plus(b, beta[n, prev, s + 2])
                beta[n, row, s] = b + lp[t, n, symbol(labels, n, s, blank)]
                alpha[n, t, s] += beta[n, row, s]
        log_z[n] = z
        if req != REQ_NULL:
            cost[n] = assign(cost[n], -z, req)
    return sequence


def _make_grad_row(symbol):
    def grad_row(lp, labels, label_len, data_len, blank, alpha, log_z, grad, t, n, req):
        """grad[t, n, k] (req)= softmax_k - P(alignments through class k at step t) / P(label): the gradient of
        the cost w.r.t. activation k; 0 past the sequence's length or when no alignment fits."""
        live = t < data_len[n] and log_z[n] != -math.inf
        for k in range(lp.shape[2]):
            grad[t, n, k] = assign(grad[t, n, k], math.exp(lp[t, n, k]) if live else 0.0, req)
        if not live:
            return
        z = log_z[n]
        for s in range(2 * label_len[n] + 1):
            through = alpha[n, t, s]
            if through != -math.inf:
                k = symbol(labels, n, s, blank)
                grad[t, n, k] -= math.exp(through - lp[t, n, k] - z)
    return grad_row


sequence = numba.njit(inline="always", nogil=True)(_make_sequence(symbol, skips_to, skips_from))
sequence_dev = cuda.jit(device=True, inline="always")(_make_sequence(symbol_dev, skips_to_dev, skips_from_dev))
grad_row = numba.njit(inline="always", nogil=True)(_make_grad_row(symbol))
grad_row_dev = cuda.jit(device=True, inline="always")(_make_grad_row(symbol_dev))


def _scratch(data, labels, new):
    """(log-probabilities like data, alpha (N, T, S), two-step beta (N, 2, S), log_z (N,)) from allocator `new`."""
    steps, batch, _ = data.shape
    positions = 2 * labels.shape[1] + 1
    return (new(data.shape, data.dtype), new((batch, steps, positions), data.dtype),
            new((batch, 2, positions), data.dtype), new((batch,), np.float64))


# ---------------------------------------------------------------- CPU drivers
@parallel_kernel(nogil=True, cache=True)
def _sequences_cpu(lp, labels, label_len, data_len, blank, alpha, beta, log_z, cost, req):
    for n in numba.prange(lp.shape[1]):
        sequence(lp, labels, label_len, data_len, blank, alpha, beta, log_z, cost, n, req)


@parallel_kernel(nogil=True, cache=True)
def _grads_cpu(lp, labels, label_len, data_len, blank, alpha, log_z, grad, req):
    steps, batch, _ = lp.shape
    for r in numba.prange(steps * batch):
        grad_row(lp, labels, label_len, data_len, blank, alpha, log_z, grad, r // batch, r % batch, req)


def ctc_cpu(data, labels, label_len, data_len, blank, cost, grad, req_cost, req_grad):
    """cost (N,) (req_cost)= the negative log-likelihood of each sequence's labels; grad (T, N, C) (req_grad)= its
    gradient w.r.t. data (either request may be REQ_NULL). data, cost and grad share a float32/float64 type; all
    arrays C-contiguous."""
    steps, batch, classes = data.shape
    lp, alpha, beta, log_z = _scratch(data, labels, np.empty)
    if lp.size:
        softmax_fwd_cpu(data.reshape(steps * batch, classes, 1), lp.reshape(steps * batch, classes, 1),
                        _NO_LENGTH, 1.0, True, REQ_WRITE)
    _sequences_cpu(lp, labels, label_len, data_len, blank, alpha, beta, log_z, cost, req_cost)
    if req_grad != REQ_NULL:
        _grads_cpu(lp, labels, label_len, data_len, blank, alpha, log_z, grad, req_grad)


# ---------------------------------------------------------------- GPU drivers
def _sequences_kernel(lp, labels, label_len, data_len, blank, alpha, beta, log_z, cost, req):
    # One thread per sequence: the recursions are serial in time, and sequences are independent.
    n = cuda.grid(1)
    while n < lp.shape[1]:
        sequence_dev(lp, labels, label_len, data_len, blank, alpha, beta, log_z, cost, n, req)
        n += cuda.gridsize(1)


def _grads_kernel(lp, labels, label_len, data_len, blank, alpha, log_z, grad, req):
    # One thread per (step, sequence) row of the gradient.
    steps, batch, _ = lp.shape
    r = cuda.grid(1)
    while r < steps * batch:
        grad_row_dev(lp, labels, label_len, data_len, blank, alpha, log_z, grad, r // batch, r % batch, req)
        r += cuda.gridsize(1)


sequences_kernel = cuda.jit(_sequences_kernel)
grads_kernel = cuda.jit(_grads_kernel)


def ctc_gpu(data, labels, label_len, data_len, blank, cost, grad, req_cost, req_grad, stream=0):
    """Same contract as ctc_cpu, on device arrays."""
    steps, batch, classes = data.shape
    if batch == 0:
        return
    lp, alpha, beta, log_z = _scratch(data, labels, lambda shape, dtype: cuda.device_array(shape, dtype,
                                                                                          stream=stream))
    if lp.size:
        softmax_fwd_gpu(data.reshape(steps * batch, classes, 1), lp.reshape(steps * batch, classes, 1), None, 1.0,
                        True, REQ_WRITE, stream)
    blocks, threads = grid_1d(batch, 64)
    sequences_kernel[blocks, threads, stream](lp, labels, label_len, data_len, blank, alpha, beta, log_z, cost,
                                              req_cost)
    if steps and req_grad != REQ_NULL:
        blocks, threads = grid_1d(steps * batch)
        grads_kernel[blocks, threads, stream](lp, labels, label_len, data_len, blank, alpha, log_z, grad, req_grad)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a3, _v = f"{_t}[:, :, ::1]", "int64[::1]"
    _common = f"{_a3}, int64[:, ::1], {_v}, {_v}, int64, {_a3}"
    PTX_CHECKS += [
        (_sequences_kernel, f"void({_common}, {_a3}, float64[::1], {_t}[::1], int64)"),
        (_grads_kernel, f"void({_common}, float64[::1], {_a3}, int64)"),
    ]
