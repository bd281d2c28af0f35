"""The engine versions of the buffers a running op reads, for kernels that keep results derived from a buffer
between calls (winograd_filters' transformed filters): a graph replay takes them when it is pushed, and a kept
result made at the same version of the same var holds without reading the buffer again."""
import threading

_running = threading.local()


def snapshot(arrays):
    """{id(buffer): (var, version)} of the NDArrays `arrays`, taken when the op reading them is pushed; arrays whose
    memory something other than the engine may write are left out."""
    return {id(a._data): (a._var, a._var.version) for a in arrays if not a._var.external}


class reading:
    """Context manager: `stamps` (a snapshot) describes the buffers of the op running in this thread."""
    __slots__ = ("stamps", "outer")

    def __init__(self, stamps):
        self.stamps = stamps

    def __enter__(self):
        self.outer = getattr(_running, "stamps", None)
        _running.stamps = self.stamps

    def __exit__(self, *exc):
        _running.stamps = self.outer


def stamp(buffer):
    """(var, version) of the NumPy array `buffer` (the very object the op was given) for the op running in this
    thread, or None when not known."""
    stamps = getattr(_running, "stamps", None)
    return None if stamps is None else stamps.get(id(buffer))
