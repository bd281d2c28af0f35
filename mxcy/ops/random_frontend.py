"""MXNet 1.x's sampling front ends (uniform, normal, randn, ...), written once for mx.nd.random and mx.sym.random:
numbers as distribution parameters draw from one distribution (_random_X), arrays (NDArrays or Symbols) from one
distribution per element (_sample_X)."""
from ..base import MXNetError, numeric_types
from . import registry

__all__ = ["Null", "sampling_functions"]


class _NullType:
    """MXNet's marker for "argument not given" (distinct from None)."""

    def __repr__(self):
        return "_Null"


Null = _NullType()


def sampling_functions(array_type, call):
    """{name: function} of the sampling front ends over `array_type` (NDArray or Symbol).
    call(op_name, inputs, attrs, out, ctx) runs or composes one registered op."""
    kind = array_type.__name__

    def helper(func, random_op, sample_op, params, shape, dtype, ctx, out, kwargs):
        if out is not None and not isinstance(out, array_type):
            raise MXNetError(f"{func}: out must be an {kind}, got {type(out).__name__}")
        if isinstance(params[0], array_type):
            if not all(isinstance(p, array_type) for p in params[1:]):
                raise MXNetError(f"{func}: distribution parameters must all be {kind}s or all be numbers, got "
                                 f"{', '.join(type(p).__name__ for p in params)}")
            if sample_op is None:
                raise MXNetError(f"{func}: the parameters must be numbers, not {kind}s")
            if shape is Null and out is not None:
                shape = out.shape[params[0].ndim:]
            attrs = dict(kwargs, shape=() if shape is Null else shape)
        elif isinstance(params[0], numeric_types):
            if not all(isinstance(p, numeric_types) for p in params[1:]):
                raise MXNetError(f"{func}: distribution parameters must all be {kind}s or all be numbers, got "
                                 f"{', '.join(type(p).__name__ for p in params)}")
            if shape is Null:  # mx.nd draws one number; a symbol's shape comes from its graph (shape () unknown)
                shape = out.shape if out is not None else (1,) if kind == "NDArray" else ()
            names = [n for n in registry.get(random_op).params if n not in ("shape", "ctx", "dtype")]
            attrs = dict(kwargs, shape=shape, **dict(zip(names, params)))
            sample_op = None
        else:
            raise MXNetError(f"{func}: distribution parameters must be {kind}s or numbers, got "
                             f"{type(params[0]).__name__}")
        if dtype is Null and out is not None:
            dtype = out.dtype
        if dtype is not Null:
            attrs["dtype"] = dtype
        if sample_op is not None:
            return call(sample_op, list(params), attrs, out, None)
        return call(random_op, [], attrs, out, ctx)

    def uniform(low=0, high=1, shape=Null, dtype=Null, ctx=None, out=None, **kwargs):
        """Samples from uniform distributions on [low, high); array bounds sample per element."""
        return helper("uniform", "_random_uniform", "_sample_uniform", [low, high], shape, dtype, ctx, out, kwargs)

    def normal(loc=0, scale=1, shape=Null, dtype=Null, ctx=None, out=None, **kwargs):
        """Samples from normal distributions with mean `loc` and standard deviation `scale`."""
        return helper("normal", "_random_normal", "_sample_normal", [loc, scale], shape, dtype, ctx, out, kwargs)

    def randn(*shape, **kwargs):
        """Samples of the given shape from a normal distribution: randn(2, 3, loc=0, scale=1)."""
        loc, scale = kwargs.pop("loc", 0), kwargs.pop("scale", 1)
        dtype, ctx, out = kwargs.pop("dtype", Null), kwargs.pop("ctx", None), kwargs.pop("out", None)
        if not all(isinstance(p, (*numeric_types, array_type)) for p in (loc, scale)):
            raise MXNetError(f"randn: loc and scale must be numbers or {kind}s, got {type(loc).__name__} and "
                             f"{type(scale).__name__}")
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        # no shape is shape (), as MXNet passes it: a symbol's is then inferred from the graph, and mx.nd refuses it
        shape = shape if shape or out is None else Null
        return helper("randn", "_random_normal", "_sample_normal", [loc, scale], shape, dtype, ctx, out, kwargs)

    def poisson(lam=1, shape=Null, dtype=Null, ctx=None, out=None, **kwargs):
        """Samples from Poisson distributions of rate `lam` (as floating-point values)."""
        return helper("poisson", "_random_poisson", "_sample_poisson", [lam], shape, dtype, ctx, out, kwargs)

    def exponential(scale=1, shape=Null, dtype=Null, ctx=None, out=None, **kwargs):
        """Samples from exponential distributions with the given `scale` (1 / rate)."""
        return helper("exponential", "_random_exponential", "_sample_exponential", [1.0 / scale], shape, dtype,
                      ctx, out, kwargs)

    def gamma(alpha=1, beta=1, shape=Null, dtype=Null, ctx=None, out=None, **kwargs):
        """Samples from gamma distributions with shape `alpha` and scale `beta`."""
        return helper("gamma", "_random_gamma", "_sample_gamma", [alpha, beta], shape, dtype, ctx, out, kwargs)

    def negative_binomial(k=1, p=1, shape=Null, dtype=Null, ctx=None, out=None, **kwargs):
        """Samples the number of failures before `k` successes, success probability `p`."""
        return helper("negative_binomial", "_random_negative_binomial", "_sample_negative_binomial", [k, p],
                      shape, dtype, ctx, out, kwargs)

    def generalized_negative_binomial(mu=1, alpha=1, shape=Null, dtype=Null, ctx=None, out=None, **kwargs):
        """Samples from generalized negative binomial distributions (mean `mu`, dispersion `alpha`)."""
        return helper("generalized_negative_binomial", "_random_generalized_negative_binomial",
                      "_sample_generalized_negative_binomial", [mu, alpha], shape, dtype, ctx, out, kwargs)

    def randint(low, high, shape=Null, dtype=Null, ctx=None, out=None, **kwargs):
        """Samples integers uniformly from [low, high)."""
        return helper("randint", "_random_randint", None, [low, high], shape, dtype, ctx, out, kwargs)

    def multinomial(data, shape=Null, get_prob=False, out=None, dtype="int32", **kwargs):
        """Category indices drawn from the probabilities in the last axis of `data`; with get_prob, also the
        log-probability of each draw (differentiable with respect to `data`)."""
        if not isinstance(data, array_type):
            raise MXNetError(f"multinomial: data must be an {kind}, got {type(data).__name__}")
        attrs = dict(kwargs, get_prob=get_prob, dtype=dtype)
        if shape is not Null:
            attrs["shape"] = shape
        return call("_sample_multinomial", [data], attrs, out, None)

    def shuffle(data, **kwargs):
        """A copy of `data` with its first axis randomly permuted."""
        if not isinstance(data, array_type):
            raise MXNetError(f"shuffle: data must be an {kind}, got {type(data).__name__}")
        out = kwargs.pop("out", None)
        return call("_shuffle", [data], kwargs, out, None)

    return {f.__name__: f for f in (uniform, normal, randn, poisson, exponential, gamma, negative_binomial,
                                    generalized_negative_binomial, randint, multinomial, shuffle)}
