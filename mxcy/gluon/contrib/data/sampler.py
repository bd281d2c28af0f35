"""IntervalSampler: indices at a fixed stride, then the skipped ones."""
from ...data import sampler

__all__ = ["IntervalSampler"]


class IntervalSampler(sampler.Sampler):
    """`0, interval, 2 * interval, ...` below `length`; with `rollover` then `1, 1 + interval, ...`
    and so on until every index has come once, otherwise only the first stride.

    `len()` is the number of indices it gives (MXNet 1.9.1 says `length` even without rollover).
    """

    def __init__(self, length, interval, rollover=True):
        if interval > length:
            raise ValueError(f"Interval {interval} must be smaller than or equal to length {length}")
        if interval < 1:
            raise ValueError(f"IntervalSampler: interval must be positive, got {interval}")
        self._length = length
        self._interval = interval
        self._rollover = rollover

    def __iter__(self):
        for start in range(self._interval if self._rollover else 1):
            yield from range(start, self._length, self._interval)

    def __len__(self):
        if self._rollover:
            return self._length
        return len(range(0, self._length, self._interval))
