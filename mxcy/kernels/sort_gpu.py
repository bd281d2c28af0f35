"""CUDA sort/argsort/topk along the middle axis of a C-contiguous (outer, n, inner) array: a block per row runs a
bitonic network on (key, position) pairs, so equal keys keep their input order both ways and NaN is the largest
key; rows of up to SHARED_ITEMS sort in shared memory, longer ones in a global scratch row per block."""
import numba
from numba import cuda

from .common import REQ_NULL, assign

SHARED_ITEMS = 2048  # keys (8 bytes at most) and int64 positions: 32 KiB of shared memory
MAX_THREADS = 512
MAX_BLOCKS = 2112
MAX_SCRATCH_ROWS = 264  # blocks of long-row sorts, each with a scratch row
VALUES, INDICES, MASK = 1, 2, 4  # what a launch writes (bit flags)
_WRITES = {"value": (VALUES,), "indices": (INDICES,), "mask": (MASK,), "both": (VALUES, INDICES)}


@cuda.jit(device=True, inline="always")
def _before(ka, ia, kb, ib, ascend):
    """Whether (key ka, position ia) sorts before (kb, ib): NaN is the largest key, equal keys (NaN with NaN)
    keep position order in either direction."""
    a_nan = ka != ka
    b_nan = kb != kb
    if a_nan or b_nan:
        if a_nan and b_nan:
            return ia < ib
        return b_nan == ascend
    if ka == kb:
        return ia < ib
    return (ka < kb) == ascend


@cuda.jit(device=True, inline="always")
def _exchange(keys, idx, a, b, n, ascend):
    # Compare-exchange a < b; positions from n on hold virtual keys above every real one, which never move.
    if b < n and _before(keys[b], idx[b], keys[a], idx[a], ascend):
        k = keys[a]
        keys[a] = keys[b]
        keys[b] = k
        i = idx[a]
        idx[a] = idx[b]
        idx[b] = i


@cuda.jit(device=True, inline="always")
def _sort_row(x, start, n, inner, keys, idx, ascend):
    """keys[:n], idx[:n] = x[start + j * inner] for j < n and j, sorted by _before; every thread of the block
    takes part. The network is the bitonic one whose merges first compare mirrored pairs, so that every
    comparison sends the smaller item to the lower position, which is what lets the padding stay virtual."""
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for j in range(tid, n, nt):
        keys[j] = x[start + j * inner]
        idx[j] = j
    cuda.syncthreads()
    pairs = 1
    while 2 * pairs < n:
        pairs *= 2
    size = 2
    while size // 2 < n:
        half = size // 2
        for t in range(tid, pairs, nt):
            a = t // half * size + t % half
            _exchange(keys, idx, a, a - 2 * (t % half) + size - 1, n, ascend)
        cuda.syncthreads()
        stride = half // 2
        while stride > 0:
            for t in range(tid, pairs, nt):
                a = t // stride * 2 * stride + t % stride
                _exchange(keys, idx, a, a + stride, n, ascend)
            cuda.syncthreads()
            stride //= 2
        size *= 2


@cuda.jit(device=True, inline="always")
def _write_row(keys, idx, values, positions, mask, o, i, n, inner, k, what, req_v, req_i, req_m):
    """The first k sorted items as values and/or positions of output row (o, i), or the whole row's mask."""
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    if what & MASK:
        for j in range(tid, n, nt):
            p = (o * n + idx[j]) * inner + i
            mask[p] = assign(mask[p], 1 if j < k else 0, req_m)
        return
    for j in range(tid, k, nt):
        p = (o * k + j) * inner + i
        if what & VALUES:
            values[p] = assign(values[p], keys[j], req_v)
        if what & INDICES:
            positions[p] = assign(positions[p], idx[j], req_i)


def _make_sort_kernel(in_shared):
    def _sort_kernel(x, values, positions, mask, scratch_keys, scratch_idx, n, inner, k, ascend, what, req_v,
                     req_i, req_m):
        # Block b sorts rows b, b + gridDim.x, ... of the outer * inner rows, in shared memory or in its
        # scratch row.
        if in_shared:
            keys = cuda.shared.array(SHARED_ITEMS, x.dtype)
            idx = cuda.shared.array(SHARED_ITEMS, numba.int64)
        else:
            keys = scratch_keys[cuda.blockIdx.x]
            idx = scratch_idx[cuda.blockIdx.x]
        for r in range(cuda.blockIdx.x, x.size // n, cuda.gridDim.x):
            o = r // inner
            i = r % inner
            _sort_row(x, o * n * inner + i, n, inner, keys, idx, ascend)
            _write_row(keys, idx, values, positions, mask, o, i, n, inner, k, what, req_v, req_i, req_m)
            cuda.syncthreads()  # the next row reuses keys and idx
    return _sort_kernel


_sort_shared_py = _make_sort_kernel(True)
_sort_global_py = _make_sort_kernel(False)
_sort_shared = cuda.jit(_sort_shared_py)
_sort_global = cuda.jit(_sort_global_py)


def _sig(t, i):
    return (f"void({t}[::1], {t}[::1], {i}[::1], {t}[::1], {t}[:, ::1], int64[:, ::1], int64, int64, int64, "
            "boolean, int64, int64, int64, int64)")


PTX_CHECKS = [(fn, _sig(t, i)) for fn in (_sort_shared_py, _sort_global_py)
              for t, i in (("float32", "float32"), ("float64", "int64"), ("int32", "int32"))]


def sort_gpu(x, n, inner, k, ascend, ret_typ, outputs, reqs, stream=0):
    """Sort flat x seen as (outer, n, inner) along n (stable, NaN largest) and write what topk's ret_typ names:
    the first k items of each row as values and/or positions (outer, k, inner) in the outputs' dtypes ("value",
    "indices", "both": [values, positions]), or a mask (outer, n, inner), 1 where an item is among its row's first
    k, 0 elsewhere ("mask"). Each output is stored under its request."""
    flat = x.reshape(x.size)
    stand_in, stand_in_int = flat[:1], cuda.device_array(1, "int64", stream=stream)  # for arrays never touched
    arrays = {VALUES: stand_in, INDICES: stand_in_int, MASK: stand_in}
    req_of = {VALUES: REQ_NULL, INDICES: REQ_NULL, MASK: REQ_NULL}
    for flag, out, req in zip(_WRITES[ret_typ], outputs, reqs):
        if req != REQ_NULL and out.size:
            arrays[flag], req_of[flag] = out.reshape(out.size), req
    what = sum(flag for flag, req in req_of.items() if req != REQ_NULL)
    if what == 0:
        return
    threads = 32
    while threads < min(MAX_THREADS, n // 2):
        threads *= 2
    blocks = min(x.size // n, MAX_BLOCKS if n <= SHARED_ITEMS else MAX_SCRATCH_ROWS)
    if n <= SHARED_ITEMS:
        kernel, keys, idx = _sort_shared, stand_in.reshape(1, 1), stand_in_int.reshape(1, 1)
    else:
        kernel = _sort_global
        keys = cuda.device_array((blocks, n), x.dtype, stream=stream)
        idx = cuda.device_array((blocks, n), "int64", stream=stream)
    kernel[blocks, threads, stream](flat, arrays[VALUES], arrays[INDICES], arrays[MASK], keys, idx, n, inner, k,
                                    bool(ascend), what, req_of[VALUES], req_of[INDICES], req_of[MASK])
