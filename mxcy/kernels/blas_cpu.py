"""NumPy's own OpenBLAS (the ILP64 scipy-openblas64 that NumPy 2's wheels bundle) bound through ctypes for njit
drivers that run many small GEMMs inside a prange: measured here, 16x650 @ 650x2600 float32 runs at ~39 GFLOP/s per
core in it against ~26 in the older SciPy OpenBLAS behind Numba's np.dot, and its per-thread thread count pins a
prange body's own calls to one thread without touching other threads' calls.

Drivers take `gemm_of(dtype)` and `LOCAL_THREADS` as arguments (Numba caches code that takes a function pointer, not
code that holds one as a global). Where NumPy's BLAS is another library, AVAILABLE is False, the stand-ins are never
called, and `matmul` falls back to np.dot."""
import ctypes
import glob
import os

import numba
import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _prototype(real):
    return ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                            ctypes.c_int64, real, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                            real, ctypes.c_void_p, ctypes.c_int64)


_LOCAL = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
_PROTOTYPES = {np.dtype(np.float32): (_prototype(ctypes.c_float), "scipy_cblas_sgemm64_"),
               np.dtype(np.float64): (_prototype(ctypes.c_double), "scipy_cblas_dgemm64_")}


def _bind():
    for path in glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas64_*.so*")):
        lib = ctypes.CDLL(path)
        try:
            gemms = {dtype: proto((name, lib)) for dtype, (proto, name) in _PROTOTYPES.items()}
            return lib, gemms, _LOCAL(("openblas_set_num_threads_local", lib))
        except AttributeError:
            continue
    return None, None, None


# LIBRARY: the ctypes library itself, for other kernels' bindings (kernels/linalg_cpu.py); None where missing.
LIBRARY, _GEMMS, _local = _bind()
AVAILABLE = _GEMMS is not None
# Stand-ins of the right types where the library is missing (the drivers then never call them).
_STAND_INS = {dtype: proto(lambda *args: None) for dtype, (proto, _) in _PROTOTYPES.items()}
LOCAL_THREADS = _local if AVAILABLE else _LOCAL(lambda n: 1)


def gemm_of(dtype):
    """The ?gemm (float32 or float64) for arrays of `dtype`."""
    return (_GEMMS if AVAILABLE else _STAND_INS)[np.dtype(dtype)]


@numba.njit(inline="always", nogil=True, cache=True)
def matmul(gemm, available, a, b, out, transpose_b, one):
    """out = a @ b (b^T with transpose_b); a, b and out C-contiguous of one float type, out written; one: 1 in
    that type."""
    m, k = a.shape
    n = out.shape[1]
    if available:
        gemm(_ROW_MAJOR, _NO_TRANS, _TRANS if transpose_b else _NO_TRANS, m, n, k, one, a.ctypes, k, b.ctypes,
             k if transpose_b else n, one - one, out.ctypes, n)
    elif transpose_b:
        np.dot(a, b.T, out)
    else:
        np.dot(a, b, out)
