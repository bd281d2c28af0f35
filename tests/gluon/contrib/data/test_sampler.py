"""IntervalSampler against hand-computed index orders."""
import pytest

from mxcy.gluon.contrib.data import IntervalSampler


def test_interval_sampler():
    assert list(IntervalSampler(13, interval=3)) == [0, 3, 6, 9, 12, 1, 4, 7, 10, 2, 5, 8, 11]
    assert len(IntervalSampler(13, interval=3)) == 13
    short = IntervalSampler(13, interval=3, rollover=False)
    assert list(short) == [0, 3, 6, 9, 12] and len(short) == 5
    with pytest.raises(ValueError, match="smaller than or equal"):
        IntervalSampler(2, 3)
