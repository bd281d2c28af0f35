"""Batches crossing from DataLoader worker processes: arrays travel as POSIX shared-memory segments,
only their names, shapes and dtypes are pickled.

A worker copies an array into a segment in /dev/shm (or stacks straight into one, see
`shared_ndarray`); the main process maps it and hands out NumPy/NDArray views of the mapping, so the
data is never pickled nor copied again on the receiving side. Segments are recycled: when the main
process has dropped every view of a batch, the segment's name goes back to its worker (`loads`'
`give_back`), which writes a later batch into it through the mapping it kept. A fresh tmpfs segment
costs a page fault per 4 kB page (~40 ms of kernel time for a batch of 64 224x224 float32 images,
more than the arithmetic of the transforms); a recycled one costs none. The segments are opened with
os/mmap directly because a SharedMemory object cannot be closed while NumPy views of it exist.
Each segment is registered with multiprocessing's resource tracker (shared by the workers), which
unlinks leftovers of a killed worker when the main process exits; a worker that stops unlinks all
of its segments (the main process's mappings stay valid).
"""
import io
import mmap
import os
import pickle
import secrets
import threading
import weakref
from multiprocessing import resource_tracker

import numpy as np

from ...context import Context
from ...ndarray import NDArray

_SHM_DIR = "/dev/shm"
# Arrays smaller than this travel inside the pickle: a segment costs more than copying them.
_INLINE_BYTES = 1024
# Free segments a worker keeps for reuse (its prefetched batches need about prefetch / num_workers).
_KEEP_FREE = 4
_CPU_SHARED = Context("cpu_shared", 0)

# Worker side. Every segment this process made and has not unlinked: name -> its mapping, kept open
# so that a recycled segment is written without page faults.
_mapped = {}
# Names of segments not in use, oldest first.
_free = []
# Segments made by shared_ndarray in this process and not sent yet: id(array) -> (name, weakref to
# the array), so a batch stacked into a segment is sent by name without another copy.
_created = {}
# Those sent: name -> weakref to the array, which (kept by the dataset, say) rules out reusing it.
_sent = {}

# Main side: the give_back of the payload being unpickled in this thread (see loads).
_receiving = threading.local()


def _segment(nbytes):
    """A segment of at least `nbytes` (at most twice that): a free one, or a new one."""
    for i, name in enumerate(_free):
        if nbytes <= len(_mapped[name]) <= 2 * nbytes:
            return _free.pop(i), _mapped[name]
    name = f"mxcy_{os.getpid()}_{secrets.token_hex(8)}"
    fd = os.open(os.path.join(_SHM_DIR, name), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, nbytes)
        buf = mmap.mmap(fd, nbytes)
    finally:
        os.close(fd)
    resource_tracker.register("/" + name, "shared_memory")
    _mapped[name] = buf
    return name, buf


def unlink(name):
    """Remove segment `name` (mappings of it stay valid); whoever removes it unregisters it."""
    try:
        os.unlink(os.path.join(_SHM_DIR, name))
    except FileNotFoundError:
        return
    resource_tracker.unregister("/" + name, "shared_memory")


def shared_ndarray(shape, dtype):
    """A new NDArray on cpu_shared(0) whose buffer is a shared-memory segment (worker side)."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    if count * dtype.itemsize < _INLINE_BYTES:
        return NDArray(np.empty(shape, dtype), _CPU_SHARED)
    name, buf = _segment(count * dtype.itemsize)
    arr = np.frombuffer(buf, dtype, count).reshape(shape)
    _created[id(arr)] = (name, weakref.ref(arr))
    return NDArray(arr, _CPU_SHARED)


def _retire(name):
    unlink(name)
    buf = _mapped.pop(name)
    if name in _free:
        _free.remove(name)
    try:
        buf.close()
    except BufferError:  # an array of this process still uses it: the mapping goes with that array
        pass


def _make_free(names, arrays):
    """Segments `names` may carry new batches, unless this process still holds the array in it."""
    for name, ref in zip(names, arrays):
        if name not in _mapped or name in _free:
            continue
        if ref is not None and ref() is not None:
            _retire(name)
        else:
            _free.append(name)
    while len(_free) > _KEEP_FREE:
        _retire(_free[0])


def discard_unsent():
    """Make the segments of shared_ndarray results that were not sent with the last batch free again."""
    _make_free([name for name, _ in _created.values()], [ref for _, ref in _created.values()])
    _created.clear()


def recycle(names):
    """Segments the main process has finished with (from `loads`' give_back): free for reuse (worker side)."""
    _make_free(names, [_sent.pop(name, None) for name in names])


def release_all():
    """Unlink every segment this process made (a stopping worker); the main process's views stay valid."""
    for name in _mapped:
        unlink(name)
    _mapped.clear()
    _free.clear()
    _created.clear()
    _sent.clear()


def _export(arr):
    name, ref = _created.pop(id(arr), (None, None))
    if name is not None and ref() is arr:
        _sent[name] = ref
    else:
        if name is not None:
            _make_free([name], [ref])
        name, buf = _segment(arr.nbytes)
        np.frombuffer(buf, arr.dtype, arr.size).reshape(arr.shape)[...] = arr
    return name, arr.shape, arr.dtype.str


def _attach(name, shape, dtype):
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    fd = os.open(os.path.join(_SHM_DIR, name), os.O_RDWR)
    try:
        buf = mmap.mmap(fd, count * dtype.itemsize)
    finally:
        os.close(fd)
    # once every view of this mapping is gone, the segment can carry another batch
    weakref.finalize(buf, _receiving.give_back, name)
    return np.frombuffer(buf, dtype, count).reshape(shape)


def _rebuild_ndarray(name, shape, dtype):
    return NDArray(_attach(name, shape, dtype), _CPU_SHARED)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, NDArray) and obj.stype == "default" and obj.context.device_type == "cpu":
            obj.wait_to_read()
            data = obj._data
            if data.nbytes >= _INLINE_BYTES:
                return _rebuild_ndarray, _export(np.ascontiguousarray(data))
            return NDArray, (data.copy(), _CPU_SHARED)
        if type(obj) is np.ndarray and obj.nbytes >= _INLINE_BYTES and not obj.dtype.hasobject:
            return _attach, _export(np.ascontiguousarray(obj))
        return NotImplemented


def dumps(obj):
    """Pickle `obj`, putting its large arrays into shared-memory segments (worker side)."""
    out = io.BytesIO()
    _Pickler(out, pickle.HIGHEST_PROTOCOL).dump(obj)
    return out.getvalue()


def loads(payload, give_back=unlink):
    """Unpickle a payload made by `dumps`, mapping its segments (main side). When the last view of
    a segment is dropped, `give_back(name)` is called (from whichever thread drops it): by default
    the segment is unlinked, a worker pool passes it back to its worker instead."""
    _receiving.give_back = give_back
    try:
        return pickle.loads(payload)
    finally:
        del _receiving.give_back
