"""mxcy.testing.strategies produce what they promise."""
import numpy as np
from hypothesis import given, strategies as st

import mxcy as mx
from mxcy.testing import strategies as mxst


@given(mxst.shapes(max_dims=3, max_side=4))
def test_shapes_have_no_zero_dims_and_obey_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(1 <= d <= 4 for d in shape)


@given(mxst.broadcastable_shapes(num_shapes=3, max_dims=3))
def test_broadcastable_shapes_broadcast_in_mxcy(shapes):
    arrays = [mx.nd.ones(s) for s in shapes]
    result = arrays[0] + arrays[1] + arrays[2]
    assert result.shape == np.broadcast_shapes(*shapes)


@given(mxst.ndarrays("int32", (2, 3)), mxst.ndarrays("float64"))
def test_ndarrays_dtype_and_shape(a, b):
    assert a.dtype == np.int32 and a.shape == (2, 3)
    assert b.dtype == np.float64 and np.isfinite(b.asnumpy()).all()


@given(st.data())
def test_conv_params_give_positive_output_sizes(data):
    shape = data.draw(st.tuples(st.integers(1, 2), st.sampled_from([1, 2, 4, 6]),
                                st.integers(1, 6), st.integers(1, 6)))
    p = data.draw(mxst.conv_params(shape))
    assert shape[1] % p["num_group"] == 0
    for size, k, s, d, pad in zip(shape[2:], p["kernel"], p["stride"], p["dilate"], p["pad"]):
        assert (size + 2 * pad - d * (k - 1) - 1) // s + 1 >= 1
