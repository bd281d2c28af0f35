"""GPU computes of the layout and selection ops, shared parts: a view's element layout, learned by running the
CPU path's own NumPy view code on a probe array; strided copies between such windows of device arrays; index
arrays moved between host and device, and the host-side plans of scatters. numba.cuda loads on first use."""
import collections

import numpy as np

from ._helpers import store
from ._nn_common import kernels
from ..kernels.common import REQ_ADD

Window = collections.namedtuple("Window", "shape offset strides")  # element offset and strides


def probe(shape):
    """A uint8 array of `shape` to run view code on: its views' byte offsets and strides are element offsets
    and strides. np.zeros maps pages lazily and views never touch them, so a large probe costs nothing."""
    return np.zeros(shape, np.uint8)


def window(view, base):
    """The Window of `view`, a view of the probe `base`."""
    if view.size and not np.may_share_memory(view, base):
        raise ValueError(f"view code copied its probe of shape {base.shape} instead of viewing it")
    offset = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return Window(view.shape, offset, view.strides)


def dense(shape):
    """The Window of a whole C-contiguous array of `shape` (or of any array of that many elements)."""
    p = probe(shape)
    return window(p, p)


def _assignable(shape, target):
    # NumPy's assignment rule drops leading (size-1) axes of the value beyond the target's rank
    return tuple(shape)[max(0, len(shape) - len(target)):]


def broadcast_window(shape, target):
    """The Window reading an array of `shape` broadcast to `target` as NumPy assigns it."""
    p = probe(_assignable(shape, target))
    return window(np.broadcast_to(p, target), p)


def broadcast_positions(shape, target):
    """The flat positions an array of `shape` broadcast to `target` (as NumPy assigns it) reads, in C order."""
    shape = _assignable(shape, target)
    return np.broadcast_to(np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape), target).ravel()


def copy(src, src_window, dst, dst_window, req):
    """dst[dst_window] (req)= src[src_window] elementwise on C-contiguous device arrays; one window shape."""
    if tuple(src_window.shape) != tuple(dst_window.shape):
        raise ValueError(f"copy between windows of shapes {src_window.shape} and {dst_window.shape}")
    kernels("layout_gpu").strided_copy_gpu(src, src_window.offset, src_window.strides, dst, dst_window.offset,
                                           dst_window.strides, src_window.shape, req)


def view_computes(view):
    """{"cpu", "gpu"} computes of an op whose output is view(attrs, x, *other inputs), a NumPy view of its
    first input, in C order: the view's shape may split the output's axes (tile's (reps, dims) pairs)."""
    def cpu(attrs, inputs, outputs, reqs):
        out, v = outputs[0], view(attrs, *inputs)
        store(out, v if v.shape == out.shape else v.reshape(out.shape), reqs[0])

    def gpu(attrs, inputs, outputs, reqs):
        x = inputs[0]
        base = probe(x.shape)
        v = view(attrs, base, *inputs[1:])
        copy(x, window(v, base), outputs[0], dense(v.shape), reqs[0])

    return {"cpu": cpu, "gpu": gpu}


def to_host(a):
    """A device array's values as NumPy (index inputs are validated and normalised on the host)."""
    return a.copy_to_host()


def to_device(a, dtype=np.int64):
    """NumPy `a` as a C-contiguous device array of `dtype` (int64: positions)."""
    from numba import cuda
    return cuda.to_device(np.ascontiguousarray(a, dtype))


def scatter_add(src, rows, n_rows, out, inner, req, src_rows=None):
    """out (outer, n_rows, inner) (req)= zeros plus each src row k added at row rows[k], in k order as
    np.add.at adds (so the sums equal the CPU's); src is (outer, len(rows), inner), or its row k is
    src_rows[k] of a (1, *, inner) src when given (broadcast data). Host work is in len(rows), not n_rows."""
    if not out.size:
        return
    zero_unless_add(out, req)
    order = np.argsort(rows, kind="stable")
    targets, starts = np.unique(rows[order], return_index=True)  # each target's run in the sorted rows
    picked = order if src_rows is None else np.asarray(src_rows)[order]
    k_rows = src.size // (out.size // n_rows)
    kernels("gather_gpu").segment_sum_gpu(src, to_device(picked), to_device(np.append(starts, len(rows))), out,
                                          to_device(targets), k_rows, n_rows, inner, req)


def put_rows(src, src_rows, out, rows, inner, req):
    """out[rows[k], :] (req)= src[src_rows[k], :] with out and src viewed as (*, inner); where rows repeat
    the last write wins, as in NumPy's out[key] = values."""
    rows = np.asarray(rows).ravel()
    last = len(rows) - 1 - np.unique(rows[::-1], return_index=True)[1]
    if last.size:
        kernels("gather_gpu").put_rows_gpu(src, to_device(np.asarray(src_rows).ravel()[last]), out,
                                           to_device(rows[last]), inner, req)


def zero_unless_add(out, req):
    """Zero `out` before a scatter that writes only some of it, unless the request adds (adding zeros)."""
    if req != REQ_ADD:
        kernels("elemwise_gpu").fill_gpu(out, 0, req)
