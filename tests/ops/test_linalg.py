"""mx.nd.linalg / mx.sym.linalg (potrf ... maketrian) and the fused gradient ops of potrf, trsm and trmm: OpSpecs
against SciPy/NumPy float64 references, numbers and gradients printed by a real MXNet 1.9.1
(fixtures/linalg_reference.json), the symmetric-input gradients of potrf and syevd, second-order gradients through
the public API, symbols, and errors."""
import json
import os

import numpy as np
import pytest
import scipy.linalg as sl
from hypothesis import given, settings, strategies as st

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "linalg_reference.json")
SYMMETRIC = "MXNet's gradient treats A as symmetric (LAPACK reads one triangle); test_symmetric_input_gradient " \
            "checks it along symmetric directions"


# --- inputs ----------------------------------------------------------------------------------------

def _batch(rng):
    return tuple(int(d) for d in rng.integers(1, 3, size=int(rng.integers(0, 2))))


def _n(rng):
    return int(rng.integers(1, 4))


def _spd(rng, batch, n):
    x = rng.standard_normal(batch + (n, n))
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def _dominant(rng, batch, n):
    """Well-conditioned matrices (also as triangles: every diagonal entry is >= 2 in magnitude)."""
    return rng.uniform(-1, 1, batch + (n, n)) + np.eye(n) * rng.choice([-3.0, 3.0], size=batch + (1, n))


def _one(make_array, **attr_choices):
    def make(rng):
        attrs = {k: v[int(rng.integers(len(v)))] for k, v in attr_choices.items()}
        return [make_array(rng, _batch(rng), _n(rng))], attrs
    return make


def _make_tri_product(rng):
    batch, n, cols = _batch(rng), _n(rng), _n(rng)
    attrs = {"transpose": bool(rng.integers(2)), "rightside": bool(rng.integers(2)),
             "lower": bool(rng.integers(2)), "alpha": float(rng.uniform(0.5, 2) * rng.choice([-1, 1]))}
    b = rng.standard_normal(batch + ((cols, n) if attrs["rightside"] else (n, cols)))
    return [_dominant(rng, batch, n), b], attrs


def _make_potrf_backward(rng):
    """A head gradient and a (well-conditioned) triangular factor."""
    batch, n = _batch(rng), _n(rng)
    return [rng.standard_normal(batch + (n, n)), _dominant(rng, batch, n)], {"lower": bool(rng.integers(2))}


def _make_tri_backward(rng):
    """A head gradient, A, and B (trmm) or the output C (trsm): any matrices of B's shape."""
    (a, b), attrs = _make_tri_product(rng)
    return [rng.standard_normal(b.shape), a, rng.standard_normal(b.shape)], attrs


def _make_wide(rng):
    batch, m = _batch(rng), _n(rng)
    return [rng.standard_normal(batch + (m, m + int(rng.integers(0, 3))))], {}


def _make_diag(rng):
    n = _n(rng)
    return [rng.standard_normal(_batch(rng) + (n,))], {"offset": int(rng.integers(-2, 3))}


def _make_extract(fn_params):
    def make(rng):
        n = _n(rng) + 1
        attrs = {"offset": int(rng.integers(1 - n, n)), **{k: bool(rng.integers(2)) for k in fn_params}}
        return [rng.standard_normal(_batch(rng) + (n, n))], attrs
    return make


def _make_packed(rng):
    m = _n(rng)
    attrs = {"offset": int(rng.integers(-2, 3)), "lower": bool(rng.integers(2))}
    return [rng.standard_normal(_batch(rng) + (m * (m + 1) // 2,))], attrs


# --- references (SciPy / NumPy, one matrix at a time) ----------------------------------------------

def _loop(fn, *arrays):
    """fn over the matrices of the leading batch axes, results stacked back."""
    batch = arrays[0].shape[:-2]
    flat = [a.reshape((-1,) + a.shape[-2:]) for a in arrays]
    results = [fn(*mats) for mats in zip(*flat)]
    if isinstance(results[0], tuple):
        return tuple(np.stack(r).reshape(batch + r[0].shape) for r in zip(*results))
    return np.stack(results).reshape(batch + results[0].shape)


def _scalar_shape(values, a):
    return np.asarray(values).reshape(a.shape[:-2] or (1,))


def _potrf(A, lower=True):
    def one(a):
        s = np.tril(a) + np.tril(a, -1).T if lower else np.triu(a) + np.triu(a, 1).T
        return sl.cholesky(s, lower=lower)
    return _loop(one, A)


def _potri(A, lower=True):
    def one(a):
        t = np.tril(a) if lower else np.triu(a)
        b = t @ t.T if lower else t.T @ t
        return np.linalg.inv(b)
    return _loop(one, A)


def _op(t, transpose):
    return t.T if transpose else t


def _trmm(A, B, transpose=False, rightside=False, lower=True, alpha=1.0):
    def one(a, b):
        t = _op(np.tril(a) if lower else np.triu(a), transpose)
        return alpha * (b @ t if rightside else t @ b)
    return _loop(one, A, B)


def _trsm(A, B, transpose=False, rightside=False, lower=True, alpha=1.0):
    def one(a, b):
        t = _op(np.tril(a) if lower else np.triu(a), transpose)
        return alpha * (b @ np.linalg.inv(t) if rightside else np.linalg.solve(t, b))
    return _loop(one, A, B)


def _tri(a, lower):
    return np.tril(a) if lower else np.triu(a)


def _potrf_backward(G, L, lower=True):
    """0.5 L^-T sym(L^T G) L^-1 (lower; sym: the symmetric matrix of the lower triangle), 0.5 U^-1 sym(G U^T) U^-T
    (upper): the gradient of A for A = L L^T (U^T U), as MXNet's potrf_backward."""
    def one(g, t):
        t = _tri(t, lower)
        inv = np.linalg.inv(t)
        p = _tri(t.T @ g if lower else g @ t.T, lower)
        sym = p + p.T - np.diag(np.diag(p))
        return 0.5 * (inv.T @ sym @ inv if lower else inv @ sym @ inv.T)
    return _loop(one, G, L)


def _trsm_backward(G, A, C, transpose=False, rightside=False, lower=True, alpha=1.0):
    """For C = alpha op(T)^-1 B (B op(T)^-1 when rightside): dB = alpha op(T)^-T G (G op(T)^-T), and dT from
    d op(T) = -op(T)^-T G C^T (-C^T G op(T)^-T), in T's triangle."""
    def one(g, a, c):
        t = _op(_tri(a, lower), transpose)
        inv = np.linalg.inv(t)
        db = alpha * (g @ inv.T if rightside else inv.T @ g)
        d_op = -(c.T @ db if rightside else db @ c.T) / alpha
        return _tri(_op(d_op, transpose), lower), db
    return _loop(one, G, A, C)


def _trmm_backward(G, A, B, transpose=False, rightside=False, lower=True, alpha=1.0):
    """For C = alpha op(T) B (B op(T) when rightside): dB = alpha op(T)^T G (G op(T)^T), d op(T) = alpha G B^T
    (B^T G), dT in T's triangle."""
    def one(g, a, b):
        t = _op(_tri(a, lower), transpose)
        db = alpha * (g @ t.T if rightside else t.T @ g)
        d_op = alpha * (b.T @ g if rightside else g @ b.T)
        return _tri(_op(d_op, transpose), lower), db
    return _loop(one, G, A, B)


def _syrk(A, transpose=False, alpha=1.0):
    return _loop(lambda a: alpha * (a.T @ a if transpose else a @ a.T), A)


def _gelqf(A):
    def one(a):
        q, r = sl.qr(a.T, mode="economic")  # LAPACK's Householder signs, as MXNet's gelqf
        return q.T, r.T
    return _loop(one, A)


def _syevd(A):
    def one(a):
        lam, vec = sl.eigh(np.tril(a) + np.tril(a, -1).T)
        u = vec.T
        for row in u:
            if row[np.argmax(np.abs(row))] < 0:
                row *= -1
        return u, lam
    u, lam = _loop(lambda a: tuple(x[None] if x.ndim == 1 else x for x in one(a)), A)
    return u, lam.reshape(A.shape[:-1])


def _slogdet(A):
    sign, logabs = np.linalg.slogdet(A)
    return _scalar_shape(sign, A), _scalar_shape(logabs, A)


def _diag_positions(n, offset):
    return [(i, i + offset) if offset >= 0 else (i - offset, i) for i in range(n - abs(offset))]


def _makediag(A, offset=0):
    return _loop(lambda a: np.diagflat(a, k=offset), A[..., None, :])


def _trian_positions(n, offset, lower):
    k = abs(offset)
    if offset < 0 or (offset == 0 and lower):  # the lower triangle row by row
        return [(r, c) for r in range(k, n) for c in range(r - k + 1)]
    return [(r, c) for c in range(k, n) for r in range(c - k + 1)]  # the upper one column by column


def _extracttrian(A, offset=0, lower=True):
    return np.stack([A[..., r, c] for r, c in _trian_positions(A.shape[-1], offset, lower)], axis=-1)


def _maketrian(A, offset=0, lower=True):
    m = int(round((np.sqrt(8 * A.shape[-1] + 1) - 1) / 2))
    n = m + abs(offset)
    out = np.zeros(A.shape[:-1] + (n, n))
    for i, (r, c) in enumerate(_trian_positions(n, offset, lower)):
        out[..., r, c] = A[..., i]
    return out


SPECS = [
    OpSpec("_linalg_potrf", _one(_spd, lower=[True, False]), _potrf, grad=False, why=SYMMETRIC, rtol=1e-4),
    OpSpec("_backward_linalg_potrf", _make_potrf_backward, _potrf_backward, rtol=1e-4, atol=1e-5),
    OpSpec("_backward_linalg_trsm", _make_tri_backward, _trsm_backward, rtol=1e-4, atol=1e-5),
    OpSpec("_backward_linalg_trmm", _make_tri_backward, _trmm_backward, rtol=1e-4, atol=1e-5),
    OpSpec("_linalg_potri", _one(_dominant, lower=[True, False]), _potri, rtol=1e-4),
    OpSpec("_linalg_trmm", _make_tri_product, _trmm, rtol=1e-4),
    OpSpec("_linalg_trsm", _make_tri_product, _trsm, rtol=1e-4),
    OpSpec("_linalg_syrk", _one(lambda rng, b, n: rng.standard_normal(b + (n, n + 1)), transpose=[False, True],
                                alpha=[1.0, -0.5]), _syrk, rtol=1e-4),
    OpSpec("_linalg_gelqf", _make_wide, _gelqf, rtol=1e-4, atol=1e-5),
    OpSpec("_linalg_syevd", _one(_spd), _syevd, grad=False, why=SYMMETRIC, rtol=1e-4, atol=1e-5),
    OpSpec("_linalg_inverse", _one(_dominant), lambda a: np.linalg.inv(a), rtol=1e-4),
    OpSpec("_linalg_det", _one(_dominant), lambda a: _scalar_shape(np.linalg.det(a), a), rtol=1e-4),
    OpSpec("_linalg_slogdet", _one(_dominant), _slogdet, rtol=1e-4, grad_outputs=(1,)),
    OpSpec("_linalg_sumlogdiag", _one(_spd),
           lambda a: _scalar_shape(np.log(np.diagonal(a, axis1=-2, axis2=-1)).sum(-1), a)),
    OpSpec("_linalg_extractdiag", _make_extract(()),
           lambda a, offset: np.diagonal(a, offset, axis1=-2, axis2=-1)),
    OpSpec("_linalg_makediag", _make_diag, _makediag),
    OpSpec("_linalg_extracttrian", _make_extract(("lower",)), _extracttrian),
    OpSpec("_linalg_maketrian", _make_packed, _maketrian),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


# --- MXNet 1.9.1's own numbers ---------------------------------------------------------------------

def _fixture_cases():
    with open(FIXTURE) as f:
        return json.load(f)["cases"]


@pytest.mark.parametrize("case", _fixture_cases(), ids=lambda c: f"{c['fn']}-{c['kwargs']}")
def test_outputs_and_gradients_equal_mxnet(case):
    xs = [mx.nd.array(np.array(x), dtype=np.float64) for x in case["inputs"]]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        outs = getattr(mx.nd.linalg, case["fn"])(*xs, **case["kwargs"])
    outs = outs if isinstance(outs, list) else [outs]
    mx.autograd.backward(outs, [mx.nd.array(np.array(h), dtype=np.float64) for h in case["heads"]])
    assert len(outs) == len(case["outputs"])
    for got, want in zip(outs, case["outputs"]):
        assert got.shape == np.shape(want)
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-8, atol=1e-10)
    for x, want in zip(xs, case["grads"]):
        np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-7, atol=1e-9)


# --- potrf and syevd: gradients for symmetric inputs -----------------------------------------------

@pytest.mark.parametrize("fn,kwargs", [("potrf", {"lower": True}), ("potrf", {"lower": False}), ("syevd", {})])
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_symmetric_input_gradient(fn, kwargs, seed):
    """The derivative along each symmetric direction E_ij + E_ji (E_ii) equals <gradient, direction>."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    a = _spd(rng, (2,), n)
    x = mx.nd.array(a, dtype=np.float64)
    x.attach_grad()
    with mx.autograd.record():
        outs = getattr(mx.nd.linalg, fn)(x, **kwargs)
    outs = outs if isinstance(outs, list) else [outs]
    heads = [rng.standard_normal(o.shape) for o in outs]
    mx.autograd.backward(outs, [mx.nd.array(h, dtype=np.float64) for h in heads])
    grad = x.grad.asnumpy()

    def value(m):
        res = getattr(mx.nd.linalg, fn)(mx.nd.array(m, dtype=np.float64), **kwargs)
        return sum(float((r.asnumpy() * h).sum()) for r, h in zip(res if isinstance(res, list) else [res], heads))
    eps = 1e-6
    for i in range(n):
        for j in range(i + 1):
            step = np.zeros_like(a)
            step[:, i, j] = step[:, j, i] = eps
            numeric = (value(a + step) - value(a - step)) / (2 * eps)
            analytic = (grad[:, i, j] + grad[:, j, i] if i != j else grad[:, i, i]).sum()
            np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6)


# --- second order: the fused gradient ops differentiated through the public API ------------------------

def _first_order(fn, arrays, head):
    """Autograd's gradients of sum(fn(*arrays) * head) w.r.t. every array (float64)."""
    xs = [mx.nd.array(a, dtype=np.float64) for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        y = fn(*xs)
    y.backward(mx.nd.array(head, dtype=np.float64))
    return [x.grad.asnumpy() for x in xs]


def _along_symmetric_directions(g):
    """The derivatives along E_ij + E_ji (i > j) and E_ii that a gradient g gives, in g's lower triangle."""
    return np.tril(g + np.swapaxes(g, -1, -2), -1) + np.tril(np.triu(g))


@pytest.mark.parametrize("name,make,symmetric", [("potrf", _one(_spd, lower=[True, False]), True),
                                                 ("trsm", _make_tri_product, False), ("trmm", _make_tri_product, False)])
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_second_order_gradients_equal_central_differences(name, make, symmetric, seed):
    """grad(create_graph=True) of potrf/trsm/trmm (one fused _backward_linalg_* op each), then backward of
    sum(grad * h2): equals central differences of the first-order gradient along each input entry (potrf, whose
    gradients treat A as symmetric: along each symmetric direction, as test_symmetric_input_gradient)."""
    rng = np.random.default_rng(seed)
    arrays, kwargs = make(rng)

    def fn(*args):
        return getattr(mx.nd.linalg, name)(*args, **kwargs)
    xs = [mx.nd.array(a, dtype=np.float64) for a in arrays]
    for x in xs:
        x.attach_grad()
    head = rng.standard_normal(fn(*xs).shape)
    h2s = [rng.standard_normal(a.shape) for a in arrays]
    with mx.autograd.record():
        y = fn(*xs)
        grads = mx.autograd.grad(y, xs, head_grads=mx.nd.array(head, dtype=np.float64), create_graph=True)
        loss = sum((g * mx.nd.array(h, dtype=np.float64)).sum() for g, h in zip(grads, h2s))
    loss.backward()
    eps = 1e-6
    for i, a in enumerate(arrays):
        numeric = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            values = []
            for sign in (1, -1):
                moved = [b.copy() for b in arrays]
                moved[i][idx] += sign * eps
                values.append(sum(float((g * h).sum()) for g, h in zip(_first_order(fn, moved, head), h2s)))
            numeric[idx] = (values[0] - values[1]) / (2 * eps)
        analytic = xs[i].grad.asnumpy()
        if symmetric:
            analytic, numeric = _along_symmetric_directions(analytic), _along_symmetric_directions(numeric)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6)


# --- symbols -------------------------------------------------------------------------------------------

def test_symbols_infer_shapes_and_name_outputs():
    a = mx.sym.var("a")
    q, low = mx.sym.linalg.gelqf(a)
    _, outs, _ = mx.sym.Group([q, low]).infer_shape(a=(2, 3, 4))
    assert outs == [(2, 3, 4), (2, 3, 3)]
    for sym, shape, want in [
            (mx.sym.linalg.det(a), (3, 3), (1,)), (mx.sym.linalg.det(a), (2, 5, 3, 3), (2, 5)),
            (mx.sym.linalg.sumlogdiag(a), (4, 4), (1,)), (mx.sym.linalg.syrk(a, transpose=True), (2, 3), (3, 3)),
            (mx.sym.linalg.extracttrian(a, offset=-1), (2, 4, 4), (2, 6)),
            (mx.sym.linalg.maketrian(a, offset=1), (2, 6), (2, 4, 4)),
            (mx.sym.linalg.makediag(a, offset=-2), (3,), (5, 5)),
            (mx.sym.linalg.extractdiag(a, offset=1), (3, 3), (2,))]:
        assert sym.infer_shape(a=shape)[1] == [want]
    u, lam = mx.sym.linalg.syevd(a)
    assert mx.sym.Group([u, lam]).infer_shape(a=(2, 3, 3))[1] == [(2, 3, 3), (2, 3)]
    assert mx.sym.Group(list(mx.sym.linalg.slogdet(a))).infer_shape(a=(3, 3))[1] == [(1,), (1,)]


def test_symbol_outputs_are_named_as_mxnet():
    """Names from MXNet 1.9.1: det's and slogdet's hidden LU/pivot outputs still number the visible ones."""
    a = mx.sym.var("a")
    with mx.name.NameManager():
        assert mx.sym.linalg.gelqf(a).list_outputs() == ["gelqf0_output0", "gelqf0_output1"]
        assert mx.sym.linalg.syevd(a).list_outputs() == ["syevd0_output0", "syevd0_output1"]
        assert mx.sym.linalg.slogdet(a).list_outputs() == ["slogdet0_output0", "slogdet0_output1"]
        assert mx.sym.linalg.det(a).list_outputs() == ["det0_output0"]
        assert mx.sym.linalg.potrf(a).list_outputs() == ["potrf0_output"]


def test_symbol_executor_runs_trsm_of_potrf():
    """Solve A X = B with the Cholesky factor twice, as MXNet's docs suggest, through an Executor."""
    rng = np.random.default_rng(0)
    a_np, b_np = _spd(rng, (), 3), rng.standard_normal((3, 2))
    a, b = mx.sym.var("a"), mx.sym.var("b")
    chol = mx.sym.linalg.potrf(a)
    x = mx.sym.linalg.trsm(chol, mx.sym.linalg.trsm(chol, b), transpose=True)
    out = x.eval(a=mx.nd.array(a_np, dtype=np.float64), b=mx.nd.array(b_np, dtype=np.float64))[0]
    np.testing.assert_allclose(out.asnumpy(), np.linalg.solve(a_np, b_np), rtol=1e-10)


def test_aliases_and_namespaces():
    for name in ("potrf", "potri", "trmm", "trsm", "syrk", "gelqf", "syevd", "sumlogdiag", "extractdiag",
                 "makediag", "extracttrian", "maketrian", "inverse", "det", "slogdet"):
        assert callable(getattr(mx.nd.linalg, name)) and callable(getattr(mx.sym.linalg, name))
        assert hasattr(mx.nd, f"linalg_{name}") == (name != "syevd")  # MXNet registers no linalg_syevd


# --- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.linalg.potrf(mx.nd.ones((2, 3))), r"_linalg_potrf.*square.*\(2, 3\)"),
    (lambda: mx.nd.linalg.inverse(mx.nd.ones((3,))), r"_linalg_inverse.*rank >= 2"),
    (lambda: mx.nd.linalg.trmm(mx.nd.ones((2, 2)), mx.nd.ones((3, 4))), r"_linalg_trmm.*incompatible"),
    (lambda: mx.nd.linalg.trsm(mx.nd.ones((2, 2, 2)), mx.nd.ones((3, 2, 2))), r"_linalg_trsm.*leading"),
    (lambda: mx.nd.linalg.gelqf(mx.nd.ones((4, 3))), r"_linalg_gelqf.*last dimension must be >="),
    (lambda: mx.nd.linalg.extractdiag(mx.nd.ones((3, 3)), offset=3), r"_linalg_extractdiag.*illegal offset 3"),
    (lambda: mx.nd.linalg.maketrian(mx.nd.ones((2, 5))), r"_linalg_maketrian.*packed triangle"),
    (lambda: mx.nd.linalg.det(mx.nd.ones((2, 2), dtype="float16")), r"_linalg_det.*float32 and float64"),
    (lambda: mx.nd.linalg.syrk(mx.nd.ones((2, 2), dtype="int32")), r"_linalg_syrk.*float32 and float64"),
    (lambda: mx.nd.linalg.potrf(mx.nd.array([[1.0, 2.0], [2.0, 1.0]])).asnumpy(),
     r"_linalg_potrf.*not positive definite"),
    (lambda: mx.nd.linalg.inverse(mx.nd.zeros((2, 2))).asnumpy(), r"_linalg_inverse.*[Ss]ingular"),
    (lambda: mx.nd.linalg.trsm(mx.nd.zeros((2, 2)), mx.nd.ones((2, 2))).asnumpy(), r"_linalg_trsm.*singular"),
])
def test_bad_input_raises_naming_op(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("through_blas", [True, False])
def test_potrf_trsm_trmm_with_and_without_the_batched_blas_kernels(monkeypatch, lower, through_blas):
    """The ops on kernels/linalg_cpu and on the host fallback (NumPy/SciPy, where NumPy's BLAS is another
    library) agree with the float64 references; the fallback is taken whenever linalg_cpu.AVAILABLE is False."""
    from mxcy.kernels import linalg_cpu
    if through_blas and not linalg_cpu.AVAILABLE:
        pytest.skip("NumPy's BLAS is not scipy-openblas64 here")
    monkeypatch.setattr(linalg_cpu, "AVAILABLE", through_blas)
    rng = np.random.default_rng(2)
    spd, tri, b = _spd(rng, (3,), 4), _dominant(rng, (3,), 4), rng.standard_normal((3, 2, 4))
    np.testing.assert_allclose(mx.nd.linalg.potrf(mx.nd.array(spd, dtype=np.float64), lower=lower).asnumpy(),
                               _potrf(spd, lower), rtol=1e-10)
    kwargs = {"lower": lower, "transpose": True, "rightside": True, "alpha": 0.5}
    for op, want in ((mx.nd.linalg.trsm, _trsm), (mx.nd.linalg.trmm, _trmm)):
        out = op(mx.nd.array(tri, dtype=np.float64), mx.nd.array(b, dtype=np.float64), **kwargs).asnumpy()
        np.testing.assert_allclose(out, want(tri, b, **kwargs), rtol=1e-10)
