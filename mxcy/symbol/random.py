"""mx.sym.random: MXNet 1.x's sampling functions over Symbols (ops/random_frontend.py writes them once for
mx.nd and mx.sym), and the registry's _random_X / _sample_X ops (filled in by mxcy.symbol)."""
from ..ops.random_frontend import sampling_functions
from .symbol import Symbol, _call as _compose

__all__ = ["uniform", "normal", "randn", "exponential", "gamma", "poisson", "negative_binomial",
           "generalized_negative_binomial", "multinomial", "shuffle", "randint"]


def _call(op_name, inputs, attrs, out, ctx):
    # A symbol runs where its executor is bound: out and ctx have no meaning here, as in MXNet's mx.sym.random.
    return _compose(op_name, *inputs, **attrs)


globals().update(sampling_functions(Symbol, _call))
