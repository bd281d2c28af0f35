"""mx.rnn.encode_sentences and BucketSentenceIter against MXNet 1.9.1's results (fixtures/) and their rules."""
import json
import os

import numpy as np
import pytest

import mxcy as mx

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "mx_rnn_reference.json")) as f:
    MXNET = json.load(f)


def test_encode_sentences_matches_mxnet():
    encoded, vocab = mx.rnn.encode_sentences([["a", "b", "c"], ["b", "d"], ["e", "a"]], invalid_label=0,
                                             start_label=0)
    assert [encoded, vocab] == [MXNET["encode_sentences"]["encoded"], MXNET["encode_sentences"]["vocab"]]
    encoded, vocab = mx.rnn.encode_sentences([["a", "x"], ["y"]], vocab={"a": 3, "\n": -1}, unknown_token="<unk>")
    assert [encoded, vocab] == [MXNET["encode_sentences_unknown"]["encoded"],
                                MXNET["encode_sentences_unknown"]["vocab"]]


def test_encode_sentences_refuses_unknown_words_of_a_given_vocab():
    with pytest.raises(AssertionError, match="unknown token 'z'"):
        mx.rnn.encode_sentences([["a", "z"]], vocab={"a": 0})


def test_bucket_iter_matches_mxnet():
    sentences = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [1, 2], [3], [5, 6, 7], [2, 2, 2, 2, 2, 2]]
    it = mx.rnn.BucketSentenceIter(sentences, 2, invalid_label=0, layout="TN")
    ref = MXNET["bucket_iter"]
    assert (it.buckets, it.default_bucket_key, len(it.idx)) == (ref["buckets"], ref["default_bucket_key"],
                                                                ref["n_batches"])
    assert [list(d.shape) for d in it.provide_data] == ref["provide_data"]
    assert [sorted(b.tolist()) for b in it.data] == [sorted(b) for b in ref["data"]]  # rows are shuffled


@pytest.mark.parametrize("layout", ["NT", "TN"])
def test_bucket_iter_batches(layout):
    rng = np.random.default_rng(0)
    sentences = [list(rng.integers(1, 9, size=n)) for n in [3] * 5 + [5] * 4 + [9]]
    it = mx.rnn.BucketSentenceIter(sentences, 2, buckets=[4, 6], invalid_label=-1, layout=layout)
    seen = []
    for batch in it:
        data, label = batch.data[0].asnumpy(), batch.label[0].asnumpy()
        if layout == "TN":
            data, label = data.T, label.T
        assert data.shape == (2, batch.bucket_key) and batch.provide_data[0].shape == batch.data[0].shape
        np.testing.assert_array_equal(label[:, :-1], data[:, 1:])
        assert (label[:, -1] == -1).all()
        seen.extend(tuple(r[r != -1]) for r in data)
    assert len(seen) == 8  # 2 full batches of the 5 short sentences, 2 of the 4 long ones; the 9-long dropped
    assert set(seen) <= {tuple(s) for s in sentences}
    with pytest.raises(StopIteration):
        it.next()
    it.reset()
    assert it.next().data[0].shape in ((2, 4), (2, 6), (4, 2), (6, 2))


def test_bucket_iter_rejects_a_bad_layout():
    with pytest.raises(ValueError, match="layout"):
        mx.rnn.BucketSentenceIter([[1, 2]], 1, layout="NTC")
