"""The fused RNN operator's recurrence on CUDA, the twins of rnn_cpu's drivers: per time step, the state's
projection (a row-by-matrix product kernel), then one kernel for every gate of every unit (rnn_cells), and for
the LSTM with a projection its product and a finishing kernel. The input projections and weight gradients, GEMMs
over every step at once, are the callers' (dense.fc_*_gpu)."""
from numba import cuda

from .launch import grid_1d
from .rnn_cells import gate_count, step_time, unit_backward_gpu, unit_forward_gpu


def _rowdot_py(a, w, out, c, add_c):
    """out[b, n] = sum_m a[b, m] w[m, n] (+ c[b, n]): one thread per output, the w reads coalescing across n."""
    for e in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        b = e // out.shape[1]
        n = e % out.shape[1]
        acc = a[b, 0] * w[0, n]
        for m in range(1, a.shape[1]):
            acc += a[b, m] * w[m, n]
        if add_c:
            acc += c[b, n]
        out[b, n] = acc


def _transpose_py(a, out):
    for e in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        i = e // a.shape[1]
        j = e % a.shape[1]
        out[j, i] = a[i, j]


def _copy_py(src, dst):
    for e in range(cuda.grid(1), src.size, cuda.gridsize(1)):
        dst[e] = src[e]


def _scale_py(x, mask):
    for e in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        x[e] *= mask[e]


def _step_forward_py(mode, s, gates, hp, bhh, h, c, lengths, reverse, clip, low, high, clip_nan, one, proj,
                     y, yoff, cs, cprev, hprev, hn, hraw, raw):
    """Step s for every (row, unit): rnn_cpu._forward's inner loop; with a projection the unprojected h goes to
    raw (and hraw) and _step_project_py finishes the step."""
    batch, hidden = c.shape[0], hp.shape[1] // gate_count(mode)
    for e in range(cuda.grid(1), batch * hidden, cuda.gridsize(1)):
        b = e // hidden
        j = e % hidden
        length = lengths[b]
        if s >= length:
            if proj:
                hraw[s, b, j] = 0
            else:
                y[s, b, yoff + j] = 0
                hprev[s, b, j] = 0
            continue
        t = step_time(s, length, reverse)
        if not proj:
            hprev[t, b, j] = h[b, j]
        unit_forward_gpu(mode, gates, t, b, j, hidden, hp, b, bhh, h, c, cs, cprev, hn, clip, low, high, clip_nan,
                         one, proj, raw, hraw, y, yoff)


def _step_project_py(s, projected, h, lengths, reverse, y, yoff, hprev):
    """The LSTM projection's end of step s: h before the step saved, then the projected h out and kept."""
    out = h.shape[1]
    for e in range(cuda.grid(1), h.size, cuda.gridsize(1)):
        b = e // out
        k = e % out
        if s >= lengths[b]:
            y[s, b, yoff + k] = 0
            hprev[s, b, k] = 0
            continue
        t = step_time(s, lengths[b], reverse)
        hprev[t, b, k] = h[b, k]
        h[b, k] = projected[b, k]
        y[t, b, yoff + k] = projected[b, k]


def _step_head_py(s, dh, dy, yoff, lengths, reverse, proj, dh_new, dpass, dhr):
    """Backward step s's start: the gradient reaching h (the state's plus the output's), or for rows past their
    end, the state's gradient passed on unchanged."""
    out = dh.shape[1]
    for e in range(cuda.grid(1), dh.size, cuda.gridsize(1)):
        b = e // out
        k = e % out
        if s >= lengths[b]:
            dh_new[b, k] = 0
            dpass[b, k] = dh[b, k]
            if proj:
                dhr[s, b, k] = 0
            continue
        t = step_time(s, lengths[b], reverse)
        dh_new[b, k] = dh[b, k] + dy[t, b, yoff + k]
        dpass[b, k] = 0
        if proj:
            dhr[t, b, k] = dh_new[b, k]


def _step_backward_py(mode, s, gates, cs, cprev, hn, hprev, draw, dc, lengths, reverse, clip, low, high, one,
                      dxp, dhp, dstep, dpass):
    """Backward step s for every (row, unit): rnn_cpu._backward's inner loop."""
    batch, rows = dstep.shape
    groups = gate_count(mode)
    hidden = rows // groups
    for e in range(cuda.grid(1), batch * hidden, cuda.gridsize(1)):
        b = e // hidden
        j = e % hidden
        if s >= lengths[b]:
            for q in range(groups):
                dstep[b, q * hidden + j] = 0
                dxp[s, b, q * hidden + j] = 0
                dhp[s, b, q * hidden + j] = 0
            continue
        t = step_time(s, lengths[b], reverse)
        unit_backward_gpu(mode, gates, t, b, j, hidden, cs, cprev, hn, hprev, draw, b, dc, clip, low, high, one,
                          dxp, dhp, dstep, dpass)

_rowdot = cuda.jit(_rowdot_py)
_transpose = cuda.jit(_transpose_py)
_copy = cuda.jit(_copy_py)
_scale = cuda.jit(_scale_py)
_step_forward = cuda.jit(_step_forward_py)
_step_project = cuda.jit(_step_project_py)
_step_head = cuda.jit(_step_head_py)
_step_backward = cuda.jit(_step_backward_py)


def _sigs(t):
    a1, a2, a3 = f"{t}[::1]", f"{t}[:, ::1]", f"{t}[:, :, ::1]"
    lengths = "int64[::1]"
    return [
        (_rowdot_py, f"void({a2}, {a2}, {a2}, {a2}, boolean)"),
        (_transpose_py, f"void({a2}, {a2})"),
        (_copy_py, f"void({a1}, {a1})"),
        (_scale_py, f"void({a1}, {a1})"),
        (_step_forward_py, f"void(int64, int64, {a3}, {a2}, {a1}, {a2}, {a2}, {lengths}, boolean, boolean, {t}, "
                           f"{t}, boolean, {t}, boolean, {a3}, int64, {a3}, {a3}, {a3}, {a3}, {a3}, {a2})"),
        (_step_project_py, f"void(int64, {a2}, {a2}, {lengths}, boolean, {a3}, int64, {a3})"),
        (_step_head_py, f"void(int64, {a2}, {a3}, int64, {lengths}, boolean, boolean, {a2}, {a2}, {a3})"),
        (_step_backward_py, f"void(int64, int64, {a3}, {a3}, {a3}, {a3}, {a3}, {a2}, {a2}, {lengths}, boolean, "
                            f"boolean, {t}, {t}, {t}, {a3}, {a3}, {a2}, {a2})"),
    ]


PTX_CHECKS = _sigs("float32") + _sigs("float64")


def _launch(kernel, n, stream, *args):
    if n:
        kernel[grid_1d(n) + (stream,)](*args)


def _rowdot_into(a, w, out, stream, c=None):
    _launch(_rowdot, out.size, stream, a, w, out, out if c is None else c, c is not None)


def _transposed(a, stream):
    out = cuda.device_array((a.shape[1], a.shape[0]), a.dtype, stream=stream)
    _launch(_transpose, a.size, stream, a, out)
    return out


def _copy_into(src, dst, stream):
    _launch(_copy, src.size, stream, src.reshape(src.size), dst.reshape(dst.size))


def scale_gpu(x, mask, stream=0):
    """CUDA twin of rnn_cpu.scale_cpu."""
    _launch(_scale, x.size, stream, x, mask)


def _scalars(dtype, clip):
    low, high, clip_nan = clip if clip is not None else (0.0, 0.0, False)
    return clip is not None, dtype.type(low), dtype.type(high), clip_nan, dtype.type(1)


def forward_gpu(mode, gates, whh, bhh, whr, h0, c0, lengths, reverse, clip, y, yoff, hy, cy, saved, stream=0):
    """CUDA twin of rnn_cpu.forward_cpu (same arguments, device arrays): hy and cy hold the state while it runs."""
    steps, batch, rows = gates.shape
    hidden, out, proj = rows // gate_count(mode), h0.shape[1], whr.shape[0] > 0
    cs, cprev, hprev, hn, hraw = saved
    clip_on, low, high, clip_nan, one = _scalars(gates.dtype, clip)
    _copy_into(h0, hy, stream)
    _copy_into(c0, cy, stream)
    whh_t = _transposed(whh, stream)
    whr_t = _transposed(whr, stream) if proj else whr
    hp = cuda.device_array((batch, rows), gates.dtype, stream=stream)
    raw = cuda.device_array((batch, hidden if proj else 0), gates.dtype, stream=stream)
    projected = cuda.device_array((batch, out), gates.dtype, stream=stream)
    for s in range(steps):
        _rowdot_into(hy, whh_t, hp, stream)
        _launch(_step_forward, batch * hidden, stream, mode, s, gates, hp, bhh, hy, cy, lengths, reverse, clip_on,
                low, high, clip_nan, one, proj, y, yoff, cs, cprev, hprev, hn, hraw, raw)
        if proj:
            _rowdot_into(raw, whr_t, projected, stream)
            _launch(_step_project, hy.size, stream, s, projected, hy, lengths, reverse, y, yoff, hprev)


def backward_gpu(mode, gates, whh, whr, lengths, reverse, clip, saved, dy, yoff, dhy, dcy, dxp, dhp, dhr, dh0, dc0,
                 stream=0):
    """CUDA twin of rnn_cpu.backward_cpu: dh0 and dc0 hold the state's gradient while it runs."""
    steps, batch, rows = gates.shape
    out, proj = dhy.shape[1], whr.shape[0] > 0
    cs, cprev, hprev, hn, _ = saved
    clip_on, low, high, _, one = _scalars(gates.dtype, clip)
    hidden = rows // gate_count(mode)
    _copy_into(dhy, dh0, stream)
    _copy_into(dcy, dc0, stream)
    dh_new = cuda.device_array((batch, out), gates.dtype, stream=stream)
    dpass = cuda.device_array((batch, out), gates.dtype, stream=stream)
    draw = cuda.device_array((batch, hidden), gates.dtype, stream=stream) if proj else dh_new
    dstep = cuda.device_array((batch, rows), gates.dtype, stream=stream)
    for s in range(steps - 1, -1, -1):
        _launch(_step_head, dh0.size, stream, s, dh0, dy, yoff, lengths, reverse, proj, dh_new, dpass, dhr)
        if proj:
            _rowdot_into(dh_new, whr, draw, stream)
        _launch(_step_backward, batch * hidden, stream, mode, s, gates, cs, cprev, hn, hprev, draw, dc0, lengths,
                reverse, clip_on, low, high, one, dxp, dhp, dstep, dpass)
        _rowdot_into(dstep, whh, dh0, stream, c=dpass)
