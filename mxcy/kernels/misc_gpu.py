"""CUDA kernels of the small standalone ops (ops/misc_ops.py, ops/misc_tensor.py) that no element-wise, reduction or
row kernel expresses: smooth_l1, ravel/unravel of multi-indices, histogram counts (atomic adds), the finite/inf/nan
tests and the all-elements checks of all_finite and allclose (a flag every failing thread clears)."""
from numba import cuda

from .common import REQ_NULL, flat
from .launch import grid_1d
from .launch import store

SPECIAL_TESTS = {"isfinite": 0, "isinf": 1, "isnan": 2}


def _smooth_l1_kernel(x, out, threshold, half_s2, half_inv_s2, req):
    # out[i] (req)= half_s2 x^2 where |x| < threshold (1/s2), else |x| - half_inv_s2; the constants have x's dtype.
    i = cuda.grid(1)
    while i < out.size:
        v = x[i]
        a = abs(v)
        if a < threshold:
            store(out, i, half_s2 * v * v, req)
        else:
            store(out, i, a - half_inv_s2, req)
        i += cuda.gridsize(1)


def _ravel_kernel(data, strides, out, req):
    # out[n] (req)= sum over d of int(data[d, n]) * strides[d]; data is (strides.size, out.size).
    n = cuda.grid(1)
    count = out.size
    while n < count:
        flat = 0
        for d in range(strides.size):
            flat += int(data[d * count + n]) * strides[d]
        store(out, n, flat, req)
        n += cuda.gridsize(1)


def _unravel_kernel(data, dims, out, req):
    # out[d, n] (req)= coordinate d of the flat index int(data[n]) in C-order dims; coordinate 0 takes what is
    # left (dims[0] is never read: it may be -1, unknown).
    n = cuda.grid(1)
    count = data.size
    while n < count:
        rest = int(data[n])
        for d in range(dims.size - 1, 0, -1):
            store(out, d * count + n, rest % dims[d], req)
            rest //= dims[d]
        store(out, n, rest, req)
        n += cuda.gridsize(1)


def _histogram_kernel(data, edges, counts):
    # counts[b] += 1 for each item in [edges[b], edges[b + 1]) (the last bin closed), found by bisection; items
    # outside the edges, and nan, are dropped. edges ascend.
    i = cuda.grid(1)
    last = edges.size - 1
    while i < data.size:
        v = data[i]
        if v >= edges[0] and v <= edges[last]:
            lo = 0
            hi = last
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if edges[mid] <= v:
                    lo = mid
                else:
                    hi = mid
            cuda.atomic.add(counts, lo, 1)
        i += cuda.gridsize(1)


def _special_kernel(x, out, test, req):
    # out[i] (req)= 1 where x[i] passes SPECIAL_TESTS' `test`, else 0. v - v is 0 exactly for finite values.
    i = cuda.grid(1)
    while i < out.size:
        v = x[i]
        nan = v != v
        finite = v - v == 0
        if test == 0:
            hit = finite
        elif test == 2:
            hit = nan
        else:
            hit = not (finite or nan)
        store(out, i, 1 if hit else 0, req)
        i += cuda.gridsize(1)


def _clear_unless_finite_kernel(x, flag):
    # flag[0] = 0 when some x[i] is inf or nan (every writer writes the same 0).
    i = cuda.grid(1)
    while i < x.size:
        v = x[i]
        if v - v != 0:
            flag[0] = 0
        i += cuda.gridsize(1)


def _clear_unless_close_kernel(a, b, atol, rtol, equal_nan, flag):
    # flag[0] = 0 unless, at every i, a[i] == b[i] or |a[i] - b[i]| <= atol + rtol |b[i]| (the difference in the
    # data's type), a nan matching only a nan in the other array under equal_nan.
    i = cuda.grid(1)
    while i < a.size:
        x = a[i]
        y = b[i]
        if x != x or y != y:
            close = equal_nan and x != x and y != y
        else:
            close = x == y or abs(x - y) <= atol + rtol * abs(y)
        if not close:
            flag[0] = 0
        i += cuda.gridsize(1)


def _store_flag_kernel(flag, out, always, req):
    # out[0] (req)= flag[0] when `always` or the flag was cleared (without init_output, all_finite writes only 0s).
    if cuda.grid(1) == 0 and (always or flag[0] == 0):
        store(out, 0, flag[0], req)


smooth_l1_kernel = cuda.jit(_smooth_l1_kernel)
ravel_kernel = cuda.jit(_ravel_kernel)
unravel_kernel = cuda.jit(_unravel_kernel)
histogram_kernel = cuda.jit(_histogram_kernel)
special_kernel = cuda.jit(_special_kernel)
clear_unless_finite_kernel = cuda.jit(_clear_unless_finite_kernel)
clear_unless_close_kernel = cuda.jit(_clear_unless_close_kernel)
store_flag_kernel = cuda.jit(_store_flag_kernel)


def smooth_l1_gpu(x, out, sigma, req, stream=0):
    """out (req)= smooth L1 of x with parameter sigma, its constants rounded to x's dtype first as the CPU's
    NumPy computes them (x is not float16: callers widen it)."""
    if req != REQ_NULL and out.size:
        s2, t = sigma ** 2, x.dtype.type
        smooth_l1_kernel[grid_1d(out.size) + (stream,)](flat(x), flat(out), t(1 / s2), t(0.5 * s2), t(0.5 / s2),
                                                        req)


def ravel_gpu(data, strides, out, req, stream=0):
    """out (N,) (req)= flat indices of the (ndim, N) multi-indices `data` with int64 element `strides`."""
    if req != REQ_NULL and out.size:
        ravel_kernel[grid_1d(out.size) + (stream,)](flat(data), strides, flat(out), req)


def unravel_gpu(data, dims, out, req, stream=0):
    """out (ndim, N) (req)= multi-indices in int64 `dims` of the N flat indices `data`."""
    if req != REQ_NULL and data.size:
        unravel_kernel[grid_1d(data.size) + (stream,)](flat(data), dims, flat(out), req)


def histogram_gpu(data, edges, counts, stream=0):
    """counts (int64, len(edges) - 1, zeroed by the caller) += the number of data items in each bin of float64
    `edges`."""
    if data.size:
        histogram_kernel[grid_1d(data.size) + (stream,)](flat(data), edges, counts)


def special_gpu(test, x, out, req, stream=0):
    """out (req)= 1 where x is finite / inf / nan (test, a key of SPECIAL_TESTS), else 0."""
    if req != REQ_NULL and out.size:
        special_kernel[grid_1d(out.size) + (stream,)](flat(x), flat(out), SPECIAL_TESTS[test], req)


def clear_unless_finite_gpu(x, flag, stream=0):
    """flag[0] = 0 when x holds an inf or nan."""
    if x.size:
        clear_unless_finite_kernel[grid_1d(x.size) + (stream,)](flat(x), flag)


def clear_unless_close_gpu(a, b, atol, rtol, equal_nan, flag, stream=0):
    """flag[0] = 0 unless a and b (one shape and dtype) are close everywhere; atol and rtol come in the type the
    comparison takes."""
    if a.size:
        clear_unless_close_kernel[grid_1d(a.size) + (stream,)](flat(a), flat(b), atol, rtol, bool(equal_nan), flag)


def store_flag_gpu(flag, out, always, req, stream=0):
    """out[0] (req)= flag[0] when `always` or flag[0] == 0."""
    if req != REQ_NULL:
        store_flag_kernel[1, 1, stream](flag, flat(out), bool(always), req)


def _ptx_checks():
    checks = []
    for t in ("float32", "float64"):
        v = f"{t}[::1]"
        checks += [(_smooth_l1_kernel, f"void({v}, {v}, {t}, {t}, {t}, int64)"),
                   (_histogram_kernel, f"void({v}, float64[::1], int64[::1])"),
                   (_store_flag_kernel, f"void(float32[::1], {v}, boolean, int64)")]
    for t in ("float32", "float64", "int32"):
        v = f"{t}[::1]"
        checks += [(_special_kernel, f"void({v}, {v}, int64, int64)"),
                   (_ravel_kernel, f"void({v}, int64[::1], {v}, int64)"),
                   (_unravel_kernel, f"void({v}, int64[::1], {v}, int64)"),
                   (_clear_unless_finite_kernel, f"void({v}, float32[::1])")]
    for t, tol in (("float16", "float32"), ("float32", "float32"), ("float64", "float64"), ("int32", "float64")):
        checks.append((_clear_unless_close_kernel, f"void({t}[::1], {t}[::1], {tol}, {tol}, boolean, uint8[::1])"))
    checks.append((_store_flag_kernel, "void(uint8[::1], uint8[::1], boolean, int64)"))
    return checks


PTX_CHECKS = _ptx_checks()
