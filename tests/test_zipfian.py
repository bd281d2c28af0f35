"""contrib.rand_zipfian (mx.nd and mx.sym): MXNet 1.9.1's printed expected counts, the sampled classes' range,
type and distribution, seeding, and errors."""
import math

import numpy as np
import pytest

import mxcy as mx


def _probability(classes, range_max):
    return np.log((classes + 2.0) / (classes + 1.0)) / math.log(range_max + 1)


def test_expected_counts_printed_by_mxnet():
    sampled, count_true, count_sampled = mx.nd.contrib.rand_zipfian(mx.nd.array([3, 0, 7]), 4, 10)
    # MXNet 1.9.1: mx.nd.contrib.rand_zipfian(mx.nd.array([3, 0, 7]), 4, 10)[1]
    np.testing.assert_allclose(count_true.asnumpy(), [0.37223235534185567, 1.1562593052715513, 0.19647736411595546],
                               rtol=1e-12)
    assert sampled.dtype == np.int64 and count_true.dtype == count_sampled.dtype == np.float64
    np.testing.assert_allclose(count_sampled.asnumpy(), 4 * _probability(sampled.asnumpy(), 10), rtol=1e-12)


def test_samples_follow_the_log_uniform_distribution():
    mx.random.seed(7)
    range_max, n = 6, 20000
    sampled = mx.nd.contrib.rand_zipfian(mx.nd.array([0]), n, range_max)[0].asnumpy()
    assert sampled.min() >= 0 and sampled.max() < range_max
    want = _probability(np.arange(range_max), range_max)
    frequency = np.bincount(sampled, minlength=range_max) / n
    assert np.all(np.abs(frequency - want) < 5 * np.sqrt(want * (1 - want) / n)), (frequency, want)


def test_seed_repeats_the_draws():
    draws = []
    for _ in range(2):
        mx.random.seed(3)
        draws.append(mx.nd.contrib.rand_zipfian(mx.nd.array([1, 2]), 8, 100)[0].asnumpy())
    assert draws[0].tolist() == draws[1].tolist()


def test_symbol_version_computes_the_same_quantities():
    outputs = mx.sym.contrib.rand_zipfian(mx.sym.var("x"), 5, 20)
    sampled, count_true, count_sampled = mx.sym.Group(list(outputs)).bind(
        mx.cpu(), {"x": mx.nd.array([1, 4])}).forward()
    assert sampled.shape == (5,) and sampled.dtype == np.int64 and 0 <= sampled.asnumpy().min()
    assert sampled.asnumpy().max() < 20
    np.testing.assert_allclose(count_true.asnumpy(), 5 * _probability(np.array([1.0, 4.0]), 20), rtol=1e-12)
    np.testing.assert_allclose(count_sampled.asnumpy(), 5 * _probability(sampled.asnumpy(), 20), rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: mx.nd.contrib.rand_zipfian(mx.nd.array([1]), 3, 0), r"rand_zipfian.*range_max \(0\)"),
    (lambda: mx.nd.contrib.rand_zipfian(mx.nd.array([1]), 0, 5), r"rand_zipfian.*num_sampled \(0\)"),
    (lambda: mx.sym.contrib.rand_zipfian(mx.nd.array([1]), 3, 5), r"rand_zipfian.*must be a Symbol, got NDArray"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()
