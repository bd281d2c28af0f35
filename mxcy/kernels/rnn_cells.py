"""The fused RNN operator's per-unit cell arithmetic (forward and backward of rnn_relu, rnn_tanh, LSTM and GRU),
written once as scalar `njit(inline="always")` helpers that the CPU drivers (rnn_cpu) inline and the CUDA kernels
(rnn_gpu) compile. `one` is 1 in the arrays' type, so that float32 stays float32 (a Python literal is float64).
Numba's on-disk cache keys rnn_cpu's compiled drivers on rnn_cpu.py alone: touch it after editing this file."""
import math

import numba

RELU, TANH, LSTM, GRU = 0, 1, 2, 3

_inline = numba.njit(inline="always", nogil=True, cache=True)


@_inline
def gate_count(mode):
    return 4 if mode == LSTM else 3 if mode == GRU else 1


@_inline
def sigmoid(x, one):
    return one / (one + math.exp(-x))


@_inline
def tanh(x):
    """tanh through one exp, in float64 (absolute error ~1e-16): Numba's float32 math.tanh costs ~6 exps."""
    return 2.0 / (1.0 + math.exp(-2.0 * x)) - 1.0


@_inline
def step_time(s, length, reverse):
    """The time index a batch row's step s reads and writes: reversed within the row's valid length if
    `reverse`; steps past the length stay in place (they hold nothing)."""
    return length - 1 - s if reverse and s < length else s


@_inline
def simple_forward(a, mode, one):
    """h of a vanilla cell from its pre-activation a."""
    if mode == TANH:
        return tanh(a)
    return a if a > 0 else one - one


@_inline
def simple_backward(h, dh, mode, one):
    """d(pre-activation) from the cell's output h and its gradient dh."""
    if mode == TANH:
        return dh * (one - h * h)
    return dh if h > 0 else one - one


@_inline
def clip_state(c, low, high, clip_nan):
    if c < low:
        return low
    if c > high:
        return high
    if clip_nan and c != c:
        return high
    return c


@_inline
def lstm_forward(ai, af, ag, ao, c_prev, clip, low, high, clip_nan, one):
    """(i, f, g, o, c, h) of an LSTM unit from its four pre-activations and previous cell state; with `clip`,
    c is clipped to [low, high] (and NaN becomes high under clip_nan)."""
    i = sigmoid(ai, one)
    f = sigmoid(af, one)
    g = tanh(ag)
    o = sigmoid(ao, one)
    c = f * c_prev + i * g
    if clip:
        c = clip_state(c, low, high, clip_nan)
    return i, f, g, o, c, o * tanh(c)


@_inline
def lstm_backward(i, f, g, o, c, c_prev, dh, dc, clip, low, high, one):
    """(di, df, dg, do) on the pre-activations and the previous cell state's gradient, from the saved gate
    values, the unit's cell states and the gradients dh of its h and dc of its c. A clipped state passes none."""
    tanh_c = tanh(c)
    dcs = dc + dh * o * (one - tanh_c * tanh_c)
    if clip:
        before = f * c_prev + i * g
        if not (before >= low and before <= high):
            dcs = one - one
    return (dcs * g * i * (one - i), dcs * c_prev * f * (one - f), dcs * i * (one - g * g),
            dh * tanh_c * o * (one - o), dcs * f)


@_inline
def gru_forward(ar, az, xn, hn, h_prev, one):
    """(r, z, n, h) of a GRU unit: ar, az the reset and update pre-activations, xn the input's and hn the
    state's (bias included) share of the candidate."""
    r = sigmoid(ar, one)
    z = sigmoid(az, one)
    n = tanh(xn + r * hn)
    return r, z, n, (one - z) * n + z * h_prev


@_inline
def gru_backward(r, z, n, hn, h_prev, dh, one):
    """(dar, daz, dxn, dhn, dh_prev's direct share): the gradients of the pre-activations on the input side
    (dxn) and the state side (dhn = dxn * r, the candidate's state share goes through r)."""
    dxn = dh * (one - z) * (one - n * n)
    dar = dxn * hn * r * (one - r)
    daz = dh * (h_prev - n) * z * (one - z)
    return dar, daz, dxn, dxn * r, dh * z
