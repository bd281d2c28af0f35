"""Batched linalg on the CPU. Cholesky factorization (LAPACKE ?potrf), triangular solve and product (CBLAS ?trsm,
?trmm) and the fused gradients of potrf, trsm and trmm: one run of NumPy's own OpenBLAS calls per matrix, the matrices
spread over Numba's threads (each call on one BLAS thread when there are several matrices, blas_cpu.single_threaded_blas);
where that library is missing, AVAILABLE is False and mxcy/ops/linalg.py computes them on the host with NumPy/SciPy
instead. The diagonal and triangle packers: Numba threads over matrices, on an element rule (and `stored`) that
kernels/linalg_gpu.py shares."""
import contextlib
import ctypes
import functools

import numba
from numba import prange
import numpy as np

from . import blas_cpu
from .common import parallel_kernel
from .launch import dual

_ROW_MAJOR, _NO_TRANS, _TRANS, _UPPER, _LOWER, _NON_UNIT, _LEFT, _RIGHT = 101, 111, 112, 121, 122, 131, 141, 142
_UPLO_CHAR = {True: ord("L"), False: ord("U")}


def _triangular_prototype(real):
    """cblas_?trsm and cblas_?trmm: (layout, side, uplo, trans, diag, m, n, alpha, a, lda, b, ldb)."""
    return ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                            ctypes.c_int64, ctypes.c_int64, real, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                            ctypes.c_int64)


# LAPACKE_?potrf_work (ILP64): (layout, uplo as a char, n, a, lda) -> info.
_POTRF = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int, ctypes.c_int8, ctypes.c_int64, ctypes.c_void_p,
                          ctypes.c_int64)
_SYMBOLS = {"trsm": "scipy_cblas_{}trsm64_", "trmm": "scipy_cblas_{}trmm64_", "potrf": "scipy_LAPACKE_{}potrf_work64_"}


def _bind():
    if blas_cpu.LIBRARY is None:
        return None
    bound = {}
    for dtype, letter in ((np.dtype(np.float32), "s"), (np.dtype(np.float64), "d")):
        real = ctypes.c_float if letter == "s" else ctypes.c_double
        for name, symbol in _SYMBOLS.items():
            proto = _POTRF if name == "potrf" else _triangular_prototype(real)
            try:
                bound[name, dtype] = proto((symbol.format(letter), blas_cpu.LIBRARY))
            except AttributeError:
                return None
    return bound


_FUNCTIONS = _bind()
AVAILABLE = _FUNCTIONS is not None


def _blas_threads(batch):
    """Several matrices share Numba's threads, each call on one BLAS thread; one matrix has the BLAS's threads."""
    return blas_cpu.single_threaded_blas() if batch > 1 else contextlib.nullcontext()


@parallel_kernel(nogil=True, cache=True)
def _potrf_batch(potrf, a, uplo, lower, info):
    n = a.shape[1]
    for i in prange(a.shape[0]):
        info[i] = potrf(_ROW_MAJOR, uplo, n, a[i].ctypes, n)
        for r in range(n):  # LAPACK leaves the other triangle as it was: zero it
            for c in range(r + 1, n):
                if lower:
                    a[i, r, c] = 0
                else:
                    a[i, c, r] = 0


@parallel_kernel(nogil=True, cache=True)
def _triangular_batch(fn, a, b, side, uplo, trans, alpha):
    m, n, k = b.shape[1], b.shape[2], a.shape[1]
    for i in prange(b.shape[0]):
        fn(_ROW_MAJOR, side, uplo, trans, _NON_UNIT, m, n, alpha, a[i].ctypes, k, b[i].ctypes, n)


@numba.njit(inline="always", nogil=True)
def stored(lower, i, j):
    """Whether (i, j) lies in the `lower` (else upper) triangle, diagonal included."""
    return i >= j if lower else i <= j


def _off_triangle(mats, m, i, j, lower, mirror):
    """Entry (i, j) of matrix m outside its `lower` triangle becomes its mirror image (j, i) when `mirror` (the
    symmetric matrix of the stored triangle), else zero; entries inside are left as they are."""
    if not stored(lower, i, j):
        mats[m, i, j] = mats[m, j, i] if mirror else 0


off_triangle_cpu, off_triangle_dev = dual(_off_triangle)


@numba.njit(inline="always", nogil=True)
def _fill_off_triangle(mats, m, lower, mirror):
    n = mats.shape[1]
    for i in range(n):
        for j in range(n):
            off_triangle_cpu(mats, m, i, j, lower, mirror)


@parallel_kernel(nogil=True, cache=True)
def _potrf_backward_batch(trmm, trsm, chol, out, lower, one, half):
    """out (holding the head gradient G on entry) = 0.5 L^-T sym(L^T G) L^-1 per matrix, sym the symmetric matrix of
    the lower triangle (and the transposed rule for an upper factor U: 0.5 U^-1 sym(G U^T) U^-T)."""
    n = out.shape[1]
    uplo = _LOWER if lower else _UPPER
    for i in prange(out.shape[0]):
        trmm(_ROW_MAJOR, _LEFT if lower else _RIGHT, uplo, _TRANS, _NON_UNIT, n, n, one, chol[i].ctypes, n,
             out[i].ctypes, n)
        _fill_off_triangle(out, i, lower, True)
        trsm(_ROW_MAJOR, _LEFT, uplo, _TRANS if lower else _NO_TRANS, _NON_UNIT, n, n, one, chol[i].ctypes, n,
             out[i].ctypes, n)
        trsm(_ROW_MAJOR, _RIGHT, uplo, _NO_TRANS if lower else _TRANS, _NON_UNIT, n, n, half, chol[i].ctypes, n,
             out[i].ctypes, n)


@parallel_kernel(nogil=True, cache=True)
def _triangular_backward_batch(fn, gemm, a, db, x, y, da, side, uplo, trans, alpha, trans_x, trans_y, inner, scale,
                               zero, lower):
    """Per matrix: db (holding the head gradient on entry) = fn's product or solve with op(a) transposed the other
    way, then da = the `lower` triangle of scale * op(x) op(y)."""
    m, n, k = db.shape[1], db.shape[2], a.shape[1]
    for i in prange(db.shape[0]):
        fn(_ROW_MAJOR, side, uplo, trans, _NON_UNIT, m, n, alpha, a[i].ctypes, k, db[i].ctypes, n)
        gemm(_ROW_MAJOR, trans_x, trans_y, k, k, inner, scale, x[i].ctypes, n, y[i].ctypes, n, zero, da[i].ctypes, k)
        _fill_off_triangle(da, i, lower, False)


@numba.njit(inline="always", nogil=True)
def _diag_position(i, j, offset):
    """Index of (i, j) along diagonal `offset`, or -1 when it is not on it."""
    if j - i != offset:
        return -1
    return i if offset >= 0 else j


@numba.njit(inline="always", nogil=True)
def _trian_position(i, j, offset, lower):
    """Index of (i, j) in the packed triangle (extracttrian's order: the lower one row by row, the upper one column
    by column, of side n - |offset|), or -1 when it is outside it."""
    k = abs(offset)
    if offset < 0 or (offset == 0 and lower):
        outer, inner = i - k, j
    else:
        outer, inner = j - k, i
    if outer < 0 or inner > outer:
        return -1
    return outer * (outer + 1) // 2 + inner


@numba.njit(inline="always", nogil=True)
def _packed_position(i, j, offset, lower, triangle):
    """Index of (i, j) in the packed diagonal (triangle=False) or triangle, or -1 when it is outside it."""
    return _trian_position(i, j, offset, lower) if triangle else _diag_position(i, j, offset)


def _pack_element(mats, packed, m, i, j, offset, lower, triangle, pack):
    """pack: packed[m, p] = mats[m, i, j] when (i, j) is at packed position p; else the way back, mats[m, i, j] =
    packed[m, p] there and zero off the diagonal or triangle."""
    p = _packed_position(i, j, offset, lower, triangle)
    if pack:
        if p >= 0:
            packed[m, p] = mats[m, i, j]
    elif p >= 0:
        mats[m, i, j] = packed[m, p]
    else:
        mats[m, i, j] = 0


pack_element_cpu, pack_element_dev = dual(_pack_element)


@parallel_kernel(nogil=True, cache=True)
def _packing_cpu(mats, packed, offset, lower, triangle, pack):
    n = mats.shape[1]
    for m in prange(mats.shape[0]):
        for i in range(n):
            for j in range(n):
                pack_element_cpu(mats, packed, m, i, j, offset, lower, triangle, pack)


def packing_cpu(mats, packed, offset, lower, triangle, pack):
    """The diagonal (triangle=False) or triangle packers on (..., n, n) matrices and (..., packed) vectors: pack
    (extractdiag, extracttrian) fills packed from mats, unpack (makediag, maketrian) fills mats from packed. The
    packed triangle is the lower one row by row (offset < 0, or 0 with lower), the upper one column by column."""
    if mats.size:
        n = mats.shape[-1]
        _packing_cpu(mats.reshape((-1, n, n)), packed.reshape((mats.size // (n * n), -1)), offset, lower, triangle,
                     pack)


def _stack(x):
    """x as (batch, rows, cols) (a view of a C-contiguous x)."""
    return x.reshape((-1,) + x.shape[-2:])


def potrf(a, out, lower):
    """out = the Cholesky factors of the matrices in a (...x n x n), reading only their `lower` triangle: L with
    A = L L^T, or U with A = U^T U; the other triangle zero. out: C-contiguous, a's type. Raises
    np.linalg.LinAlgError for a matrix that is not positive definite."""
    out3 = _stack(out)
    np.copyto(out3, _stack(a))
    info = np.zeros(out3.shape[0], np.int64)
    if out.size:
        with _blas_threads(out3.shape[0]):
            _potrf_batch(_FUNCTIONS["potrf", out.dtype], out3, _UPLO_CHAR[bool(lower)], bool(lower), info)
    if np.any(info > 0):
        raise np.linalg.LinAlgError("matrix is not positive definite")


def triangular(name, a, b, out, lower, transpose, rightside, alpha):
    """name "trsm": out = X with op(a) X = alpha b (X op(a) = alpha b when rightside); "trmm": out = alpha op(a) b
    (alpha b op(a)). a: ... x k x k, read in its `lower` triangle only; b: ... x m x n with the same leading axes;
    out: C-contiguous, b's shape and type."""
    out3 = _stack(out)
    np.copyto(out3, _stack(b))
    if out.size:
        with _blas_threads(out3.shape[0]):
            _triangular_batch(_FUNCTIONS[name, out.dtype], np.ascontiguousarray(_stack(a)), out3,
                              _RIGHT if rightside else _LEFT, _LOWER if lower else _UPPER,
                              _TRANS if transpose else _NO_TRANS, out.dtype.type(alpha))


def potrf_backward_cpu(g, chol, out, lower):
    """out = the gradient of potrf's input from the head gradient g and the Cholesky factors chol (...x n x n, read in
    their `lower` triangle): 0.5 L^-T sym(L^T g) L^-1, sym the symmetric matrix of the lower triangle (upper factors
    U: 0.5 U^-1 sym(g U^T) U^-T). out: C-contiguous, g's type."""
    out3 = _stack(out)
    np.copyto(out3, _stack(g))
    if out.size:
        one = out.dtype.type(1)
        with _blas_threads(out3.shape[0]):
            _potrf_backward_batch(_FUNCTIONS["trmm", out.dtype], _FUNCTIONS["trsm", out.dtype],
                                  np.ascontiguousarray(_stack(chol)), out3, bool(lower), one, one / 2)


def triangular_backward_cpu(name, g, a, other, da, db, lower, transpose, rightside, alpha):
    """The gradients of trsm's or trmm's inputs (name) from the head gradient g: db = trsm or trmm of g with op(a)
    transposed the other way (alpha as the forward's), da = the `lower` triangle of the product of db (trsm) or g
    (trmm) with `other`, the forward's output (trsm, scaled by -1/alpha) or its B (trmm, scaled by alpha), in the
    order and transposes that make it a k x k matrix. a: ... x k x k; g, other, db: ... x m x n; da, db:
    C-contiguous, g's type."""
    db3, da3 = _stack(db), _stack(da)
    np.copyto(db3, _stack(g))
    if db.size == 0:
        da3[...] = 0  # a product over an empty inner axis
        return
    left_factor = rightside == transpose  # da = op(first) op(other), else op(other) op(first)
    first = db3 if name == "trsm" else np.ascontiguousarray(_stack(g))
    x, y = (first, np.ascontiguousarray(_stack(other)))[::1 if left_factor else -1]
    trans_x = transpose if left_factor else not transpose
    inner = db3.shape[1] if trans_x else db3.shape[2]  # x, y are m x n; op(x) is k x inner
    scale = -1.0 / alpha if name == "trsm" else alpha
    kind = db.dtype.type
    with _blas_threads(db3.shape[0]):
        _triangular_backward_batch(_FUNCTIONS[name, db.dtype], blas_cpu.gemm_of(db.dtype),
                                   np.ascontiguousarray(_stack(a)), db3, x, y, da3, _RIGHT if rightside else _LEFT,
                                   _LOWER if lower else _UPPER, _NO_TRANS if transpose else _TRANS, kind(alpha),
                                   _TRANS if trans_x else _NO_TRANS, _NO_TRANS if trans_x else _TRANS, inner,
                                   kind(scale), kind(0), bool(lower))


# trsm's gradients from (head gradient, A, output), trmm's from (head gradient, A, B).
trsm_backward_cpu, trmm_backward_cpu = (functools.partial(triangular_backward_cpu, name) for name in ("trsm", "trmm"))
