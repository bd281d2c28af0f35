"""mx.contrib.text.utils.count_tokens_from_str against counts MXNet 1.9.1 printed and counted by hand."""
import collections

import pytest

from mxcy.contrib.text import utils


@pytest.mark.parametrize("source, args, kwargs, expected", [
    (" Life is great ! \n life is good . \n", (), dict(to_lower=True),
     {'life': 2, 'is': 2, 'great': 1, '!': 1, 'good': 1, '.': 1}),
    # the delimiters are regular expressions
    ("*Life*is*great*!*\n*life*is*good*.*\n", ('\\*', '\n'), {},
     {'is': 2, 'Life': 1, 'great': 1, '!': 1, 'life': 1, 'good': 1, '.': 1}),
    # runs of delimiters give empty pieces, which are not tokens
    ("a,b;;c,,a", (',', ';'), {}, {'a': 2, 'b': 1, 'c': 1}),
    ("", (), {}, {}),
])
def test_counts(source, args, kwargs, expected):
    assert utils.count_tokens_from_str(source, *args, **kwargs) == collections.Counter(expected)


def test_counter_to_update_is_updated_and_returned():
    counter = collections.Counter({'life': 2, 'x': 1})
    out = utils.count_tokens_from_str("Life is\nlife", to_lower=True, counter_to_update=counter)
    assert out is counter
    assert counter == collections.Counter({'life': 4, 'is': 1, 'x': 1})
