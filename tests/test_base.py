"""mx.base: MXNet 1.9.1's public names, error registry, string and ctypes helpers, classproperty."""
import ctypes
import os

import numpy as np
import pytest

import mxcy as mx
from mxcy import base


def test_mxnet_error_is_a_runtime_error():
    assert issubclass(mx.MXNetError, RuntimeError)
    with pytest.raises(RuntimeError):
        raise mx.MXNetError("x")


def test_register_error_forms():
    @base.register_error
    class MyError(mx.MXNetError):
        pass

    class Other(mx.MXNetError):
        pass

    assert base.error_types["MyError"] is MyError
    assert base.register_error("Renamed", Other) is Other and base.error_types["Renamed"] is Other
    assert base.register_error("Decorated")(Other) is Other and base.error_types["Decorated"] is Other
    assert base.error_types["NotImplementedForSymbol"] is base.NotImplementedForSymbol


def test_c2pyerror_as_mxnet():
    # MXNet 1.9.1's output for the same text
    assert base.c2pyerror("ValueError: bad thing\nStack trace:\n  File a\n  File b\nmore") == \
        ("Traceback (most recent call last):\n  File b\n  File a\nValueError: bad thing\nmore", "ValueError")
    assert base.c2pyerror("no type here\n") == ("no type here", None)


def test_not_available_messages():
    def dot():
        pass
    err = base.NotImplementedForSymbol(dot, "_dot", 1)
    assert str(err) == ('Function dot (namely operator "_dot") with arguments (<class \'int\'>) is not implemented '
                        "for Symbol and only available in NDArray.")
    assert isinstance(err, mx.MXNetError)
    assert "not supported for SparseNDArray" in str(base.NotSupportedForSparseNDArray(dot, None))


def test_strings_types_and_data_dir(monkeypatch):
    assert base.py_str(b"caf\xc3\xa9") == "café"
    assert base.mx_real_t is np.float32 and base.string_types == (str,)
    assert isinstance(np.int64(1), base.integer_types) and isinstance(np.float16(1), base.numeric_types)
    assert base._as_list(3) == [3] and base._as_list((1, 2)) == (1, 2)
    monkeypatch.setenv("MXNET_HOME", "/somewhere")
    assert base.data_dir() == "/somewhere"
    monkeypatch.delenv("MXNET_HOME")
    assert base.data_dir() == base.data_dir_default() == os.path.join(os.path.expanduser("~"), ".mxnet")


def test_build_param_doc_as_mxnet():
    # MXNet 1.9.1's output: num_args and the repeated name are left out
    assert base.build_param_doc(["a", "num_args", "b", "a"], ["int", "int", "float", "int"],
                                ["first", "", "second", "dup"]) == \
        "Parameters\n----------\na : int\n    first\nb : float\n    second\n"


def test_add_fileline_to_docstring():
    class Holder:
        def method(self):
            """Doc."""

    def documented():
        """Doc."""

    base.add_fileline_to_docstring(Holder)
    assert Holder.method.__doc__.startswith("Doc.\n\nFrom:") and __file__ in Holder.method.__doc__
    import types
    module = types.ModuleType("m")
    module.documented = documented
    base.add_fileline_to_docstring(module)
    base.add_fileline_to_docstring(module)  # only once
    assert documented.__doc__.count("From:") == 1


def test_classproperty_and_with_metaclass():
    class Meta(base._ClassPropertyMeta):
        pass

    class Config(base.with_metaclass(Meta, object)):
        _value = 1

        @base.classproperty
        def value(cls):
            return cls._value

        @value.setter
        def value(cls, v):
            cls._value = v

    assert type(Config) is Meta and Config.value == 1 and Config().value == 1
    Config.value = 5
    assert Config._value == 5 and Config.value == 5

    class ReadOnly:
        @base.classproperty
        def name(cls):
            return cls.__name__
    assert ReadOnly.name == "ReadOnly"


def test_ctypes_helpers():
    assert base.c_str("héllo").value == "héllo".encode()
    assert [s for s in base.c_str_array(["a", "bc"])] == [b"a", b"bc"]
    assert list(base.c_array(ctypes.c_int, [1, 2, 3])) == [1, 2, 3]
    buf = bytearray(b"\x01\x02")
    view = base.c_array_buf(ctypes.c_char, buf)
    view[0] = b"\x09"
    assert buf[0] == 9
    # MXNet 1.9.1: ctypes2buffer(<'hello'>, 3) == bytearray(b'hel')
    assert base.ctypes2buffer(ctypes.cast(ctypes.c_char_p(b"hello"), ctypes.POINTER(ctypes.c_char)), 3) == \
        bytearray(b"hel")
    floats = (ctypes.c_float * 6)(*range(6))
    shared = base.ctypes2numpy_shared(ctypes.cast(floats, base.mx_float_p), (2, 3))
    floats[4] = 40
    assert shared.shape == (2, 3) and shared[1, 1] == 40

    class Handle:
        handle = ctypes.c_void_p(7)
    assert list(base.c_handle_array([Handle()])) == [7]
    base.check_call(0)
    with pytest.raises(mx.MXNetError, match="no C library"):
        base.check_call(-1)
    with pytest.raises(mx.MXNetError, match="MXNDArrayCreate"):
        base._LIB.MXNDArrayCreate
    assert [f for f, _ in base.MXCallbackList._fields_] == ["num_callbacks", "callbacks", "contexts"]
