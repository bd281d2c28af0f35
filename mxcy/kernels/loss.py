"""Loss-layer kernels, CPU and CUDA: SoftmaxOutput's gradient, softmax_cross_entropy's loss and gradient.

Arrays are C-contiguous float32/float64; labels are float arrays of class indices, truncated toward zero.
"""
import math

import numba
import numpy as np
from numba import cuda

from .common import REQ_NULL, assign, parallel_kernel
from .launch import block_sum, dual, grid_1d

_THREADS = 256


def _softmax_output_grad_row(out, label, ograd, dx, r, dense, on, off, ignore, use_ignore, scale, norm,
                             valid_count, out_grad, req):
    """Row r = o * inner + i of out (outer, K, inner): dx = (out - target) * scale / normalizer, times ograd when
    out_grad. dense: label has out's shape and is the target itself (no normalizer). Otherwise the target is `on`
    at class label[r] and `off` elsewhere (every class for a label outside [0, K)); rows labelled `ignore` get 0
    when use_ignore; the normalizer is valid_count[0] when given (size 1), else norm."""
    k, inner = out.shape[1], out.shape[2]
    o, i = r // inner, r % inner
    c = valid_count[0] if valid_count.size else norm
    lab = int(label[r]) if not dense else 0
    skip = use_ignore and not dense and lab == ignore
    for j in range(k):
        if dense:
            g = (out[o, j, i] - label[(o * k + j) * inner + i]) * scale
        elif skip:
            g = 0.0
        else:
            g = (out[o, j, i] - (on if j == lab else off)) * (scale / c)
        if out_grad:
            g *= ograd[o, j, i]
        dx[o, j, i] = assign(dx[o, j, i], g, req)


@numba.njit(inline="always", nogil=True)
def clip_class(v, k):
    """Label value v as a class: truncated, clipped to [0, k) (MXNet reads outside the row for others)."""
    return min(max(int(v), 0), k - 1)


def _cross_entropy_row(x, label, r, ograd, dx, req):
    """-log softmax(x[r])[label[r]] of x (N, K), in float64; when dx is not empty, also dx[r] (req)=
    (softmax(x[r]) - one_hot(label[r])) * ograd[0]."""
    k = x.shape[1]
    mx = np.float64(x[r, 0])
    for j in range(1, k):
        mx = max(mx, np.float64(x[r, j]))
    s = 0.0
    for j in range(k):
        s += math.exp(x[r, j] - mx)
    ls = math.log(s)
    lab = clip_class(label[r], k)
    if dx.size:
        for j in range(k):
            g = (math.exp(x[r, j] - mx - ls) - (1.0 if j == lab else 0.0)) * ograd[0]
            dx[r, j] = assign(dx[r, j], g, req)
    return ls - (x[r, lab] - mx)


def _count_valid(label, ignore, start, step):
    """How many of label[start::step] are not `ignore` (as truncated integers)."""
    n = 0
    for r in range(start, label.size, step):
        if int(label[r]) != ignore:
            n += 1
    return n


softmax_output_grad_row, softmax_output_grad_row_dev = dual(_softmax_output_grad_row)
cross_entropy_row, cross_entropy_row_dev = dual(_cross_entropy_row)
count_valid, count_valid_dev = dual(_count_valid)


# ---------------------------------------------------------------- CPU drivers
@parallel_kernel(nogil=True, cache=True)
def softmax_output_grad_cpu(out, label, ograd, dx, dense, on, off, ignore, use_ignore, scale, norm, valid_count,
                            out_grad, req):
    """SoftmaxOutput's gradient dx (outer, K, inner) from its output; see _softmax_output_grad_row."""
    if req == REQ_NULL:
        return
    for r in numba.prange(out.shape[0] * out.shape[2]):
        softmax_output_grad_row(out, label, ograd, dx, r, dense, on, off, ignore, use_ignore, scale, norm,
                                valid_count, out_grad, req)


@numba.njit(nogil=True, cache=True)
def count_valid_cpu(label, ignore, count):
    """count[0] = max(number of labels other than ignore, 1): SoftmaxOutput's normalization='valid'."""
    count[0] = max(count_valid(label, ignore, 0, 1), 1)


@parallel_kernel(nogil=True, cache=True)
def cross_entropy_cpu(x, label, out, req):
    """out[0] (req)= sum over rows of -log softmax(x)[label], x (N, K)."""
    if req == REQ_NULL:
        return
    losses = np.empty(x.shape[0])
    no_ograd, no_dx = np.empty(0, x.dtype), np.empty((0, 0), x.dtype)
    for r in numba.prange(x.shape[0]):
        losses[r] = cross_entropy_row(x, label, r, no_ograd, no_dx, req)
    out[0] = assign(out[0], losses.sum(), req)


@parallel_kernel(nogil=True, cache=True)
def cross_entropy_grad_cpu(ograd, x, label, dx, req):
    """dx (N, K) (req)= (softmax(x) - one_hot(label)) * ograd[0]."""
    if req == REQ_NULL:
        return
    for r in numba.prange(x.shape[0]):
        cross_entropy_row(x, label, r, ograd, dx, req)


# ---------------------------------------------------------------- GPU drivers
@cuda.jit
def _softmax_output_grad_kernel(out, label, ograd, dx, dense, on, off, ignore, use_ignore, scale, norm, valid_count,
                                out_grad, req):
    r = cuda.grid(1)
    while r < out.shape[0] * out.shape[2]:
        softmax_output_grad_row_dev(out, label, ograd, dx, r, dense, on, off, ignore, use_ignore, scale, norm,
                                    valid_count, out_grad, req)
        r += cuda.gridsize(1)


@cuda.jit
def _count_valid_kernel(label, ignore, count):
    # One block: threads count strided labels, then a shared-memory sum.
    red = cuda.shared.array(_THREADS, numba.float64)
    tid = cuda.threadIdx.x
    block_sum(red, count_valid_dev(label, ignore, tid, _THREADS), tid, _THREADS)
    if tid == 0:
        count[0] = max(red[0], 1.0)


@cuda.jit
def _cross_entropy_kernel(x, label, out, no_ograd, no_dx, req):
    # One block: threads sum strided rows' losses, then a shared-memory sum (one summation order: deterministic).
    red = cuda.shared.array(_THREADS, numba.float64)
    tid = cuda.threadIdx.x
    acc = 0.0
    for r in range(tid, x.shape[0], _THREADS):
        acc += cross_entropy_row_dev(x, label, r, no_ograd, no_dx, req)
    block_sum(red, acc, tid, _THREADS)
    if tid == 0:
        out[0] = assign(out[0], red[0], req)


@cuda.jit
def _cross_entropy_grad_kernel(ograd, x, label, dx, req):
    r = cuda.grid(1)
    while r < x.shape[0]:
        cross_entropy_row_dev(x, label, r, ograd, dx, req)
        r += cuda.gridsize(1)


def softmax_output_grad_gpu(out, label, ograd, dx, dense, on, off, ignore, use_ignore, scale, norm, valid_count,
                            out_grad, req, stream=0):
    """Same contract as softmax_output_grad_cpu on device arrays."""
    rows = out.shape[0] * out.shape[2]
    if req != REQ_NULL and rows:
        _softmax_output_grad_kernel[grid_1d(rows) + (stream,)](out, label, ograd, dx, dense, on, off, ignore,
                                                               use_ignore, scale, norm, valid_count, out_grad, req)


def count_valid_gpu(label, ignore, count, stream=0):
    _count_valid_kernel[1, _THREADS, stream](label, ignore, count)


def cross_entropy_gpu(x, label, out, req, stream=0):
    if req != REQ_NULL:
        no_ograd, no_dx = cuda.device_array(0, x.dtype), cuda.device_array((0, 0), x.dtype)
        _cross_entropy_kernel[1, _THREADS, stream](x, label, out, no_ograd, no_dx, req)


def cross_entropy_grad_gpu(ograd, x, label, dx, req, stream=0):
    if req != REQ_NULL and x.shape[0]:
        _cross_entropy_grad_kernel[grid_1d(x.shape[0]) + (stream,)](ograd, x, label, dx, req)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a3, _v, _a2 = f"{_t}[:, :, ::1]", f"{_t}[::1]", f"{_t}[:, ::1]"
    PTX_CHECKS += [
        (_softmax_output_grad_kernel.py_func, f"void({_a3}, {_v}, {_a3}, {_a3}, boolean, float64, float64, int64, "
                                              "boolean, float64, float64, float64[::1], boolean, int64)"),
        (_count_valid_kernel.py_func, f"void({_v}, int64, float64[::1])"),
        (_cross_entropy_kernel.py_func, f"void({_a2}, {_v}, {_v}, {_v}, {_a2}, int64)"),
        (_cross_entropy_grad_kernel.py_func, f"void({_v}, {_a2}, {_v}, {_a2}, int64)"),
    ]
