"""mx.np.linalg against NumPy's linalg (float64 references) on drawn matrices, batches included."""
import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxcy import np


def _spd(rng, batch, n):
    m = rng.uniform(-1, 1, batch + (n, n))
    return (m @ onp.swapaxes(m, -1, -2) + n * onp.eye(n)).astype(onp.float32)


# (keyword arguments, shapes they apply to): NumPy's matrix norms take no ord 0 or 3
NORMS = [(dict(), [(3,), (2, 3)]), (dict(ord=1), [(3,), (2, 3)]), (dict(ord=onp.inf), [(3,), (4, 4)]),
         (dict(ord=-onp.inf), [(3,), (2, 3)]), (dict(ord=0), [(3,)]), (dict(ord=3), [(3,)]),
         (dict(axis=0), [(3,), (2, 3)]), (dict(axis=1, keepdims=True), [(2, 3)]),
         (dict(ord=1, axis=(0, 1)), [(2, 3)]), (dict(ord=-1, axis=(0, 1)), [(2, 3)]),
         (dict(ord=onp.inf, axis=(1, 0)), [(2, 3)]), (dict(ord="fro", axis=(0, 1), keepdims=True), [(2, 3)]),
         (dict(keepdims=True), [(3,), (2, 3)])]


@pytest.mark.parametrize("kwargs, shape", [(k, s) for k, shapes in NORMS for s in shapes])
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2 ** 16))
def test_norm_as_numpy(kwargs, shape, seed):
    x = onp.random.default_rng(seed).uniform(-2, 2, shape).astype(onp.float32)
    result = np.linalg.norm(np.array(x), **kwargs)
    expected = onp.linalg.norm(x.astype(onp.float64), **kwargs)
    assert result.shape == onp.shape(expected)
    onp.testing.assert_allclose(result.asnumpy(), expected, rtol=1e-5)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2 ** 16), batch=st.sampled_from([(), (2,), (2, 1)]), n=st.integers(1, 4))
def test_decompositions_as_numpy(seed, batch, n):
    rng = onp.random.default_rng(seed)
    a = _spd(rng, batch, n)
    b = rng.uniform(-1, 1, batch + (n, 2)).astype(onp.float32)
    a64 = a.astype(onp.float64)
    onp.testing.assert_allclose(np.linalg.inv(np.array(a)).asnumpy(), onp.linalg.inv(a64), rtol=1e-4, atol=1e-5)
    det = np.linalg.det(np.array(a))
    assert det.shape == batch
    onp.testing.assert_allclose(det.asnumpy(), onp.linalg.det(a64), rtol=1e-4)
    sign, logdet = np.linalg.slogdet(np.array(a))
    ref_sign, ref_logdet = onp.linalg.slogdet(a64)
    onp.testing.assert_allclose(sign.asnumpy(), ref_sign)
    onp.testing.assert_allclose(logdet.asnumpy(), ref_logdet, rtol=1e-4)
    onp.testing.assert_allclose(np.linalg.cholesky(np.array(a)).asnumpy(), onp.linalg.cholesky(a64), rtol=1e-4,
                                atol=1e-5)
    onp.testing.assert_allclose(np.linalg.solve(np.array(a), np.array(b)).asnumpy(), onp.linalg.solve(a64, b),
                                rtol=1e-4, atol=1e-5)
    values, vectors = np.linalg.eigh(np.array(a))
    onp.testing.assert_allclose(values.asnumpy(), onp.linalg.eigvalsh(a64), rtol=1e-4)
    # eigenvectors are defined up to sign: check a v = w v
    v = vectors.asnumpy().astype(onp.float64)
    onp.testing.assert_allclose(a64 @ v, v * values.asnumpy()[..., None, :], rtol=1e-3, atol=1e-4)
    onp.testing.assert_allclose(np.linalg.eigvalsh(np.array(a), UPLO="U").asnumpy(), onp.linalg.eigvalsh(a64),
                                rtol=1e-4)


def test_eigh_reads_only_the_chosen_triangle():
    a = onp.array([[2.0, 100.0], [1.0, 3.0]], dtype=onp.float32)
    onp.testing.assert_allclose(np.linalg.eigvalsh(np.array(a)).asnumpy(), onp.linalg.eigvalsh(a), rtol=1e-5)
    onp.testing.assert_allclose(np.linalg.eigvalsh(np.array(a), UPLO="U").asnumpy(),
                                onp.linalg.eigvalsh(a, UPLO="U"), rtol=1e-5)


def test_tensorinv_as_numpy():
    a = onp.eye(6).reshape(6, 2, 3) + onp.random.default_rng(0).uniform(0, 0.1, (6, 2, 3))
    onp.testing.assert_allclose(np.linalg.tensorinv(np.array(a, dtype="float64"), ind=1).asnumpy(),
                                onp.linalg.tensorinv(a, ind=1), rtol=1e-6)


def test_bad_shapes_are_value_errors():
    with pytest.raises(ValueError, match="square"):
        np.linalg.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match="UPLO"):
        np.linalg.eigh(np.ones((2, 2)), UPLO="X")
    with pytest.raises(NotImplementedError, match="singular values"):
        np.linalg.norm(np.ones((2, 2)), ord=2)
