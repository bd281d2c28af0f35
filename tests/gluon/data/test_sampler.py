"""Samplers and BatchSampler's last_batch modes against hand-computed index lists."""
import numpy as np
import pytest

from mxcy import gluon

data = gluon.data


def test_sequential_and_random():
    assert list(data.SequentialSampler(4)) == [0, 1, 2, 3]
    assert list(data.SequentialSampler(3, start=5)) == [5, 6, 7]
    np.random.seed(3)
    first = list(data.RandomSampler(10))
    np.random.seed(3)
    assert list(data.RandomSampler(10)) == first  # np.random drives it, as in MXNet
    assert sorted(first) == list(range(10)) and first != list(range(10))
    assert len(data.RandomSampler(10)) == 10


def test_filter_sampler():
    sampler = data.FilterSampler(lambda x: x % 3 == 0, data.SimpleDataset(list(range(10))))
    assert list(sampler) == [0, 3, 6, 9] and len(sampler) == 4


@pytest.mark.parametrize("mode, epochs, lengths", [
    ("keep", [[[0, 1, 2], [3, 4, 5], [6]], [[0, 1, 2], [3, 4, 5], [6]]], [3, 3]),
    ("discard", [[[0, 1, 2], [3, 4, 5]], [[0, 1, 2], [3, 4, 5]]], [2, 2]),
    # the 7th index rolls into the next epoch's first batch
    ("rollover", [[[0, 1, 2], [3, 4, 5]], [[6, 0, 1], [2, 3, 4]], [[5, 6, 0], [1, 2, 3], [4, 5, 6]]],
     [2, 2, 3]),
])
def test_batch_sampler_last_batch(mode, epochs, lengths):
    sampler = data.BatchSampler(data.SequentialSampler(7), 3, mode)
    for expected, length in zip(epochs, lengths):
        assert len(sampler) == length
        assert list(sampler) == expected


def test_batch_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="last_batch must be one of"):
        data.BatchSampler(data.SequentialSampler(3), 2, "drop")
    with pytest.raises(ValueError, match="batch_size must be positive"):
        data.BatchSampler(data.SequentialSampler(3), 0)
