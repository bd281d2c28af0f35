"""Device buffers: NumPy arrays on the CPU, numba device arrays on a GPU.

NumPy's allocator already reuses freed blocks and numba pools device memory, so no pool of our own.
"""
import os

import numpy as np

from .base import MXNetError

__all__ = ["alloc", "to_host", "from_host", "copy_between"]


def _cuda():
    # Small launches are normal here (tiny arrays); numba would warn about occupancy on each one.
    os.environ.setdefault("NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS", "0")
    from numba import cuda
    return cuda


def _gpu(cuda, ctx):
    """numba's device context of `ctx`; a missing driver or device is an MXNetError naming it."""
    try:
        return cuda.gpus[ctx.device_id]
    except IndexError:
        raise MXNetError(f"{ctx}: no such GPU ({len(cuda.gpus)} present)") from None
    except Exception as err:  # noqa: BLE001 - numba's CudaSupportError and driver errors
        raise MXNetError(f"{ctx}: no usable CUDA device: {' '.join(str(err).split())}") from None


def alloc(shape, dtype, ctx):
    """An uninitialised buffer of `shape` and `dtype` on `ctx`."""
    if ctx.device_type == "cpu":
        return np.empty(shape, dtype)
    cuda = _cuda()
    with _gpu(cuda, ctx):
        return cuda.device_array(shape, dtype)


def to_host(buf):
    """A NumPy array with the contents of `buf` (the caller has waited on its var)."""
    if isinstance(buf, np.ndarray):
        return buf
    return buf.copy_to_host()


def from_host(array, ctx):
    """A buffer on `ctx` holding a copy of NumPy `array`."""
    if ctx.device_type == "cpu":
        return np.array(array, copy=True, order="C")
    cuda = _cuda()
    with _gpu(cuda, ctx):
        return cuda.to_device(np.ascontiguousarray(array))


def copy_between(src, dst):
    """Copy buffer `src` into buffer `dst` (same shape and dtype; any devices)."""
    if src.shape != dst.shape:
        raise MXNetError(f"copyto: shape mismatch {src.shape} vs {dst.shape}")
    if isinstance(dst, np.ndarray):
        if isinstance(src, np.ndarray):
            np.copyto(dst, src, casting="unsafe")
        else:
            dst[...] = src.copy_to_host()
    elif isinstance(src, np.ndarray):
        dst.copy_to_device(np.ascontiguousarray(src, dtype=dst.dtype))
    else:
        # Flat views: the CUDA simulator mis-copies device arrays with size-1 axes.
        dst.reshape(dst.size).copy_to_device(src.reshape(src.size))
