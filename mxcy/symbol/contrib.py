"""mx.sym.contrib: Symbol functions generated from the operator registry (filled in by mxcy.symbol)."""
from .control_flow import cond, foreach, while_loop  # noqa: F401 - MXNet's symbolic control flow
