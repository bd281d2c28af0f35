"""mx.error: the registry, InternalError, and errors catchable both as MXNetError and as the built-in
MXNet raises (IndexError, ValueError, TypeError, AttributeError, NotImplementedError)."""
import numpy as np
import pytest

import mxcy as mx
from mxcy import error


@pytest.mark.parametrize("builtin, klass", [
    (ValueError, error.MXNetValueError), (TypeError, error.MXNetTypeError),
    (AttributeError, error.MXNetAttributeError), (IndexError, error.MXNetIndexError),
    (NotImplementedError, error.MXNetNotImplementedError)])
def test_builtin_compatible_classes(builtin, klass):
    assert issubclass(klass, mx.MXNetError) and issubclass(klass, builtin)
    assert mx.base.error_types[builtin.__name__] is klass
    assert error.compatible(builtin("x")) is klass


def test_compatible_of_other_errors():
    assert error.compatible(ZeroDivisionError()) is mx.MXNetError
    assert error.compatible(KeyError("k")) is mx.MXNetError  # a LookupError, not an IndexError
    assert error.compatible(mx.MXNetError("m")) is mx.MXNetError
    assert error.compatible(error.MXNetIndexError("i")) is error.MXNetIndexError


def test_register_and_internal_error():
    assert error.register is mx.base.register_error and error.MXNetError is mx.MXNetError

    @error.register
    class CustomError(mx.MXNetError):
        pass
    assert mx.base.error_types["CustomError"] is CustomError
    err = error.InternalError("broken")
    assert str(err).startswith("broken\nMXNet hint: You hit an internal error")
    assert "MXNet hint" in str(error.InternalError("x\nMXNet hint: mine")) and \
        str(error.InternalError("x\nMXNet hint: mine")).count("MXNet hint") == 1


def test_out_of_range_index_is_an_index_error():
    x = mx.nd.ones((2, 3))
    with pytest.raises(IndexError):
        x[2]
    with pytest.raises(mx.MXNetError):
        x[0, 3]
    sym = mx.sym.Group([mx.sym.var("a"), mx.sym.var("b")])
    with pytest.raises(IndexError):
        sym[2]
    assert [s.name for s in sym] == ["a", "b"]  # iteration still ends on the IndexError


def test_engine_keeps_the_builtin_type_of_an_op_error():
    data = mx.nd.array(np.arange(6).reshape(2, 3))
    with pytest.raises(IndexError, match="gather_nd.*out of bounds"):
        mx.nd.gather_nd(data, mx.nd.array([[0], [3]])).asnumpy()


def test_bad_shapes_and_values_are_value_errors():
    with pytest.raises(ValueError, match="reshape"):
        mx.nd.ones((2, 3)).reshape((4, 5))
    with pytest.raises(ValueError, match="broadcast_add"):
        mx.nd.ones((2, 3)) + mx.nd.ones((4, 5))


@pytest.mark.parametrize("source, destination", [(3, 0), (-4, 0), (0, 5), ([0, 0], [0, 1]), ([0, 1], [1, 1]),
                                                 (0, [0, 1]), ([0, 1], [0])])
def test_bad_moveaxis_axes_are_value_errors(source, destination):
    with pytest.raises(ValueError, match="moveaxis"):
        mx.nd.moveaxis(mx.nd.ones((1, 2, 3)), source, destination)


@pytest.mark.parametrize("source, destination", [([0, 1], [2, 3]), ([2, 3], [0, 1]), ([0, 1, 2], [2, 3, 0]),
                                                 ([3, 0], [1, 0]), (0, -1), (-1, 1)])
def test_moveaxis_moves_as_numpy(source, destination):
    x = np.arange(24.0).reshape(4, 1, 2, 3)
    np.testing.assert_array_equal(mx.nd.moveaxis(mx.nd.array(x), source, destination).asnumpy(),
                                  np.moveaxis(x, source, destination))
