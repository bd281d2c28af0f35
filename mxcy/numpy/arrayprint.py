"""mx.np.set_printoptions (MXNet's numpy/arrayprint.py): mx.np arrays print through NumPy's printer."""
import numpy as _onp

__all__ = ["set_printoptions"]


def set_printoptions(precision=None, threshold=None, **kwarg):
    """NumPy's print options, which mx.np arrays' repr and str follow."""
    _onp.set_printoptions(precision=precision, threshold=threshold, **kwarg)
