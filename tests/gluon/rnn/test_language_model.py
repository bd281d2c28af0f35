"""A word-level language model (fixtures/language_model.py: Embedding -> 2-layer LSTM -> Dense, truncated BPTT with
detached states, clip_global_norm, SGD at lr 20) trained on Python's LICENSE.txt: its perplexity falls as MXNet
1.9.1's does with the identical recipe and starting parameters (fixtures/lm_perplexity.json, written by
make_lm_fixture.py).

MXNet 1.9.1 (CPU), 2026-12-07: 189.2, 137.3, 134.0, 114.6, 103.5, 101.7 over 6 epochs; mxcy gave the same numbers
to 0.1 then (and over 10 epochs, 82.0 vs 82.1 at the end). The tolerances leave room for float32 rounding, which
the large learning rate amplifies over epochs, and for another Python release's LICENSE.txt."""
import hashlib
import json
import os
import sysconfig

import mxcy as mx
from tests.gluon.rnn.fixtures import language_model

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "lm_perplexity.json")) as f:
    MXNET = json.load(f)


def _same_text():
    with open(os.path.join(sysconfig.get_paths()["stdlib"], "LICENSE.txt"), "rb") as f:
        return hashlib.md5(f.read()).hexdigest() == MXNET["LICENSE.txt md5"]


def test_perplexity_falls_as_mxnets():
    assert MXNET["recipe"] == language_model.RECIPE
    theirs = MXNET["perplexity"]
    ours = language_model.train(mx)
    assert len(ours) == len(theirs)
    _, vocab_size = language_model.corpus()
    assert ours[0] < 0.6 * vocab_size  # the first epoch already beats a uniform guess
    ours_ratio, their_ratio = ours[-1] / ours[0], theirs[-1] / theirs[0]
    assert ours_ratio < 0.7 and abs(ours_ratio - their_ratio) < 0.1, (ours, theirs)
    if _same_text():  # same data, same parameters: the curves themselves agree
        for epoch, (a, b) in enumerate(zip(ours, theirs)):
            assert abs(a / b - 1) < (0.02 if epoch == 0 else 0.1), (epoch, ours, theirs)
