"""mx.nd.random: MXNet 1.x's sampling functions over NDArrays (ops/random_frontend.py writes them once for
mx.nd and mx.sym), and the registry's _random_X / _sample_X ops (filled in by mxcy.ndarray)."""
from ..context import Context, current_context
from ..ops import registry
from ..ops.invoke import invoke
from ..ops.random_frontend import Null as _Null, sampling_functions  # noqa: F401 - _Null: MXNet's name
from .ndarray import NDArray

__all__ = ["uniform", "normal", "randn", "exponential", "gamma", "poisson", "negative_binomial",
           "generalized_negative_binomial", "multinomial", "shuffle", "randint"]


def _context(ctx):
    if ctx is None:
        return current_context()
    if isinstance(ctx, Context):
        return ctx
    device, _, rest = str(ctx).partition("(")
    return Context(device, int(rest.rstrip(")") or 0))


def _call(op_name, inputs, attrs, out, ctx):
    op = registry.get(op_name)
    attrs.pop("name", None)
    if out is not None and out.stype != "default":  # drawn dense, stored into the sparse out= (MXNet's fallback)
        from .sparse import dispatch
        outs = dispatch(op, inputs, op.parse_attrs(attrs), out)
    else:
        outs = invoke(op, inputs, op.parse_attrs(attrs), out, _context(ctx) if not inputs else None)
    return outs[0] if len(outs) == 1 else outs


globals().update(sampling_functions(NDArray, _call))
