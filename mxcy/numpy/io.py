"""mx.np.genfromtxt (MXNet's numpy/io.py): NumPy reads and parses the text file on the host, then the values
become an mx.np array."""
import numpy as _onp

from .creation import array

__all__ = ["genfromtxt"]


def genfromtxt(*args, **kwargs):
    """NumPy's genfromtxt (same arguments) as an mx.np array of the parsed values' dtype."""
    return array(_onp.genfromtxt(*args, **kwargs))
