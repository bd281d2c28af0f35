"""Count sketch (MXNet 1.9.1's contrib.count_sketch), CPU and CUDA from one source: out[n, o] = the sum over the
input columns j hashed to o (positions[j] == o) of data[n, j] * signs[j]. A gather per output element: no atomics,
the same sum on every run. Positions arrive validated (in [0, out_dim)); sums in float64; arrays are flat."""
from numba import cuda, prange

from .common import REQ_NULL, assign, parallel_kernel
from .launch import dual, grid_1d


def _sketch_value(data, positions, signs, e, d, out_dim):
    """Output element e of the (rows, out_dim) sketch of data (rows, d)."""
    n, o = e // out_dim, e % out_dim
    acc = 0.0
    for j in range(d):
        if positions[j] == o:
            acc += data[n * d + j] * signs[j]
    return acc


_sketch_value_cpu, _sketch_value_dev = dual(_sketch_value)


@parallel_kernel(nogil=True, cache=True)
def _sketch_cpu(data, positions, signs, out, d, out_dim, req):
    for e in prange(out.size):
        out[e] = assign(out[e], _sketch_value_cpu(data, positions, signs, e, d, out_dim), req)


def _sketch_kernel(data, positions, signs, out, d, out_dim, req):
    e = cuda.grid(1)
    while e < out.size:
        out[e] = assign(out[e], _sketch_value_dev(data, positions, signs, e, d, out_dim), req)
        e += cuda.gridsize(1)


sketch_kernel = cuda.jit(_sketch_kernel)


def sketch_cpu(data, positions, signs, out, req):
    """out (..., out_dim) (req)= the count sketch of data (..., d) for int64 positions (d,) and signs (d,)."""
    if req != REQ_NULL:
        _sketch_cpu(data.reshape(data.size), positions, signs.reshape(signs.size), out.reshape(out.size),
                    positions.size, out.shape[out.ndim - 1], req)


def sketch_gpu(data, positions, signs, out, req, stream=0):
    """CUDA twin of sketch_cpu."""
    if req != REQ_NULL and out.size:
        blocks, threads = grid_1d(out.size)
        sketch_kernel[blocks, threads, stream](data.reshape(data.size), positions, signs.reshape(signs.size),
                                               out.reshape(out.size), positions.size, out.shape[out.ndim - 1], req)


PTX_CHECKS = [(_sketch_kernel, f"void({t}[::1], int64[::1], {t}[::1], {t}[::1], int64, int64, int64)")
              for t in ("float32", "float64")]
