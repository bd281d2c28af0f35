"""mx.np's creation functions: values against NumPy, default dtypes as MXNet 1.9.1 printed them, 0-d and zero-size
shapes, contexts."""
import threading

import numpy as onp
import pytest

import mxcy as mx
from mxcy import np

# (mx.np call, NumPy reference values, the dtype MXNet 1.9.1 gave)
CASES = [
    (lambda: np.array([1, 2, 3]), onp.array([1, 2, 3]), onp.float32),
    (lambda: np.array(onp.array([1, 2], dtype=onp.int64)), onp.array([1, 2]), onp.int64),
    (lambda: np.array(onp.array([1.0, 2.0])), onp.array([1.0, 2.0]), onp.float64),
    (lambda: np.array(3), onp.array(3.0), onp.float32),
    (lambda: np.array([True, False]), onp.array([1.0, 0.0]), onp.float32),
    (lambda: np.array(mx.nd.ones((2,), dtype="int32")), onp.ones(2), onp.int32),
    (lambda: np.zeros((2, 3)), onp.zeros((2, 3)), onp.float32),
    (lambda: np.zeros(4, dtype="int32"), onp.zeros(4), onp.int32),
    (lambda: np.ones((0, 1, 2)), onp.ones((0, 1, 2)), onp.float32),
    (lambda: np.ones(()), onp.ones(()), onp.float32),
    (lambda: np.full((2,), 3), onp.full((2,), 3.0), onp.float32),
    (lambda: np.full((2,), 2, dtype="int32"), onp.full((2,), 2), onp.int32),
    (lambda: np.full((2,), True), onp.full((2,), True), onp.bool_),
    (lambda: np.arange(5), onp.arange(5.0), onp.float32),
    (lambda: np.arange(2, 8, 2), onp.arange(2.0, 8.0, 2.0), onp.float32),
    (lambda: np.arange(3, dtype="int32"), onp.arange(3), onp.int32),
    (lambda: np.linspace(0, 1, 5), onp.linspace(0, 1, 5), onp.float32),
    (lambda: np.linspace(0, 10, 4, endpoint=False), onp.linspace(0, 10, 4, endpoint=False), onp.float32),
    (lambda: np.linspace(1, 2, 3, dtype="int32"), onp.array([1, 1, 2]), onp.int32),
    (lambda: np.eye(3), onp.eye(3), onp.float32),
    (lambda: np.eye(2, 3, k=1), onp.eye(2, 3, k=1), onp.float32),
    (lambda: np.identity(2, dtype="int64"), onp.eye(2), onp.int64),
    (lambda: np.zeros_like(np.ones((2,), dtype="int32")), onp.zeros(2), onp.int32),
    (lambda: np.ones_like(np.zeros((2, 2))), onp.ones((2, 2)), onp.float32),
    (lambda: np.full_like(np.array([1, 2, 3], dtype="int32"), 2.5), onp.array([2, 2, 2]), onp.int32),
    (lambda: np.full_like(np.zeros((2,)), 7, dtype="float64"), onp.full((2,), 7.0), onp.float64),
]


@pytest.mark.parametrize("make, expected, dtype", CASES)
def test_creation_values_and_dtypes(make, expected, dtype):
    result = make()
    assert type(result) is np.ndarray and result.dtype == dtype and result.shape == expected.shape
    onp.testing.assert_allclose(result.asnumpy().astype(onp.float64), expected.astype(onp.float64), rtol=1e-6)


def test_empty_and_empty_like_shapes_and_types():
    assert np.empty((2, 3)).shape == (2, 3) and np.empty((2,)).dtype == onp.float32
    like = np.empty_like(np.ones((3,), dtype="int32"))
    assert like.shape == (3,) and like.dtype == onp.int32
    assert np.empty_like(np.ones((3,)), shape=(1, 2)).shape == (1, 2)


def test_linspace_retstep_and_out():
    values, step = np.linspace(0, 1, 5, retstep=True)
    assert step == 0.25 and values.asnumpy().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    out = np.zeros((3,))
    assert np.full((3,), 4.0, out=out) is out and out.asnumpy().tolist() == [4.0] * 3


def test_arrays_are_made_on_the_context_asked():
    assert np.zeros((2,), ctx=mx.cpu(0)).context == mx.cpu(0)
    assert np.array([1.0], ctx=mx.cpu(0)).context == mx.cpu(0)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(NotImplementedError, match="C order"):
        np.zeros((2,), order="F")
    with pytest.raises(mx.MXNetError, match="step"):
        np.arange(0, 3, 0)
    with pytest.raises(TypeError, match="shape"):
        np.ones(shape=(1,), shape2=3)


def test_np_global_shape_in_another_thread():
    # MXNet's test_thread_local.test_np_global_shape: 0-d and zero-size arrays made in a new thread
    data = []
    mx.set_np_shape(2)
    try:
        thread = threading.Thread(target=lambda: data.extend([np.ones(shape=()), np.ones(shape=(0, 1, 2))]))
        thread.start()
        thread.join()
    finally:
        mx.set_np_shape(0)
    assert data[0].shape == () and data[0].item() == 1.0 and data[1].shape == (0, 1, 2)


def test_from_numpy_gives_mx_np_arrays_sharing_memory():
    source = onp.arange(6, dtype=onp.float32).reshape(2, 3)
    shared = mx.nd.from_numpy(source, array_cls=np.ndarray)
    assert type(shared) is np.ndarray and shared.shape == (2, 3)
    shared[0, 0] = 9.0
    assert source[0, 0] == 9.0
    scalar = mx.nd.from_numpy(onp.array(2.5, dtype=onp.float32), zero_copy=False, array_cls=np.ndarray)
    assert type(scalar) is np.ndarray and scalar.shape == () and scalar.item() == 2.5
    assert mx.nd.from_numpy(onp.array(1.0, dtype=onp.float32), array_cls=np.ndarray).shape == ()
