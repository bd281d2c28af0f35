"""mx.rnn's data helpers (MXNet 1.9.1): encode_sentences (tokens -> integer ids, growing a vocabulary) and
BucketSentenceIter, a language-model iterator that pads sentences into length buckets (NumPy on the host)."""
import bisect
import logging
import random

import numpy as np

from .. import ndarray
from ..gluon._errors import AssertionMXNetError, ValueMXNetError
from ..io import DataBatch, DataDesc, DataIter

__all__ = ["encode_sentences", "BucketSentenceIter", "DataBatch", "DataDesc", "DataIter"]


def encode_sentences(sentences, vocab=None, invalid_label=-1, invalid_key="\n", start_label=0,
                     unknown_token=None):
    """(sentences as lists of ids, vocab). Without `vocab` a new one {invalid_key: invalid_label} grows with each
    new word (ids from start_label, skipping invalid_label); with one, an unknown word is an error unless
    `unknown_token` names the entry it maps to (added with the next id when missing)."""
    new_vocab = vocab is None
    if new_vocab:
        vocab = {invalid_key: invalid_label}
    next_id = start_label
    encoded = []
    for sentence in sentences:
        ids = []
        for word in sentence:
            if word not in vocab:
                if not (new_vocab or unknown_token):
                    raise AssertionMXNetError(f"encode_sentences: unknown token {word!r} (give unknown_token to "
                                              f"map unknown words)")
                if next_id == invalid_label:
                    next_id += 1
                if unknown_token:
                    word = unknown_token
                vocab[word] = next_id
                next_id += 1
            ids.append(vocab[word])
        encoded.append(ids)
    return encoded, vocab


class BucketSentenceIter(DataIter):
    """Batches of encoded sentences padded with `invalid_label` to the smallest bucket length that holds them
    (buckets: the lengths with at least batch_size sentences when None; longer sentences are dropped); the
    label of each step is the next token. layout 'NT' gives (batch, length) arrays, 'TN' (length, batch).
    Each reset shuffles the batches (Python's `random`) and the sentences within buckets (np.random)."""

    def __init__(self, sentences, batch_size, buckets=None, invalid_label=-1, data_name="data",
                 label_name="softmax_label", dtype="float32", layout="NT"):
        super().__init__(batch_size)
        self.major_axis = layout.find("N")
        if layout not in ("NT", "TN"):
            raise ValueMXNetError(f"BucketSentenceIter: invalid layout {layout}: must be NT (batch major) or TN "
                                  f"(time major)")
        if not buckets:
            counts = np.bincount([len(s) for s in sentences])
            buckets = [length for length, n in enumerate(counts) if n >= batch_size]
        buckets = sorted(buckets)
        padded = [[] for _ in buckets]
        discarded = 0
        for sentence in sentences:
            bucket = bisect.bisect_left(buckets, len(sentence))
            if bucket == len(buckets):
                discarded += 1
                continue
            row = np.full((buckets[bucket],), invalid_label, dtype=dtype)
            row[:len(sentence)] = sentence
            padded[bucket].append(row)
        if discarded:
            logging.warning("BucketSentenceIter: discarded %d sentences longer than the largest bucket.", discarded)
        self.buckets = [length for length, rows in zip(buckets, padded) if rows]
        self.data = [np.asarray(rows, dtype=dtype) for rows in padded if rows]
        if not self.buckets:
            raise ValueMXNetError(f"BucketSentenceIter: no sentence fits the buckets {buckets}")
        self.batch_size = batch_size
        self.data_name = data_name
        self.label_name = label_name
        self.dtype = dtype
        self.invalid_label = invalid_label
        self.nddata = []
        self.ndlabel = []
        self.layout = layout
        self.default_bucket_key = max(self.buckets)
        self.provide_data = [self._desc(data_name, self.default_bucket_key)]
        self.provide_label = [self._desc(label_name, self.default_bucket_key)]
        self.idx = [(i, j) for i, rows in enumerate(self.data) for j in range(0, len(rows) - batch_size + 1,
                                                                               batch_size)]
        self.curr_idx = 0
        self.reset()

    def _desc(self, name, length):
        shape = (self.batch_size, length) if self.major_axis == 0 else (length, self.batch_size)
        return DataDesc(name=name, shape=shape, layout=self.layout)

    def reset(self):
        """Shuffle the batches and each bucket's sentences, and start over."""
        self.curr_idx = 0
        random.shuffle(self.idx)
        for rows in self.data:
            np.random.shuffle(rows)
        self.nddata, self.ndlabel = [], []
        for rows in self.data:
            label = np.empty_like(rows)
            label[:, :-1] = rows[:, 1:]
            label[:, -1] = self.invalid_label
            self.nddata.append(ndarray.array(rows, dtype=self.dtype))
            self.ndlabel.append(ndarray.array(label, dtype=self.dtype))

    def next(self):
        """The next DataBatch (bucket_key: its bucket's length); StopIteration after the last."""
        if self.curr_idx == len(self.idx):
            raise StopIteration
        i, j = self.idx[self.curr_idx]
        self.curr_idx += 1
        data = self.nddata[i][j:j + self.batch_size]
        label = self.ndlabel[i][j:j + self.batch_size]
        if self.major_axis == 1:
            data, label = data.T, label.T
        return DataBatch([data], [label], pad=0, bucket_key=self.buckets[i],
                         provide_data=[DataDesc(name=self.data_name, shape=data.shape, layout=self.layout)],
                         provide_label=[DataDesc(name=self.label_name, shape=label.shape, layout=self.layout)])
