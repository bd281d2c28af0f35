"""CUDA layout kernels on flat device arrays: the strided copy dst[dst_off + idx·dst_strides] (req)=
src[src_off + idx·src_strides] over an N-d index space idx (transpose, slices, reverse, tile, windows of
concat/split), and the per-axis gather out[idx] (req)= x[Σ_d maps_d[idx_d]·strides_d], or a fill where a map
holds -1 (Pad)."""
import numpy as np
from numba import cuda

from .common import REQ_NULL, flat
from .launch import grid_1d, store

MAX_DIMS = 6  # dims of a kernel's index space after merging axes; copies of more loop on the host


def _strided_copy_kernel(src, src_off, src_strides, dst, dst_off, dst_strides, shape, n, req):
    # For the n = prod(shape) indices idx of C-order `shape` (MAX_DIMS dims):
    # dst[dst_off + idx·dst_strides] (req)= src[src_off + idx·src_strides]; dst positions are distinct.
    i = cuda.grid(1)
    while i < n:
        r = i
        s = src_off
        d = dst_off
        for a in range(MAX_DIMS - 1, -1, -1):
            c = r % shape[a]
            r //= shape[a]
            s += c * src_strides[a]
            d += c * dst_strides[a]
        store(dst, d, src[s], req)
        i += cuda.gridsize(1)


def _axis_gather_kernel(x, maps, starts, strides, shape, fill, out, req):
    # out[i] (req)= x[Σ_d maps[starts[d] + c_d]·strides[d]] for i's coordinates c in C-order `shape` (MAX_DIMS
    # dims), or fill where any of those map entries is -1; fill has out's dtype.
    i = cuda.grid(1)
    while i < out.size:
        r = i
        off = 0
        inside = True
        for d in range(MAX_DIMS - 1, -1, -1):
            m = maps[starts[d] + r % shape[d]]
            r //= shape[d]
            if m < 0:
                inside = False
            off += m * strides[d]
        if inside:
            store(out, i, x[off], req)
        else:
            store(out, i, fill, req)
        i += cuda.gridsize(1)


strided_copy_kernel = cuda.jit(_strided_copy_kernel)
axis_gather_kernel = cuda.jit(_axis_gather_kernel)


def scalar_as(dtype, value):
    """`value` in `dtype` by NumPy's unsafe cast (wrapping, truncating), as the CPU ops store Python numbers."""
    return np.asarray(value).astype(dtype)[()]


def c_strides(shape):
    """Element strides of a C-contiguous array of `shape`."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return strides[::-1]


def merge_axes(shape, src_strides, dst_strides):
    """[(size, src stride, dst stride)] of an index space with size-1 axes dropped and each axis merged into
    the one before it where both layouts step through the pair as through one axis."""
    merged = []
    for n, s, d in zip(shape, src_strides, dst_strides):
        if n == 1:
            continue
        if merged and merged[-1][1] == n * s and merged[-1][2] == n * d:
            merged[-1] = (merged[-1][0] * n, s, d)
        else:
            merged.append((n, s, d))
    return merged


def strided_copy_gpu(src, src_off, src_strides, dst, dst_off, dst_strides, shape, req, stream=0):
    """dst[dst_off + idx·dst_strides] (req)= src[src_off + idx·src_strides] for every idx in `shape`, on
    C-contiguous src and dst addressed flat by element offsets and strides (negative and zero allowed; dst
    positions must be distinct). Axes beyond MAX_DIMS after merging are looped over on the host."""
    count = int(np.prod(shape, dtype=np.int64))
    if req == REQ_NULL or count == 0:
        return
    dims = merge_axes(shape, src_strides, dst_strides)
    outer, inner = dims[:max(0, len(dims) - MAX_DIMS)], dims[max(0, len(dims) - MAX_DIMS):]
    sizes, s_str, d_str = zip(*([(1, 0, 0)] * (MAX_DIMS - len(inner)) + inner))
    n = int(np.prod(sizes, dtype=np.int64))
    sf, df = flat(src), flat(dst)
    grid = grid_1d(n) + (stream,)
    for coords in np.ndindex(*[m for m, _, _ in outer]):
        so = src_off + sum(c * s for c, (_, s, _) in zip(coords, outer))
        do = dst_off + sum(c * d for c, (_, _, d) in zip(coords, outer))
        strided_copy_kernel[grid](sf, so, s_str, df, do, d_str, sizes, n, req)


def axis_gather_gpu(x, maps, fill, out, req, stream=0):
    """out (req)= x[np.ix_(*maps)] with -1 map entries giving `fill` (cast to out's dtype); x and out are
    C-contiguous, len(maps) == x.ndim == out.ndim <= MAX_DIMS, len(maps[d]) == out.shape[d]."""
    if req == REQ_NULL or not out.size:
        return
    lead = MAX_DIMS - x.ndim
    lens = [len(m) for m in maps]
    # entry 0 of the joined maps is a 0: the map of every leading axis of size 1
    joined = np.concatenate([np.zeros(1, np.int64)] + [np.asarray(m, np.int64) for m in maps])
    starts = (0,) * lead + tuple(1 + sum(lens[:d]) for d in range(len(maps)))
    strides = (0,) * lead + tuple(c_strides(x.shape))
    shape = (1,) * lead + tuple(out.shape)
    axis_gather_kernel[grid_1d(out.size) + (stream,)](flat(x), cuda.to_device(joined), starts, strides, shape,
                                                      scalar_as(out.dtype, fill), flat(out), req)


def _ptx_checks():
    tup = f"UniTuple(int64, {MAX_DIMS})"
    checks = []
    for t in ("float16", "float32", "float64", "int32", "int64", "uint8"):
        v = f"{t}[::1]"
        checks += [(_strided_copy_kernel, f"void({v}, int64, {tup}, {v}, int64, {tup}, {tup}, int64, int64)"),
                   (_axis_gather_kernel, f"void({v}, int64[::1], {tup}, {tup}, {tup}, {t}, {v}, int64)")]
    return checks


PTX_CHECKS = _ptx_checks()
