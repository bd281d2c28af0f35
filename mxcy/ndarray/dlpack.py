"""DLPack exchange of host NDArrays: capsules through NumPy's DLPack support, sharing memory both ways
(GPU arrays need a CUDA DLPack producer, which Numba lacks: they raise)."""
import ctypes
import weakref

import numpy as np

from ..base import MXNetError
from ..context import Context
from .ndarray import NDArray

__all__ = ["to_dlpack_for_read", "to_dlpack_for_write", "from_dlpack"]

_DLTENSOR = b"dltensor"
_KDLCPU = 1
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_valid.restype = ctypes.c_int
_capsule_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]


# Exported arrays by data address: an NDArray made back from one of their capsules shares their engine
# variable, so the engine orders its writes with the original's reads (they are one buffer).
_exports = {}


def _export(data, buffer):
    for address in [a for a, ref in _exports.items() if ref() is None]:
        del _exports[address]
    _exports[buffer.ctypes.data] = weakref.ref(data)
    return buffer.__dlpack__()


def _imported(array):
    source = _exports.get(array.ctypes.data, lambda: None)()
    var = source._var if source is not None and source._data.ctypes.data == array.ctypes.data else None
    imported = NDArray(array, Context("cpu", 0), var=var)
    if var is None:  # another framework's memory, which it may write at any time
        imported._var.external = True
    return imported


def _host_buffer(data, caller):
    if not isinstance(data, NDArray) or data.stype != "default":
        raise MXNetError(f"{caller}: expected a dense NDArray, got {type(data).__name__}")
    if data.context.device_type == "gpu":
        raise MXNetError(f"{caller}: DLPack export of GPU arrays is not supported yet; copy to mx.cpu() first")
    buffer = data._data
    if not buffer.flags.writeable:
        raise MXNetError(f"{caller}: the array's buffer was released (an intermediate of a recorded graph)")
    return buffer


def to_dlpack_for_read(data):
    """A DLPack capsule viewing `data`'s memory, once every pending write to it has finished."""
    buffer = _host_buffer(data, "to_dlpack_for_read")
    data.wait_to_read()
    return _export(data, buffer)


def to_dlpack_for_write(data):
    """A DLPack capsule viewing `data`'s memory, once every pending read and write of it has finished."""
    buffer = _host_buffer(data, "to_dlpack_for_write")
    data.wait_to_read()  # the engine's wait covers every op pushed on the array, readers included
    data._var.external = True  # the consumer writes it outside the engine from now on
    return _export(data, buffer)


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32), ("dtype", _DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


_Deleter = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class _DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", _Deleter)]


_KINDS = {0: "i", 1: "u", 2: "f", 6: "b"}  # kDLInt, kDLUInt, kDLFloat, kDLBool
_capsule_rename = ctypes.pythonapi.PyCapsule_SetName
_capsule_rename.restype = ctypes.c_int
_capsule_rename.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _consume(capsule):
    """A writable NumPy array over a legacy DLPack capsule's tensor; the capsule is marked used, and the
    producer's deleter runs when the array's memory is no longer referenced."""
    array = _array_at(_capsule_pointer(capsule, _DLTENSOR))
    _capsule_rename(capsule, b"used_dltensor")
    return array


def _array_at(address):
    """A writable NumPy array over the DLManagedTensor at `address`, which it owns: the producer's deleter runs
    when the array's memory is no longer referenced."""
    managed = _DLManagedTensor.from_address(address)
    t = managed.dl_tensor
    if t.device.device_type != _KDLCPU:
        raise MXNetError(f"from_dlpack: only host (kDLCPU) tensors are supported, got device type "
                         f"{t.device.device_type}")
    kind = _KINDS.get(t.dtype.code)
    if kind is None or t.dtype.lanes != 1:
        raise MXNetError(f"from_dlpack: unsupported DLPack dtype (code {t.dtype.code}, {t.dtype.bits} bits, "
                         f"{t.dtype.lanes} lanes)")
    dtype = np.dtype(f"{kind}{t.dtype.bits // 8}")
    shape = tuple(t.shape[i] for i in range(t.ndim))
    steps = tuple(t.strides[i] for i in range(t.ndim)) if t.strides else None
    if steps is not None and min(steps, default=0) < 0:
        raise MXNetError(f"from_dlpack: negative strides {steps} are not supported")
    if steps is None:  # C-contiguous
        steps = tuple(int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape)))
    extent = dtype.itemsize * (1 + sum((n - 1) * st for n, st in zip(shape, steps))) if all(shape) else 0
    strides = tuple(st * dtype.itemsize for st in steps)
    memory = (ctypes.c_char * extent).from_address(t.data + t.byte_offset) if extent else bytearray(0)
    array = np.ndarray(shape, dtype, buffer=memory, strides=strides)
    if extent:
        weakref.finalize(memory, managed.deleter, address)
    elif managed.deleter:
        managed.deleter(address)
    return array


def from_managed_tensor(address):
    """An NDArray on cpu(0) over the DLManagedTensor at `address` (MXNDArrayFromDLPack's argument: the pointer
    inside a capsule whose deleter the caller has taken off), owning it from now on."""
    if not address:
        raise MXNetError("MXNDArrayFromDLPack: the DLPack tensor pointer is NULL")
    return _imported(_array_at(address))


def from_dlpack(dlpack):
    """An NDArray on cpu(0) sharing the memory of a DLPack capsule (consumed, as DLPack requires) or of an
    object with `__dlpack__`."""
    if hasattr(dlpack, "__dlpack__"):
        return _imported(np.from_dlpack(dlpack))
    try:
        valid = _capsule_valid(dlpack, _DLTENSOR)
    except TypeError:
        valid = 0
    if not valid:
        raise MXNetError("from_dlpack: expected an unused DLPack capsule ('dltensor'); a capsule can be consumed "
                         "only once")
    return _imported(_consume(dlpack))
