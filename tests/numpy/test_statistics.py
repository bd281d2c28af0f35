"""mx.np's percentile, quantile, histogram, bincount and unique against NumPy on drawn inputs."""
import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxcy import np


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("q, axis, keepdims", [(50, None, False), ([10, 90], 1, False), (33.3, 0, True),
                                               (onp.array([[0, 100], [25, 75]]), -1, False), (100, None, True)])
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2 ** 16))
def test_percentile_and_quantile_as_numpy(interpolation, q, axis, keepdims, seed):
    x = onp.random.default_rng(seed).uniform(-5, 5, (3, 4)).astype(onp.float32)
    result = np.percentile(np.array(x), q, axis=axis, interpolation=interpolation, keepdims=keepdims)
    expected = onp.percentile(x.astype(onp.float64), q, axis=axis, method=interpolation, keepdims=keepdims)
    assert result.shape == onp.shape(expected)
    onp.testing.assert_allclose(result.asnumpy(), expected, rtol=1e-5, atol=1e-5)
    fractions = onp.asarray(q, dtype=onp.float64) / 100
    onp.testing.assert_allclose(
        np.quantile(np.array(x), np.array(fractions, dtype="float64"), axis=axis, interpolation=interpolation,
                    keepdims=keepdims).asnumpy(), expected, rtol=1e-5, atol=1e-5)


def test_histogram_bincount_unique_as_numpy():
    x = onp.array([1.0, 2.0, 2.0, 3.0, 5.0], dtype=onp.float32)
    counts, edges = np.histogram(np.array(x), bins=4, range=(0, 5))
    ref_counts, ref_edges = onp.histogram(x, bins=4, range=(0, 5))
    assert counts.asnumpy().tolist() == ref_counts.tolist()
    onp.testing.assert_allclose(edges.asnumpy(), ref_edges)
    ints = onp.array([0, 3, 3, 1, 3], dtype=onp.int64)
    assert np.bincount(np.array(ints, dtype="int64")).asnumpy().tolist() == onp.bincount(ints).tolist()
    assert np.bincount(np.array(ints, dtype="int64"), minlength=6).asnumpy().tolist() == \
        onp.bincount(ints, minlength=6).tolist()
    weights = onp.array([0.5, 1.0, 2.0, 0.25, 1.0])
    onp.testing.assert_allclose(np.bincount(np.array(ints, dtype="int64"), np.array(weights)).asnumpy(),
                                onp.bincount(ints, weights))
    values, index, inverse, counts = np.unique(np.array(ints, dtype="int64"), True, True, True)
    for got, ref in zip((values, index, inverse, counts), onp.unique(ints, True, True, True)):
        assert got.asnumpy().tolist() == ref.tolist()
    assert np.unique(np.array([[1.0, 2.0], [1.0, 2.0]]), axis=0).shape == (1, 2)


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="range"):
        np.percentile(np.ones((3,)), 120)
    with pytest.raises(ValueError, match="interpolation"):
        np.quantile(np.ones((3,)), 0.5, interpolation="cubic")
    with pytest.raises(ValueError, match="negative"):
        np.bincount(np.array([-1, 2], dtype="int64"))
    with pytest.raises(NotImplementedError, match="density"):
        np.histogram(np.ones((3,)), density=True)
