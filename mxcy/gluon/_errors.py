"""Gluon's errors: MXNetErrors that are also the built-in exception MXNet 1.9.1 raises in the same place,
so both `except MXNetError` and MXNet-era `except AssertionError/ValueError` code catch them."""
from ..base import MXNetError


class AssertionMXNetError(MXNetError, AssertionError):
    """Where MXNet 1.9.1 fails an assert (bad shapes, missing or extra parameters in a file)."""


class ValueMXNetError(MXNetError, ValueError):
    """Where MXNet 1.9.1 raises ValueError (bad arguments, unknown shapes)."""


class RuntimeMXNetError(MXNetError, RuntimeError):
    """Where MXNet 1.9.1 raises RuntimeError (uninitialized parameters, wrong context)."""
