"""Device buffers: NumPy arrays on the CPU, numba device arrays on a GPU, and the count of copies between host
and device memory (`transfers`), which tests use to keep a GPU step on the GPU.

Host memory is pooled by glibc's malloc, told at import to keep freed blocks (see _pool_host_memory); numba
pools device memory. So there is no pool of our own.
"""
import ctypes
import ctypes.util
import os
import threading

import numpy as np

from .base import MXNetError

__all__ = ["alloc", "to_host", "from_host", "copy_between", "transfers"]

def _pool_host_memory():
    """Make glibc's malloc keep freed host memory for reuse, as MXNet's pooled CPU storage does: by default glibc
    maps blocks over a few MB fresh from the kernel and gives freed ones back, so every new array of that size
    page-faults (a 2.4 MB `x + 1` cost 5x the CPU time). Blocks up to 256 MB now come from the heap, and up to
    2 GB of freed heap is kept (with 512 MB, a ResNet-18 training step at batch 64 gave its memory back at every step
    and faulted it in again: 35-75 K faults, 0.2-1.1 s of system time a step). MXNET_CPU_MEM_POOL_TYPE=Unpooled
    (MXNet's switch) leaves malloc as it is."""
    if os.environ.get("MXNET_CPU_MEM_POOL_TYPE", "Naive").strip().lower() == "unpooled":
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt  # glibc only; musl and macOS lack it
    except (OSError, AttributeError, TypeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    return all(mallopt(option, value) == 1 for option, value in (
        (m_mmap_threshold, 256 << 20), (m_trim_threshold, (2 << 30) - 1), (m_top_pad, 64 << 20)))


HOST_POOLED = _pool_host_memory()
_transfer_counts = [0, 0]  # host to device, device to host
_count_lock = threading.Lock()
_counting = []  # [True] once numba's copy functions are wrapped


def transfers():
    """(host to device, device to host): the copies between host and device memory made so far in this process,
    counted where numba makes them (cuda.to_device, copy_to_host/copy_to_device, and host arrays passed to a
    kernel, which numba copies both ways), whoever asked for them."""
    return tuple(_transfer_counts)


def _counted(fn, direction, when=lambda *args, **kwargs: True):
    def wrapper(*args, **kwargs):
        if when(*args, **kwargs):
            with _count_lock:
                _transfer_counts[direction] += 1
        return fn(*args, **kwargs)
    wrapper.__wrapped__ = fn
    return wrapper


def _count_transfers(cuda):
    """Wrap numba's host<->device copy entry points once: the driver's memcpy calls on a GPU; in the CUDA
    simulator, which copies with NumPy, its to_device and its device array's copy methods."""
    if _counting:
        return
    _counting.append(True)
    from numba.cuda.core import config
    if not config.ENABLE_CUDASIM:
        from numba.cuda.cudadrv.driver import driver
        for name, direction in (("cuMemcpyHtoD", 0), ("cuMemcpyHtoDAsync", 0), ("cuMemcpyDtoH", 1),
                                ("cuMemcpyDtoHAsync", 1)):
            setattr(driver, name, _counted(getattr(driver, name), direction))
        return
    from numba.cuda.simulator.cudadrv import devicearray as sim
    fake = sim.FakeCUDAArray
    fake.copy_to_host = _counted(fake.copy_to_host, 1)
    fake.copy_to_device = _counted(fake.copy_to_device, 0,
                                   lambda self, ary, stream=0: not isinstance(ary, fake))
    # to_device(..., to=array) copies through copy_to_device, counted there.
    sim.to_device = cuda.to_device = _counted(sim.to_device, 0, lambda ary, stream=0, copy=True, to=None: to is None)


def _cuda():
    # Small launches are normal here (tiny arrays); numba would warn about occupancy on each one.
    os.environ.setdefault("NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS", "0")
    from numba import cuda
    return cuda


def _gpu(cuda, ctx):
    """numba's device context of `ctx`; a missing driver or device is an MXNetError naming it."""
    try:
        gpu = cuda.gpus[ctx.device_id]
        _count_transfers(cuda)
        return gpu
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
