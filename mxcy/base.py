"""Errors, dtype tables and attribute parsing shared by every layer of mxcy.

Symbol JSON stores every attribute as a string, so each parser accepts both Python values and
MXNet's string spellings ("(3, 3)", "True", "None").
"""
import ast

import numpy as np

__all__ = ["MXNetError", "NotSupportedForSparseNDArray", "np_dtype", "dtype_name",
           "DTYPE_TO_FLAG", "FLAG_TO_DTYPE", "parse_bool", "parse_int", "parse_float",
           "parse_shape", "parse_str", "numeric_types", "integer_types", "string_types"]


class MXNetError(Exception):
    """Error raised by mxcy, with MXNet's name so that `except mx.MXNetError` keeps working."""


class NotSupportedForSparseNDArray(MXNetError):
    def __init__(self, function, alias, *args):
        super().__init__(f"Function {function.__name__ if callable(function) else function}"
                         f"{' (namely operator ' + alias + ')' if alias else ''} is not supported "
                         f"for SparseNDArray and only available in NDArray.")


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
