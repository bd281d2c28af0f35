"""The few functions of MXNet's C API that code calls through `mx.base._LIB`, emulated in Python: they take MXNet's
ctypes arguments, write outputs through `ctypes.byref`, and return 0, or -1 with the message MXGetLastError gives.

Handles are the ids of objects in one table: objects a function handed out are held until MXSymbolFree /
MXNDArrayFree or until a Symbol / NDArray adopts them (`Symbol(handle)`, `NDArray(handle=...)`); the `.handle`
of a live Symbol or NDArray points at it while it lives."""
import ctypes
import functools
import threading
import weakref

from .base import MXNetError

__all__ = ["FUNCTIONS", "handle_of", "adopt", "last_error", "take_last_error"]

_held = {}  # handle -> object a C API function handed out, not yet adopted or freed
_live = weakref.WeakValueDictionary()  # handle -> live Python object whose .handle was asked for
_errors = threading.local()
_ORIGIN = ("mxcy has no C library, so its only C handles are those mx.base._LIB's emulated functions hand out and "
           "the .handle of a live Symbol or NDArray")


def handle_of(obj):
    """A c_void_p naming `obj` (valid while it lives)."""
    _live[id(obj)] = obj
    return ctypes.c_void_p(id(obj))


def _value(handle):
    value = handle.value if isinstance(handle, ctypes.c_void_p) else handle
    if value is None:  # a NULL pointer
        return 0
    if not isinstance(value, int):
        raise MXNetError(f"expected a handle (ctypes.c_void_p), got {type(handle).__name__}: {_ORIGIN}")
    return value


def _lookup(handle, kind):
    value = _value(handle)
    obj = _held.get(value)
    if obj is None:
        obj = _live.get(value)
    if not isinstance(obj, kind):
        raise MXNetError(f"handle {value:#x} is not a live {kind.__name__} handle: {_ORIGIN}")
    return obj


def adopt(handle, kind):
    """The object behind `handle` for a new Python object that takes it over: a handed-out object leaves the
    table (the new object owns it now, as MXNet's Python objects own their handles)."""
    obj = _lookup(handle, kind)
    _held.pop(_value(handle), None)
    return obj


def _hand_out(obj, out):
    _held[id(obj)] = obj
    _target(out).value = id(obj)


def _target(out):
    """The ctypes object a `ctypes.byref(x)` (or `x` itself) writes to."""
    return getattr(out, "_obj", out)


def _text(value):
    value = getattr(value, "value", value)
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(count, array):
    return [_text(array[k]) for k in range(int(getattr(count, "value", count)))]


def last_error():
    """The message of this thread's last failed C API call ('' if none)."""
    return getattr(_errors, "message", "")


def take_last_error():
    """last_error(), cleared: check_call reports each failure once."""
    message, _errors.message = last_error(), ""
    return message


def _c_function(fn):
    """Run `fn` as a C API function: 0 on success, -1 with MXGetLastError's message on failure."""
    @functools.wraps(fn)
    def call(*args):
        try:
            fn(*args)
        except (MXNetError, ValueError, TypeError, KeyError, IndexError) as err:
            _errors.message = f"{fn.__name__}: {err}"
            return -1
        return 0
    return call


def MXGetLastError():  # noqa: N802 (C API names)
    return last_error().encode("utf-8")


def MXGetVersion(out):  # noqa: N802
    _target(out).value = 10901


def MXGetGPUCount(out):  # noqa: N802
    from .context import num_gpus
    _target(out).value = num_gpus()


def MXSymbolFree(handle):  # noqa: N802
    from .symbol import Symbol
    adopt(handle, Symbol)


def MXNDArrayFree(handle):  # noqa: N802
    from .ndarray import NDArray
    adopt(handle, NDArray)


def MXBuildSubgraphByOpNames(sym_handle, backend, num_ops, op_names, out):  # noqa: N802
    from .symbol import Symbol
    from .symbol.partition import check_backend, partition
    symbol = _lookup(sym_handle, Symbol)
    names = _names(num_ops, op_names)
    if names:
        check_backend(_text(backend), "MXBuildSubgraphByOpNames")
    _hand_out(partition(symbol, names), out)


def _set_op_names(on_property):
    def set_names(backend, num_ops, op_names):
        from .symbol.partition import set_op_names
        set_op_names(_text(backend), _names(num_ops, op_names), on_property)
    return set_names


def _remove_op_names(on_property):
    def remove(backend):
        from .symbol.partition import remove_op_names
        remove_op_names(_text(backend), on_property)
    return remove


def MXNDArrayFromDLPack(dlpack, out):  # noqa: N802
    from .ndarray.dlpack import from_managed_tensor
    _hand_out(from_managed_tensor(_value(dlpack)), out)


def _named(fn, name):
    fn.__name__ = fn.__qualname__ = name
    return fn


FUNCTIONS = {fn.__name__: _c_function(fn) for fn in (
    MXGetVersion, MXGetGPUCount, MXSymbolFree, MXNDArrayFree, MXBuildSubgraphByOpNames, MXNDArrayFromDLPack,
    _named(_set_op_names(False), "MXSetSubgraphPropertyOpNames"),
    _named(_set_op_names(True), "MXSetSubgraphPropertyOpNamesV2"),
    _named(_remove_op_names(False), "MXRemoveSubgraphPropertyOpNames"),
    _named(_remove_op_names(True), "MXRemoveSubgraphPropertyOpNamesV2"))}
FUNCTIONS["MXGetLastError"] = MXGetLastError
