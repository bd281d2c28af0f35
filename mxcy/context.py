"""Devices: Context, cpu(), gpu(), the `with ctx:` default stack, and num_gpus()."""
import threading
import warnings

from .base import MXNetError, _ClassPropertyMeta, classproperty

__all__ = ["Context", "cpu", "gpu", "cpu_pinned", "current_context", "num_gpus", "gpu_memory_info"]


class Context(metaclass=_ClassPropertyMeta):
    """A device: `Context('cpu', 0)`, `Context('gpu', 1)`, or a copy of another Context.

    Used as a context manager it becomes the default device of NDArray creation in this thread.
    """
    devtype2str = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}
    devstr2type = {v: k for k, v in devtype2str.items()}
    _local = threading.local()
    _interned = {}
    __slots__ = ("device_typeid", "device_id", "device_type")

    def __new__(cls, device_type, device_id=0):
        # One object per device, so the hot path compares contexts by identity.
        if isinstance(device_type, Context):
            return device_type
        key = (device_type, int(device_id))
        ctx = cls._interned.get(key)
        if ctx is None:
            if device_type not in cls.devstr2type:
                raise MXNetError(f"Context: unknown device_type {device_type!r}; expected one of "
                                 + ", ".join(cls.devstr2type))
            ctx = super().__new__(cls)
            ctx.device_typeid = cls.devstr2type[device_type]
            # cpu_pinned/cpu_shared memory is ordinary host memory here, so they compute as 'cpu'.
            ctx.device_type = "gpu" if device_type == "gpu" else "cpu"
            ctx.device_id = int(device_id)
            ctx = cls._interned.setdefault(key, ctx)
        return ctx

    def __hash__(self):
        return hash((self.device_typeid, self.device_id))

    def __eq__(self, other):
        return self is other or (isinstance(other, Context) and self.device_typeid ==
                                 other.device_typeid and self.device_id == other.device_id)

    def __ne__(self, other):
        return not self == other

    def __reduce__(self):
        return Context, (self.devtype2str[self.device_typeid], self.device_id)

    def __repr__(self):
        return f"{self.devtype2str[self.device_typeid]}({self.device_id})"

    __str__ = __repr__

    def __enter__(self):
        stack = _stack()
        stack.append(self)
        return self

    def __exit__(self, *exc):
        _stack().pop()

    def empty_cache(self):
        """Release cached device memory (numba manages it; nothing is pooled on the CPU)."""
        if self.device_type == "gpu":
            from numba import cuda
            with cuda.gpus[self.device_id]:
                cuda.current_context().memory_manager.deallocations.clear()

    @classproperty
    def default_ctx(cls):
        """Deprecated, as in MXNet 1.9.1: the current context (a property of the class)."""
        warnings.warn("Context.default_ctx has been deprecated. Please use Context.current_context() instead. "
                      "Please use test_utils.set_default_context to set a default context", DeprecationWarning)
        return _stack()[-1]

    @default_ctx.setter
    def default_ctx(cls, value):
        """Deprecated, as in MXNet 1.9.1: make `value` this thread's current context."""
        warnings.warn("Context.default_ctx has been deprecated. Please use Context.current_context() instead. "
                      "Please use test_utils.set_default_context to set a default context", DeprecationWarning)
        _stack()[-1] = Context(value)


def _stack():
    stack = getattr(Context._local, "stack", None)
    if stack is None:
        stack = Context._local.stack = [Context("cpu", 0)]
    return stack


def cpu(device_id=0):
    return Context("cpu", device_id)


def cpu_pinned(device_id=0):
    return Context("cpu_pinned", device_id)


def gpu(device_id=0):
    return Context("gpu", device_id)


def current_context():
    """The innermost `with ctx:` context of this thread, cpu(0) by default."""
    return _stack()[-1]


def num_gpus():
    """Number of real CUDA GPUs visible (0 when numba.cuda finds none or runs the simulator)."""
    try:
        from numba import cuda
        if not cuda.is_available() or getattr(cuda, "simulator", None) is not None and \
                cuda.is_available() and "simulator" in type(cuda.gpus).__module__:
            return 0
        return len(cuda.gpus)
    except Exception:  # noqa: BLE001 - any CUDA driver failure means no usable GPU
        return 0


def gpu_memory_info(device_id=0):
    """(free, total) bytes of GPU `device_id`."""
    from numba import cuda
    with cuda.gpus[device_id]:
        return cuda.current_context().get_memory_info()
