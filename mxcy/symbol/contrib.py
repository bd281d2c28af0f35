"""mx.sym.contrib: Symbol functions generated from the operator registry (filled in by mxcy.symbol)."""
from .control_flow import cond, foreach, while_loop  # noqa: F401 - MXNet's symbolic control flow
from .._zipfian import sym_rand_zipfian as rand_zipfian  # noqa: F401
from ..attribute import AttrScope  # noqa: F401,E402 - MXNet's sym.contrib hands these out too
from .symbol import Symbol  # noqa: F401,E402
from .random import uniform  # noqa: F401,E402


# INT8 quantization: named, not computed yet (mxcy/_int8.py)
from .._int8 import not_yet_functions as _not_yet_functions  # noqa: E402
globals().update(_not_yet_functions("sym"))
