"""mx.util: NumPy-semantics switches (shape semantics per thread; array semantics 'not yet'), decorators, ufunc
keyword checks, GPU queries and environment access."""
import os
import threading

import numpy as np
import pytest

import mxcy as mx
from mxcy import util


def _in_other_thread(func):
    seen = []
    thread = threading.Thread(target=lambda: seen.append(func()))
    thread.start()
    thread.join()
    return seen[0]


def test_np_shape_switch_is_per_thread_and_returns_the_previous_state():
    # the sequence of answers MXNet 1.9.1 printed for the same calls
    assert not mx.is_np_shape()
    try:
        assert util.set_np_shape(True) is False and mx.is_np_shape()
        assert _in_other_thread(mx.is_np_shape) is False
        assert util.set_np_shape(True) is True
        assert util.set_np_shape(False) is True and not mx.is_np_shape()
        assert util.set_np_shape(2) is False and mx.is_np_shape()  # 2: on in every thread
        assert _in_other_thread(mx.is_np_shape) is True
        assert util.set_np_shape(False) is True and _in_other_thread(mx.is_np_shape) is False
    finally:
        util.set_np_shape(False)
    assert not mx.is_np_shape()


def test_np_shape_scopes_and_decorator_restore_the_previous_state():
    with mx.np_shape():
        assert mx.is_np_shape()
        with mx.np_shape(False):
            assert not mx.is_np_shape()
        assert mx.is_np_shape()
    assert not mx.is_np_shape()

    @mx.use_np_shape
    def state():
        """doc"""
        return mx.is_np_shape()

    @util.use_np_shape
    class Block:
        def forward(self):
            return mx.is_np_shape()

    assert state.__name__ == "state" and state.__doc__ == "doc"
    assert state() and Block().forward() and not mx.is_np_shape()
    util.set_np(shape=True, array=False)
    assert mx.is_np_shape() and not mx.is_np_array()
    util.reset_np()
    assert not mx.is_np_shape()


def test_numpy_array_semantics_turn_on_and_off_as_mxnet():
    # the states MXNet 1.9.1 printed: np_array alone leaves shape semantics alone; set_np turns on both
    assert not mx.is_np_array()
    with mx.np_array(False):
        assert not mx.is_np_array()
    with mx.np_array(True):
        assert mx.is_np_array() and not mx.is_np_shape()
    assert not mx.is_np_array()
    util.set_np()
    try:
        assert mx.is_np_array() and mx.is_np_shape()
        with pytest.raises(ValueError, match="Deactivating NumPy shape semantics"):
            util.set_np_shape(False)
    finally:
        util.reset_np()
    assert not mx.is_np_array() and not mx.is_np_shape()
    with pytest.raises(ValueError, match="Shape semantics is required"):
        util.set_np(shape=False, array=True)


def test_np_array_scope_is_per_thread():
    seen = []

    def worker():
        with mx.np_array(False):
            seen.append(mx.is_np_array())
    scope = util._NumpyArrayScope(True)
    util._NumpyArrayScope._current.value = scope
    try:
        assert mx.is_np_array()
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert seen == [False]
    finally:
        util._NumpyArrayScope._current.value = util._NumpyArrayScope(False)


def test_np_array_decorators_turn_the_semantics_on_inside():
    @mx.use_np
    def f():
        return mx.is_np_array(), mx.is_np_shape()

    @util.use_np_array
    class Block:
        def forward(self):
            return mx.is_np_array()

        @property
        def size(self):
            return mx.is_np_array()

    assert f.__name__ == "f"
    assert f() == (True, True) and Block().forward() and Block().size
    assert not mx.is_np_array() and not mx.is_np_shape()
    with pytest.raises(TypeError, match="can only decorate"):
        util.use_np_array(3)


def test_set_module():
    @util.set_module("mxnet.numpy")
    def g():
        pass
    assert g.__module__ == "mxnet.numpy"
    assert util.set_module(None)(g).__module__ == "mxnet.numpy"


@pytest.mark.parametrize("key, value, legal", [
    ("where", False, True), ("casting", "unsafe", True), ("casting", "bogus", False), ("order", "C", True),
    ("order", 1, False), ("dtype", np.float32, True), ("dtype", "int64", True), ("dtype", np.complex64, False),
    ("subok", False, True), ("subok", 1, False), ("axis", 0, False)])
def test_np_ufunc_legal_option(key, value, legal):
    # values as MXNet 1.9.1 answers them
    assert util.np_ufunc_legal_option(key, value) == legal


def test_wrapped_ufuncs_check_keywords():
    neg = util.wrap_np_unary_func(lambda x, out=None: -x)
    add = util.wrap_np_binary_func(lambda x1, x2, out=None: x1 + x2)
    assert neg(2, casting="same_kind") == -2 and add(1, 2, where=True) == 3
    with pytest.raises(TypeError, match="invalid keyword"):
        neg(1, axis=0)
    with pytest.raises(NotImplementedError, match="casting=unsafe"):
        add(1, 2, casting="unsafe")
    with pytest.raises(TypeError, match="not understood"):
        neg(1, casting="bogus")


def test_gpu_queries_and_environment(monkeypatch):
    assert util.get_gpu_count() == mx.context.num_gpus()
    with pytest.raises(ValueError, match="gpu context"):
        util.get_cuda_compute_capability(mx.cpu())
    if util.get_gpu_count() == 0:
        with pytest.raises(mx.MXNetError):
            util.get_gpu_memory(0)
    monkeypatch.delenv("MXCY_UTIL_TEST", raising=False)
    assert util.getenv("MXCY_UTIL_TEST") is None
    util.setenv("MXCY_UTIL_TEST", "7")
    assert os.environ["MXCY_UTIL_TEST"] == "7" and util.getenv("MXCY_UTIL_TEST") == "7"
    util.setenv("MXCY_UTIL_TEST", None)
    assert "MXCY_UTIL_TEST" not in os.environ
