"""mx.nd.linalg / mx.sym.linalg beyond gemm: Cholesky (potrf, potri), triangular products and solves (trmm,
trsm), syrk, LQ (gelqf), symmetric eigendecomposition (syevd), inverse, det, slogdet, and the diagonal and
triangle packers (sumlogdiag, extract/make diag/trian), with MXNet 1.9.1's batching, arguments and gradients.

On the CPU potrf, trsm and trmm (and so potri and most gradients) run batched in Numba threads on NumPy's OpenBLAS
and the diagonal/triangle packers on Numba kernels (kernels/linalg_cpu.py); the rest, and those three where that
library is missing, run LAPACK through NumPy's linalg and SciPy on the host. On a GPU every op has CUDA kernels:
potrf, trsm, trmm, potri, syrk, sumlogdiag and the packers in kernels/linalg_gpu.py, the LU (det, slogdet, inverse),
LQ (gelqf) and Jacobi eigen (syevd) factorizations in kernels/linalg_factor_gpu.py. Gradients are written with these
ops and gemm2 through F, so they are differentiable in turn; potrf's, trsm's and trmm's are one fused hidden op each
(_backward_linalg_<name>, MXNet's names: one batched kernel instead of about ten ops), whose own gradients are the
composed formulas' through F.
"""
import contextlib
import functools
import math
import warnings

import numpy as np
from scipy.linalg import LinAlgWarning, lu_factor, solve_triangular

from . import registry
from ._helpers import results_compute
from ._nn_common import kernel, kernels, typed_call
from .matrix import _product_grads
from .registry import OpDef, Param
from ..base import MXNetError

__all__ = []


# --- shape and type rules ------------------------------------------------------------------------

def _float_only(attrs, in_types):
    """MXNet's la ops run in float32 and float64 only."""
    for t in in_types:
        if t is not None and np.dtype(t) not in (np.float32, np.float64):
            raise ValueError(f"supports float32 and float64 only, got {np.dtype(t).name}")
    return registry.same_type(attrs, in_types)


def _matrices(shape, square=True, what="A"):
    """A shape of rank >= 2 (square in the last two axes when `square`), or ValueError naming it."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"{what} must be a tensor of matrices (rank >= 2), got shape {shape}")
    if square and shape[-1] != shape[-2]:
        raise ValueError(f"{what} must be a tensor of square matrices, got shape {shape}")
    return shape


def _batch_scalar_shape(shape):
    """Shape of one value per matrix: the batch axes, or (1,) for a single matrix (MXNet 1.x)."""
    return tuple(shape[:-2]) or (1,)


def _same_shape(attrs, shapes):
    return shapes, [_matrices(shapes[0])]


def _per_matrix_shape(attrs, shapes):
    return shapes, [_batch_scalar_shape(_matrices(shapes[0]))]


def _tri_product_shape(attrs, shapes):
    a, b = _matrices(shapes[0]), _matrices(shapes[1], square=False, what="B")
    if len(a) != len(b) or a[:-2] != b[:-2]:
        raise ValueError(f"A {a} and B {b} must have the same rank and leading dimensions")
    inner = b[-1] if attrs["rightside"] else b[-2]
    if inner != a[-1]:
        raise ValueError(f"incompatible matrix dimensions: A {a}, B {b} (rightside={attrs['rightside']})")
    return shapes, [b]


def _potrf_backward_shape(attrs, shapes):
    g, chol = _matrices(shapes[0], what="the head gradient"), _matrices(shapes[1], what="L")
    if g != chol:
        raise ValueError(f"the head gradient {g} and the Cholesky factor {chol} must have one shape")
    return shapes, [g]


def _triangular_backward_shape(attrs, shapes):
    """(head gradient, A, B or the output): the gradients of A and B."""
    g, a, other = (tuple(s) for s in shapes)
    _tri_product_shape(attrs, [a, g])
    if other != g:
        raise ValueError(f"the head gradient {g} and {other} must have one shape")
    return shapes, [a, g]


def _syrk_shape(attrs, shapes):
    a = _matrices(shapes[0], square=False)
    n = a[-1] if attrs["transpose"] else a[-2]
    return shapes, [a[:-2] + (n, n)]


def _gelqf_shape(attrs, shapes):
    a = _matrices(shapes[0], square=False)
    if a[-2] > a[-1]:
        raise ValueError(f"A {a}: the last dimension must be >= the second to last")
    return shapes, [a, a[:-1] + (a[-2],)]


def _syevd_shape(attrs, shapes):
    a = _matrices(shapes[0])
    return shapes, [a, a[:-1]]


def _diag_shape(attrs, shapes):
    k = abs(attrs["offset"])
    a = tuple(shapes[0])
    if len(a) == 0:
        raise ValueError("A must have at least one dimension")
    return shapes, [a[:-1] + (a[-1] + k, a[-1] + k)]


def _extract_size(a, offset):
    n = _matrices(a)[-1] - abs(offset)
    if n <= 0:
        raise ValueError(f"illegal offset {offset} for matrices of shape {tuple(a[-2:])}")
    return n


def _extractdiag_shape(attrs, shapes):
    a = tuple(shapes[0])
    return shapes, [a[:-2] + (_extract_size(a, attrs["offset"]),)]


def _extracttrian_shape(attrs, shapes):
    a = tuple(shapes[0])
    n = _extract_size(a, attrs["offset"])
    return shapes, [a[:-2] + (n * (n + 1) // 2,)]


def _trian_side(packed):
    """m with m (m + 1) / 2 == packed, or ValueError."""
    m = int(math.floor(0.5 + (math.sqrt(8 * packed + 1) - 1) / 2))
    if m * (m + 1) // 2 != packed or m == 0:
        raise ValueError(f"the last axis ({packed}) is not the size of a packed triangle m*(m+1)/2")
    return m


def _maketrian_shape(attrs, shapes):
    a = tuple(shapes[0])
    if len(a) == 0:
        raise ValueError("A must have at least one dimension")
    n = _trian_side(a[-1]) + abs(attrs["offset"])
    return shapes, [a[:-1] + (n, n)]


# --- host computations (LAPACK through NumPy / SciPy) --------------------------------------------

def _each_matrix(fn, a, b):
    """fn(a[i], b[i]) stacked over the leading batch axes of a and b."""
    batch = a.shape[:-2]
    a2, b2 = a.reshape((-1,) + a.shape[-2:]), b.reshape((-1,) + b.shape[-2:])
    out = [fn(x, y) for x, y in zip(a2, b2)]
    return np.stack(out).reshape(batch + out[0].shape) if out else np.zeros(b.shape, b.dtype)


def _solve_tri(a, b, lower, transpose, rightside, alpha):
    """X with op(a) X = alpha b, or X op(a) = alpha b when rightside; reads only a's `lower` triangle."""
    def solve(t, rhs):
        if rightside:  # X op(t) = rhs  <=>  op(t)^T X^T = rhs^T
            return solve_triangular(t, rhs.T, lower=lower, trans=0 if transpose else 1,
                                    check_finite=False).T
        return solve_triangular(t, rhs, lower=lower, trans=1 if transpose else 0, check_finite=False)
    _check_diagonal(a)
    if kernels("linalg_cpu").AVAILABLE:
        out = np.empty(b.shape, b.dtype)
        kernels("linalg_cpu").triangular("trsm", np.ascontiguousarray(a), np.ascontiguousarray(b), out, lower,
                                         transpose, rightside, alpha)
        return out
    return _each_matrix(solve, a, alpha * b).astype(b.dtype, copy=False)


def _check_diagonal(a):
    """np.linalg.LinAlgError for a triangular matrix with a zero on its diagonal (a singular trsm)."""
    if np.any(np.diagonal(a, axis1=-2, axis2=-1) == 0):
        raise np.linalg.LinAlgError("singular triangular matrix (a zero on the diagonal)")


def _triangle(a, lower):
    return np.tril(a) if lower else np.triu(a)


def _t(a):
    return np.swapaxes(a, -1, -2)


def _symmetric(a, lower):
    """The symmetric matrices of a's `lower` (else upper) triangles."""
    tri = _triangle(a, lower)
    return tri + _t(np.tril(tri, -1) if lower else np.triu(tri, 1))


def _potrf(a, lower):
    chol = np.linalg.cholesky(_symmetric(a, lower))
    return chol if lower else _t(chol)


def _potri(a, lower):
    eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    inv = _solve_tri(a, eye, lower, False, False, 1.0)
    return np.matmul(_t(inv), inv) if lower else np.matmul(inv, _t(inv))


def _trmm(a, b, lower, transpose, rightside, alpha):
    t = _triangle(a, lower)
    t = _t(t) if transpose else t
    return alpha * (np.matmul(b, t) if rightside else np.matmul(t, b))


def _potrf_backward(g, chol, lower):
    """kernels/linalg_cpu.potrf_backward_cpu's gradient of potrf on the host."""
    sym = _symmetric(_trmm(chol, g, lower, True, not lower, 1.0), lower)
    return _solve_tri(chol, _solve_tri(chol, sym, lower, lower, False, 1.0), lower, not lower, True, 0.5)


def _triangular_backward(name, g, a, other, lower, transpose, rightside, alpha):
    """kernels/linalg_cpu.triangular_backward_cpu's gradients of trsm's or trmm's A and B on the host."""
    db = (_solve_tri if name == "trsm" else _trmm)(a, g, lower, not transpose, rightside, alpha)
    first = db if name == "trsm" else g
    x, y, tx, ty = _tri_product_operands(first, other, transpose, rightside)
    product = np.matmul(_t(x) if tx else x, _t(y) if ty else y)
    return _triangle((-1.0 / alpha if name == "trsm" else alpha) * product, lower), db


def _tri_product_operands(first, other, transpose, rightside):
    """(x, y, transpose x, transpose y) of the product op(x) op(y) in trsm's and trmm's A gradients: first (trsm:
    the B gradient, trmm: the head gradient) with other (trsm: the output, trmm: B), ordered so that it is k x k."""
    if rightside == transpose:
        return first, other, transpose, not transpose
    return other, first, not transpose, transpose


def _gelqf(a):
    q, r = np.linalg.qr(_t(a))  # A^T = Q R  <=>  A = R^T Q^T: LAPACK's LQ with the same reflectors
    return _t(q), _t(r)


def _syevd(a):
    lam, vec = np.linalg.eigh(a, UPLO="L")
    u = _t(vec).copy()
    # MXNet's sign convention: each eigenvector's entry of largest magnitude (the first such) is positive.
    lead = np.take_along_axis(u, np.argmax(np.abs(u), axis=-1)[..., None], axis=-1)
    u *= np.where(lead < 0, -1, 1).astype(u.dtype)
    return u, lam


# --- computes ------------------------------------------------------------------------------------

@contextlib.contextmanager
def _lapack_errors(a):
    """LAPACK's failures (not positive definite, singular) as MXNetErrors, which the engine prefixes with the op's
    name; a is the op's first input."""
    try:
        yield
    except np.linalg.LinAlgError as err:
        raise MXNetError(f"{err} (input shape {a.shape})") from None


def _compute(fn):
    """results_compute of fn, LAPACK's failures as MXNetErrors."""
    def checked(attrs, *inputs):
        with _lapack_errors(inputs[0]):
            return fn(attrs, *inputs)
    return results_compute(checked)


def _blas_compute(blas, host):
    """The CPU compute of potrf, trsm and trmm and of their gradients: blas(attrs, *inputs, *outputs) on
    kernels/linalg_cpu, straight into the outputs (typed_call gives them temporaries under other requests); where
    NumPy's BLAS is another library, host's results (NumPy/SciPy)."""
    on_host = _compute(host)

    def compute(attrs, inputs, outputs, reqs):
        if not kernels("linalg_cpu").AVAILABLE:
            return on_host(attrs, inputs, outputs, reqs)
        with _lapack_errors(inputs[0]):
            typed_call(lambda ins, outs, kreqs: blas(attrs, *ins, *outs), inputs, outputs, reqs,
                       exact=(False,) * len(outputs))
    return compute


def _triangular_blas(name, backward=False):
    """The _blas_compute kernel call of trsm or trmm, or of its gradient (trsm refuses a zero on the diagonal first, as
    the host path)."""
    def blas(attrs, *arrays):
        if name == "trsm":
            _check_diagonal(arrays[1 if backward else 0])
        run = kernels("linalg_cpu").triangular_backward_cpu if backward else kernels("linalg_cpu").triangular
        run(name, *arrays, *(attrs[k] for k in _TRI_ATTRS))
    return blas


def _lu(a):
    """LAPACK getrf of each matrix: the packed LU factors and 1-based int32 pivots (MXNet's hidden outputs)."""
    flat = a.reshape((-1,) + a.shape[-2:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LinAlgWarning)  # singular matrices factor too: their det is 0
        factors = [lu_factor(m, check_finite=False) for m in flat]
    lu = np.stack([f[0] for f in factors]).reshape(a.shape).astype(a.dtype, copy=False)
    pivots = np.stack([f[1] for f in factors]).reshape(a.shape[:-1]).astype(np.int32) + 1
    return lu, pivots


def _lu_sign_and_diagonal(a):
    lu, pivots = _lu(a)
    swaps = np.sum(pivots != np.arange(1, a.shape[-1] + 1), axis=-1)
    diagonal = np.diagonal(lu, axis1=-2, axis2=-1)
    sign = np.where(swaps % 2, -1, 1) * np.prod(np.sign(diagonal), axis=-1)
    return lu, pivots, sign.astype(a.dtype), diagonal


def _det(attrs, a):
    lu, pivots, sign, diagonal = _lu_sign_and_diagonal(a)
    return sign * np.prod(np.abs(diagonal), axis=-1), lu, pivots


def _slogdet(attrs, a):
    lu, pivots, sign, diagonal = _lu_sign_and_diagonal(a)
    return sign, np.sum(np.log(np.abs(diagonal)), axis=-1), lu, pivots


def _det_type(visible):
    def infer_type(attrs, in_types):
        in_types, t = _float_only(attrs, in_types)
        return in_types, [t] * (visible + 1) + [None if t is None else np.dtype(np.int32)]
    return infer_type


def _det_shape(visible):
    def infer_shape(attrs, shapes):
        a = _matrices(shapes[0])
        return shapes, [_batch_scalar_shape(a)] * visible + [a, a[:-1]]
    return infer_shape


# --- gradients (through F, so they are differentiable) -------------------------------------------

def _ft(F, x):
    return F.SwapAxis(x, dim1=-1, dim2=-2)


def _ftri(F, x, lower, offset=0):
    """x with everything outside its `lower` triangle (from diagonal `offset`) set to zero."""
    return F._linalg_maketrian(F._linalg_extracttrian(x, offset=offset, lower=lower), offset=offset,
                               lower=lower)


def _fsym(F, x, lower):
    """The symmetric matrix whose `lower` triangle is x's. A lower triangle packs row by row in the order in which an
    upper one unpacks column by column (and the other way round), so unpacking the packed triangle as the other one
    places its transpose; the diagonal, there twice, is taken off once."""
    packed = F._linalg_extracttrian(x, lower=lower)
    both = F._linalg_maketrian(packed, lower=lower) + F._linalg_maketrian(packed, lower=not lower)
    return both - F._linalg_makediag(F._linalg_extractdiag(x))


def _fmat(F, x, y, ta=False, tb=False, alpha=1.0):
    return F._linalg_gemm2(x, y, transpose_a=ta, transpose_b=tb, alpha=alpha)


def _per_matrix_column(F, v, a):
    """v (one value per matrix) shaped to broadcast against a's matrices."""
    return F.reshape(v, shape=tuple(a.shape[:-2]) + (1, 1))


def _fsym_adjoint(F, x, lower):
    """The adjoint of _fsym: sum(_fsym(m) * x) == sum(m * _fsym_adjoint(x)) for every m."""
    return _ftri(F, x + _ft(F, x), lower) - F._linalg_makediag(F._linalg_extractdiag(x))


def _tri_attrs(attrs, **changes):
    return dict({k: attrs[k] for k in _TRI_ATTRS}, **changes)


def _potrf_grad(F, attrs, inputs, outputs, ograds):
    return [F._backward_linalg_potrf(ograds[0], outputs[0], lower=attrs["lower"])]


def _potrf_steps(lower):
    """The attributes of the three triangular ops of potrf's gradient 0.5 L^-T sym(L^T G) L^-1 (upper factors: 0.5
    U^-1 sym(G U^T) U^-T): the product, the solve from the left, the solve from the right."""
    return (dict(transpose=True, rightside=not lower, lower=lower, alpha=1.0),
            dict(transpose=lower, rightside=False, lower=lower, alpha=1.0),
            dict(transpose=not lower, rightside=True, lower=lower, alpha=0.5))


def _potrf_backward_grad(F, attrs, inputs, outputs, ograds):
    """The gradients of the composed formula (_potrf_steps) step by step from the output back, each step's through its
    op's own gradient."""
    g, chol = inputs
    lower = attrs["lower"]
    product, left, right = _potrf_steps(lower)
    prod = F._linalg_trmm(chol, g, **product)
    sym = _fsym(F, prod, lower)
    half = F._linalg_trsm(chol, sym, **left)
    dchol_right, dhalf = _trsm_grad(F, right, [chol, half], outputs, ograds)
    dchol_left, dsym = _trsm_grad(F, left, [chol, sym], [half], [dhalf])
    dchol_product, dg = _trmm_grad(F, product, [chol, g], [prod], [_fsym_adjoint(F, dsym, lower)])
    return [dg, dchol_product + dchol_left + dchol_right]


def _potri_grad(F, attrs, inputs, outputs, ograds):
    lower, out, g = attrs["lower"], outputs[0], ograds[0]
    both = _fmat(F, out, g) + _fmat(F, out, g, tb=True) if lower else \
        _fmat(F, g, out) + _fmat(F, g, out, ta=True)
    grad = F._linalg_trsm(inputs[0], both, rightside=lower, transpose=True, lower=lower, alpha=-1.0)
    return [_ftri(F, grad, lower)]


def _trmm_grad(F, attrs, inputs, outputs, ograds):
    return list(F._backward_linalg_trmm(ograds[0], *inputs, **_tri_attrs(attrs)))


def _trsm_grad(F, attrs, inputs, outputs, ograds):
    return list(F._backward_linalg_trsm(ograds[0], inputs[0], outputs[0], **_tri_attrs(attrs)))


def _triangular_backward_grad(name):
    """The gradient of _backward_linalg_<name> (trsm or trmm), whose outputs are dA = tri(scale op(x) op(y)) of first
    (trsm: dB, trmm: the head gradient G) and other (trsm: the output C, trmm: B), and dB = trsm / trmm (A, G) with
    op(A) transposed the other way: the product's gradients by gemm2's rule, dB's by trsm's / trmm's own gradient."""
    def gradient(F, attrs, inputs, outputs, ograds):
        g, a, other = inputs
        db, (hda, hdb) = outputs[1], ograds
        tr, alpha = attrs["transpose"], attrs["alpha"]
        first = db if name == "trsm" else g
        x, y, tx, ty = _tri_product_operands(first, other, tr, attrs["rightside"])
        scale = -1.0 / alpha if name == "trsm" else alpha
        dx, dy = _product_grads(lambda p, q, tp, tq: _fmat(F, p, q, tp, tq, scale), x, y,
                                _ftri(F, hda, attrs["lower"]), tx, ty)
        dfirst, dother = (dx, dy) if attrs["rightside"] == tr else (dy, dx)  # _tri_product_operands' order
        flipped = _tri_attrs(attrs, transpose=not tr)
        if name == "trsm":
            da, dg = _trsm_grad(F, flipped, [a, g], [db], [hdb + dfirst])
            return [dg, da, dother]
        da, dg = _trmm_grad(F, flipped, [a, g], [db], [hdb])
        return [dg + dfirst, da, dother]
    return gradient


def _syrk_grad(F, attrs, inputs, outputs, ograds):
    a, g, alpha = inputs[0], ograds[0], attrs["alpha"]
    if attrs["transpose"]:
        return [_fmat(F, a, g, alpha=alpha) + _fmat(F, a, g, tb=True, alpha=alpha)]
    return [_fmat(F, g, a, alpha=alpha) + _fmat(F, g, a, ta=True, alpha=alpha)]


def _gelqf_grad(F, attrs, inputs, outputs, ograds):
    q, low = outputs
    dq, dl = ograds
    m = F._linalg_trmm(low, dl, transpose=True) - _fmat(F, dq, q, tb=True)
    return [F._linalg_trsm(low, dq + _fmat(F, _fsym(F, m, True), q), transpose=True)]


def _syevd_grad(F, attrs, inputs, outputs, ograds):
    u, lam = outputs
    du, dlam = ograds
    n = u.shape[-1]
    y = F._linalg_makediag(dlam)
    if n > 1:
        x = _fmat(F, du, u, tb=True)
        gap = F.broadcast_sub(F.expand_dims(lam, axis=-1), F.expand_dims(lam, axis=-2))
        eps = 1e-30 if u.dtype == np.float32 else 1e-100  # MXNet's floor on eigenvalue gaps
        lower = _ftri(F, (x - _ft(F, x)) / (2 * F._maximum_scalar(gap, scalar=eps)), True, offset=-1)
        y = y + lower + _ft(F, lower)
    return [_fmat(F, u, _fmat(F, y, u), ta=True)]


def _inverse_grad(F, attrs, inputs, outputs, ograds):
    inv = outputs[0]
    return [_fmat(F, inv, _fmat(F, ograds[0], inv, tb=True), ta=True, alpha=-1.0)]


def _det_grad(F, attrs, inputs, outputs, ograds):
    a = inputs[0]
    scale = _per_matrix_column(F, ograds[0] * outputs[0], a)
    return [F.broadcast_mul(scale, _ft(F, F._linalg_inverse(a)))]


def _slogdet_grad(F, attrs, inputs, outputs, ograds):
    a = inputs[0]
    return [F.broadcast_mul(_per_matrix_column(F, ograds[1], a), _ft(F, F._linalg_inverse(a)))]


def _sumlogdiag_grad(F, attrs, inputs, outputs, ograds):
    a = inputs[0]
    per = F.reshape(ograds[0], shape=tuple(a.shape[:-2]) + (1,))
    return [F._linalg_makediag(F.broadcast_div(per, F._linalg_extractdiag(a)))]


# --- registration --------------------------------------------------------------------------------

_LOWER = Param("lower", "bool", True, "the triangular matrix is lower (True) or upper (False) triangular")
_TRI_PARAMS = (Param("transpose", "bool", False, "use the transpose of the triangular matrix"),
               Param("rightside", "bool", False, "multiply the triangular matrix from the right"),
               _LOWER, Param("alpha", "float", 1.0, "scalar factor of the result"))
_TRI_ATTRS = ("lower", "transpose", "rightside", "alpha")  # the order the kernels' trsm and trmm take them
_OFFSET = Param("offset", "int", 0, "diagonal relative to the main one (negative: below, positive: above)")
_TRIAN_LOWER = Param("lower", "bool", True, "the lower (True) or upper triangle; only used when offset is 0")


def _packer(triangle, pack):
    """{"cpu", "gpu"} computes of a diagonal (triangle=False) or triangle packer: pack (extract*) fills the packed
    output from the matrices, unpack (make*) the matrices from the packed input (kernels/linalg_cpu.packing_cpu)."""
    def compute(device, attrs, inputs, outputs, reqs):
        def run(ins, outs, kreqs):
            mats, packed = (ins[0], outs[0]) if pack else (outs[0], ins[0])
            kernel(f"linalg_{device}", "packing", device)(mats, packed, attrs["offset"], attrs.get("lower", True),
                                                            triangle, pack)
        typed_call(run, inputs, outputs, reqs, exact=(False,))
    return {device: functools.partial(compute, device) for device in ("cpu", "gpu")}


def _gpu(module, name, *attr_names):
    """The GPU compute of an op on kernels/<module>.<name>_gpu(inputs..., outputs..., attributes...), which writes
    its outputs (typed_call gives them temporaries under other requests)."""
    def compute(attrs, inputs, outputs, reqs):
        run = kernel(module, name, "gpu")
        typed_call(lambda ins, outs, kreqs: run(*ins, *outs, *(attrs[a] for a in attr_names)), inputs, outputs,
                   reqs, exact=(False,) * len(outputs))
    return compute


def _linalg(name, doc, infer_shape, compute, gradient, params=(), arguments=("A",), alias=True, gpu=None,
            backward=False, gpu_module="linalg_gpu", **kw):
    """Registers _linalg_<name> (or _backward_linalg_<name>, a gradient op without alias); compute: its CPU compute,
    or a {device: compute} dict; gpu: the attributes its kernel <name> (<name>_backward) in kernels/<gpu_module>
    takes, when it has one."""
    computes = dict(compute) if isinstance(compute, dict) else {"cpu": compute}
    if gpu is not None:
        computes["gpu"] = _gpu(gpu_module, f"{name}_backward" if backward else name, *gpu)
    registry.register(OpDef(
        f"_backward_linalg_{name}" if backward else f"_linalg_{name}",
        aliases=(f"linalg_{name}",) if alias and not backward else (), arguments=arguments, params=params,
        infer_shape=infer_shape, infer_type=kw.pop("infer_type", _float_only), compute=computes,
        gradient=gradient, doc=doc, **kw))


_linalg("potrf", "Cholesky factor of symmetric positive definite matrices (reads the `lower` triangle): "
        "A = L L^T, or U^T U when lower=False.", _same_shape,
        _blas_compute(lambda attrs, a, out: kernels("linalg_cpu").potrf(a, out, attrs["lower"]),
                      lambda attrs, a: _potrf(a, attrs["lower"])), _potrf_grad,
        params=(_LOWER,), gpu=("lower",), grad_reads=((), (0,)))
_linalg("potrf", "Gradient of potrf from the head gradient and the Cholesky factor L.", _potrf_backward_shape,
        _blas_compute(lambda attrs, *arrays: kernels("linalg_cpu").potrf_backward_cpu(*arrays, attrs["lower"]),
                      lambda attrs, g, chol: _potrf_backward(g, chol, attrs["lower"])),
        _potrf_backward_grad, params=(_LOWER,), arguments=("ograd", "L"), gpu=("lower",), backward=True)
_linalg("potri", "Inverse of B from its Cholesky factor A: A^-T A^-1 (lower) or A^-1 A^-T (upper).",
        _same_shape, _compute(lambda attrs, a: _potri(a, attrs["lower"])),
        _potri_grad, params=(_LOWER,), gpu=("lower",))
_linalg("trmm", "alpha * op(A) B, or alpha * B op(A) with rightside, for triangular A.", _tri_product_shape,
        _blas_compute(_triangular_blas("trmm"), lambda attrs, a, b: _trmm(a, b, *(attrs[k] for k in _TRI_ATTRS))),
        _trmm_grad, params=_TRI_PARAMS, arguments=("A", "B"), gpu=_TRI_ATTRS, grad_reads=((0, 1), ()))
_linalg("trmm", "Gradients of trmm's A and B from the head gradient, A and B.", _triangular_backward_shape,
        _blas_compute(_triangular_blas("trmm", backward=True),
                      lambda attrs, *arrays: _triangular_backward("trmm", *arrays, *(attrs[k] for k in _TRI_ATTRS))),
        _triangular_backward_grad("trmm"), params=_TRI_PARAMS, arguments=("ograd", "A", "B"), gpu=_TRI_ATTRS,
        num_outputs=2, backward=True)
_linalg("trsm", "Solves op(A) X = alpha B (or X op(A) = alpha B with rightside) for triangular A.",
        _tri_product_shape,
        _blas_compute(_triangular_blas("trsm"), lambda attrs, a, b: _solve_tri(a, b, *(attrs[k] for k in _TRI_ATTRS))),
        _trsm_grad, params=_TRI_PARAMS, arguments=("A", "B"), gpu=_TRI_ATTRS, grad_reads=((0,), (0,)))
_linalg("trsm", "Gradients of trsm's A and B from the head gradient, A and the output C.", _triangular_backward_shape,
        _blas_compute(_triangular_blas("trsm", backward=True),
                      lambda attrs, *arrays: _triangular_backward("trsm", *arrays, *(attrs[k] for k in _TRI_ATTRS))),
        _triangular_backward_grad("trsm"), params=_TRI_PARAMS, arguments=("ograd", "A", "C"), gpu=_TRI_ATTRS,
        num_outputs=2, backward=True)
_linalg("syrk", "alpha * A A^T, or alpha * A^T A with transpose.", _syrk_shape,
        _compute(lambda attrs, a: attrs["alpha"] * (np.matmul(_t(a), a) if attrs["transpose"]
                                                   else np.matmul(a, _t(a)))),
        _syrk_grad, params=(Param("transpose", "bool", False, "use the transpose of A"),
                            Param("alpha", "float", 1.0, "scalar factor of the result")), gpu=("transpose", "alpha"))
_linalg("gelqf", "LQ factorization A = L Q of matrices with rows <= columns: Q has orthonormal rows, L is "
        "lower triangular (LAPACK's sign convention).", _gelqf_shape,
        _compute(lambda attrs, a: _gelqf(a)), _gelqf_grad, num_outputs=2, gpu=(), gpu_module="linalg_factor_gpu")
_linalg("syevd", "Eigendecomposition A = U^T diag(L) U of symmetric matrices (reads the lower triangle): "
        "eigenvalues L ascending, eigenvectors as the rows of U, each with its largest entry positive.",
        _syevd_shape, _compute(lambda attrs, a: _syevd(a)), _syevd_grad,
        num_outputs=2, alias=False, gpu=(), gpu_module="linalg_factor_gpu")
_linalg("inverse", "Inverse of square matrices.", _same_shape,
        _compute(lambda attrs, a: np.linalg.inv(a)), _inverse_grad, gpu=(), gpu_module="linalg_factor_gpu")
# det and slogdet keep MXNet's hidden outputs: the LU factors and pivots of each matrix.
_linalg("det", "Determinant of square matrices.", _det_shape(1), _compute(_det), _det_grad,
        infer_type=_det_type(1), num_outputs=3, visible_outputs=1, grad_reads=((0,), (0,)), gpu=(),
        gpu_module="linalg_factor_gpu")
_linalg("slogdet", "Sign and natural log of the absolute value of the determinant of square matrices.",
        _det_shape(2), _compute(_slogdet), _slogdet_grad, infer_type=_det_type(2), num_outputs=4,
        visible_outputs=2, grad_reads=((0,), ()), gpu=(), gpu_module="linalg_factor_gpu")
_linalg("sumlogdiag", "Sum of the natural logs of the diagonal of square matrices.", _per_matrix_shape,
        _compute(lambda attrs, a: np.log(np.diagonal(a, axis1=-2, axis2=-1)).sum(-1)), _sumlogdiag_grad, gpu=())
_linalg("extractdiag", "Diagonal `offset` of square matrices.", _extractdiag_shape,
        _packer(False, True),
        lambda F, attrs, inputs, outputs, ograds: [F._linalg_makediag(ograds[0], offset=attrs["offset"])],
        params=(_OFFSET,))
_linalg("makediag", "Square matrices with the last axis of A on diagonal `offset`, zeros elsewhere.",
        _diag_shape, _packer(False, False),
        lambda F, attrs, inputs, outputs, ograds: [F._linalg_extractdiag(ograds[0], offset=attrs["offset"])],
        params=(_OFFSET,))
_linalg("extracttrian", "A triangle of square matrices packed into a vector: the lower one row by row "
        "(offset < 0, or 0 with lower), the upper one column by column.", _extracttrian_shape,
        _packer(True, True),
        lambda F, attrs, inputs, outputs, ograds: [F._linalg_maketrian(ograds[0], offset=attrs["offset"],
                                                                           lower=attrs["lower"])],
        params=(_OFFSET, _TRIAN_LOWER))
_linalg("maketrian", "Square matrices with a packed triangle (extracttrian's layout) unpacked, zeros "
        "elsewhere.", _maketrian_shape, _packer(True, False),
        lambda F, attrs, inputs, outputs, ograds: [F._linalg_extracttrian(ograds[0], offset=attrs["offset"],
                                                                             lower=attrs["lower"])],
        params=(_OFFSET, _TRIAN_LOWER))
