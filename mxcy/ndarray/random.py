"""mx.nd.random: MXNet 1.x's sampling functions. Scalar parameters draw from one distribution
(_random_X), NDArray parameters from one distribution per element (_sample_X)."""
from ..base import MXNetError, numeric_types
from ..context import Context, current_context
from ..ops import registry
from ..ops.invoke import invoke
from .ndarray import NDArray

__all__ = ["uniform", "normal", "randn", "exponential", "gamma", "poisson", "negative_binomial",
           "generalized_negative_binomial", "multinomial", "shuffle", "randint"]


class _NullType:
    """MXNet's marker for "argument not given" (distinct from None)."""

    def __repr__(self):
        return "_Null"


_Null = _NullType()


def _context(ctx):
    if ctx is None:
        return current_context()
    if isinstance(ctx, Context):
        return ctx
    device, _, rest = str(ctx).partition("(")
    return Context(device, int(rest.rstrip(")") or 0))


def _call(op_name, inputs, attrs, out, ctx=None):
    op = registry.get(op_name)
    attrs.pop("name", None)
    if out is not None and out.stype != "default":  # drawn dense, stored into the sparse out= (MXNet's fallback)
        from .sparse import dispatch
        outs = dispatch(op, inputs, op.parse_attrs(attrs), out)
    else:
        outs = invoke(op, inputs, op.parse_attrs(attrs), out, ctx)
    return outs[0] if len(outs) == 1 else outs


def _helper(func, random_op, sample_op, params, shape, dtype, ctx, out, kwargs):
    """MXNet's _random_helper: scalar parameters -> random_op, NDArray parameters -> sample_op."""
    if out is not None and not isinstance(out, NDArray):
        raise MXNetError(f"{func}: out must be an NDArray, got {type(out).__name__}")
    if isinstance(params[0], NDArray):
        if not all(isinstance(p, NDArray) for p in params[1:]):
            raise MXNetError(f"{func}: distribution parameters must all be NDArrays or all be "
                             f"numbers, got {', '.join(type(p).__name__ for p in params)}")
        if sample_op is None:
            raise MXNetError(f"{func}: the parameters must be numbers, not NDArrays")
        if shape is _Null and out is not None:
            shape = out.shape[params[0].ndim:]
        attrs = dict(kwargs, shape=() if shape is _Null else shape)
    elif isinstance(params[0], numeric_types):
        if not all(isinstance(p, numeric_types) for p in params[1:]):
            raise MXNetError(f"{func}: distribution parameters must all be NDArrays or all be "
                             f"numbers, got {', '.join(type(p).__name__ for p in params)}")
        if shape is _Null:
            shape = out.shape if out is not None else (1,)
        names = [n for n in registry.get(random_op).params if n not in ("shape", "ctx", "dtype")]
        attrs = dict(kwargs, shape=shape, **dict(zip(names, params)))
        sample_op = None
    else:
        raise MXNetError(f"{func}: distribution parameters must be NDArrays or numbers, got "
                         f"{type(params[0]).__name__}")
    if dtype is _Null and out is not None:
        dtype = out.dtype
    if dtype is not _Null:
        attrs["dtype"] = dtype
    if sample_op is not None:
        return _call(sample_op, list(params), attrs, out)
    return _call(random_op, [], attrs, out, _context(ctx))


def uniform(low=0, high=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from uniform distributions on [low, high); NDArray bounds sample per element."""
    return _helper("uniform", "_random_uniform", "_sample_uniform", [low, high], shape, dtype,
                   ctx, out, kwargs)


def normal(loc=0, scale=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from normal distributions with mean `loc` and standard deviation `scale`."""
    return _helper("normal", "_random_normal", "_sample_normal", [loc, scale], shape, dtype, ctx,
                   out, kwargs)


def randn(*shape, **kwargs):
    """Samples of the given shape from a normal distribution: randn(2, 3, loc=0, scale=1)."""
    loc, scale = kwargs.pop("loc", 0), kwargs.pop("scale", 1)
    dtype, ctx, out = kwargs.pop("dtype", _Null), kwargs.pop("ctx", None), kwargs.pop("out", None)
    if not isinstance(loc, numeric_types) or not isinstance(scale, numeric_types):
        raise MXNetError(f"randn: loc and scale must be numbers, got {type(loc).__name__} and "
                         f"{type(scale).__name__}")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return _helper("randn", "_random_normal", "_sample_normal", [loc, scale], shape or _Null,
                   dtype, ctx, out, kwargs)


def poisson(lam=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from Poisson distributions of rate `lam` (as floating-point values)."""
    return _helper("poisson", "_random_poisson", "_sample_poisson", [lam], shape, dtype, ctx, out,
                   kwargs)


def exponential(scale=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from exponential distributions with the given `scale` (1 / rate)."""
    return _helper("exponential", "_random_exponential", "_sample_exponential", [1.0 / scale],
                   shape, dtype, ctx, out, kwargs)


def gamma(alpha=1, beta=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from gamma distributions with shape `alpha` and scale `beta`."""
    return _helper("gamma", "_random_gamma", "_sample_gamma", [alpha, beta], shape, dtype, ctx,
                   out, kwargs)


def negative_binomial(k=1, p=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples the number of failures before `k` successes, success probability `p`."""
    return _helper("negative_binomial", "_random_negative_binomial", "_sample_negative_binomial",
                   [k, p], shape, dtype, ctx, out, kwargs)


def generalized_negative_binomial(mu=1, alpha=1, shape=_Null, dtype=_Null, ctx=None, out=None,
                                  **kwargs):
    """Samples from generalized negative binomial distributions (mean `mu`, dispersion `alpha`)."""
    return _helper("generalized_negative_binomial", "_random_generalized_negative_binomial",
                   "_sample_generalized_negative_binomial", [mu, alpha], shape, dtype, ctx, out,
                   kwargs)


def randint(low, high, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples integers uniformly from [low, high)."""
    return _helper("randint", "_random_randint", None, [low, high], shape, dtype, ctx, out, kwargs)


def multinomial(data, shape=_Null, get_prob=False, out=None, dtype="int32", **kwargs):
    """Category indices drawn from the probabilities in the last axis of `data`; with get_prob,
    also the log-probability of each draw (differentiable with respect to `data`)."""
    if not isinstance(data, NDArray):
        raise MXNetError(f"multinomial: data must be an NDArray, got {type(data).__name__}")
    attrs = dict(kwargs, get_prob=get_prob, dtype=dtype)
    if shape is not _Null:
        attrs["shape"] = shape
    return _call("_sample_multinomial", [data], attrs, out)


def shuffle(data, **kwargs):
    """A copy of `data` with its first axis randomly permuted."""
    if not isinstance(data, NDArray):
        raise MXNetError(f"shuffle: data must be an NDArray, got {type(data).__name__}")
    out = kwargs.pop("out", None)
    return _call("_shuffle", [data], kwargs, out)
