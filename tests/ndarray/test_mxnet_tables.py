"""mx.nd's dtype/grad_req code tables and indexing-key helpers, against MXNet 1.9.1's values."""
import numpy as np
import pytest

import mxcy as mx


def test_dtype_and_grad_req_codes():
    # MXNet 1.9.1's C API codes (mshadow type flags)
    assert {np.float32: 0, np.float64: 1, np.float16: 2, np.uint8: 3, np.int32: 4, np.int8: 5, np.int64: 6,
            np.bool_: 7}.items() <= mx.nd._DTYPE_NP_TO_MX.items()
    assert mx.nd._DTYPE_NP_TO_MX[None] == -1 and mx.nd._DTYPE_MX_TO_NP[-1] is None
    assert mx.nd._DTYPE_MX_TO_NP[12] == np.dtype([("bfloat16", np.uint16)])
    assert all(mx.nd._DTYPE_MX_TO_NP[code] == dt for dt, code in mx.nd._DTYPE_NP_TO_MX.items())
    assert mx.nd._GRAD_REQ_MAP == {"null": 0, "write": 1, "add": 3}


@pytest.mark.parametrize("key, expected", [
    (np.s_[2, 1, 1], (2, 1, 1)),
    (np.s_[0], (0, slice(None), slice(None))),
    (np.s_[0, ...], (0, slice(None), slice(None))),
    (np.s_[:2, None, 0, ...], (slice(None, 2), None, 0, slice(None))),
    (np.s_[..., 1], (slice(None), slice(None), 1)),
])
def test_indexing_key_expand_implicit_axes(key, expected):
    # the examples of MXNet 1.9.1's docstring, and a leading ellipsis
    assert mx.nd.indexing_key_expand_implicit_axes(key, (3, 4, 5)) == (expected, -1)


def test_indexing_key_expand_zero_dim_keys():
    assert mx.nd.indexing_key_expand_implicit_axes((mx.nd.array(2, dtype="int64"),), (3, 4)) == \
        ((2, slice(None)), -1)
    assert mx.nd.indexing_key_expand_implicit_axes((True, 0), (3,))[1] == 1
    assert mx.nd.indexing_key_expand_implicit_axes((False, 0), (3,))[1] == 0
    with pytest.raises(IndexError, match="ellipsis"):
        mx.nd.indexing_key_expand_implicit_axes(np.s_[..., 0, ...], (3, 4))
    with pytest.raises(ValueError, match="legacy mode"):
        mx.nd.indexing_key_expand_implicit_axes((mx.nd.array([1, 0, 1], dtype="bool"),), (3,))


def test_indexing_dispatch_code_and_gather_nd_shape():
    assert mx.nd.get_indexing_dispatch_code((1, slice(None), None)) == 0
    assert mx.nd.get_indexing_dispatch_code((1, [0, 1])) == 1
    assert mx.nd.get_indexing_dispatch_code((mx.nd.array([0]),)) == 1
    assert mx.nd.get_indexing_dispatch_code(((),)) == 2
    with pytest.raises(ValueError, match="does not support slicing"):
        mx.nd.get_indexing_dispatch_code(("a",))
    assert mx.nd.get_oshape_of_gather_nd_op((3, 4, 5), (2, 6)) == (6, 5)
    assert mx.nd.get_oshape_of_gather_nd_op((3, 4), (2, 6, 7)) == (6, 7)


def test_generated_op_modules():
    import mxcy.ndarray.gen_op as gen_op
    import mxcy.symbol.gen_contrib as gen_contrib
    assert gen_op.dot is mx.nd.op.dot and gen_contrib is mx.sym.contrib
    assert mx.nd.gen_linalg is mx.nd.linalg and mx.sym.gen_sparse is mx.sym.sparse
