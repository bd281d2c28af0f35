"""mx.np.pad and mx.np.delete against NumPy."""
import numpy as onp
import pytest

from mxcy import np


@pytest.mark.parametrize("pad_width", [1, (2,), (1, 2), ((1, 0), (0, 2)), [[0, 0], [3, 1]]])
@pytest.mark.parametrize("mode, kwargs", [("constant", {}), ("constant", {"constant_values": 7}), ("edge", {}),
                                          ("reflect", {}), ("symmetric", {}), ("wrap", {})])
def test_pad_as_numpy(pad_width, mode, kwargs):
    x = onp.arange(12, dtype=onp.float32).reshape(3, 4)
    result = np.pad(np.array(x), pad_width, mode=mode, **kwargs)
    expected = onp.pad(x, pad_width, mode=mode, **kwargs)
    assert type(result) is np.ndarray and result.shape == expected.shape
    onp.testing.assert_array_equal(result.asnumpy(), expected)


@pytest.mark.parametrize("obj, axis", [(1, None), ([0, 5, 11], None), (slice(0, 3, 2), 1), (-1, 0), ([], 1)])
def test_delete_as_numpy(obj, axis):
    x = onp.arange(12, dtype=onp.float32).reshape(3, 4)
    onp.testing.assert_array_equal(np.delete(np.array(x), obj, axis=axis).asnumpy(), onp.delete(x, obj, axis=axis))


def test_bad_arguments():
    with pytest.raises(NotImplementedError, match="mode"):
        np.pad(np.ones((2,)), 1, mode="median")
    with pytest.raises(ValueError, match="negative"):
        np.pad(np.ones((2,)), -1)


@pytest.mark.parametrize("obj, values, axis", [
    (1, 5.0, None), (1, [5.0, 6.0], None), ([1], [[5.0], [6.0], [7.0]], 1), (1, [5.0, 6.0, 7.0], 1),
    ([0, 2, 2], [7.0, 8.0, 9.0], 1), (slice(0, 3), -1.0, 1), (3, [[9.0, 9.0, 9.0, 9.0]], 0), (-1, 0.5, 0),
    ([], [], 1), ([3, 1], 4.0, 0),
])
def test_insert_as_numpy(obj, values, axis):
    x = onp.arange(12, dtype=onp.float32).reshape(3, 4)
    result = np.insert(np.array(x), obj, values, axis=axis)
    expected = onp.insert(x, obj, values, axis=axis)
    assert result.shape == expected.shape
    onp.testing.assert_array_equal(result.asnumpy(), expected)
    with pytest.raises(IndexError, match="out of bounds"):
        np.insert(np.array(x), 9, 0.0, axis=0)
