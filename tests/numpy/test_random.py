"""mx.np.random: MXNet 1.9.1's signatures (shape= is a TypeError), shapes and dtypes of the draws, their ranges,
broadcasting of array parameters, sampling without replacement, shuffle, and loose moment checks."""
import inspect

import numpy as onp
import pytest

import mxcy as mx
from mxcy import np


@pytest.mark.parametrize("name, params", [
    ("uniform", "low high size dtype ctx out"), ("normal", "loc scale size dtype ctx out"),
    ("randint", "low high size dtype ctx out"), ("choice", "a size replace p ctx out"),
    ("lognormal", "mean sigma size dtype ctx out"), ("exponential", "scale size ctx out"), ("shuffle", "x")])
def test_signatures_are_mxnets(name, params):
    assert list(inspect.signature(getattr(np.random, name)).parameters) == params.split()


@pytest.mark.parametrize("name", ["uniform", "normal", "randint", "choice"])
def test_shape_keyword_is_a_type_error(name):
    # MXNet's test_exc_handling.test_np_random_incorrect_named_arguments
    for shape in ((), None):
        with pytest.raises(TypeError):
            getattr(np.random, name)(shape=shape)


@pytest.mark.parametrize("draw, shape, dtype", [
    (lambda: np.random.uniform(), (), onp.float32),
    (lambda: np.random.uniform(size=(2, 3)), (2, 3), onp.float32),
    (lambda: np.random.uniform(size=4, dtype="float64"), (4,), onp.float64),
    (lambda: np.random.normal(np.zeros((2,)), 1), (2,), onp.float32),
    (lambda: np.random.normal(0.0, np.ones((3, 1)), size=(3, 2)), (3, 2), onp.float32),
    (lambda: np.random.randint(5), (), onp.int64),
    (lambda: np.random.randint(1, 5, size=(2,), dtype="int32"), (2,), onp.int32),
    (lambda: np.random.choice(5, size=3), (3,), onp.int64),
    (lambda: np.random.choice(np.array([1.0, 2.0]), size=(2, 2)), (2, 2), onp.float32),
    (lambda: np.random.lognormal(size=(2,)), (2,), onp.float32),
    (lambda: np.random.exponential(size=(3,)), (3,), onp.float32),
    (lambda: np.random.rand(2, 3), (2, 3), onp.float32),
    (lambda: np.random.randn(4), (4,), onp.float32),
])
def test_draw_shapes_and_dtypes(draw, shape, dtype):
    # the shapes and dtypes MXNet 1.9.1 gave for these calls
    result = draw()
    assert type(result) is np.ndarray and result.shape == shape and result.dtype == dtype


def test_draws_are_in_range_and_broadcast_parameters():
    mx.random.seed(3)
    u = np.random.uniform(np.array([0.0, 10.0]), np.array([1.0, 20.0]), size=(500, 2)).asnumpy()
    assert (u[:, 0] >= 0).all() and (u[:, 0] < 1).all() and (u[:, 1] >= 10).all() and (u[:, 1] < 20).all()
    r = np.random.randint(-3, 4, size=(1000,)).asnumpy()
    assert r.min() == -3 and r.max() == 3
    n = np.random.normal(5.0, 2.0, size=(20000,)).asnumpy()
    assert abs(n.mean() - 5.0) < 0.1 and abs(n.std() - 2.0) < 0.1
    e = np.random.exponential(3.0, size=(20000,)).asnumpy()
    assert (e >= 0).all() and abs(e.mean() - 3.0) < 0.15


def test_seed_makes_draws_repeat():
    mx.random.seed(11)
    first = np.random.uniform(size=(5,)).asnumpy()
    mx.random.seed(11)
    onp.testing.assert_array_equal(first, np.random.uniform(size=(5,)).asnumpy())


def test_choice_without_replacement_and_with_probabilities():
    mx.random.seed(5)
    for _ in range(5):
        picked = np.random.choice(6, size=6, replace=False).asnumpy()
        assert sorted(picked.tolist()) == list(range(6))
    weighted = np.random.choice(4, size=(2000,), p=[0.0, 0.5, 0.0, 0.5]).asnumpy()
    assert set(weighted.tolist()) == {1, 3}
    subset = np.random.choice(5, size=2, replace=False, p=np.array([0.0, 0.0, 0.5, 0.5, 0.0])).asnumpy()
    assert sorted(subset.tolist()) == [2, 3]
    with pytest.raises(ValueError, match="larger sample"):
        np.random.choice(3, size=4, replace=False)


def test_shuffle_permutes_the_first_axis_in_place():
    x = np.arange(20).reshape(10, 2)
    assert np.random.shuffle(x) is None
    rows = x.asnumpy()
    assert sorted(rows[:, 0].tolist()) == list(range(0, 20, 2)) and (rows[:, 1] == rows[:, 0] + 1).all()


def test_bad_bounds_are_value_errors():
    with pytest.raises(ValueError, match="low"):
        np.random.randint(5, 5)
    with pytest.raises(ValueError, match="1-dimensional"):
        np.random.choice(np.ones((2, 2)))


def test_multinomial_counts():
    mx.random.seed(2)
    pvals = [0.1, 0.6, 0.3]
    counts = np.random.multinomial(20000, pvals)
    assert counts.dtype == onp.int64 and counts.shape == (3,) and counts.asnumpy().sum() == 20000
    onp.testing.assert_allclose(counts.asnumpy() / 20000, pvals, atol=0.02)
    batch = np.random.multinomial(5, np.array(pvals), size=(4, 2))
    assert batch.shape == (4, 2, 3) and (batch.asnumpy().sum(-1) == 5).all()
    assert np.random.multinomial(3, pvals, size=(0, 2)).shape == (0, 2, 3)
    with pytest.raises(ValueError, match="1-dimensional"):
        np.random.multinomial(3, np.ones((2, 2)))


# (draw of 40000 samples, the distribution's mean and variance from its formula)
MOMENTS = [
    (lambda s: np.random.logistic(1.0, 2.0, size=s), 1.0, (onp.pi * 2.0) ** 2 / 3),
    (lambda s: np.random.gumbel(0.5, 2.0, size=s), 0.5 + 2.0 * onp.euler_gamma, (onp.pi * 2.0) ** 2 / 6),
    (lambda s: np.random.rayleigh(2.0, size=s), 2.0 * onp.sqrt(onp.pi / 2), (4 - onp.pi) / 2 * 4.0),
    (lambda s: np.random.weibull(2.0, size=s), 0.886226925, 1 - 0.886226925 ** 2),
    (lambda s: np.random.pareto(5.0, size=s), 1 / 4, 5 / (16 * 3)),
    (lambda s: np.random.power(3.0, size=s), 3 / 4, 3 / (16 * 5)),
    (lambda s: np.random.gamma(3.0, 2.0, size=s), 6.0, 12.0),
    (lambda s: np.random.gamma(np.full((2,), 3.0), 2.0, size=(s[0] // 2, 2)), 6.0, 12.0),
    (lambda s: np.random.beta(2.0, 3.0, size=s), 0.4, 6 / (25 * 6)),
    (lambda s: np.random.chisquare(4.0, size=s), 4.0, 8.0),
]


@pytest.mark.parametrize("draw, mean, variance", MOMENTS)
def test_more_samplers_have_their_moments(draw, mean, variance):
    mx.random.seed(21)
    samples = draw((40000,))
    values = samples.asnumpy().astype(onp.float64)
    assert samples.dtype == onp.float32 and onp.isfinite(values).all()
    # four standard errors of the mean; the variance to 10%
    assert abs(values.mean() - mean) < 4 * onp.sqrt(variance / values.size)
    assert abs(values.var() - variance) < 0.1 * variance


def test_multivariate_normal_covariance():
    mx.random.seed(8)
    cov = onp.array([[2.0, 0.6], [0.6, 1.0]])
    samples = np.random.multivariate_normal(np.array([1.0, -1.0]), np.array(cov), size=(40000,)).asnumpy()
    assert samples.shape == (40000, 2)
    onp.testing.assert_allclose(samples.mean(0), [1.0, -1.0], atol=0.03)
    onp.testing.assert_allclose(onp.cov(samples.T), cov, atol=0.05)
    with pytest.raises(ValueError, match="square"):
        np.random.multivariate_normal(np.zeros((2,)), np.ones((3, 3)))
