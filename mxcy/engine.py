"""MXNet's `mx.engine` API (set_bulk_size, bulk) and the process-wide default engine.

`new_var`, `push`, `wait_for_var` and `wait_all` are bound methods of that engine, for the hot path.
"""
import os

from ._engine import Engine, Var

__all__ = ["set_bulk_size", "bulk", "is_naive", "get_engine", "Engine", "Var"]


def _make_default():
    kinds = (os.environ.get("MXCY_ENGINE_TYPE"), os.environ.get("MXNET_ENGINE_TYPE"))
    workers = int(os.environ.get("MXNET_CPU_WORKER_NTHREADS", "2"))
    return Engine(naive="NaiveEngine" in kinds, cpu_workers=max(1, workers))


# An op touching at most this many elements per array (a trace: in all) is `light`: run inline when its vars
# are free, since a worker handoff (wake, GIL) costs more than microseconds of kernel.
LIGHT_ELEMENTS = 1 << 15

# Shut down (workers joined) at interpreter exit by mxcy._engine's atexit handler.
_engine = _make_default()
new_var = _engine.new_var
push = _engine.push
wait_for_var = _engine.wait_for_var
wait_all = _engine.wait_all


def get_engine():
    """The default Engine."""
    return _engine


def is_naive():
    """Whether the default engine runs every op synchronously (MXNET_ENGINE_TYPE=NaiveEngine)."""
    return _engine.naive


def set_bulk_size(size):
    """Bundle up to `size` consecutive operators into one engine op; returns the previous size.

    Bulking saves per-op scheduling when many small operators run in sequence; sizes <= 1 turn
    it off. Pending bundled operators are flushed whenever the size changes.
    """
    return _engine.set_bulk_size(size)


class _BulkScope:
    """Sets the bulk size on entry and restores the previous one on exit."""

    def __init__(self, size):
        self._size = size
        self._old_size = None

    def __enter__(self):
        self._old_size = set_bulk_size(self._size)
        return self

    def __exit__(self, ptype, value, trace):
        set_bulk_size(self._old_size)


def bulk(size):
    """Scope in which up to `size` consecutive operators run as one engine op::

        with mx.engine.bulk(10):
            for _ in range(100):
                x += 1
    """
    return _BulkScope(size)


def var_sets(reads, writes):
    """(reads, writes) for push with each var once and a var both read and written counted as written (the
    engine refuses a var twice in one op)."""
    writes = tuple(dict.fromkeys(writes))
    written = set(writes)
    return tuple(v for v in dict.fromkeys(reads) if v not in written), writes
