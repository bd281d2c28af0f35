"""mx.util: the NumPy-semantics switches (np_shape, np_array, set_np, use_np...), GPU queries,
environment access and small decorators, as MXNet 1.9.1 has them.

NumPy shape semantics (0-d and zero-size shapes in the legacy mx.nd / mx.sym API, -1 for unknown
dimensions in Symbol inference) and NumPy array semantics (is_np_array: code asks for mx.np arrays) are
per-thread flags, off by default, as in MXNet. mx.np functions work whatever the flags say.
"""
import functools
import inspect
import os
import threading

import numpy as np

from .error import MXNetNotImplementedError, MXNetTypeError, MXNetValueError

__all__ = ["get_gpu_count", "get_gpu_memory", "get_cuda_compute_capability", "set_np_shape", "is_np_shape",
           "np_shape", "use_np_shape", "set_module", "np_array", "is_np_array", "use_np_array", "use_np",
           "np_ufunc_legal_option", "wrap_np_unary_func", "wrap_np_binary_func", "set_np", "reset_np",
           "getenv", "setenv"]

# The values a NumPy ufunc's optional keyword arguments default to; other values are rejected.
_np_ufunc_default_kwargs = {"where": True, "casting": "same_kind", "order": "K", "dtype": None, "subok": True}


def get_gpu_count():
    """Number of CUDA GPUs visible (0 without a driver or device)."""
    from .context import num_gpus
    return num_gpus()


def get_gpu_memory(gpu_dev_id):
    """(free, total) bytes of memory on GPU `gpu_dev_id`."""
    from .context import gpu_memory_info
    count = get_gpu_count()
    if not 0 <= gpu_dev_id < count:
        raise MXNetValueError(f"get_gpu_memory: no GPU {gpu_dev_id} ({count} present)")
    free, total = gpu_memory_info(gpu_dev_id)
    return int(free), int(total)


def get_cuda_compute_capability(ctx):
    """The compute capability of GPU context `ctx` as an int (e.g. 70 for sm_70)."""
    if ctx.device_type != "gpu":
        raise MXNetValueError("Expecting a gpu context to get cuda compute capability, "
                              f"while received ctx {ctx}")
    from .storage import _cuda, _gpu
    major, minor = _gpu(_cuda(), ctx).compute_capability
    return major * 10 + minor


# MXNet's NumpyShape flag values: 0 off, 1 on in this thread, 2 on in every thread.
_NP_SHAPE_GLOBAL_ON = 2
_np_shape_state = threading.local()
_np_shape_global = [False]


def set_np_shape(active):
    """Turn NumPy shape semantics on in this thread (`active` true; 2: in every thread) or off;
    returns the previous state."""
    if not active and is_np_array():
        raise MXNetValueError("Deactivating NumPy shape semantics while NumPy array semantics is still active "
                              "is not allowed. Please consider calling `npx.reset_np()` to deactivate both of them.")
    previous = is_np_shape()
    _np_shape_state.on = bool(active)
    if not active or int(active) == _NP_SHAPE_GLOBAL_ON:
        _np_shape_global[0] = bool(active)
    return previous


def is_np_shape():
    """Whether NumPy shape semantics are on in this thread: () is a scalar's shape, 0 a zero-size dimension."""
    return _np_shape_global[0] or getattr(_np_shape_state, "on", False)


def _np_shape_for_loading():
    """What nd.load requires of a file's arrays: NumPy-shape ones (True), legacy ones (False), or either (None)
    while the semantics are on in every thread (MXNet 1.9.1 then also reads legacy files)."""
    return None if _np_shape_global[0] else is_np_shape()


class _NumpyShapeScope:
    """`with` scope that sets NumPy shape semantics and restores the previous state on exit."""
    def __init__(self, is_np_shape):  # noqa: A002 - MXNet's argument name
        self._enter_is_np_shape = is_np_shape
        self._prev_is_np_shape = None

    def __enter__(self):
        if self._enter_is_np_shape is not None:
            self._prev_is_np_shape = set_np_shape(self._enter_is_np_shape)

    def __exit__(self, ptype, value, trace):
        if self._enter_is_np_shape is not None and self._prev_is_np_shape != self._enter_is_np_shape:
            set_np_shape(self._prev_is_np_shape)


class _NumpyShapeWithin:
    """`with` scope turning NumPy shape semantics on in this thread only, whatever set_np_shape said: mx.np's
    functions run the legacy operators inside it, so that they see 0-d and zero-size shapes as NumPy's."""
    __slots__ = ("_previous",)

    def __enter__(self):
        self._previous = getattr(_np_shape_state, "on", False)
        _np_shape_state.on = True

    def __exit__(self, ptype, value, trace):
        _np_shape_state.on = self._previous


def np_shape(active=True):
    """A `with` scope turning NumPy shape semantics on (default) or off."""
    return _NumpyShapeScope(active)


def _scoped(func, scope, what):
    """`func` (a callable, or each method and property of a class) run inside `scope()`."""
    if inspect.isclass(func):
        for name, member in inspect.getmembers(
                func, lambda m: inspect.isfunction(m) or inspect.ismethod(m) or isinstance(m, property)):
            if isinstance(member, property):
                setattr(func, name, property(_scoped(member.__get__, scope, what), member.__set__,
                                             member.__delattr__, member.__doc__))
            else:
                setattr(func, name, _scoped(member, scope, what))
        return func
    if not callable(func):
        raise MXNetTypeError(f"{what} can only decorate classes and callable objects, while received a "
                        f"{type(func)}")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        with scope():
            return func(*args, **kwargs)
    return wrapped


def use_np_shape(func):
    """Decorator: run `func` (or every method of a class) with NumPy shape semantics on."""
    return _scoped(func, np_shape, "use_np_shape")


def set_module(module):
    """Decorator setting a function's or class's `__module__` (left alone when `module` is None)."""
    def decorator(func):
        if module is not None:
            func.__module__ = module
        return func
    return decorator


class _NumpyArrayScope:
    """`with` scope for NumPy array semantics; the thread's current scope is `_current.value`."""
    _current = threading.local()

    def __init__(self, is_np_array):  # noqa: A002 - MXNet's argument name
        self._old_scope = None
        self._is_np_array = is_np_array

    def __enter__(self):
        if not hasattr(_NumpyArrayScope._current, "value"):
            _NumpyArrayScope._current.value = _NumpyArrayScope(False)
        self._old_scope = _NumpyArrayScope._current.value
        _NumpyArrayScope._current.value = self
        return self

    def __exit__(self, ptype, value, trace):
        _NumpyArrayScope._current.value = self._old_scope


def np_array(active=True):
    """A `with` scope turning NumPy array semantics on (default) or off."""
    return _NumpyArrayScope(active)


def is_np_array():
    """Whether NumPy array semantics are on in this thread."""
    current = getattr(_NumpyArrayScope._current, "value", None)
    return bool(current._is_np_array) if current is not None else False


def use_np_array(func):
    """Decorator: run `func` (or every method of a class) with NumPy array semantics on."""
    return _scoped(func, np_array, "use_np_array")


def use_np(func):
    """Decorator: use_np_shape and use_np_array together."""
    return use_np_shape(use_np_array(func))


def np_ufunc_legal_option(key, value):
    """Whether `key=value` is a ufunc keyword argument with an allowed value."""
    if key == "where":
        return True
    if key == "casting":
        return value in ("no", "equiv", "safe", "same_kind", "unsafe")
    if key == "order":
        return isinstance(value, str)
    if key == "dtype":
        names = ("int8", "uint8", "int32", "int64", "float16", "float32", "float64")
        return value in names or any(value is getattr(np, n) for n in names)
    if key == "subok":
        return isinstance(value, bool)
    return False


def _check_ufunc_kwargs(func_name, kwargs):
    """TypeError for an unknown or invalid ufunc keyword; NotImplementedError for a valid non-default one."""
    for key, value in kwargs.items():
        if key not in _np_ufunc_default_kwargs:
            raise MXNetTypeError(f"{key} is an invalid keyword to function '{func_name}'")
        if value != _np_ufunc_default_kwargs[key]:
            if np_ufunc_legal_option(key, value):
                raise MXNetNotImplementedError(f"{key}={value} is not implemented yet for operator {func_name}")
            raise MXNetTypeError(f"{key}={value} not understood for operator {func_name}")


def wrap_np_unary_func(func):
    """Decorator for a unary ufunc-like `func(x, out=None)`: ufunc keyword arguments are checked
    (only their default values are accepted) and then dropped."""
    @functools.wraps(func)
    def wrapped(x, out=None, **kwargs):
        _check_ufunc_kwargs(func.__name__, kwargs)
        return func(x, out=out)
    return wrapped


def wrap_np_binary_func(func):
    """Decorator for a binary ufunc-like `func(x1, x2, out=None)`, as wrap_np_unary_func."""
    @functools.wraps(func)
    def wrapped(x1, x2, out=None, **kwargs):
        _check_ufunc_kwargs(func.__name__, kwargs)
        return func(x1, x2, out=out)
    return wrapped


def set_np(shape=True, array=True):
    """Set NumPy shape and array semantics together (array semantics need shape semantics)."""
    if not shape and array:
        raise MXNetValueError("NumPy Shape semantics is required in using NumPy array semantics.")
    _NumpyArrayScope._current.value = _NumpyArrayScope(False)
    set_np_shape(shape)
    _NumpyArrayScope._current.value = _NumpyArrayScope(array)


def reset_np():
    """Turn NumPy shape and array semantics off."""
    set_np(shape=False, array=False)


def getenv(name):
    """The value of environment variable `name`, or None."""
    return os.environ.get(name)


def setenv(name, value):
    """Set environment variable `name` to `value` (a string), or remove it when `value` is None."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
