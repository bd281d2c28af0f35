"""CTC kernels against a brute-force float64 reference that enumerates every alignment of tiny sequences (cost and
gradient), CPU and simulated CUDA: repeats, empty labels, lengths, alignments that cannot fit, req add."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import ctc as K
from mxcy.kernels.common import REQ_ADD, REQ_WRITE

DEVICES = [False, pytest.param(True, marks=pytest.mark.cuda)]


def collapse(path, blank):
    """The label sequence an alignment stands for: repeats merged, then blanks dropped."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in merged if k != blank)


def brute_force(data, labels, label_len, data_len, blank):
    """(cost (N,), gradient (T, N, C)) in float64 by summing over every alignment of every sequence: the cost is
    -log sum_paths prod_t softmax_t[path_t], the gradient softmax - posterior occupancy of each class."""
    steps, batch, classes = data.shape
    z = data.astype(np.float64)
    probs = np.exp(z - z.max(axis=2, keepdims=True))
    probs /= probs.sum(axis=2, keepdims=True)
    cost, grad = np.zeros(batch), np.zeros(data.shape)
    for n in range(batch):
        t_n, target = int(data_len[n]), tuple(int(v) for v in labels[n, :label_len[n]])
        total, occupancy = 0.0, np.zeros((t_n, classes))
        for path in itertools.product(range(classes), repeat=t_n):
            if collapse(path, blank) == target:
                p = np.prod([probs[t, n, k] for t, k in enumerate(path)])
                total += p
                occupancy[np.arange(t_n), path] += p
        if total > 0 and t_n > 0:
            cost[n] = -np.log(total)
            grad[:t_n, n] = probs[:t_n, n] - occupancy / total
    return cost, grad


def run(gpu, data, labels, label_len, data_len, blank, cost, grad, req):
    """(cost, grad) from the kernel under `req`, over copies of cost and grad."""
    cost, grad = cost.copy(), grad.copy()
    args = (data, labels, label_len, data_len)
    if gpu:
        dev = [cuda.to_device(a) for a in args + (cost, grad)]
        K.ctc_gpu(*dev[:4], blank, dev[4], dev[5], req, req)
        return dev[4].copy_to_host(), dev[5].copy_to_host()
    K.ctc_cpu(*args, blank, cost, grad, req, req)
    return cost, grad


def draw(rng, steps, batch, classes, max_labels, blank):
    """Random activations, labels without the blank, label and data lengths (some too short to fit)."""
    data = rng.standard_normal((steps, batch, classes)) * 2
    alphabet = [k for k in range(classes) if k != blank]
    labels = rng.choice(alphabet, size=(batch, max_labels)).astype(np.int64)
    if rng.random() < 0.5:  # repeated neighbours need a blank between them
        labels[:, 1:] = np.where(rng.random((batch, max_labels - 1)) < 0.5, labels[:, :-1], labels[:, 1:])
    label_len = rng.integers(0, max_labels + 1, batch).astype(np.int64)
    data_len = rng.integers(0, steps + 1, batch).astype(np.int64)
    return data, labels, label_len, data_len


@pytest.mark.parametrize("gpu", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@settings(max_examples=10, deadline=None)
@given(steps=st.integers(1, 4), batch=st.integers(1, 3), classes=st.integers(2, 4), max_labels=st.integers(1, 3),
       first=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_against_brute_force(gpu, dtype, req, steps, batch, classes, max_labels, first, seed):
    rng = np.random.default_rng(seed)
    blank = 0 if first else classes - 1
    data, labels, label_len, data_len = draw(rng, steps, batch, classes, max_labels, blank)
    want_cost, want_grad = brute_force(data, labels, label_len, data_len, blank)
    prior = 3.0 if req == REQ_ADD else 0.0
    cost0, grad0 = np.full(batch, prior, dtype), np.full(data.shape, prior, dtype)
    cost, grad = run(gpu, data.astype(dtype), labels, label_len, data_len, blank, cost0, grad0, req)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(cost, want_cost + prior, rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(grad, want_grad + prior, rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("gpu", DEVICES)
def test_infeasible_costs_zero_with_zero_gradient(gpu):
    # Labels (1, 1, 1) need 5 steps (blanks between the repeats); 3 are given. An empty label fits anything.
    data = np.random.default_rng(1).standard_normal((3, 2, 3))
    labels = np.array([[1, 1, 1], [0, 0, 0]], np.int64)
    label_len, data_len = np.array([3, 0], np.int64), np.array([3, 3], np.int64)
    cost, grad = run(gpu, data, labels, label_len, data_len, 2, np.ones(2), np.ones(data.shape), REQ_WRITE)
    want_cost, want_grad = brute_force(data, labels, label_len, data_len, 2)
    assert cost[0] == 0 and not grad[:, 0].any()
    np.testing.assert_allclose(cost[1], want_cost[1], rtol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("gpu", DEVICES)
def test_long_sequence_matches_softmax_product(gpu):
    # One label over 200 steps: the likelihood (about e^-400) underflows float64 but not its log. Reference: the
    # sum over the label's run [a, b], with the blank before and after, from cumulative log-probabilities.
    steps = 200
    rng = np.random.default_rng(2)
    data = rng.standard_normal((steps, 1, 2)) * 3
    p = np.exp(data[:, 0]) / np.exp(data[:, 0]).sum(axis=1, keepdims=True)
    log0, log1 = np.log(p[:, 0]), np.log(p[:, 1])
    c0, c1 = np.concatenate([[0], np.cumsum(log0)]), np.concatenate([[0], np.cumsum(log1)])
    terms = [c0[a] + (c1[b + 1] - c1[a]) + (c0[steps] - c0[b + 1]) for a in range(steps) for b in range(a, steps)]
    want = -np.logaddexp.reduce(terms)
    cost, _ = run(gpu, data, np.array([[1]], np.int64), np.array([1], np.int64), np.array([steps], np.int64), 0,
                  np.zeros(1), np.zeros(data.shape), REQ_WRITE)
    assert want > 100
    np.testing.assert_allclose(cost, [want], rtol=1e-10)
