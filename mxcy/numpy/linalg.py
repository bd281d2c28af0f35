"""mx.np.linalg: norms and the decompositions the registered linalg operators compute (inverse, determinants,
Cholesky, symmetric eigenproblems), with NumPy's shapes: the last two axes are the matrix, the rest a batch."""
import numpy as _onp

from .. import ndarray as nd
from ..error import MXNetValueError
from . import _op
from ._derived import tril
from .multiarray import binary, cast, np_function

__all__ = ["norm", "inv", "det", "slogdet", "cholesky", "solve", "tensorinv", "eigvalsh", "eigh"]


def _square(a, what):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise MXNetValueError(f"{what}: the last two dimensions must be square, got shape {a.shape}")


def _batch(result, a):
    """A per-matrix result in the shape of a's batch (0-d for one matrix)."""
    return _op.reshape(result, a.shape[:-2])


@np_function
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's argument name
    """Vector norms over one axis (ord None/2, 1, inf, -inf, 0 or any p), matrix norms over two (None/'fro', 1,
    -1, inf, -inf); with no axis, the 2-norm of the flattened array (ord None) or of a 1-D/2-D array."""
    if axis is None:
        if ord is None:
            return _p_norm(_op.ravel(x), 2, 0, False, x.ndim if keepdims else 0)
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if len(axes) == 1:
        return _p_norm(x, 2 if ord is None else ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, "fro" if ord is None else ord, axes, keepdims)
    raise MXNetValueError(f"norm: improper number of dimensions to norm: axis={axis}")


def _p_norm(x, p, axis, keepdims, lifted=0):
    magnitude = _op.abs(cast(x, x.dtype if x.dtype.kind == "f" else _onp.float32))
    if p == _onp.inf:
        result = _op.max(magnitude, axis=axis, keepdims=keepdims)
    elif p == -_onp.inf:
        result = _op.min(magnitude, axis=axis, keepdims=keepdims)
    elif p == 0:
        result = _op.sum(binary("not_equal", magnitude, 0), axis=axis, keepdims=keepdims, dtype=magnitude.dtype)
    elif p == 1:
        result = _op.sum(magnitude, axis=axis, keepdims=keepdims)
    else:
        powered = _op.sum(binary("power", magnitude, float(p)), axis=axis, keepdims=keepdims)
        result = _op.sqrt(powered) if p == 2 else binary("power", powered, 1.0 / p)
    return _op.reshape(result, (1,) * lifted) if lifted else result


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002 - NumPy's argument name
    rows, cols = (a % x.ndim for a in axes)
    if ord == "fro":
        result = _op.sqrt(_op.sum(binary("multiply", x, x), axis=(rows, cols), keepdims=True))
    elif ord in (1, -1, _onp.inf, -_onp.inf):
        summed, then = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = _op.sum(_op.abs(x), axis=summed, keepdims=True)
        result = (_op.max if ord > 0 else _op.min)(sums, axis=then, keepdims=True)
    else:
        raise NotImplementedError(f"norm: matrix norm ord={ord!r} needs singular values, which mxcy's mx.np "
                                  "does not compute yet")
    return result if keepdims else _op.squeeze(result, axis=(rows, cols))


@np_function
def inv(a):
    """The inverse of each square matrix."""
    _square(a, "inv")
    return nd.linalg.inverse(a)


@np_function
def det(a):
    _square(a, "det")
    return _batch(nd.linalg.det(a), a)


@np_function
def slogdet(a):
    """(sign, log|det|) of each square matrix."""
    _square(a, "slogdet")
    sign, logdet = nd.linalg.slogdet(a)
    return _batch(sign, a), _batch(logdet, a)


@np_function
def cholesky(a):
    """The lower-triangular L with L L^T = a, for each symmetric positive-definite matrix."""
    _square(a, "cholesky")
    return nd.linalg.potrf(a)


@np_function
def solve(a, b):
    """x with a x = b (b: a vector or matrices of a's batch), through a's inverse."""
    _square(a, "solve")
    return _op.matmul(inv(a), b)


@np_function
def tensorinv(a, ind=2):
    """The inverse of `a` seen as a matrix of its first `ind` axes by the rest, in NumPy's tensorinv shape."""
    rows, cols = a.shape[:ind], a.shape[ind:]
    size = int(_onp.prod(rows, dtype=_onp.int64))
    if size != int(_onp.prod(cols, dtype=_onp.int64)):
        raise MXNetValueError(f"tensorinv: the first {ind} dimensions of {a.shape} must hold as many elements as "
                              "the rest")
    return _op.reshape(inv(_op.reshape(a, (size, size))), cols + rows)


def _symmetric(a, UPLO, what):  # noqa: N803 - NumPy's argument name
    """The symmetric matrix that a's lower (UPLO 'L') or upper ('U') triangle stands for."""
    _square(a, what)
    if UPLO not in ("L", "U"):
        raise MXNetValueError(f"{what}: UPLO must be 'L' or 'U', got {UPLO!r}")
    lower = a if UPLO == "L" else _op.swapaxes(a, -1, -2)
    return binary("add", tril(lower), _op.swapaxes(tril(lower, -1), -1, -2))


@np_function
def eigh(a, UPLO="L"):  # noqa: N803 - NumPy's argument name
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix, from its UPLO triangle."""
    vectors, values = nd.linalg.syevd(_symmetric(a, UPLO, "eigh"))
    return values, _op.swapaxes(vectors, -1, -2)


@np_function
def eigvalsh(a, UPLO="L"):  # noqa: N803 - NumPy's argument name
    return nd.linalg.syevd(_symmetric(a, UPLO, "eigvalsh"))[1]
