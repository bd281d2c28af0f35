"""mx.np, MXNet's NumPy-compatible array API: not implemented yet. The module exists so that code which
imports it at the top still loads; using any name raises an error saying so."""
from ..base import MXNetError


class _NotYet(MXNetError, AttributeError):
    """An mx.np name was used; hasattr() sees it as absent."""


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise _NotYet(f"mx.np.{name}: MXNet's NumPy-compatible API (mx.np) is not implemented in mxcy yet; "
                  "use mx.nd")
