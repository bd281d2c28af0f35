"""mx.contrib.text.vocab.Vocabulary: token <-> index tables built from a token counter, as MXNet 1.9.1's."""
import collections

from ...error import MXNetValueError
from ...gluon._errors import AssertionMXNetError

__all__ = ["Vocabulary"]

# The unknown token always has index 0; embeddings rely on it.
UNKNOWN_IDX = 0


class Vocabulary:
    """Indexes `unknown_token` (index 0), then `reserved_tokens` in their order, then the keys of `counter`
    (a collections.Counter) by falling frequency, ties in ascending token order: keys seen fewer than
    `min_freq` times are left out, and at most `most_freq_count` of them are indexed (None: no limit).
    Tokens are any hashable objects of one kind (str, int, tuple)."""

    def __init__(self, counter=None, most_freq_count=None, min_freq=1, unknown_token='<unk>',
                 reserved_tokens=None):
        if not min_freq > 0:
            raise AssertionMXNetError(f"Vocabulary: `min_freq` must be positive, got {min_freq}")
        if reserved_tokens is not None:
            if unknown_token in reserved_tokens:
                raise AssertionMXNetError(f"Vocabulary: `reserved_tokens` {reserved_tokens} cannot contain "
                                          f"`unknown_token` {unknown_token!r}")
            if len(set(reserved_tokens)) != len(reserved_tokens):
                raise AssertionMXNetError(f"Vocabulary: `reserved_tokens` {reserved_tokens} holds a token twice")
        self._unknown_token = unknown_token
        self._reserved_tokens = None if reserved_tokens is None else list(reserved_tokens)
        self._idx_to_token = [unknown_token] + list(reserved_tokens or [])
        self._token_to_idx = {token: idx for idx, token in enumerate(self._idx_to_token)}
        if counter is not None:
            self._index_counter_keys(counter, most_freq_count, min_freq)

    def _index_counter_keys(self, counter, most_freq_count, min_freq):
        if not isinstance(counter, collections.Counter):
            raise AssertionMXNetError(f"Vocabulary: `counter` must be a collections.Counter, got "
                                      f"{type(counter).__name__}")
        by_frequency = sorted(sorted(counter.items(), key=lambda item: item[0]),
                              key=lambda item: item[1], reverse=True)
        # The limit counts the unknown and reserved tokens too, even when counter also holds them.
        limit = len(self._idx_to_token) + (len(counter) if most_freq_count is None else most_freq_count)
        for token, freq in by_frequency:
            if freq < min_freq or len(self._idx_to_token) == limit:
                break
            if token not in self._token_to_idx:
                self._token_to_idx[token] = len(self._idx_to_token)
                self._idx_to_token.append(token)

    def __len__(self):
        return len(self._idx_to_token)

    def __contains__(self, token):
        return token in self._token_to_idx

    @property
    def token_to_idx(self):
        """dict: each indexed token -> its index."""
        return self._token_to_idx

    @property
    def idx_to_token(self):
        """list: the indexed tokens, position = index."""
        return self._idx_to_token

    @property
    def unknown_token(self):
        """The token every unknown token maps to (index 0)."""
        return self._unknown_token

    @property
    def reserved_tokens(self):
        """The reserved tokens (list), or None."""
        return self._reserved_tokens

    def to_indices(self, tokens):
        """The index of a token, or the list of indices of a list of tokens; unknown tokens give 0."""
        if not isinstance(tokens, list):
            return self._token_to_idx.get(tokens, UNKNOWN_IDX)
        return [self._token_to_idx.get(token, UNKNOWN_IDX) for token in tokens]

    def to_tokens(self, indices):
        """The token of an index, or the list of tokens of a list of indices; an index that is not an int in
        [0, len(self)) raises ValueError."""
        if not isinstance(indices, list):
            return self.to_tokens([indices])[0]
        for idx in indices:
            if not isinstance(idx, int) or not 0 <= idx < len(self._idx_to_token):
                raise MXNetValueError(f"Vocabulary.to_tokens: token index {idx!r} in the provided `indices` is "
                                      f"invalid (valid: ints in [0, {len(self._idx_to_token)}))")
        return [self._idx_to_token[idx] for idx in indices]
