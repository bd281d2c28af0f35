"""Helpers of the convolution kernels: output sizes, the canonical 3-d spatial form and the CPU row loops."""
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
    return a.reshape(shape_5d(a.shape))


def shape_5d(shape):
    """as_5d's shape for an array of `shape`."""
    return shape[:2] + (1,) * (5 - len(shape)) + shape[2:]


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
