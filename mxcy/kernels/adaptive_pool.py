"""Adaptive average pooling (MXNet 1.9.1's contrib.AdaptiveAvgPooling2D) on NCHW planes, CPU and CUDA: output
(oh, ow) of an OH x OW map averages input rows floor(oh * H / OH) .. ceil((oh + 1) * H / OH) - 1 and the columns
likewise (neighbouring bins overlap when the sizes do not divide). Both directions gather, one output element per
loop item (the backward sums the bins that contain each input pixel); sums in float64; arrays are flat."""
import numba
from numba import cuda, prange

from .common import REQ_NULL, assign, parallel_kernel
from .launch import dual, grid_1d, store


@numba.njit(inline="always", nogil=True)
def _bin(o, out_size, in_size):
    """[start, end) of output position o's input bin along one axis."""
    return o * in_size // out_size, -(-(o + 1) * in_size // out_size)


@numba.njit(inline="always", nogil=True)
def _bins_of(i, out_size, in_size):
    """[first, last) of the output positions whose bins contain input position i along one axis."""
    return i * out_size // in_size, -(-(i + 1) * out_size // in_size)


def _pool_value(x, e, H, W, OH, OW):
    """The mean of output element e's bin (e flat over (planes, OH, OW))."""
    plane, oh, ow = e // (OH * OW), e // OW % OH, e % OW
    h0, h1 = _bin(oh, OH, H)
    w0, w1 = _bin(ow, OW, W)
    acc = 0.0
    for h in range(h0, h1):
        for w in range(w0, w1):
            acc += x[(plane * H + h) * W + w]
    return acc / ((h1 - h0) * (w1 - w0))


def _grad_value(dy, e, H, W, OH, OW):
    """The gradient at input element e (flat over (planes, H, W)): each containing bin's head gradient over its size."""
    plane, h, w = e // (H * W), e // W % H, e % W
    oh0, oh1 = _bins_of(h, OH, H)
    ow0, ow1 = _bins_of(w, OW, W)
    acc = 0.0
    for oh in range(oh0, oh1):
        h0, h1 = _bin(oh, OH, H)
        for ow in range(ow0, ow1):
            w0, w1 = _bin(ow, OW, W)
            acc += dy[(plane * OH + oh) * OW + ow] / ((h1 - h0) * (w1 - w0))
    return acc


_pool_value_cpu, _pool_value_dev = dual(_pool_value)
_grad_value_cpu, _grad_value_dev = dual(_grad_value)


@parallel_kernel(nogil=True, cache=True)
def _fwd_cpu(x, out, H, W, OH, OW, req):
    for e in prange(out.size):
        out[e] = assign(out[e], _pool_value_cpu(x, e, H, W, OH, OW), req)


@parallel_kernel(nogil=True, cache=True)
def _bwd_cpu(dy, dx, H, W, OH, OW, req):
    for e in prange(dx.size):
        dx[e] = assign(dx[e], _grad_value_cpu(dy, e, H, W, OH, OW), req)


def _fwd_kernel(x, out, H, W, OH, OW, req):
    e = cuda.grid(1)
    while e < out.size:
        store(out, e, _pool_value_dev(x, e, H, W, OH, OW), req)
        e += cuda.gridsize(1)


def _bwd_kernel(dy, dx, H, W, OH, OW, req):
    e = cuda.grid(1)
    while e < dx.size:
        store(dx, e, _grad_value_dev(dy, e, H, W, OH, OW), req)
        e += cuda.gridsize(1)


fwd_kernel = cuda.jit(_fwd_kernel)
bwd_kernel = cuda.jit(_bwd_kernel)


def _dims(image, pooled):
    return image.shape[2], image.shape[3], pooled.shape[2], pooled.shape[3]


def fwd_cpu(x, out, req):
    """out (N, C, OH, OW) (req)= the adaptive average pooling of x (N, C, H, W); C-contiguous arrays."""
    if req != REQ_NULL:
        _fwd_cpu(x.reshape(x.size), out.reshape(out.size), *_dims(x, out), req)


def bwd_cpu(dy, dx, req):
    """dx (N, C, H, W) (req)= the gradient of fwd_cpu for head gradient dy (N, C, OH, OW)."""
    if req != REQ_NULL:
        _bwd_cpu(dy.reshape(dy.size), dx.reshape(dx.size), *_dims(dx, dy), req)


def fwd_gpu(x, out, req, stream=0):
    """CUDA twin of fwd_cpu."""
    if req != REQ_NULL and out.size:
        blocks, threads = grid_1d(out.size)
        fwd_kernel[blocks, threads, stream](x.reshape(x.size), out.reshape(out.size), *_dims(x, out), req)


def bwd_gpu(dy, dx, req, stream=0):
    """CUDA twin of bwd_cpu."""
    if req != REQ_NULL and dx.size:
        blocks, threads = grid_1d(dx.size)
        bwd_kernel[blocks, threads, stream](dy.reshape(dy.size), dx.reshape(dx.size), *_dims(dx, dy), req)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _sig = f"void({_t}[::1], {_t}[::1], int64, int64, int64, int64, int64)"
    PTX_CHECKS += [(_fwd_kernel, _sig), (_bwd_kernel, _sig)]
