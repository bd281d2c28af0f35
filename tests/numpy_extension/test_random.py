"""npx.random: bernoulli by probability and log-odds, uniform_n / normal_n shapes, seed."""
import numpy as onp
import pytest

import mxcy as mx
from mxcy import np, npx


def test_bernoulli_frequencies_and_shapes():
    npx.random.seed(4)
    draws = npx.random.bernoulli(prob=0.3, size=(20000,)).asnumpy()
    assert draws.dtype == onp.float32 and set(onp.unique(draws).tolist()) == {0.0, 1.0}
    assert abs(draws.mean() - 0.3) < 0.02
    by_logit = npx.random.bernoulli(logit=onp.log(0.8 / 0.2), size=(20000,)).asnumpy()
    assert abs(by_logit.mean() - 0.8) < 0.02
    per_element = npx.random.bernoulli(prob=np.array([0.0, 1.0, 0.0]), dtype="int32")
    assert per_element.dtype == onp.int32 and per_element.asnumpy().tolist() == [0, 1, 0]
    always = npx.random.bernoulli(logit=np.array([50.0, -50.0]))
    assert always.asnumpy().tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="not both"):
        npx.random.bernoulli(prob=0.5, logit=0.0)


def test_n_samplers_put_the_batch_shape_first():
    assert npx.random.uniform_n(0.0, np.ones((3,)), batch_shape=(2,)).shape == (2, 3)
    assert npx.random.normal_n(np.zeros((2, 1)), np.ones((1, 4)), batch_shape=5).shape == (5, 2, 4)
    assert npx.random.uniform_n().shape == ()
    low = npx.random.uniform_n(2.0, 3.0, batch_shape=(1000,)).asnumpy()
    assert (low >= 2).all() and (low < 3).all()


def test_seed_repeats_draws():
    npx.random.seed(9)
    first = npx.random.normal_n(batch_shape=(4,)).asnumpy()
    mx.random.seed(9)
    onp.testing.assert_array_equal(first, npx.random.normal_n(batch_shape=(4,)).asnumpy())
