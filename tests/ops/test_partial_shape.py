"""Partial shapes (ops/partial_shape.py): merging, ElemwiseShape, and MXNet 1.x's user-facing form."""
import pytest
from hypothesis import given, settings, strategies as st

from mxcy.ops.partial_shape import UNKNOWN, batch_free, is_known, merge, same_shape, from_user, to_user

U = UNKNOWN


@pytest.mark.parametrize("a, b, merged", [
    (None, None, None), (None, (2, U), (2, U)), ((U, 3), (2, U), (2, 3)), ((0, 3), (0, U), (0, 3)),
    ((U,), (U,), (U,)),
])
def test_merge_keeps_what_either_knows(a, b, merged):
    assert merge(a, b) == merged and merge(b, a) == merged


@pytest.mark.parametrize("a, b", [((2, 3), (2, 4)), ((2, U), (2, U, 1)), ((0, 3), (1, 3))])
def test_merge_refuses_contradictions(a, b):
    with pytest.raises(ValueError, match=r"weights \(\d.*\) and \(.*\) disagree"):
        merge(a, b, "weights")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.data())
def test_merging_partial_views_of_one_shape_gives_it_back(shape, data):
    hide = data.draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
    views = [tuple(U if h else d for h, d in zip(hide, shape)), tuple(d if h else U for h, d in zip(hide, shape))]
    assert merge(*views) == tuple(shape) and is_known(merge(*views))
    assert is_known(views[0]) == (not any(hide))


def test_known_means_every_dimension_known():
    assert not is_known(None) and is_known(()) and is_known((0, 3)) and not is_known((2, U))


def test_same_shape_spreads_one_shape_to_every_input_and_output():
    assert same_shape({}, [(U, 3), None], [(2, U)]) == ([(2, 3), (2, 3)], [(2, 3)])
    assert same_shape({}, [(2, 3)]) == ([(2, 3)], [(2, 3)])  # the imperative call: no output shapes
    assert same_shape({}, [None, None], [None]) == ([None, None], [None])
    with pytest.raises(ValueError, match="disagree"):
        same_shape({}, [(2, 3), (3, 2)])


def test_user_form_writes_unknown_as_zero_and_unknown_rank_as_empty():
    assert from_user((0, 3)) == (U, 3) and from_user(()) is None and from_user([2, 0]) == (2, U)
    assert to_user((U, 3)) == (0, 3) and to_user(None) == ()
    # NumPy shape semantics: -1 and None for unknown, 0 a size, () a scalar's shape
    assert from_user((-1, 0), np_shape=True) == (U, 0) and from_user((), np_shape=True) == ()
    assert to_user((U, 0), np_shape=True) == (-1, 0) and to_user(None, np_shape=True) is None


def _channel_stats(attrs, shapes):
    """A complete-shape rule like BatchNorm's: the data passes through, a per-channel vector comes out."""
    data, gamma = shapes
    if gamma is not None and gamma != (data[1],):
        raise ValueError("gamma")
    return [data, (data[1],)], [data, (data[1],)]


def test_batch_free_leaves_the_batch_unknown_and_keeps_what_does_not_depend_on_it():
    rule = batch_free(_channel_stats)
    assert rule({}, [(U, 3, 4), None], [None, None]) == ([(U, 3, 4), (3,)], [(U, 3, 4), (3,)])
    assert rule({}, [(2, 3, 4), (3,)]) == ([(2, 3, 4), (3,)], [(2, 3, 4), (3,)])  # complete: the rule itself
    assert rule({}, [(U, U, 4), None], [None, None]) == ([(U, U, 4), None], [None, None])  # more than the batch
    assert rule({}, [(U, 3, 4), (U,)], [None, None])[0][1] == (3,)  # a partial parameter reaches it as None
    assert rule({}, [(U, 5, 4), (3,)], [None, None]) == ([(U, 5, 4), (3,)], [None, None])  # contradiction: wait
