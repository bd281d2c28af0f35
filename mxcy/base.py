"""Errors, dtype tables and attribute parsing shared by every layer of mxcy, and the rest of
mxnet.base's public names (error registry, string/type helpers, data_dir, classproperty).

Symbol JSON stores every attribute as a string, so each parser accepts both Python values and
MXNet's string spellings ("(3, 3)", "True", "None"). The ctypes-level names of mxnet.base live in
`_clib` (mxcy has no C library) and are re-exported here.
"""
import ast
import inspect
import os
import sys

import numpy as np

__all__ = ["MXNetError", "NotSupportedForSparseNDArray", "NotImplementedForSymbol", "np_dtype", "dtype_name",
           "DTYPE_TO_FLAG", "FLAG_TO_DTYPE", "parse_bool", "parse_int", "parse_float",
           "parse_shape", "parse_str", "numeric_types", "integer_types", "string_types", "error_types",
           "register_error", "c2pyerror", "py_str", "data_dir", "data_dir_default", "classproperty",
           "with_metaclass", "build_param_doc", "add_fileline_to_docstring", "mx_real_t"]

mx_real_t = np.float32

# Error classes by the name an error message starts with ("ValueError: ..."); see register_error.
error_types = {}


class MXNetError(RuntimeError):
    """Error raised by mxcy, with MXNet's name so that `except mx.MXNetError` keeps working."""


def register_error(func_name=None, cls=None):
    """File an error class under a name (default: its class name) in `error_types`.

    Usable as `@register_error`, `@register_error("Name")` or `register_error("Name", cls)`;
    returns the class, or the decorator when no class is given.
    """
    if callable(func_name):
        func_name, cls = func_name.__name__, func_name

    def register(klass):
        error_types[func_name if isinstance(func_name, str) else klass.__name__] = klass
        return klass
    return register if cls is None else register(cls)


def _not_available_message(kind, function, alias, args):
    name = getattr(function, "__name__", function)
    msg = f"Function {name}"
    if alias:
        msg += f' (namely operator "{alias}")'
    if args:
        msg += f" with arguments ({', '.join(args)})"
    return msg + f" is not {kind} and only available in NDArray."


@register_error
class NotImplementedForSymbol(MXNetError):
    """Raised by an NDArray-only function called on a Symbol."""
    def __init__(self, function, alias, *args):
        super().__init__(_not_available_message("implemented for Symbol", function, alias,
                                                [str(type(a)) for a in args]))
        self.function = getattr(function, "__name__", function)
        self.alias = alias


class NotSupportedForSparseNDArray(MXNetError):
    """Raised by a dense-only NDArray function called on a sparse array."""
    def __init__(self, function, alias, *args):
        super().__init__(_not_available_message("supported for SparseNDArray", function, alias,
                                                [a if isinstance(a, str) else str(type(a)) for a in args]))
        self.function = getattr(function, "__name__", function)
        self.alias = alias


def c2pyerror(err_msg):
    """(message, error type name or None) from an MXNet-style error text.

    The type is the first line's prefix before ':' when it is a dotted identifier; "Stack trace"
    blocks (indented lines after a "Stack trace" line) are moved to the front, innermost call last.
    """
    lines = err_msg.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    head = lines[0].split(":", 1)[0] if lines and ":" in lines[0] else ""
    err_type = head if head and all(c.isalnum() or c in "_." for c in head) else None
    message, trace, in_trace = [], [], False
    for line in lines:
        if in_trace and line.startswith("  "):
            trace.append(line)
            continue
        in_trace = line.startswith("Stack trace")
        if not in_trace:
            message.append(line)
    out = ("Traceback (most recent call last):\n" + "\n".join(reversed(trace)) + "\n") if trace else ""
    return out + "\n".join(message), err_type


def py_str(x):
    """bytes from a C string -> str (UTF-8)."""
    return x.decode("utf-8")


def data_dir_default():
    """Where MXNet keeps downloaded data: %APPDATA%\\mxnet on Windows, ~/.mxnet elsewhere."""
    if sys.platform == "win32":
        return os.path.join(os.environ.get("APPDATA"), "mxnet")
    return os.path.join(os.path.expanduser("~"), ".mxnet")


def data_dir():
    """$MXNET_HOME if set, else data_dir_default()."""
    return os.getenv("MXNET_HOME", data_dir_default())


class _ClassProperty:
    """A property read (and optionally set, via .setter) on the class itself."""
    def __init__(self, fget, fset=None):
        self.fget, self.fset = fget, fset

    def __get__(self, obj, owner=None):
        return self.fget.__get__(obj, owner if owner is not None else type(obj))()

    def __set__(self, obj, value):
        if self.fset is None:
            raise MXNetError(f"cannot use the setter: {getattr(obj, '__name__', obj)} to set attribute")
        owner = obj if inspect.isclass(obj) else type(obj)
        return self.fset.__get__(None if inspect.isclass(obj) else obj, owner)(value)

    def setter(self, func):
        self.fset = func if isinstance(func, (classmethod, staticmethod)) else classmethod(func)
        return self


class _ClassPropertyMeta(type):
    """Routes `Class.prop = value` to a classproperty's setter (a plain class would overwrite it)."""
    def __setattr__(cls, key, value):
        prop = cls.__dict__.get(key)
        if isinstance(prop, _ClassProperty):
            return prop.__set__(cls, value)
        return super().__setattr__(key, value)


def classproperty(func):
    """Decorator: a read-only (or, with .setter and a `with_metaclass(_ClassPropertyMeta)` class,
    settable) property of the class."""
    return _ClassProperty(func if isinstance(func, (classmethod, staticmethod)) else classmethod(func))


def with_metaclass(meta, *bases):
    """A base class making its subclasses instances of `meta` with `bases` (six's idiom)."""
    class _Temporary(type):
        def __new__(cls, name, _bases, namespace):
            return meta(name, bases, namespace)

        @classmethod
        def __prepare__(cls, name, _bases):
            return meta.__prepare__(name, bases)
    return type.__new__(_Temporary, "temporary_class", (), {})


def build_param_doc(arg_names, arg_types, arg_descs, remove_dup=True):
    """A NumPy-style "Parameters" section from parallel lists of names, types and descriptions
    (`num_args` is left out; repeated names only once unless remove_dup is False)."""
    seen, entries = set(), []
    for name, type_info, desc in zip(arg_names, arg_types, arg_descs):
        if name == "num_args" or (remove_dup and name in seen):
            continue
        seen.add(name)
        entries.append(f"{name} : {type_info}" + (f"\n    {desc}" if desc else ""))
    return "Parameters\n----------\n" + "\n".join(entries) + "\n"


def add_fileline_to_docstring(module, incursive=True):
    """Append "From:<file>:<line>" to the docstring of each documented function (and, when
    `incursive`, of each class's methods) in `module` (a module or its name)."""
    def add(obj):
        if not obj.__doc__ or "From:" in obj.__doc__:
            return
        try:
            fname = inspect.getsourcefile(obj)
            line = inspect.getsourcelines(obj)[1]
        except (OSError, TypeError):
            return
        if fname is not None:
            obj.__doc__ += f"\n\nFrom:{fname}:{line}"

    module = sys.modules[module] if isinstance(module, str) else module
    for _, obj in inspect.getmembers(module):
        if inspect.isfunction(obj):
            add(obj)
        elif inspect.ismethod(obj):
            add(obj.__func__)
        elif inspect.isclass(obj) and incursive:
            add_fileline_to_docstring(obj, False)


def _as_list(obj):
    """obj itself if it is a list or tuple, else [obj]."""
    return obj if isinstance(obj, (list, tuple)) else [obj]


numeric_types = (float, int, np.generic)
integer_types = (int, np.integer)
string_types = (str,)

# MXNet's type flags (mshadow/base.h); they appear in .params files and in Symbol JSON.
DTYPE_TO_FLAG = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.float16): 2,
                 np.dtype(np.uint8): 3, np.dtype(np.int32): 4, np.dtype(np.int8): 5,
                 np.dtype(np.int64): 6, np.dtype(np.bool_): 7}
FLAG_TO_DTYPE = {v: k for k, v in DTYPE_TO_FLAG.items()}


def np_dtype(dtype, op="", arg="dtype"):
    """NumPy dtype for any MXNet dtype spelling ('float32', np.float32, 0, None -> float32)."""
    if dtype is None:
        return np.dtype(np.float32)
    try:
        if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool):
            return FLAG_TO_DTYPE[int(dtype)]
        d = np.dtype(dtype)
    except (TypeError, KeyError) as err:
        raise MXNetError(f"{op or 'mxcy'}: unknown {arg} {dtype!r}") from err
    if d not in DTYPE_TO_FLAG:
        raise MXNetError(f"{op or 'mxcy'}: unsupported {arg} {d.name}; supported: "
                         + ", ".join(k.name for k in DTYPE_TO_FLAG))
    return d


def dtype_name(dtype):
    return np.dtype(dtype).name


def _literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_bool(value):
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    return bool(value)


def parse_int(value):
    if isinstance(value, str):
        value = _literal(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise ValueError(f"not an integer: {value!r}")
    if float(value) != int(value):
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def parse_float(value):
    if isinstance(value, str):
        value = _literal(value.strip())
        if isinstance(value, str):
            low = value.lower()
            if low in ("inf", "+inf", "infinity"):
                return float("inf")
            if low in ("-inf", "-infinity"):
                return float("-inf")
            if low == "nan":
                return float("nan")
    return float(value)


def parse_shape(value):
    """A tuple of ints from (2, 3), [2, 3], 2, "(2, 3)", "[2,3]" or "2"."""
    if isinstance(value, str):
        value = _literal(value.strip())
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),)
    if value is None:
        raise ValueError("shape is None")
    return tuple(parse_int(v) for v in value)


def parse_str(value):
    return str(value)


from ._clib import *  # noqa: E402,F401,F403 - mxnet.base's ctypes names
from ._clib import _LIB  # noqa: E402,F401
