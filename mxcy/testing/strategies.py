"""Hypothesis strategies for testing code that uses mxcy: shapes, broadcastable shape pairs,
NDArrays, and valid convolution/pooling parameters for a given input.

    from hypothesis import given
    from mxcy.testing import strategies as mxst

    @given(mxst.ndarrays("float32", mxst.shapes(max_dims=3)))
    def test_exp_positive(x):
        assert (mx.nd.exp(x).asnumpy() > 0).all()
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["shapes", "broadcastable_shapes", "ndarrays", "conv_params"]


def shapes(min_dims=1, max_dims=4, min_side=1, max_side=5):
    """Array shapes; MXNet 1.x has no 0-d arrays, so at least one dimension by default."""
    return hnp.array_shapes(min_dims=max(min_dims, 1), max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=4, max_side=5):
    """Tuples of `num_shapes` shapes that broadcast together (MXNet's broadcast_* rules)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=max(min_dims, 1),
                                             max_dims=max_dims, max_side=max_side).map(
        lambda s: s.input_shapes)


def ndarrays(dtype="float32", shape=None, elements=None, ctx=None):
    """NDArrays of `dtype` and `shape` (a tuple or a strategy; default `shapes()`), values from
    `elements` (default: finite values of moderate size for floats, the full range for ints)."""
    import mxcy as mx
    dtype = np.dtype(dtype)
    if elements is None:
        elements = st.floats(-1e3, 1e3, width=min(dtype.itemsize * 8, 64)) if dtype.kind == "f" \
            else None
    arrays = hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements)
    return arrays.map(lambda a: mx.nd.array(a, ctx=ctx, dtype=a.dtype))


@st.composite
def conv_params(draw, input_shape, max_kernel=3, max_stride=2, max_dilate=2, max_pad=2,
                groups=True):
    """Keyword arguments of Convolution valid for an input of `input_shape` (N, C, *spatial):
    kernel, stride, dilate, pad and num_group, each output dimension at least 1."""
    spatial = input_shape[2:]
    kernel, stride, dilate, pad = [], [], [], []
    for size in spatial:
        d = draw(st.integers(1, max_dilate))
        p = draw(st.integers(0, max_pad))
        largest = (size + 2 * p - 1) // d + 1  # largest kernel with d*(k-1)+1 <= size + 2p
        k = draw(st.integers(1, max(1, min(max_kernel, largest))))
        kernel.append(k)
        dilate.append(d)
        pad.append(p)
        stride.append(draw(st.integers(1, max_stride)))
    channels = input_shape[1]
    divisors = [g for g in range(1, channels + 1) if channels % g == 0] if groups else [1]
    num_group = draw(st.sampled_from(divisors))
    return {"kernel": tuple(kernel), "stride": tuple(stride), "dilate": tuple(dilate),
            "pad": tuple(pad), "num_group": num_group}
