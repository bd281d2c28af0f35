"""mx.contrib.text.vocab.Vocabulary: indexing order, thresholds and lookups against what MXNet 1.9.1 printed."""
import collections

import pytest

import mxcy as mx
from mxcy.contrib.text.vocab import Vocabulary

_COUNTER = collections.Counter(['a', 'b', 'b', 'c', 'c', 'c', 'd', 'd', 'e', '<unk>'] + ['<pad>'] * 4)


# idx_to_token as MXNet 1.9.1 printed it for _COUNTER and these arguments
@pytest.mark.parametrize("kwargs, expected", [
    ({}, ['<unk>', '<pad>', 'c', 'b', 'd', 'a', 'e']),
    (dict(most_freq_count=2), ['<unk>', '<pad>', 'c']),
    (dict(min_freq=2), ['<unk>', '<pad>', 'c', 'b', 'd']),
    (dict(reserved_tokens=['<pad>', '<bos>']), ['<unk>', '<pad>', '<bos>', 'c', 'b', 'd', 'a', 'e']),
    (dict(reserved_tokens=['<pad>'], most_freq_count=3, min_freq=2), ['<unk>', '<pad>', 'c', 'b', 'd']),
    (dict(unknown_token='c'), ['c', '<pad>', 'b', 'd', '<unk>', 'a', 'e']),
    (dict(most_freq_count=0), ['<unk>']),
])
def test_index_order(kwargs, expected):
    vocab = Vocabulary(_COUNTER, **kwargs)
    assert vocab.idx_to_token == expected
    assert vocab.token_to_idx == {token: idx for idx, token in enumerate(expected)}
    assert len(vocab) == len(expected)
    assert vocab.unknown_token == kwargs.get('unknown_token', '<unk>')
    assert vocab.reserved_tokens == kwargs.get('reserved_tokens')


def test_without_counter_and_with_int_tokens():
    assert Vocabulary().idx_to_token == ['<unk>']
    vocab = Vocabulary(collections.Counter([3, 1, 1, 2]), unknown_token=-1)
    assert vocab.idx_to_token == [-1, 1, 2, 3]
    assert vocab.to_indices([1, 7]) == [1, 0]
    assert vocab.to_tokens([0, 2]) == [-1, 2]


def test_lookups():
    vocab = Vocabulary(collections.Counter(['a', 'b', 'b', 'c', 'c', 'c', 'some_word$']))
    assert vocab.to_indices('c') == 1
    assert vocab.to_indices(['c']) == [1]
    assert vocab.to_indices(['a', 'non-exist', 'a', 'b']) == [3, 0, 3, 2]
    assert vocab.to_tokens(4) == 'some_word$'
    assert vocab.to_tokens([3, 0]) == ['a', '<unk>']
    assert 'b' in vocab and 'zz' not in vocab


@pytest.mark.parametrize("index", [5, 100, -1, 1.0, [1, 7]])
def test_bad_index_is_value_error(index):
    vocab = Vocabulary(collections.Counter(['a', 'b', 'b', 'c', 'c', 'c', 'some_word$']))
    with pytest.raises(ValueError, match="invalid"):
        vocab.to_tokens(index)
    with pytest.raises(mx.MXNetError):
        vocab.to_tokens(index)


@pytest.mark.parametrize("args, kwargs, message", [
    ((_COUNTER,), dict(min_freq=0), "min_freq"),
    ((_COUNTER,), dict(reserved_tokens=['<unk>']), "unknown_token"),
    ((_COUNTER,), dict(reserved_tokens=['x', 'x']), "twice"),
    (({'a': 1},), {}, "collections.Counter"),
])
def test_bad_arguments_are_assertion_errors(args, kwargs, message):
    with pytest.raises(AssertionError, match=message):
        Vocabulary(*args, **kwargs)
    with pytest.raises(mx.MXNetError):
        Vocabulary(*args, **kwargs)
