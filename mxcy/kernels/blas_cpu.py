"""NumPy's own OpenBLAS (the ILP64 scipy-openblas64 that NumPy 2's wheels bundle) bound through ctypes for njit
drivers that run many small GEMMs inside a prange: measured here, 16x650 @ 650x2600 float32 runs at ~39 GFLOP/s per
core in it against ~26 in the older SciPy OpenBLAS behind Numba's np.dot. Also the one pin of both libraries' thread
counts to one thread (single_threaded_blas) that such drivers run under.

Drivers take `gemm_of(dtype)` as an argument (Numba caches code that takes a function pointer, not code that holds
one as a global). Where NumPy's BLAS is another library, AVAILABLE is False, the stand-ins are never called, and
`matmul` falls back to np.dot."""
import contextlib
import ctypes
import glob
import os
import threading

import numba
import numpy as np

from .common import parallel_kernel

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _prototype(real):
    return ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                            ctypes.c_int64, real, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                            real, ctypes.c_void_p, ctypes.c_int64)


_GET_COUNT = ctypes.CFUNCTYPE(ctypes.c_int)
_SET_COUNT = ctypes.CFUNCTYPE(None, ctypes.c_int)
_PROTOTYPES = {np.dtype(np.float32): (_prototype(ctypes.c_float), "scipy_cblas_sgemm64_"),
               np.dtype(np.float64): (_prototype(ctypes.c_double), "scipy_cblas_dgemm64_")}


def _bind():
    for path in glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas64_*.so*")):
        lib = ctypes.CDLL(path)
        try:
            gemms = {dtype: proto((name, lib)) for dtype, (proto, name) in _PROTOTYPES.items()}
            counts = (_GET_COUNT(("scipy_openblas_get_num_threads64_", lib)),
                      _SET_COUNT(("scipy_openblas_set_num_threads64_", lib)))
            return lib, gemms, counts
        except AttributeError:
            continue
    return None, None, None


# LIBRARY: the ctypes library itself, for other kernels' bindings (kernels/linalg_cpu.py); None where missing.
LIBRARY, _GEMMS, _NUMPY_COUNT = _bind()
AVAILABLE = _GEMMS is not None
# Stand-ins of the right types where the library is missing (the drivers then never call them).
_STAND_INS = {dtype: proto(lambda *args: None) for dtype, (proto, _) in _PROTOTYPES.items()}


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


@parallel_kernel(nogil=True, cache=True)
def _gemm_parts(gemm, a, trans_a, b, trans_b, out, beta, nchunks, by_rows):
    """out (M, N) = a @ b + beta out in nchunks parts of out's rows (by_rows) or columns, one single-threaded call
    each; a and b as stored (C-contiguous), read transposed where trans_a / trans_b."""
    M, N = out.shape
    K = a.shape[0] if trans_a else a.shape[1]
    lda, ldb = a.shape[1], b.shape[1]
    ta, tb = _TRANS if trans_a else _NO_TRANS, _TRANS if trans_b else _NO_TRANS
    one = out.dtype.type(1)
    for t in numba.prange(nchunks):
        if by_rows:
            r0, r1 = M * t // nchunks, M * (t + 1) // nchunks
            if trans_a:
                gemm(_ROW_MAJOR, ta, tb, r1 - r0, N, K, one, a[:, r0:r1].ctypes, lda, b.ctypes, ldb, beta,
                     out[r0:r1].ctypes, N)
            else:
                gemm(_ROW_MAJOR, ta, tb, r1 - r0, N, K, one, a[r0:r1].ctypes, lda, b.ctypes, ldb, beta,
                     out[r0:r1].ctypes, N)
        else:
            c0, c1 = N * t // nchunks, N * (t + 1) // nchunks
            if trans_b:
                gemm(_ROW_MAJOR, ta, tb, M, c1 - c0, K, one, a.ctypes, lda, b[c0:c1].ctypes, ldb, beta,
                     out[:, c0:c1].ctypes, N)
            else:
                gemm(_ROW_MAJOR, ta, tb, M, c1 - c0, K, one, a.ctypes, lda, b[:, c0:c1].ctypes, ldb, beta,
                     out[:, c0:c1].ctypes, N)


def _stored(x):
    """(x's C-contiguous storage, whether x is its transpose), or None when x is neither."""
    if x.flags.c_contiguous:
        return x, False
    if x.T.flags.c_contiguous:
        return x.T, True
    return None


def threaded_matmul(out, a, b, accumulate):
    """out = a @ b (out += a @ b when `accumulate`) on Numba's threads, each a part of out through one
    single-threaded call of NumPy's BLAS; False, doing nothing, where that does not apply (another BLAS or dtype,
    arrays neither C- nor Fortran-ordered). The BLAS's own threads would spin on after the call, competing with the
    Numba threads of the kernels that follow (measured: the LSTM's recurrence ran 1.7x slower after them)."""
    dtype = out.dtype
    if not AVAILABLE or dtype not in _PROTOTYPES or a.dtype != dtype or b.dtype != dtype or out.ndim != 2 or \
            not out.flags.c_contiguous:
        return False
    sa, sb = _stored(a), _stored(b)
    if sa is None or sb is None:
        return False
    M, N = out.shape
    nchunks = numba.get_num_threads()
    with single_threaded_blas():
        _gemm_parts(_GEMMS[dtype], sa[0], sa[1], sb[0], sb[1], out, dtype.type(accumulate), nchunks,
                    M >= N or M >= 64 * nchunks)
    return True


def _scipy_openblas_count():
    """(get, set) of the thread count of SciPy's bundled OpenBLAS, or None when it is not found.

    Numba's np.dot calls SciPy's BLAS, a library separate from NumPy's; only the wheel layout is known.
    """
    try:
        import scipy
        import scipy.linalg.cython_blas  # noqa: F401  (loads the library Numba binds to)
    except ImportError:
        return None
    libdir = os.path.join(os.path.dirname(os.path.dirname(scipy.__file__)), "scipy.libs")
    for path in glob.glob(os.path.join(libdir, "libscipy_openblas*.so*")):
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas_", "openblas_"):
            get = getattr(lib, prefix + "get_num_threads", None)
            set_ = getattr(lib, prefix + "set_num_threads", None)
            if get is not None and set_ is not None:
                get.restype = ctypes.c_int
                set_.argtypes = [ctypes.c_int]
                return get, set_
    return None


_SCIPY_COUNT = _scipy_openblas_count()
# Whether np.dot calls inside a prange can be made single-threaded; when they cannot, the drivers that use it run
# one chunk and let the BLAS use every core (Numba's threads and the BLAS's together oversubscribe the cores:
# 10-20x slower).
CAN_PIN_BLAS = _SCIPY_COUNT is not None
# The (get, set) thread counts single_threaded_blas pins.
THREAD_COUNTS = tuple(count for count in (_NUMPY_COUNT, _SCIPY_COUNT) if count is not None)

# Both libraries' counts are process-wide (OpenBLAS's openblas_set_num_threads_local included: measured, a count
# set in one thread is what another reads), and engine workers run kernels concurrently: the first caller to enter
# pins them to one thread, the last to leave restores them. A save/restore per call would let two overlapping calls
# restore each other's pin and leave the BLAS stuck on one thread (it did: the LSTM's input projections ran on one).
_PIN_LOCK = threading.Lock()
_pins = 0
_counts_before = ()


@contextlib.contextmanager
def single_threaded_blas():
    """Run the body with NumPy's and SciPy's BLAS on one thread each; the counts from before the outermost
    concurrent caller entered are restored when the last one leaves."""
    global _pins, _counts_before
    with _PIN_LOCK:
        if _pins == 0:
            _counts_before = tuple(get() for get, _ in THREAD_COUNTS)
            for _, set_ in THREAD_COUNTS:
                set_(1)
        _pins += 1
    try:
        yield
    finally:
        with _PIN_LOCK:
            _pins -= 1
            if _pins == 0:
                for (_, set_), count in zip(THREAD_COUNTS, _counts_before):
                    set_(count)
