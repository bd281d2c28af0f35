"""The fused RNN operator's per-unit cell arithmetic (forward and backward of rnn_relu, rnn_tanh, LSTM and GRU),
written once as scalar `njit(inline="always")` helpers that the CPU drivers (rnn_cpu) inline and the CUDA kernels
(rnn_gpu) compile. `one` is 1 in the arrays' type, so that float32 stays float32 (a Python literal is float64).
Numba's on-disk cache keys rnn_cpu's compiled drivers on rnn_cpu.py alone: touch it after editing this file."""
import math

import numba

from .launch import dual

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


def _unit_forward(mode, gates, t, b, j, hidden, hp, r, bhh, h, c, cs, cprev, hn, clip, low, high, clip_nan, one,
                  proj, raw, hraw, y, yoff):
    """Unit j's step for batch row b at time t: its pre-activations are the input projection gates[t, b] plus the
    state's hp[r] and the bias bhh; h[r, j] and c[r, j] are its states (r: the row in the caller's state arrays).
    Writes the activated gates back over gates[t, b], the LSTM's cell states (c, and cs/cprev at t), the GRU's
    state share hn[t, b, j], and the new h: into h and the output y[t, b, yoff + j], or with a projection into
    raw[r, j] and hraw[t, b, j] (the projection's product finishes the step)."""
    if mode == LSTM:
        i, f, g, o, cn, hv = lstm_forward(
            gates[t, b, j] + hp[r, j] + bhh[j],
            gates[t, b, hidden + j] + hp[r, hidden + j] + bhh[hidden + j],
            gates[t, b, 2 * hidden + j] + hp[r, 2 * hidden + j] + bhh[2 * hidden + j],
            gates[t, b, 3 * hidden + j] + hp[r, 3 * hidden + j] + bhh[3 * hidden + j],
            c[r, j], clip, low, high, clip_nan, one)
        gates[t, b, j] = i
        gates[t, b, hidden + j] = f
        gates[t, b, 2 * hidden + j] = g
        gates[t, b, 3 * hidden + j] = o
        cprev[t, b, j] = c[r, j]
        cs[t, b, j] = cn
        c[r, j] = cn
    elif mode == GRU:
        state_n = hp[r, 2 * hidden + j] + bhh[2 * hidden + j]
        rg, z, n, hv = gru_forward(gates[t, b, j] + hp[r, j] + bhh[j],
                                   gates[t, b, hidden + j] + hp[r, hidden + j] + bhh[hidden + j],
                                   gates[t, b, 2 * hidden + j], state_n, h[r, j], one)
        gates[t, b, j] = rg
        gates[t, b, hidden + j] = z
        gates[t, b, 2 * hidden + j] = n
        hn[t, b, j] = state_n
    else:
        hv = simple_forward(gates[t, b, j] + hp[r, j] + bhh[j], mode, one)
        gates[t, b, j] = hv
    if proj:
        raw[r, j] = hv
        hraw[t, b, j] = hv
    else:
        h[r, j] = hv
        y[t, b, yoff + j] = hv


def _unit_backward(mode, gates, t, b, j, hidden, cs, cprev, hn, hprev, draw, r, dc, clip, low, high, one,
                   dxp, dhp, dstep, dpass):
    """Unit j's backward step for batch row b at time t, from the gradient draw[r, j] reaching its h (before any
    projection) and dc[r, j] reaching its c: the pre-activations' gradients into dstep[r] and dxp[t, b] (the
    GRU's state side into dhp[t, b]), the LSTM's dc[r, j] moved one step back, the GRU's direct share of
    dh_prev into dpass[r, j]."""
    if mode == LSTM:
        di, df, dg, do, dc[r, j] = lstm_backward(
            gates[t, b, j], gates[t, b, hidden + j], gates[t, b, 2 * hidden + j], gates[t, b, 3 * hidden + j],
            cs[t, b, j], cprev[t, b, j], draw[r, j], dc[r, j], clip, low, high, one)
        dstep[r, j] = dxp[t, b, j] = di
        dstep[r, hidden + j] = dxp[t, b, hidden + j] = df
        dstep[r, 2 * hidden + j] = dxp[t, b, 2 * hidden + j] = dg
        dstep[r, 3 * hidden + j] = dxp[t, b, 3 * hidden + j] = do
    elif mode == GRU:
        dar, daz, dxn, dhn, dpass[r, j] = gru_backward(
            gates[t, b, j], gates[t, b, hidden + j], gates[t, b, 2 * hidden + j], hn[t, b, j], hprev[t, b, j],
            draw[r, j], one)
        dstep[r, j] = dxp[t, b, j] = dhp[t, b, j] = dar
        dstep[r, hidden + j] = dxp[t, b, hidden + j] = dhp[t, b, hidden + j] = daz
        dxp[t, b, 2 * hidden + j] = dxn
        dstep[r, 2 * hidden + j] = dhp[t, b, 2 * hidden + j] = dhn
    else:
        dstep[r, j] = dxp[t, b, j] = simple_backward(gates[t, b, j], draw[r, j], mode, one)


unit_forward_cpu, unit_forward_gpu = dual(_unit_forward)
unit_backward_cpu, unit_backward_gpu = dual(_unit_backward)
