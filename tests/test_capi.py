"""The C API functions emulated behind mx.base._LIB (mxcy/_capi.py), called with ctypes the way MXNet 1.9.1's own
tests call them: return codes, MXGetLastError, outputs through byref, the handle table and its errors."""
import ctypes

import numpy as np
import pytest

import mxcy as mx
from mxcy.base import (MXNetError, NDArrayHandle, SymbolHandle, _LIB, c_str, c_str_array, check_call,
                       mx_uint)


def _build(symbol, backend, op_names):
    out = SymbolHandle()
    check_call(_LIB.MXBuildSubgraphByOpNames(symbol.handle, c_str(backend), mx_uint(len(op_names)),
                                             c_str_array(op_names), ctypes.byref(out)))
    return out


def _chain():
    data = mx.sym.var("data")
    return mx.sym.cos(mx.sym.exp(data, name="e"), name="c")


def test_build_subgraph_by_op_names():
    symbol = _chain()
    partitioned = mx.sym.Symbol(_build(symbol, "default_v2", ["exp", "cos"]))
    assert [n["op"] for n in __import__("json").loads(partitioned.tojson())["nodes"]] == ["null", "_CachedOp"]
    x = mx.nd.array([[0.5, 1.0]])
    np.testing.assert_allclose(partitioned.eval(data=x)[0].asnumpy(), np.cos(np.exp([[0.5, 1.0]])), rtol=1e-6)
    # no op names: a copy, whatever the backend name (MXNet looks the backend up only to use it)
    assert mx.sym.Symbol(_build(symbol, "anything", [])).tojson() == symbol.tojson()


def test_failures_return_minus_one_with_the_message():
    symbol = _chain()
    out = SymbolHandle()
    ret = _LIB.MXBuildSubgraphByOpNames(symbol.handle, c_str("nope"), mx_uint(1), c_str_array(["exp"]),
                                        ctypes.byref(out))
    assert ret == -1 and out.value is None
    assert b"'nope' is not registered" in _LIB.MXGetLastError()
    with pytest.raises(MXNetError, match="MXBuildSubgraphByOpNames: .*'nope' is not registered"):
        _build(symbol, "nope", ["exp"])
    with pytest.raises(MXNetError, match="not a live Symbol handle"):
        check_call(_LIB.MXBuildSubgraphByOpNames(ctypes.c_void_p(12345), c_str("default"), mx_uint(1),
                                                 c_str_array(["exp"]), ctypes.byref(out)))
    with pytest.raises(MXNetError, match="not a live Symbol handle"):  # an NDArray's handle is no Symbol
        check_call(_LIB.MXSymbolFree(mx.nd.ones((1,)).handle))


def test_other_names_keep_the_no_library_error():
    with pytest.raises(MXNetError, match="MXImperativeInvoke"):
        _LIB.MXImperativeInvoke


def test_version_and_gpu_count():
    version, gpus = ctypes.c_int(), ctypes.c_int()
    check_call(_LIB.MXGetVersion(ctypes.byref(version)))
    check_call(_LIB.MXGetGPUCount(ctypes.byref(gpus)))
    assert version.value == 10901 and gpus.value == mx.context.num_gpus()


def test_handles_are_held_until_adopted_or_freed():
    symbol = _chain()
    out = _build(symbol, "default", ["exp"])
    first = mx.sym.Symbol(handle=out)
    with pytest.raises(MXNetError, match="not a live Symbol handle"):  # taken over by `first`
        mx.sym.Symbol(out)
    assert first.list_inputs() == ["data"]
    freed = _build(symbol, "default", ["exp"])
    check_call(_LIB.MXSymbolFree(freed))
    with pytest.raises(MXNetError, match="not a live Symbol handle"):
        mx.sym.Symbol(freed)
    # a live object's own handle names it
    assert mx.sym.Symbol(symbol.handle).tojson() == symbol.tojson()


def test_ndarray_from_dlpack_shares_memory():
    x = mx.nd.array([[1, 2, 3], [4, 5, 6]])
    capsule = mx.nd.to_dlpack_for_read(x)
    name = c_str("dltensor")
    getter = ctypes.pythonapi.PyCapsule_GetPointer
    getter.restype, getter.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    handle = NDArrayHandle()
    check_call(_LIB.MXNDArrayFromDLPack(ctypes.c_void_p(getter(capsule, name)), ctypes.byref(handle)))
    ctypes.pythonapi.PyCapsule_SetName(ctypes.py_object(capsule), c_str("used_dltensor"))
    ctypes.pythonapi.PyCapsule_SetDestructor(ctypes.py_object(capsule), None)
    z = mx.nd.NDArray(handle=handle)
    np.testing.assert_array_equal(z.asnumpy(), x.asnumpy())
    x[:] = 7  # one buffer, one engine variable
    np.testing.assert_array_equal(z.asnumpy(), np.full((2, 3), 7, np.float32))
    with pytest.raises(MXNetError, match="NULL"):
        check_call(_LIB.MXNDArrayFromDLPack(ctypes.c_void_p(None), ctypes.byref(NDArrayHandle())))


def test_ndarray_handles():
    x = mx.nd.ones((2,))
    same = mx.nd.NDArray(handle=x.handle)
    same[:] = 3
    np.testing.assert_array_equal(x.asnumpy(), [3, 3])
    with pytest.raises(MXNetError, match="not a live NDArray handle"):
        mx.nd.NDArray(handle=ctypes.c_void_p(12345))
    with pytest.raises(MXNetError, match="not a live NDArray handle"):
        check_call(_LIB.MXNDArrayFree(ctypes.c_void_p(12345)))


def test_op_names_of_a_backend_set_and_removed():
    symbol = _chain()
    names = ["exp", "cos"]
    check_call(_LIB.MXSetSubgraphPropertyOpNamesV2(c_str("default"), mx_uint(2), c_str_array(names)))
    try:
        assert "_CachedOp" in symbol.optimize_for("default").tojson()
    finally:
        check_call(_LIB.MXRemoveSubgraphPropertyOpNamesV2(c_str("default")))
    with pytest.raises(MXNetError, match="no op names"):
        symbol.optimize_for("default")
    with pytest.raises(MXNetError, match="MXSetSubgraphPropertyOpNamesV2: .*'nope' is not registered"):
        check_call(_LIB.MXSetSubgraphPropertyOpNamesV2(c_str("nope"), mx_uint(2), c_str_array(names)))
    # the test table (V1) is what bind reads under MXNET_SUBGRAPH_BACKEND
    check_call(_LIB.MXSetSubgraphPropertyOpNames(c_str("default"), mx_uint(2), c_str_array(names)))
    try:
        with mx.test_utils.environment("MXNET_SUBGRAPH_BACKEND", "default"):
            exe = symbol.simple_bind(mx.cpu(), grad_req="null", data=(1, 2))
    finally:
        check_call(_LIB.MXRemoveSubgraphPropertyOpNames(c_str("default")))
    assert "_CachedOp" in exe.get_optimized_symbol().tojson()
    with mx.test_utils.environment("MXNET_SUBGRAPH_BACKEND", "default"):
        assert "_CachedOp" not in symbol.simple_bind(mx.cpu(), data=(1, 2)).get_optimized_symbol().tojson()
