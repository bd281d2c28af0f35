"""mx.np.set_printoptions: mx.np arrays print with NumPy's options."""
import numpy as onp

from mxcy import np


def test_print_precision_follows_the_options():
    saved = onp.get_printoptions()
    try:
        np.set_printoptions(precision=2)
        assert repr(np.array([1.23456])) == "array([1.23])"
    finally:
        onp.set_printoptions(**saved)
    assert repr(np.array([1.5])) == "array([1.5])"
