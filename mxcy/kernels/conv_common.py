"""Helpers of the convolution kernels: output sizes, the canonical 3-d spatial form, the CPU row
loops, and the thread count of the BLAS that Numba's np.dot calls.
"""
import contextlib
import ctypes
import glob
import os
import threading

from numba import njit, uint64

# Float reductions in the CPU row loops only vectorise when reassociation is allowed.
FASTMATH = {"reassoc", "contract", "nsz"}


def conv_out_size(x, k, s, p, d):
    """Convolution output length along one axis (MXNet: floor((x + 2p - d(k-1) - 1) / s) + 1)."""
    return (x + 2 * p - d * (k - 1) - 1) // s + 1


def deconv_out_size(x, k, s, p, d, adj=0):
    """Deconvolution output length along one axis: s(x-1) + d(k-1) + 1 - 2p + adj."""
    return s * (x - 1) + d * (k - 1) + 1 - 2 * p + adj


def as_5d(a):
    """View an (N, C, *spatial) array with 1-3 spatial axes as (N, C, D, H, W).

    1-d and 2-d convolutions run as 3-d ones with leading unit axes, so every kernel has one layout.
    """
    return a.reshape(a.shape[:2] + (1,) * (5 - a.ndim) + a.shape[2:])


def geometry_3d(stride, pad, dilate):
    """stride, pad, dilate padded to 3 axes; a unit axis has stride 1, pad 0, dilation 1."""
    lead = 3 - len(stride)
    return ((1,) * lead + tuple(int(v) for v in stride),
            (0,) * lead + tuple(int(v) for v in pad),
            (1,) * lead + tuple(int(v) for v in dilate))


@njit(inline="always", nogil=True)
def valid(off, s, n, on):
    """Range [lo, hi) of output indices o in [0, on) with 0 <= o*s + off < n."""
    lo = max(0, -(off // s))
    hi = min(on, -((off - n) // s))
    return lo, max(lo, hi)


# Row helpers over flat 1-d views.  They index with unsigned ints: Numba's wraparound of negative
# signed indices keeps LLVM from vectorising (3.5x slower copies, measured).
@njit(inline="always", nogil=True)
def zero(y, y0, n):
    y0 = uint64(y0)
    for j in range(uint64(max(n, 0))):
        y[y0 + j] = 0


@njit(inline="always", nogil=True)
def copy(y, y0, x, x0, xs, n):
    """y[y0 + j] = x[x0 + j*xs] for j < n."""
    y0, x0, xs = uint64(y0), uint64(x0), uint64(xs)
    if xs == 1:
        for j in range(uint64(n)):
            y[y0 + j] = x[x0 + j]
    else:
        for j in range(uint64(n)):
            y[y0 + j] = x[x0 + j * xs]


@njit(inline="always", fastmath=FASTMATH, nogil=True)
def axpy(y, y0, ys, a, x, x0, xs, n):
    """y[y0 + j*ys] += a * x[x0 + j*xs] for j < n."""
    y0, ys, x0, xs = uint64(y0), uint64(ys), uint64(x0), uint64(xs)
    if ys == 1 and xs == 1:
        for j in range(uint64(n)):
            y[y0 + j] += a * x[x0 + j]
    else:
        for j in range(uint64(n)):
            y[y0 + j * ys] += a * x[x0 + j * xs]


@njit(inline="always", fastmath=FASTMATH, nogil=True)
def dot(x, x0, xs, y, y0, n):
    """sum_j x[x0 + j*xs] * y[y0 + j] for j < n."""
    x0, xs, y0 = uint64(x0), uint64(xs), uint64(y0)
    acc = 0.0
    if xs == 1:
        for j in range(uint64(n)):
            acc += x[x0 + j] * y[y0 + j]
    else:
        for j in range(uint64(n)):
            acc += x[x0 + j * xs] * y[y0 + j]
    return acc


@njit(inline="always", nogil=True)
def tap_rect(isz, osz, ksz, t, s, p, d, od, r0, r1):
    """Where flat tap t = (kd*KH + kh)*KW + kw reads inside the input, for output plane od cut to
    the flat output rows [r0, r1) (row r = od*OH + oh): the plane's rows [a, b) in that range, the
    output rectangle [hlo, hhi) x [wlo, whi) (empty when hlo == hhi) and its input corner
    (id_, ih0, iw0)."""
    D, H, W = isz
    OH, OW = osz[1], osz[2]
    kd, kh, kw = t // (ksz[1] * ksz[2]), t // ksz[2] % ksz[1], t % ksz[2]
    a = max(r0 - od * OH, 0)
    b = min(r1 - od * OH, OH)
    wlo, whi = valid(kw * d[2] - p[2], s[2], W, OW)
    hlo, hhi = valid(kh * d[1] - p[1], s[1], H, OH)
    hlo = min(max(hlo, a), b)
    hhi = max(min(hhi, b), hlo)
    id_ = od * s[0] + kd * d[0] - p[0]
    if id_ < 0 or id_ >= D or wlo == whi:
        hhi = hlo
    return a, b, hlo, hhi, wlo, whi, id_, hlo * s[1] + kh * d[1] - p[1], wlo * s[2] + kw * d[2] - p[2]


def _scipy_openblas_threads():
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


_BLAS_THREADS = _scipy_openblas_threads()

# Whether per-thread BLAS calls inside a prange can be made single-threaded; when they cannot, the
# drivers run one chunk and let the BLAS use every core (Numba's threads and the BLAS's together
# oversubscribe the cores: 10-20x slower).
CAN_PIN_BLAS = _BLAS_THREADS is not None


# Engine workers run convolutions concurrently, and the BLAS thread count is process-wide: the first
# of them to enter pins it to one thread, the last to leave restores it (a save/restore per call would
# let two overlapping calls restore each other's pin, or leave it stuck at one).
_PIN_LOCK = threading.Lock()
_pins = 0
_threads_before = None


@contextlib.contextmanager
def single_threaded_blas():
    """Run the body with Numba's BLAS on one thread; the count from before the outermost concurrent
    caller entered is restored when the last one leaves."""
    global _pins, _threads_before
    if _BLAS_THREADS is None:
        yield
        return
    get, set_ = _BLAS_THREADS
    with _PIN_LOCK:
        if _pins == 0:
            _threads_before = get()
            set_(1)
        _pins += 1
    try:
        yield
    finally:
        with _PIN_LOCK:
            _pins -= 1
            if _pins == 0:
                set_(_threads_before)
