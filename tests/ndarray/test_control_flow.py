"""mx.nd.contrib.foreach / while_loop / cond: NumPy references, float64 numerical gradients through autograd,
nested-list formats and bad input. CASES (bodies written against F) and the NumPy references are shared with
tests/symbol/test_control_flow.py, which runs the same cases symbolically and hybridized."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx


def foreach_case(F, data, s, w):
    def step(x, states):
        h = F.tanh(x * states[0] + w)
        return h, [h]
    outs, states = F.contrib.foreach(step, data, [s])
    return [outs, states[0]]


def foreach_ref(data, s, w):
    outs = []
    for x in data:
        s = np.tanh(x * s + w)
        outs.append(s)
    return [np.stack(outs), s]


def while_case(F, i, s, w):
    outs, (i_end, s_end) = F.contrib.while_loop(
        lambda i, s: i < 3, lambda i, s: ([s * w], [i + 1, F.sin(s * w) + 1]), [i, s], max_iterations=5)
    return [outs[0], i_end, s_end]


def while_ref(i, s, w):
    outs = []
    while i[0] < 3 and len(outs) < 5:
        outs.append(s * w)
        i, s = i + 1, np.sin(s * w) + 1
    rows = np.stack(outs + [np.zeros_like(s)] * (5 - len(outs)))  # rows after the last step: zeros
    return [rows, i, s]


def cond_case(F, a, b):
    return [F.contrib.cond(F.sum(a) < 0, lambda: a * b + 1, lambda: F.exp(a) - b)]


def cond_ref(a, b):
    return [a * b + 1 if a.sum() < 0 else np.exp(a) - b]


def nested_case(F, data, s, w):
    def outer(x, states):
        ys, last = F.contrib.foreach(lambda y, st: (y * st[0] + w, [y * st[0] + w]), x, states)
        return ys * 2, [F.tanh(last[0])]
    outs, states = F.contrib.foreach(outer, data, [s])
    return [outs, states[0]]


def nested_ref(data, s, w):
    outs = []
    for x in data:
        rows, state = [], s
        for y in x:
            state = y * state + w
            rows.append(state)
        outs.append(np.stack(rows) * 2)
        s = np.tanh(state)
    return [np.stack(outs), s]


# name -> (F-generic case, NumPy reference, input maker from a generator, indices of inputs to differentiate)
CASES = {
    "foreach": (foreach_case, foreach_ref,
                lambda rng: [rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (2,)), rng.uniform(-1, 1, (2,))],
                (0, 1, 2)),
    "while_loop": (while_case, while_ref,
                   lambda rng: [np.full(1, 0.5), rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3))], (0, 1, 2)),
    "nested": (nested_case, nested_ref,
               lambda rng: [rng.uniform(-1, 1, (2, 3, 2)), rng.uniform(-1, 1, (2,)), rng.uniform(-1, 1, (2,))],
               (0, 1, 2)),
    "cond": (cond_case, cond_ref,
             lambda rng: [rng.uniform(-1, 1, (2, 2)) + rng.choice([-0.6, 0.6]), rng.uniform(-1, 1, (2, 2))],
             (0, 1)),
}


def numeric_gradient(ref, arrays, heads, wrt, eps=1e-6):
    """d sum_j(heads[j] * ref(arrays)[j]) / d arrays[k] for k in wrt, by float64 central differences."""
    def loss(values):
        return sum(float(np.sum(h * o)) for h, o in zip(heads, ref(*values)))
    grads = []
    for k in wrt:
        grad = np.zeros(arrays[k].shape)
        for j in range(arrays[k].size):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[k].reshape(-1)[j] += eps
            minus[k].reshape(-1)[j] -= eps
            grad.reshape(-1)[j] = (loss(plus) - loss(minus)) / (2 * eps)
        grads.append(grad)
    return grads


def draw(name, seed):
    """(inputs, head gradients) of a case as float64 NumPy arrays."""
    _, ref, make, _ = CASES[name]
    rng = np.random.default_rng(seed)
    arrays = make(rng)
    heads = [rng.uniform(-1, 1, o.shape) for o in ref(*arrays)]
    return arrays, heads


def imperative(name, arrays, heads, call=None):
    """(outputs, gradients of the differentiated inputs) under autograd of call(*inputs), by default the
    case run through mx.nd.contrib."""
    case, _, _, wrt = CASES[name]
    call = call or (lambda *xs: case(mx.nd, *xs))
    xs = [mx.nd.array(a, dtype="float64") for a in arrays]
    for k in wrt:
        xs[k].attach_grad()
    with mx.autograd.record():
        outs = call(*xs)
    mx.autograd.backward(outs, [mx.nd.array(h, dtype="float64") for h in heads])
    return [o.asnumpy() for o in outs], [xs[k].grad.asnumpy() for k in wrt]


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2 ** 16))
def test_outputs_and_float64_gradients_match_numpy(name, seed):
    _, ref, _, wrt = CASES[name]
    arrays, heads = draw(name, seed)
    outs, grads = imperative(name, arrays, heads)
    for got, want in zip(outs, ref(*arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, numeric_gradient(ref, arrays, heads, wrt)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_foreach_nested_lists_keep_their_format():
    data = [mx.nd.arange(6).reshape((3, 2)), mx.nd.arange(3)]
    states = [mx.nd.ones((2,)), [mx.nd.zeros((1,))]]

    def step(x, s):
        total = s[0] + x[0]
        return [total, [x[1] * 2]], [total, [s[1][0] + x[1]]]
    (sums, (doubled,)), (last, (count,)) = mx.nd.contrib.foreach(step, data, states)
    np.testing.assert_array_equal(sums.asnumpy(), 1 + np.cumsum(np.arange(6).reshape(3, 2), axis=0))
    np.testing.assert_array_equal(doubled.asnumpy(), [[0], [2], [4]])  # a slice of a vector is a 1-vector
    np.testing.assert_array_equal(last.asnumpy(), [7, 10])
    np.testing.assert_array_equal(count.asnumpy(), [3])


def test_foreach_with_only_states_and_while_loop_that_never_runs():
    outs, states = mx.nd.contrib.foreach(lambda x, s: ([], [s[0] + x]), mx.nd.ones((4, 2)), [mx.nd.zeros((2,))])
    assert outs == [] and states[0].asnumpy().tolist() == [4, 4]
    outs, final = mx.nd.contrib.while_loop(lambda x: x > 5, lambda x: (x, x + 1), mx.nd.ones((1,)),
                                           max_iterations=3)
    assert outs == [] and final.asnumpy().tolist() == [1]  # a single loop variable comes back single


def test_cond_runs_only_the_taken_branch():
    taken = []
    out = mx.nd.contrib.cond(mx.nd.array([0]), lambda: taken.append("then"), lambda: taken.append("else") or 7)
    assert taken == ["else"] and out == 7


def test_bad_inputs():
    with pytest.raises(ValueError, match="max_iterations"):
        mx.nd.contrib.while_loop(lambda x: x < 1, lambda x: (x, x), [mx.nd.ones((1,))])
    with pytest.raises(ValueError, match="at least one"):
        mx.nd.contrib.while_loop(lambda: True, lambda: ([], []), [], max_iterations=2)
    with pytest.raises(ValueError, match="consistent"):
        mx.nd.contrib.while_loop(lambda x: x < 3, lambda x: (x, [x, x]), [mx.nd.ones((1,))], max_iterations=2)
    with pytest.raises(mx.MXNetError, match="one element"):
        mx.nd.contrib.while_loop(lambda x: x, lambda x: (x, x), [mx.nd.ones((2,))], max_iterations=2)
    with pytest.raises(mx.MXNetError, match="differ in length"):
        mx.nd.contrib.foreach(lambda x, s: (x[0], s), [mx.nd.ones((2, 1)), mx.nd.ones((3, 1))], [])
    with pytest.raises(mx.MXNetError, match="foreach data must be"):
        mx.nd.contrib.foreach(lambda x, s: (x, s), np.ones((2, 2)), [])
    with pytest.raises(mx.MXNetError, match="pred must have one element"):
        mx.nd.contrib.cond(mx.nd.ones((2,)), lambda: 1, lambda: 2)
