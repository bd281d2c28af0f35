"""Winograd-transformed filters kept between calls: a convolution whose weight buffer holds what it held at the last
call (the same engine version of the same var, or else bitwise the same values) reuses its transform (inference
runs the same weights every call; the transform of a 512x512 filter cost 13 ms on one core, 3x the rest of that
layer at batch 1). Python on the host around winograd_cpu's filter_transform kernel, and the kernel that compares a
weight with its kept copy."""
import threading
from collections import OrderedDict

import numpy as np
from numba import prange

from . import buffer_versions
from . import winograd_cpu as _wg
from .common import parallel_kernel

# Bytes of weights and transforms kept (least recently used go first). ResNet-50's 3x3 layers take ~230 MB in
# inference, ResNet-18's ~350 MB in training (forward and data-gradient transforms): with 256 MB its calls, in a
# cycle, each evicted the entry the next one needed and made its 47 MB afresh (512 x 512: 28 ms a call, 7 of them
# the transform).
CACHE_BYTES = 512 << 20

# (address, shape, dtype, flip, tile) -> [copy of the weight, transform or None, (var, version) the copy is of or None]
_entries = OrderedDict()
_lock = threading.Lock()
_held = [0]


# Parts of the comparison: more than the threads, so that one slow part does not hold up the others.
COMPARE_PARTS = 8


def _bits(a):
    return a.view(f"u{a.itemsize}")


@parallel_kernel(nogil=True, cache=True)
def _differing_parts(a, b, nparts):
    """How many of nparts parts of the flat unsigned arrays a and b differ: an OR of XORs a part, which vectorises and
    reads each byte once (np.array_equal's boolean array and one thread took twice as long on a 256 x 256 3x3
    weight read from memory, as in ResNet-50's inference: 0.23 -> 0.11 ms)."""
    n = a.size
    differs = np.zeros(nparts, np.int64)
    for p in prange(nparts):
        lo, hi = p * n // nparts, (p + 1) * n // nparts
        pa, pb = a[lo:hi], b[lo:hi]
        acc = a.dtype.type(0)
        for i in range(pa.size):
            acc |= pa[i] ^ pb[i]
        differs[p] = acc != 0
    return differs.sum()


def _put(key, entry):
    with _lock:
        old = _entries.pop(key, None)
        if old is not None:
            _held[0] -= _nbytes(old)
        _entries[key] = entry
        _held[0] += _nbytes(entry)
        while _held[0] > CACHE_BYTES and len(_entries) > 1:
            _, dropped = _entries.popitem(last=False)
            _held[0] -= _nbytes(dropped)


def _nbytes(entry):
    return sum(a.nbytes for a in entry[:2] if a is not None)


def _transform(w, flip, tile, U=None):
    """w's transform for the tile edge `tile`, into U (a former transform of the same shape) when given."""
    O, C = w.shape[:2]
    if U is None:
        U = np.empty((_wg.positions(tile),) + ((C, O) if flip else (O, C)), w.dtype)
    _wg.filter_transform(w, U, flip)
    return U


def _same_bits(a, b):
    """Whether a and b hold the same bits; a sample of them first, so that a weight that changed (at every step of
    training) is told apart without reading all of it."""
    fa, fb = _bits(a).reshape(-1), _bits(b).reshape(-1)
    step = max(1, fa.size // 64)
    if not np.array_equal(fa[::step], fb[::step]):
        return False
    word = 8 if fa.nbytes % 8 == 0 else a.itemsize  # 8-byte words ran 1.5x faster than bytes
    return _differing_parts(fa.view(f"u{word}"), fb.view(f"u{word}"), COMPARE_PARTS) == 0


def transformed(w, flip, required, tile=_wg.TILE):
    """The transform of the C-contiguous weight w (O, C, 3, 3) for Winograd tiles of edge `tile` (flip: of the
    data gradient's rotated filter, (positions, C, O), else (positions, O, C)). When w is bitwise the weight this
    buffer held at the last call, the kept transform (made now if that call did not need one); otherwise w is
    remembered and, when `required`, its transform made and kept, else None is returned. Inside a graph replay,
    whose buffers' engine versions buffer_versions knows, the weight is the same at the same version of the same
    var without reading it (in ResNet-50's inference at batch 1 the bitwise comparisons read 34 MB a call: 3 ms
    of 64). A buffer seen before keeps its memory: training changes the weight at every step, and fresh copies and
    transforms of a 512x512 filter (47 MB) faulted their pages in at every call."""
    key = (w.ctypes.data, w.shape, w.dtype.str, flip, tile)
    stamp = buffer_versions.stamp(w)
    with _lock:
        entry = _entries.get(key)
        if entry is not None:
            _entries.move_to_end(key)
    if entry is not None and (_same_stamp(entry[2], stamp) or _same_bits(entry[0], w)):
        if entry[1] is None or entry[2] != stamp:  # the transform made now, or the stamp it holds at kept
            entry = [entry[0], _transform(w, flip, tile) if entry[1] is None else entry[1], stamp]
            _put(key, entry)
        return entry[1]
    if entry is None:
        entry = [w.copy(), None, None]
    else:
        np.copyto(entry[0], w)
    # The engine ran every reader of the former transform before the write that changed w: it may be reused.
    entry = [entry[0], _transform(w, flip, tile, entry[1]) if required else None, stamp]
    _put(key, entry)
    return entry[1]


def _same_stamp(kept, stamp):
    """Whether two (var, version) stamps, either None when unknown, are known to be the same contents."""
    return kept is not None and stamp is not None and kept[0] is stamp[0] and kept[1] == stamp[1]


def clear():
    """Forget every kept transform."""
    with _lock:
        _entries.clear()
        _held[0] = 0
