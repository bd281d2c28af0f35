"""mx.np.genfromtxt: a text file's values as an mx.np array, as NumPy parses them."""
import numpy as onp

from mxcy import np


def test_genfromtxt_reads_as_numpy(tmp_path):
    path = tmp_path / "values.csv"
    path.write_text("1,2.5,3\n4,5,nan\n")
    result = np.genfromtxt(str(path), delimiter=",")
    expected = onp.genfromtxt(str(path), delimiter=",")
    assert type(result) is np.ndarray and result.dtype == expected.dtype
    onp.testing.assert_array_equal(result.asnumpy(), expected)
