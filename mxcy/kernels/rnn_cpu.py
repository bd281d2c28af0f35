"""The fused RNN operator's recurrence on the CPU: one layer's one direction over every time step, forward and
backward, with the gates fused into one pass per step (rnn_cells). Batch rows are independent through time, so
each thread runs the whole sequence for its own chunk of rows: its per-step state GEMMs go to NumPy's OpenBLAS on
one thread (blas_cpu.single_threaded_blas) and no thread waits for another between steps. The input projections and
weight gradients, GEMMs over every step at once, are the callers' (dense.fc_*_cpu, NumPy's BLAS)."""
import numba
import numpy as np

from .blas_cpu import AVAILABLE, CAN_PIN_BLAS, gemm_of, matmul, single_threaded_blas
from .common import parallel_kernel
from .rnn_cells import LSTM, clip_state, gate_count, step_time, unit_backward_cpu, unit_forward_cpu
from .vecmath import sigmoid, tanh


@numba.njit(inline="always", nogil=True, cache=True)
def _rows(chunk, nchunks, batch):
    return chunk * batch // nchunks, (chunk + 1) * batch // nchunks


@numba.njit(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy")
def _lstm_row(gates, hp, bhh, c, cs, cprev, hv, clip, low, high, clip_nan):
    """One batch row's LSTM step (rnn_cells.lstm_forward's arithmetic) in passes along the row that vectorise, the
    gates through vecmath in float64: gates (4H) the input projection on entry, the activated i, f, g, o on exit;
    hp (4H) the state's projection and bhh its bias; c (H) the cell state, moved one step; cs, cprev (H) the new
    and the previous cell state, saved; hv (H) the new h. Unsigned indices: no negative-index wraparound branches."""
    H = c.shape[0]
    n, n4 = numba.uint64(H), numba.uint64(4 * H)
    for k in range(n4):
        gates[k] = gates[k] + hp[k] + bhh[k]
    i, f, g, o = gates[:H], gates[H:2 * H], gates[2 * H:3 * H], gates[3 * H:]
    for j in range(n):
        i[j] = sigmoid(i[j])
        f[j] = sigmoid(f[j])
        g[j] = tanh(g[j])
        o[j] = sigmoid(o[j])
    for j in range(n):
        cn = f[j] * c[j] + i[j] * g[j]
        cprev[j] = c[j]
        cs[j] = clip_state(cn, low, high, clip_nan) if clip else cn
    for j in range(n):
        c[j] = cs[j]
        hv[j] = o[j] * tanh(cs[j])


@numba.njit(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy")
def _lstm_row_backward(gates, cs, cprev, dh, dc, dstep, clip, low, high, tanh_c):
    """One batch row's LSTM step backward (rnn_cells.lstm_backward's arithmetic), tanh of the cell state first in a
    pass that vectorises (vecmath): gates (4H) the activated i, f, g, o; cs, cprev (H) the step's new and previous
    cell states; dh (H) the gradient reaching h and dc (H) the one reaching c, moved one step back; dstep (4H) the
    pre-activations' gradients; tanh_c: float64 scratch (H)."""
    H = dc.shape[0]
    n = numba.uint64(H)
    for j in range(n):
        tanh_c[j] = tanh(cs[j])
    i, f, g, o = gates[:H], gates[H:2 * H], gates[2 * H:3 * H], gates[3 * H:]
    di, df, dg, do = dstep[:H], dstep[H:2 * H], dstep[2 * H:3 * H], dstep[3 * H:]
    for j in range(n):
        tc = tanh_c[j]
        dcs = dc[j] + dh[j] * o[j] * (1.0 - tc * tc)
        if clip:
            before = f[j] * cprev[j] + i[j] * g[j]
            if not (before >= low and before <= high):  # a clipped state passes no gradient
                dcs = 0.0
        di[j] = dcs * g[j] * i[j] * (1.0 - i[j])
        df[j] = dcs * cprev[j] * f[j] * (1.0 - f[j])
        dg[j] = dcs * i[j] * (1.0 - g[j] * g[j])
        do[j] = dh[j] * tc * o[j] * (1.0 - o[j])
        dc[j] = dcs * f[j]


@parallel_kernel(nogil=True, cache=True)
def _forward(mode, gates, whh_t, bhh, whr, h0, c0, lengths, reverse, clip, low, high, clip_nan, one,
             y, yoff, hy, cy, cs, cprev, hprev, hn, hraw, nchunks, gemm, blas):
    """The recurrence of forward_cpu on whh_t (out, G*H), the state weights transposed: OpenBLAS ran the 35 steps'
    (16 x 650) @ (650 x 2600) products of the PTB LSTM 15% faster on them than on whh read transposed."""
    steps, batch, rows = gates.shape
    out = h0.shape[1]
    hidden = rows // gate_count(mode)
    proj = whr.shape[0] > 0
    for chunk in numba.prange(nchunks):
        b0, b1 = _rows(chunk, nchunks, batch)
        h = h0[b0:b1].copy()
        c = c0[b0:b1].copy()
        hp = np.empty((b1 - b0, rows), gates.dtype)
        raw = np.empty((b1 - b0, hidden), gates.dtype)
        projected = np.empty((b1 - b0, out), gates.dtype)
        for s in range(steps):
            matmul(gemm, blas, h, whh_t, hp, False, one)
            for r in range(b1 - b0):
                b = b0 + r
                if s >= lengths[b]:  # past the row's end: no output, state kept
                    y[s, b, yoff:yoff + out] = 0
                    hprev[s, b] = 0
                    if proj:
                        hraw[s, b] = 0
                    continue
                t = step_time(s, lengths[b], reverse)
                hprev[t, b] = h[r]
                if mode == LSTM:
                    _lstm_row(gates[t, b], hp[r], bhh, c[r], cs[t, b], cprev[t, b], raw[r] if proj else h[r], clip,
                              low, high, clip_nan)
                    if proj:
                        hraw[t, b] = raw[r]
                    else:
                        y[t, b, yoff:yoff + out] = h[r]
                    continue
                for j in range(hidden):
                    unit_forward_cpu(mode, gates, t, b, j, hidden, hp, r, bhh, h, c, cs, cprev, hn, clip, low, high,
                                     clip_nan, one, proj, raw, hraw, y, yoff)
            if proj:
                matmul(gemm, blas, raw, whr, projected, True, one)
                for r in range(b1 - b0):
                    b = b0 + r
                    if s < lengths[b]:
                        h[r] = projected[r]
                        y[step_time(s, lengths[b], reverse), b, yoff:yoff + out] = projected[r]
        hy[b0:b1] = h
        cy[b0:b1] = c


@parallel_kernel(nogil=True, cache=True)
def _backward(mode, gates, cs, cprev, hn, hprev, whh, whr, lengths, reverse, clip, low, high, one,
              dy, yoff, dhy, dcy, dxp, dhp, dhr, dh0, dc0, nchunks, gemm, blas):
    steps, batch, rows = gates.shape
    out = dhy.shape[1]
    hidden = rows // gate_count(mode)
    proj = whr.shape[0] > 0
    for chunk in numba.prange(nchunks):
        b0, b1 = _rows(chunk, nchunks, batch)
        dh = dhy[b0:b1].copy()
        dc = dcy[b0:b1].copy()
        dh_new = np.empty((b1 - b0, out), gates.dtype)
        dpass = np.empty((b1 - b0, out), gates.dtype)
        draw = np.empty((b1 - b0, hidden), gates.dtype) if proj else dh_new
        dstep = np.empty((b1 - b0, rows), gates.dtype)
        dnext = np.empty((b1 - b0, out), gates.dtype)
        tanh_c = np.empty(hidden if mode == LSTM else 0)
        for s in range(steps - 1, -1, -1):
            for r in range(b1 - b0):
                b = b0 + r
                if s >= lengths[b]:
                    dh_new[r] = 0
                    dpass[r] = dh[r]
                    if proj:
                        dhr[s, b] = 0
                    continue
                t = step_time(s, lengths[b], reverse)
                dh_new[r] = dh[r] + dy[t, b, yoff:yoff + out]
                dpass[r] = 0
                if proj:
                    dhr[t, b] = dh_new[r]
            if proj:
                matmul(gemm, blas, dh_new, whr, draw, False, one)
            for r in range(b1 - b0):
                b = b0 + r
                if s >= lengths[b]:
                    dstep[r] = 0
                    dxp[s, b] = 0
                    dhp[s, b] = 0
                    continue
                t = step_time(s, lengths[b], reverse)
                if mode == LSTM:
                    _lstm_row_backward(gates[t, b], cs[t, b], cprev[t, b], draw[r], dc[r], dstep[r], clip, low, high,
                                       tanh_c)
                    dxp[t, b] = dstep[r]
                    continue
                for j in range(hidden):
                    unit_backward_cpu(mode, gates, t, b, j, hidden, cs, cprev, hn, hprev, draw, r, dc, clip, low,
                                      high, one, dxp, dhp, dstep, dpass)
            matmul(gemm, blas, dstep, whh, dnext, False, one)
            dh[:] = dnext + dpass
        dh0[b0:b1] = dh
        dc0[b0:b1] = dc


@parallel_kernel(nogil=True, cache=True)
def _transpose(a, out):
    """out (n, m) = a (m, n) transposed, by 32 x 32 blocks (both stay in cache), blocks of rows in parallel."""
    m, n = a.shape
    for bi in numba.prange((m + 31) // 32):
        i0, i1 = bi * 32, min(m, bi * 32 + 32)
        for j0 in range(0, n, 32):
            for i in range(i0, i1):
                for j in range(j0, min(n, j0 + 32)):
                    out[j, i] = a[i, j]


@parallel_kernel(nogil=True, cache=True)
def _scale(x, mask):
    for i in numba.prange(x.size):
        x[i] *= mask[i]


def scale_cpu(x, mask):
    """x *= mask, element by element, both flat and of one size: dropout between layers."""
    _scale(x, mask)


def _chunks(batch):
    """Chunks of batch rows run in parallel; one, with the BLAS using every core, when the BLAS cannot be pinned
    to one thread."""
    return max(1, min(batch, numba.get_num_threads())) if AVAILABLE or CAN_PIN_BLAS else 1


def _blas(dtype):
    """The drivers' trailing BLAS arguments (blas_cpu)."""
    return gemm_of(dtype), AVAILABLE


def forward_cpu(mode, gates, whh, bhh, whr, h0, c0, lengths, reverse, clip, y, yoff, hy, cy, saved):
    """One direction of one layer forward.

    mode: a rnn_cells code; gates (steps, batch, G*H): the input projection with its bias on entry, the
    activated gates on exit (the vanilla cells': their output). whh (G*H, out), bhh (G*H,); whr (out, H) the
    LSTM projection, or empty; h0/hy (batch, out), c0/cy (batch, H) or (batch, 0); lengths (batch,) int64;
    reverse: run each row's valid steps backwards in time; clip: None or (low, high, clip_nan). y (steps, batch,
    D): the output, written at columns yoff:yoff+out. saved = (cs, cprev, hprev, hn, hraw), each (steps, batch,
    .) or empty where the cell has none: what backward_cpu reads (the LSTM's cell states before and after each
    step, h before each step, the GRU's state share of its candidate, the LSTM's h before projection)."""
    low, high, clip_nan = clip if clip is not None else (0.0, 0.0, False)
    one = gates.dtype.type(1)
    whh_t = np.empty((whh.shape[1], whh.shape[0]), whh.dtype)
    _transpose(whh, whh_t)
    with single_threaded_blas():
        _forward(mode, gates, whh_t, bhh, whr, h0, c0, lengths, reverse, clip is not None, gates.dtype.type(low),
                 gates.dtype.type(high), clip_nan, one, y, yoff, hy, cy, *saved, _chunks(gates.shape[1]),
                 *_blas(gates.dtype))


def backward_cpu(mode, gates, whh, whr, lengths, reverse, clip, saved, dy, yoff, dhy, dcy, dxp, dhp, dhr, dh0, dc0):
    """One direction of one layer backward, from forward_cpu's gates and saved arrays: dxp and dhp (steps, batch,
    G*H) the gradients of the input's and the state's projections (the same array but for the GRU), dhr (steps,
    batch, out) of the projected h (or empty), dh0/dc0 of the initial states, from dy (at columns yoff:yoff+out)
    and the final states' gradients dhy/dcy."""
    cs, cprev, hprev, hn, _ = saved
    low, high = clip[:2] if clip is not None else (0.0, 0.0)
    with single_threaded_blas():
        _backward(mode, gates, cs, cprev, hn, hprev, whh, whr, lengths, reverse, clip is not None,
                  gates.dtype.type(low), gates.dtype.type(high), gates.dtype.type(1), dy, yoff, dhy, dcy,
                  dxp, dhp, dhr, dh0, dc0, _chunks(gates.shape[1]), *_blas(gates.dtype))
