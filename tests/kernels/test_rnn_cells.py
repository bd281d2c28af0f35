"""The RNN cells' scalar helpers: tanh against NumPy's, and every backward helper against float64 central
differences of its forward helper (the loss dh * h + dc * c over random upstream gradients)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxcy.kernels import rnn_cells as cells

ONE = np.float64(1)
EPS = 1e-6
values = st.floats(-3, 3)


def _numeric(loss, args):
    grads = []
    for k in range(len(args)):
        up, down = list(args), list(args)
        up[k] += EPS
        down[k] -= EPS
        grads.append((loss(*up) - loss(*down)) / (2 * EPS))
    return np.array(grads)


@pytest.mark.parametrize("x", [0.0, 1e-300, -1e-8, 3e-5, 0.3, -2.5, 19.0, -40.0, 400.0, -800.0])
def test_tanh_matches_numpy(x):
    assert abs(cells.tanh(x) - np.tanh(x)) <= 1e-15


@settings(max_examples=30, deadline=None)
@given(gates=st.lists(values, min_size=5, max_size=5), dh=values, dc=values, clip=st.booleans())
def test_lstm_backward_is_the_forward_gradient(gates, dh, dc, clip):
    low, high = -0.5, 0.6

    def loss(ai, af, ag, ao, c_prev):
        *_, c, h = cells.lstm_forward(ai, af, ag, ao, c_prev, clip, low, high, False, ONE)
        return dh * h + dc * c
    i, f, g, o, c, _ = cells.lstm_forward(*gates, clip, low, high, False, ONE)
    before = f * gates[4] + i * g
    if clip and min(abs(before - low), abs(before - high)) < 1e-4:
        return  # the kink of the clip: no derivative there
    got = np.array(cells.lstm_backward(i, f, g, o, c, gates[4], dh, dc, clip, low, high, ONE))
    np.testing.assert_allclose(got, _numeric(loss, gates), rtol=1e-5, atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(args=st.lists(values, min_size=5, max_size=5), dh=values)
def test_gru_backward_is_the_forward_gradient(args, dh):
    def loss(ar, az, xn, hn, h_prev):
        return dh * cells.gru_forward(ar, az, xn, hn, h_prev, ONE)[3]
    r, z, n, _ = cells.gru_forward(*args, ONE)
    dar, daz, dxn, dhn, dh_prev = cells.gru_backward(r, z, n, args[3], args[4], dh, ONE)
    # d/dhn of the candidate is r times d/dxn; the direct share of h_prev is dh * z
    np.testing.assert_allclose([dar, daz, dxn, dhn, dh_prev], _numeric(loss, args), rtol=1e-5, atol=1e-7)


@settings(max_examples=20, deadline=None)
@given(a=values.filter(lambda v: abs(v) > 1e-3), dh=values, mode=st.sampled_from([cells.RELU, cells.TANH]))
def test_simple_backward_is_the_forward_gradient(a, dh, mode):
    h = cells.simple_forward(a, mode, ONE)
    want = _numeric(lambda v: dh * cells.simple_forward(v, mode, ONE), [a])[0]
    np.testing.assert_allclose(cells.simple_backward(h, dh, mode, ONE), want, rtol=1e-5, atol=1e-7)
