"""CUDA elementwise choices on flat device arrays: where (x or y by a condition, one condition per row of
`inner` items), clip (MXNet's order: above a_max gives a_max, else below a_min gives a_min) and one_hot
(on_value where the position equals the column, off_value elsewhere)."""
from numba import cuda

from .common import REQ_NULL, flat
from .launch import grid_1d
from .launch import store
from .layout_gpu import scalar_as


def _where_kernel(cond, x, y, out, inner, req):
    # out[i] (req)= x[i] if cond[i // inner] != 0 else y[i].
    i = cuda.grid(1)
    while i < out.size:
        if cond[i // inner] != 0:
            store(out, i, x[i], req)
        else:
            store(out, i, y[i], req)
        i += cuda.gridsize(1)


def _clip_kernel(x, out, lo, hi, lo_out, hi_out, req):
    # out[i] (req)= hi_out if x[i] > hi else lo_out if x[i] < lo else x[i]; lo and hi are float64 (NumPy
    # compares an array with Python floats so), lo_out and hi_out the same bounds in out's dtype.
    i = cuda.grid(1)
    while i < out.size:
        v = x[i]
        if v > hi:
            store(out, i, hi_out, req)
        elif v < lo:
            store(out, i, lo_out, req)
        else:
            store(out, i, v, req)
        i += cuda.gridsize(1)


def _one_hot_kernel(pos, out, depth, on, off, req):
    # out[k, d] (req)= on if pos[k] == d else off; out is (len(pos), depth), on and off have out's dtype.
    i = cuda.grid(1)
    while i < out.size:
        if pos[i // depth] == i % depth:
            store(out, i, on, req)
        else:
            store(out, i, off, req)
        i += cuda.gridsize(1)


where_kernel = cuda.jit(_where_kernel)
clip_kernel = cuda.jit(_clip_kernel)
one_hot_kernel = cuda.jit(_one_hot_kernel)


def where_gpu(cond, x, y, out, req, stream=0):
    """out (req)= x where cond != 0 else y; cond has x's size, or one entry per row of x (a 1-D condition)."""
    if req != REQ_NULL and out.size:
        where_kernel[grid_1d(out.size) + (stream,)](flat(cond), flat(x), flat(y), flat(out),
                                                    out.size // cond.size, req)


def clip_gpu(x, out, a_min, a_max, req, stream=0):
    """out (req)= x clipped to [a_min, a_max], testing a_max first as MXNet does."""
    if req != REQ_NULL and out.size:
        clip_kernel[grid_1d(out.size) + (stream,)](flat(x), flat(out), float(a_min), float(a_max),
                                                   scalar_as(out.dtype, a_min), scalar_as(out.dtype, a_max), req)


def one_hot_gpu(pos, out, depth, on_value, off_value, req, stream=0):
    """out (len(pos), depth) (req)= on_value at column pos[k] of row k (none when out of range), off_value
    elsewhere; values cast to out's dtype."""
    if req != REQ_NULL and out.size:
        on, off = scalar_as(out.dtype, on_value), scalar_as(out.dtype, off_value)
        one_hot_kernel[grid_1d(out.size) + (stream,)](flat(pos), flat(out), depth, on, off, req)


def _ptx_checks():
    checks = []
    for t in ("float16", "float32", "float64", "int32"):
        v = f"{t}[::1]"
        checks += [(_where_kernel, f"void({v}, {v}, {v}, {v}, int64, int64)"),
                   (_where_kernel, f"void(uint8[::1], {v}, {v}, {v}, int64, int64)"),
                   (_clip_kernel, f"void({v}, {v}, float64, float64, {t}, {t}, int64)"),
                   (_one_hot_kernel, f"void(int64[::1], {v}, int64, {t}, {t}, int64)")]
    return checks


PTX_CHECKS = _ptx_checks()
