"""Cumulative sums along the middle axis of (outer, length, inner) arrays, forward or reversed (the gradient of a
cumsum is the reversed cumsum of its head gradient), CPU and CUDA: a two-pass block scan. The axis is cut into blocks;
pass 1 sums each block, a short serial scan over the blocks turns the sums into each block's starting offset, and pass
2 scans each block from its offset. Blocks run in parallel on both devices; the CPU handles all inner lanes of a block
at once (contiguous rows), a CUDA thread one (block, inner) lane."""
import math

import numba
import numpy as np
from numba import cuda, prange

from .common import REQ_ADD, REQ_NULL, parallel_kernel
from .launch import dual, grid_1d


def _block_total(x, totals, o, b, block, j0, j1):
    """totals[o, b, j0:j1] = the sums of block b of lanes j0:j1 (the order within a block does not matter)."""
    length = x.shape[1]
    lo, hi = b * block, min(length, (b + 1) * block)
    if j1 - j0 == 1:  # one lane: sum in a register
        totals[o, b, j0] = 0
        acc = totals[o, b, j0]  # zero of the accumulator's type
        for i in range(lo, hi):
            acc += x[o, i, j0]
        totals[o, b, j0] = acc
        return
    for j in range(j0, j1):
        totals[o, b, j] = 0
    for i in range(lo, hi):
        for j in range(j0, j1):
            totals[o, b, j] += x[o, i, j]


def _block_offsets(totals, o, j0, j1, reverse):
    """totals[o, :, j0:j1] (block sums) replaced by the sums of the blocks before each one in scan order."""
    nblocks = totals.shape[1]
    first = nblocks - 1 if reverse else 0
    for j in range(j0, j1):
        run = totals[o, first, j]
        totals[o, first, j] = 0
        for k in range(1, nblocks):
            b = nblocks - 1 - k if reverse else k
            t = totals[o, b, j]
            totals[o, b, j] = run
            run += t


def _block_scan(x, out, running, o, b, block, j0, j1, reverse, req):
    """out[o, block b, j0:j1] (req)= the scan of block b starting from running[o, b, j0:j1] (which it advances)."""
    length = x.shape[1]
    lo, hi = b * block, min(length, (b + 1) * block)
    if j1 - j0 == 1 and req != REQ_ADD:  # one lane written: the running sum in a register
        v = running[o, b, j0]
        for p in range(hi - lo):
            i = hi - 1 - p if reverse else lo + p
            v += x[o, i, j0]
            out[o, i, j0] = v
        running[o, b, j0] = v
        return
    for p in range(hi - lo):
        i = hi - 1 - p if reverse else lo + p
        for j in range(j0, j1):
            v = running[o, b, j] + x[o, i, j]
            running[o, b, j] = v
            if req == REQ_ADD:
                out[o, i, j] += v
            else:
                out[o, i, j] = v


_block_total_cpu, _block_total_dev = dual(_block_total)
_block_offsets_cpu, _block_offsets_dev = dual(_block_offsets)
_block_scan_cpu, _block_scan_dev = dual(_block_scan)


@parallel_kernel(nogil=True, cache=True)
def _scan_cpu(x, out, totals, block, reverse, req):
    outer, inner, nblocks = x.shape[0], x.shape[2], totals.shape[1]
    if nblocks == 1:  # one block a row: it starts from zero, no block sums needed
        totals[:] = 0
    else:
        for job in prange(outer * nblocks):
            _block_total_cpu(x, totals, job // nblocks, job % nblocks, block, 0, inner)
        for o in range(outer):
            _block_offsets_cpu(totals, o, 0, inner, reverse)
    for job in prange(outer * nblocks):
        _block_scan_cpu(x, out, totals, job // nblocks, job % nblocks, block, 0, inner, reverse, req)


@numba.njit(inline="always", nogil=True)
def _lane(k, nblocks, inner):
    """(o, b, j) of flat lane k over (outer, nblocks, inner)."""
    return k // (nblocks * inner), k // inner % nblocks, k % inner


def _total_kernel(x, totals, block):
    nblocks, inner = totals.shape[1], totals.shape[2]
    k = cuda.grid(1)
    while k < totals.size:
        o, b, j = _lane(k, nblocks, inner)
        _block_total_dev(x, totals, o, b, block, j, j + 1)
        k += cuda.gridsize(1)


def _offsets_kernel(totals, reverse):
    inner = totals.shape[2]
    k = cuda.grid(1)
    while k < totals.shape[0] * inner:
        _block_offsets_dev(totals, k // inner, k % inner, k % inner + 1, reverse)
        k += cuda.gridsize(1)


def _scan_kernel(x, out, totals, block, reverse, req):
    nblocks, inner = totals.shape[1], totals.shape[2]
    k = cuda.grid(1)
    while k < totals.size:
        o, b, j = _lane(k, nblocks, inner)
        _block_scan_dev(x, out, totals, o, b, block, j, j + 1, reverse, req)
        k += cuda.gridsize(1)


total_kernel, offsets_kernel, scan_kernel = (cuda.jit(k) for k in (_total_kernel, _offsets_kernel, _scan_kernel))


def _cpu_block(length, outer):
    """Block length on the CPU: the whole axis when the outer rows already give every thread work, else about four
    blocks a thread (not under 4096 elements, so the block sums stay a small part of the work)."""
    threads = numba.get_num_threads()
    if outer >= threads:
        return max(length, 1)
    return max(4096, -(-length // (4 * threads)))


def cumsum_cpu(x, out, reverse, req):
    """out (req)= the cumulative sum of x along the middle axis of (outer, length, inner) arrays (from the end when
    reverse); out C-contiguous, of the type to accumulate in; x C-contiguous of any numeric type."""
    if req == REQ_NULL or out.size == 0:
        return
    block = _cpu_block(x.shape[1], x.shape[0])
    totals = np.empty((x.shape[0], -(-x.shape[1] // block), x.shape[2]), out.dtype)
    _scan_cpu(x, out, totals, block, reverse, req)


def cumsum_gpu(x, out, reverse, req, stream=0):
    """CUDA twin of cumsum_cpu (device arrays): blocks of about sqrt(length), so both the lanes of the block passes
    and the serial scan over the blocks are short."""
    if req == REQ_NULL or out.size == 0:
        return
    outer, length, inner = x.shape
    block = max(32, math.isqrt(length))
    totals = cuda.device_array((outer, -(-length // block), inner), out.dtype, stream=stream)
    blocks, threads = grid_1d(totals.size)
    total_kernel[blocks, threads, stream](x, totals, block)
    blocks, threads = grid_1d(outer * inner)
    offsets_kernel[blocks, threads, stream](totals, reverse)
    blocks, threads = grid_1d(totals.size)
    scan_kernel[blocks, threads, stream](x, out, totals, block, reverse, req)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a = f"{_t}[:, :, ::1]"
    PTX_CHECKS += [(_total_kernel, f"void({_a}, {_a}, int64)"), (_offsets_kernel, f"void({_a}, boolean)"),
                   (_scan_kernel, f"void({_a}, {_a}, {_a}, int64, boolean, int64)")]
