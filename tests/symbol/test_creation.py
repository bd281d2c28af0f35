"""mx.sym's creation helpers against NumPy and MXNet 1.9.1's printed names and errors."""
import numpy as np
import pytest

import mxcy as mx


@pytest.mark.parametrize("start,stop,num,endpoint,dtype", [
    (0, 1, 5, False, None), (2, 3, 3, True, "float64"), (-1, 4, 1, True, None), (0, 1, 0, True, None)])
def test_linspace_matches_numpy_and_the_ndarray_one(start, stop, num, endpoint, dtype):
    sym = mx.sym.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    got = sym.eval()[0]
    want = np.linspace(start, stop, num, endpoint=endpoint)
    assert got.dtype == np.dtype(dtype or "float32")
    np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(got.asnumpy(), mx.nd.linspace(start, stop, num, endpoint=endpoint,
                                                                dtype=dtype).asnumpy())
    assert sym.infer_shape()[1] == [(num,)]


def test_linspace_symbol_name_and_bad_num():
    with mx.name.NameManager():
        assert mx.sym.linspace(0, 1, 5).name == "_linspace0"
    assert mx.sym.linspace(0, 1, 4, name="ls").name == "ls"
    with pytest.raises(mx.MXNetError, match=r"_linspace.*num"):
        mx.sym.linspace(0, 1, -1).eval()
