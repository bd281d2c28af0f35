"""Batches crossing from DataLoader worker processes: arrays travel as POSIX shared-memory segments,
only their names, shapes and dtypes are pickled.

A worker copies an array into a new segment in /dev/shm (or stacks straight into one, see
`shared_ndarray`); the main process maps it, unlinks it at once and hands out NumPy/NDArray views of
the mapping, so the data is never pickled nor copied again on the receiving side. This is what
multiprocessing.shared_memory does on Linux; the segments are opened with os/mmap directly because
a SharedMemory object cannot be closed while NumPy views of it exist. Every segment is registered
with multiprocessing's resource tracker (shared by the workers), which unlinks leftovers when the
main process exits.
"""
import io
import mmap
import os
import pickle
import secrets
import weakref
from multiprocessing import resource_tracker

import numpy as np

from ...context import Context
from ...ndarray import NDArray

_SHM_DIR = "/dev/shm"
# Arrays smaller than this travel inside the pickle: a segment costs more than copying them.
_INLINE_BYTES = 1024
_CPU_SHARED = Context("cpu_shared", 0)

# Segments made by shared_ndarray in this process and not sent yet: id(array) -> (name, weakref to
# the array), so a batch stacked into a segment is sent by name without another copy.
_created = {}


def _create(nbytes):
    name = f"mxcy_{os.getpid()}_{secrets.token_hex(8)}"
    fd = os.open(os.path.join(_SHM_DIR, name), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, nbytes)
        buf = mmap.mmap(fd, nbytes)
    finally:
        os.close(fd)
    resource_tracker.register("/" + name, "shared_memory")
    return name, buf


def _unlink(name):
    try:
        os.unlink(os.path.join(_SHM_DIR, name))
    except FileNotFoundError:
        pass
    resource_tracker.unregister("/" + name, "shared_memory")


def shared_ndarray(shape, dtype):
    """A new NDArray on cpu_shared(0) whose buffer is a shared-memory segment (worker side)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < _INLINE_BYTES:
        return NDArray(np.empty(shape, dtype), _CPU_SHARED)
    name, buf = _create(nbytes)
    arr = np.frombuffer(buf, dtype, nbytes // dtype.itemsize).reshape(shape)
    _created[id(arr)] = (name, weakref.ref(arr))
    return NDArray(arr, _CPU_SHARED)


def discard_unsent():
    """Unlink the segments this process made that were not sent with the last batch."""
    for name, _ in _created.values():
        _unlink(name)
    _created.clear()


def _export(arr):
    name, ref = _created.pop(id(arr), (None, None))
    if name is None or ref() is not arr:
        if name is not None:
            _unlink(name)
        name, buf = _create(arr.nbytes)
        np.frombuffer(buf, arr.dtype, arr.size).reshape(arr.shape)[...] = arr
    return name, arr.shape, arr.dtype.str


def _attach(name, shape, dtype):
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    path = os.path.join(_SHM_DIR, name)
    fd = os.open(path, os.O_RDWR)
    try:
        buf = mmap.mmap(fd, count * dtype.itemsize)
    finally:
        os.close(fd)
    _unlink(name)
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


def loads(payload):
    """Unpickle a payload made by `dumps`, mapping and unlinking its segments (main side)."""
    return pickle.loads(payload)
