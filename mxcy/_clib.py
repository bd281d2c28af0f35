"""The ctypes-level names of mxnet.base (handle types, C string/array converters, check_call).

mxcy has no C library: the converters are plain ctypes and work; `_LIB` offers the few C API functions that
_capi.py emulates, and any other name is an MXNetError naming the C function that code asked for.
"""
import ctypes

import numpy as np

__all__ = ["MXCallbackList", "mx_uint", "mx_int", "mx_float", "mx_float_p", "NDArrayHandle", "FunctionHandle",
           "OpHandle", "CachedOpHandle", "SymbolHandle", "ExecutorHandle", "DataIterCreatorHandle",
           "DataIterHandle", "KVStoreHandle", "RecordIOHandle", "RtcHandle", "CudaModuleHandle",
           "CudaKernelHandle", "ProfileHandle", "DLPackHandle", "c_str", "c_str_array", "c_array",
           "c_array_buf", "c_handle_array", "ctypes2buffer", "ctypes2numpy_shared", "check_call",
           "get_last_ffi_error"]

mx_uint = ctypes.c_uint
mx_int = ctypes.c_int
mx_float = ctypes.c_float
mx_float_p = ctypes.POINTER(mx_float)
NDArrayHandle = FunctionHandle = OpHandle = CachedOpHandle = SymbolHandle = ExecutorHandle = ctypes.c_void_p
DataIterCreatorHandle = DataIterHandle = KVStoreHandle = RecordIOHandle = RtcHandle = ctypes.c_void_p
CudaModuleHandle = CudaKernelHandle = ProfileHandle = DLPackHandle = ctypes.c_void_p


class MXCallbackList(ctypes.Structure):
    """MXNet's C struct of callbacks handed to a custom operator's C side (layout only)."""
    _fields_ = [("num_callbacks", ctypes.c_int),
                ("callbacks", ctypes.POINTER(ctypes.CFUNCTYPE(ctypes.c_int))),
                ("contexts", ctypes.POINTER(ctypes.c_void_p))]


class _NoLibrary:
    """Stands where MXNet keeps its loaded libmxnet: _capi's functions, and a clear error for any other name."""
    def __getattr__(self, name):
        from ._capi import FUNCTIONS
        if name in FUNCTIONS:
            return FUNCTIONS[name]
        from .base import MXNetError
        raise MXNetError(f"mxcy has no C library: the C API function {name} (mxnet.base._LIB.{name}) does not "
                         "exist; use the Python API instead")


_LIB = _NoLibrary()


def c_str(string):
    """A C char pointer to `string` encoded as UTF-8."""
    return ctypes.c_char_p(string.encode("utf-8"))


def c_str_array(strings):
    """A C array of char pointers to the UTF-8 encodings of `strings`."""
    encoded = [s.encode("utf-8") for s in strings]
    return (ctypes.c_char_p * len(encoded))(*encoded)


def c_array(ctype, values):
    """A C array of `ctype` holding `values`."""
    return (ctype * len(values))(*values)


def c_array_buf(ctype, buf):
    """A C array of `ctype` over the memory of a writable buffer (e.g. a bytearray or array.array)."""
    return (ctype * len(buf)).from_buffer(buf)


def c_handle_array(objs):
    """A C array of the `.handle` (c_void_p) of each object."""
    return (ctypes.c_void_p * len(objs))(*[o.handle for o in objs])


def ctypes2buffer(cptr, length):
    """A bytearray copy of `length` bytes at a C char pointer."""
    if not isinstance(cptr, ctypes.POINTER(ctypes.c_char)):
        raise TypeError("ctypes2buffer: expected a ctypes char pointer, got " + type(cptr).__name__)
    out = bytearray(length)
    ctypes.memmove((ctypes.c_char * length).from_buffer(out), cptr, length)
    return out


def ctypes2numpy_shared(cptr, shape):
    """A float32 NumPy array of `shape` sharing the memory a C float pointer points at."""
    if not isinstance(cptr, ctypes.POINTER(mx_float)):
        raise RuntimeError("ctypes2numpy_shared: expected a float pointer, got " + type(cptr).__name__)
    size = int(np.prod(shape, dtype=np.int64))
    buf = (mx_float * size).from_address(ctypes.addressof(cptr.contents))
    return np.frombuffer(buf, dtype=np.float32).reshape(shape)


def get_last_ffi_error():
    """An MXNetError with the message of this thread's last failed C API call (_capi's emulated functions)."""
    from ._capi import take_last_error
    from .base import MXNetError
    return MXNetError(take_last_error() or "mxcy has no C library: there is no last C API error to report")


def check_call(ret):
    """Raise unless a C API return code is 0 (success)."""
    if ret != 0:
        raise get_last_ffi_error()
