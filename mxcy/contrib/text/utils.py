"""Token counting for mx.contrib.text (plain Python on the host)."""
import collections
import re

__all__ = ["count_tokens_from_str"]


def count_tokens_from_str(source_str, token_delim=' ', seq_delim='\n', to_lower=False, counter_to_update=None):
    """Count the tokens of `source_str`, split at every match of the regular expression `token_delim` or
    `seq_delim` (empty pieces are not tokens), lower-cased first if `to_lower`. The counts are added to
    `counter_to_update` (returned) when it is given, else to a new collections.Counter."""
    tokens = [token for token in re.split(f"{token_delim}|{seq_delim}", source_str) if token]
    if to_lower:
        tokens = [token.lower() for token in tokens]
    if counter_to_update is None:
        return collections.Counter(tokens)
    counter_to_update.update(tokens)
    return counter_to_update
