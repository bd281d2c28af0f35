"""dot, batch_dot and linalg gemm/gemm2 against NumPy float64 references."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests


def _dims(rng, count):
    return tuple(int(d) for d in rng.integers(1, 4, size=count))


def _make_dot(rng):
    ta, tb = bool(rng.integers(2)), bool(rng.integers(2))
    lnd, rnd = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    if lnd == rnd == 1:
        ta = tb = False  # vectors cannot be transposed
    k = int(rng.integers(1, 4))
    # The contracted axis: lhs's last (first when transposed), rhs's first (last when transposed).
    lhs = (k,) + _dims(rng, lnd - 1) if ta else _dims(rng, lnd - 1) + (k,)
    rhs = _dims(rng, rnd - 1) + (k,) if tb else (k,) + _dims(rng, rnd - 1)
    return [rng.uniform(-1, 1, lhs), rng.uniform(-1, 1, rhs)], _flags(ta, tb)


def _flags(ta, tb):
    return {"transpose_a": ta, "transpose_b": tb}


def _dot(a, b, transpose_a, transpose_b):
    out = np.tensordot(a, b, axes=([0 if transpose_a else -1], [-1 if transpose_b else 0]))
    return out.reshape(out.shape or (1,))


def _make_batch_dot(rng):
    ta, tb = bool(rng.integers(2)), bool(rng.integers(2))
    batch = _dims(rng, int(rng.integers(1, 3)))
    m, k, n = _dims(rng, 3)
    lhs = batch + ((k, m) if ta else (m, k))
    rhs = batch + ((n, k) if tb else (k, n))
    return [rng.uniform(-1, 1, lhs), rng.uniform(-1, 1, rhs)], _flags(ta, tb)


def _batch_dot(a, b, transpose_a, transpose_b):
    return np.matmul(a.swapaxes(-1, -2) if transpose_a else a,
                     b.swapaxes(-1, -2) if transpose_b else b)


def _make_gemm(with_c):
    def make(rng):
        ndim = int(rng.integers(2, 5))
        row = int(rng.integers(0, ndim - 1))
        ta, tb = bool(rng.integers(2)), bool(rng.integers(2))
        m, k, n = _dims(rng, 3)
        batch = list(_dims(rng, ndim - 2))

        def shaped(rows, cols):  # rows at the row axis, cols last, the batch axes elsewhere
            shape = batch[:row] + [rows] + batch[row:]
            return tuple(shape + [cols])
        arrays = [rng.uniform(-1, 1, shaped(*((k, m) if ta else (m, k)))),
                  rng.uniform(-1, 1, shaped(*((n, k) if tb else (k, n))))]
        attrs = {"transpose_a": ta, "transpose_b": tb, "alpha": float(rng.uniform(-2, 2)),
                 "axis": row - ndim * int(rng.integers(2))}
        if with_c:
            arrays.append(rng.uniform(-1, 1, shaped(m, n)))
            attrs["beta"] = float(rng.uniform(-2, 2))
        return arrays, attrs
    return make


def _gemm(A, B, C=None, transpose_a=False, transpose_b=False, alpha=1.0, beta=1.0, axis=-2):
    a, b = np.moveaxis(A, axis, -2), np.moveaxis(B, axis, -2)
    out = alpha * _batch_dot(a, b, transpose_a, transpose_b)
    if C is not None:
        out = out + beta * np.moveaxis(C, axis, -2)
    return np.moveaxis(out, -2, axis)


SPECS = [
    OpSpec("dot", _make_dot, _dot),
    OpSpec("batch_dot", _make_batch_dot, _batch_dot),
    OpSpec("_linalg_gemm2", _make_gemm(False), _gemm),
    OpSpec("_linalg_gemm", _make_gemm(True), _gemm),
]


test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def test_dot_shapes_follow_mxnet():
    ones = mx.nd.ones
    assert mx.nd.dot(ones((3,)), ones((3,))).shape == (1,)
    assert mx.nd.dot(ones((3,)), ones((3, 4))).shape == (4,)
    assert mx.nd.dot(ones((2, 3)), ones((3,))).shape == (2,)
    assert mx.nd.dot(ones((2, 3, 4)), ones((4, 5, 6))).shape == (2, 3, 5, 6)
    # transpose_a contracts lhs's first axis, transpose_b rhs's last.
    assert mx.nd.dot(ones((4, 2, 3)), ones((4, 5)), transpose_a=True).shape == (2, 3, 5)
    assert mx.nd.dot(ones((2, 4)), ones((5, 6, 4)), transpose_b=True).shape == (2, 5, 6)
    assert mx.nd.linalg.gemm2(ones((2, 3)), ones((3, 4))).shape == (2, 4)
    assert mx.nd.linalg_gemm(ones((2, 3)), ones((3, 4)), ones((2, 4))).shape == (2, 4)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_large_float32_dot_matches_numpy_matmul(ta, tb):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((384, 512), dtype=np.float32)
    b = rng.standard_normal((512, 256), dtype=np.float32)
    a_in, b_in = (a.T.copy() if ta else a), (b.T.copy() if tb else b)
    out = mx.nd.dot(mx.nd.array(a_in), mx.nd.array(b_in), transpose_a=ta, transpose_b=tb)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.asnumpy(), np.matmul(a, b), rtol=1e-4, atol=1e-3)


def test_dot_writes_into_a_given_output():
    a, b = mx.nd.ones((2, 3)), mx.nd.ones((3, 4))
    out = mx.nd.zeros((2, 4))
    mx.nd.dot(a, b, out=out)
    assert out.asnumpy().tolist() == [[3.0] * 4] * 2


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.dot(mx.nd.ones((2, 3)), mx.nd.ones((4, 5))),
     r"dot.*\(2, 3\).*\(4, 5\).*contracts 3 with 4"),
    (lambda: mx.nd.dot(mx.nd.ones((3,)), mx.nd.ones((3,)), transpose_a=True),
     "dot.*cannot transpose vectors"),
    (lambda: mx.nd.batch_dot(mx.nd.ones((2, 3)), mx.nd.ones((3, 2))), "batch_dot.*rank >= 3"),
    (lambda: mx.nd.batch_dot(mx.nd.ones((2, 3, 4)), mx.nd.ones((3, 4, 5))),
     "batch_dot.*leading batch dimensions"),
    (lambda: mx.nd.batch_dot(mx.nd.ones((2, 3, 4)), mx.nd.ones((2, 3, 5))),
     "batch_dot.*contracts 4 with 3"),
    (lambda: mx.nd.linalg.gemm2(mx.nd.ones((2, 3)), mx.nd.ones((3, 4)), axis=-1),
     "_linalg_gemm2.*invalid row axis"),
    (lambda: mx.nd.linalg.gemm(mx.nd.ones((2, 3)), mx.nd.ones((3, 4)), mx.nd.ones((2, 2))),
     r"_linalg_gemm.*C has shape \(2, 2\)"),
])
def test_bad_input_raises_naming_op_and_shapes(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


@pytest.mark.cuda
def test_float16_dot_on_gpu_multiplies_in_float32():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (3, 20)), rng.uniform(-1, 1, (20, 2))
    out = mx.nd.dot(mx.nd.array(a, ctx=mx.gpu(0), dtype="float16"),
                    mx.nd.array(b, ctx=mx.gpu(0), dtype="float16"))
    assert out.dtype == np.float16
    want = a.astype(np.float16).astype(np.float64) @ b.astype(np.float16).astype(np.float64)
    np.testing.assert_allclose(out.asnumpy(), want, rtol=2e-3, atol=2e-3)
