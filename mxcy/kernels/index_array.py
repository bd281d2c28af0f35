"""contrib.index_array's kernel, CPU and CUDA from one source: out (data's shape + (len(axes),)) holds each
element's index along each listed axis. Arrays are flat; `strides` are data's element strides in C order."""
from numba import cuda, prange

from .common import REQ_NULL, assign, parallel_kernel
from .launch import dual, grid_1d


def _index_value(axes, strides, shape, e):
    """Output element e: the index along axes[e % len(axes)] of data element e // len(axes)."""
    a = axes[e % axes.size]
    return e // axes.size // strides[a] % shape[a]


_index_value_cpu, _index_value_dev = dual(_index_value)


@parallel_kernel(nogil=True, cache=True)
def _index_array_cpu(axes, strides, shape, out, req):
    for e in prange(out.size):
        out[e] = assign(out[e], _index_value_cpu(axes, strides, shape, e), req)


def _index_array_kernel(axes, strides, shape, out, req):
    e = cuda.grid(1)
    while e < out.size:
        out[e] = assign(out[e], _index_value_dev(axes, strides, shape, e), req)
        e += cuda.gridsize(1)


index_array_kernel = cuda.jit(_index_array_kernel)


def index_array_cpu(axes, strides, shape, out, req):
    """out (req)= the indices; axes, strides and shape are int64 arrays (the last two of the data)."""
    if req != REQ_NULL:
        _index_array_cpu(axes, strides, shape, out.reshape(out.size), req)


def index_array_gpu(axes, strides, shape, out, req, stream=0):
    """CUDA twin of index_array_cpu (axes, strides, shape on the device)."""
    if req != REQ_NULL and out.size:
        blocks, threads = grid_1d(out.size)
        index_array_kernel[blocks, threads, stream](axes, strides, shape, out.reshape(out.size), req)


PTX_CHECKS = [(_index_array_kernel, "void(int64[::1], int64[::1], int64[::1], int64[::1], int64)")]
