"""mx.np.random: MXNet 1.9.1's NumPy-style samplers (low/high/size/dtype/ctx/out), drawn by the registered random
operators through mx.nd.random; array parameters broadcast against each other and `size`, as NumPy's do."""
import numpy as _onp

from .. import ndarray as nd
from ..base import np_dtype
from ..error import MXNetValueError
from ..ndarray.ndarray import NDArray
from ._op import _shape_tuple, _view, broadcast_to, exp, log, matmul, reshape, sqrt, take, transpose
from ._op import power as _power
from .linalg import cholesky
from .multiarray import binary, cast, into, np_function

__all__ = ["randint", "uniform", "normal", "lognormal", "exponential", "choice", "multinomial", "shuffle", "rand",
           "randn", "logistic", "gumbel", "rayleigh", "weibull", "pareto", "power", "gamma", "beta", "chisquare",
           "multivariate_normal"]


def _size(size):
    return () if size is None else _shape_tuple(size)


def _sample(sampler, params, shape, dtype, ctx):
    """`sampler` (an mx.nd.random function) with number parameters, drawn in `shape` (0-d included)."""
    drawn = sampler(*params, shape=shape or (1,), dtype=np_dtype(dtype, sampler.__name__).name, ctx=ctx)
    return drawn if shape else _view(drawn, ())


def _location_scale(sampler, standard, location, scale, size, dtype, ctx, out):
    """location + scale * a standard draw (standard: `sampler`'s parameters giving it) for array parameters,
    in `size` or the parameters' broadcast shape; numbers go to `sampler` as they are."""
    dtype = _onp.float32 if dtype is None else dtype
    arrays = [p for p in (location, scale) if isinstance(p, NDArray)]
    if not arrays:
        return into(_sample(sampler, (location, scale), _size(size), dtype, ctx), out)
    shape = _size(size) if size is not None else _onp.broadcast_shapes(*(a.shape for a in arrays))
    drawn = _sample(sampler, standard, shape, dtype, arrays[0].context)
    return into(binary("add", binary("multiply", drawn, scale), location), out)


@np_function
def uniform(low=0.0, high=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples from U[low, high) (float32 unless `dtype` says; size None with number bounds: a 0-d array)."""
    span = binary("subtract", high, low) if isinstance(high, NDArray) or isinstance(low, NDArray) else None
    if span is None:
        return _location_scale(nd.random.uniform, (0.0, 1.0), low, high, size, dtype, ctx, out)
    return _location_scale(nd.random.uniform, (0.0, 1.0), low, span, size, dtype, ctx, out)


@np_function
def normal(loc=0.0, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples from N(loc, scale^2)."""
    return _location_scale(nd.random.normal, (0.0, 1.0), loc, scale, size, dtype, ctx, out)


@np_function
def lognormal(mean=0.0, sigma=1.0, size=None, dtype=None, ctx=None, out=None):
    """exp of samples from N(mean, sigma^2)."""
    return into(exp(normal(mean, sigma, size, dtype, ctx)), out)


@np_function
def exponential(scale=1.0, size=None, ctx=None, out=None):
    """Samples from the exponential distribution of mean `scale`."""
    shape = _size(size) if size is not None or not isinstance(scale, NDArray) else scale.shape
    drawn = _sample(nd.random.exponential, (1.0,), shape, _onp.float32,
                    scale.context if isinstance(scale, NDArray) else ctx)
    return into(binary("multiply", drawn, scale), out)


@np_function
def randint(low, high=None, size=None, dtype=None, ctx=None, out=None):
    """Integers drawn uniformly from [low, high) ([0, low) without `high`); int64 unless `dtype` says."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise MXNetValueError(f"randint: low ({low}) must be below high ({high})")
    drawn = _sample(nd.random.randint, (int(low), int(high)), _size(size), _onp.int64, ctx)
    return into(cast(drawn, np_dtype(dtype or _onp.int64, "randint")), out)


@np_function
def choice(a, size=None, replace=True, p=None, ctx=None, out=None):
    """Samples of `a` (a 1-D array, or an int n for arange(n)), with or without replacement, uniformly or with
    probabilities `p`."""
    count = int(a) if isinstance(a, (int, _onp.integer)) else a.shape[0]
    if not isinstance(a, (int, _onp.integer)) and a.ndim != 1:
        raise MXNetValueError(f"choice: a must be 1-dimensional, got shape {a.shape}")
    shape = _size(size)
    wanted = int(_onp.prod(shape, dtype=_onp.int64))
    if not replace and wanted > count:
        raise MXNetValueError("choice: cannot take a larger sample than population when replace=False")
    if p is not None and not isinstance(p, NDArray):
        p = nd.array(_onp.asarray(p), ctx=ctx, dtype=_onp.float32)
    if replace and p is None:
        indices = _sample(nd.random.randint, (0, count), shape, _onp.int64, ctx)
    elif replace:
        indices = reshape(cast(nd.random.multinomial(cast(p, _onp.float32), shape=(wanted or 1,)), _onp.int64)[
            :wanted], shape)
    else:
        # Without replacement: the `wanted` largest of log(u) / p (Efraimidis and Spirakis' weighted sampling;
        # with p None, of u alone: a uniform random subset in random order).
        keys = _sample(nd.random.uniform, (0.0, 1.0), (count,), _onp.float32, ctx if p is None else p.context)
        if p is not None:
            keys = binary("divide", nd.log(keys), cast(p, _onp.float32))
        chosen = nd.topk(keys, k=wanted or 1, ret_typ="indices", dtype="int64")[:wanted]
        indices = reshape(chosen, shape)
    return into(indices if isinstance(a, (int, _onp.integer)) else take(a, indices), out)


@np_function
def multinomial(n, pvals, size=None, **kwargs):
    """How many of `n` draws from the categories with probabilities `pvals` fell in each (int64, shape size +
    (len(pvals),)): the draws one_hot-encoded and summed. `ctx=` may be given."""
    ctx = kwargs.pop("ctx", None)
    if kwargs:
        raise TypeError(f"multinomial: unexpected arguments {sorted(kwargs)}")
    if not isinstance(pvals, NDArray):
        pvals = nd.array(_onp.asarray(pvals, dtype=_onp.float32), ctx=ctx)
    if pvals.ndim != 1:
        raise MXNetValueError(f"multinomial: pvals must be 1-dimensional, got shape {pvals.shape}")
    categories, shape = pvals.shape[0], _size(size)
    count = int(_onp.prod(shape, dtype=_onp.int64)) * int(n)
    if count == 0 or categories == 0:
        return nd.zeros(shape + (categories,), ctx=pvals.context, dtype=_onp.int64)
    draws = nd.random.multinomial(cast(pvals, _onp.float32), shape=(count,))
    hits = nd.one_hot(draws, depth=categories, dtype="int64")
    return nd.sum(reshape(hits, shape + (int(n), categories)), axis=len(shape))


@np_function
def shuffle(x):
    """Shuffle `x` in place along its first axis."""
    nd.random.shuffle(x).copyto(x)


def rand(*size, **kwargs):
    """Samples from U[0, 1) in shape `size` (given as separate ints)."""
    return uniform(size=size, **kwargs)


def randn(*size, **kwargs):
    """Samples from N(0, 1) in shape `size` (given as separate ints)."""
    return normal(size=size, **kwargs)


def _open_unit(size, params, ctx):
    """Uniform draws in (0, 1) (float64, so that 0 and 1 come up with probability 2^-53 and log stays finite), of
    `size` or the array parameters' broadcast shape, on their context."""
    arrays = [p for p in params if isinstance(p, NDArray)]
    shape = _size(size) if size is not None or not arrays else _onp.broadcast_shapes(*(a.shape for a in arrays))
    drawn = _sample(nd.random.uniform, (0.0, 1.0), shape, _onp.float64, arrays[0].context if arrays else ctx)
    return nd.clip(drawn, a_min=2.0 ** -53, a_max=1.0 - 2.0 ** -53)


def _float32(values, out):
    return into(cast(values, _onp.float32), out)


@np_function
def logistic(loc=0.0, scale=1.0, size=None, ctx=None, out=None):
    """Samples from the logistic distribution: loc + scale * log(u / (1 - u))."""
    u = _open_unit(size, (loc, scale), ctx)
    return _float32(binary("add", binary("multiply", log(binary("divide", u, binary("subtract", 1.0, u))), scale),
                           loc), out)


@np_function
def gumbel(loc=0.0, scale=1.0, size=None, ctx=None, out=None):
    """Samples from the Gumbel distribution: loc - scale * log(-log(u))."""
    u = _open_unit(size, (loc, scale), ctx)
    return _float32(binary("subtract", loc, binary("multiply", log(binary("multiply", log(u), -1.0)), scale)), out)


@np_function
def rayleigh(scale=1.0, size=None, ctx=None, out=None):
    """Samples from the Rayleigh distribution: scale * sqrt(-2 log(u))."""
    u = _open_unit(size, (scale,), ctx)
    return _float32(binary("multiply", sqrt(binary("multiply", log(u), -2.0)), scale), out)


@np_function
def weibull(a, size=None, ctx=None, out=None):
    """Samples from the Weibull distribution of shape a: (-log(u))^(1/a)."""
    u = _open_unit(size, (a,), ctx)
    return _float32(_power(binary("multiply", log(u), -1.0), 1.0 / a), out)


@np_function
def pareto(a, size=None, ctx=None, out=None):
    """Samples from NumPy's Pareto II (Lomax) distribution of shape a: u^(-1/a) - 1."""
    u = _open_unit(size, (a,), ctx)
    return _float32(binary("subtract", _power(u, -1.0 / a), 1.0), out)


@np_function
def power(a, size=None):
    """Samples in [0, 1] from the power distribution of exponent a - 1: u^(1/a)."""
    u = _open_unit(size, (a,), None)
    return _float32(_power(u, 1.0 / a), None)


@np_function
def gamma(shape, scale=1.0, size=None, dtype=None, ctx=None, out=None):
    """Samples from Gamma(shape, scale) (mean shape * scale); array parameters are broadcast to `size`."""
    dtype = np_dtype(dtype or _onp.float32, "gamma")
    arrays = [p for p in (shape, scale) if isinstance(p, NDArray)]
    if not arrays:
        return into(_sample(nd.random.gamma, (float(shape), float(scale)), _size(size), dtype, ctx), out)
    target = _size(size) if size is not None else _onp.broadcast_shapes(*(p.shape for p in arrays))
    alpha, beta = (_full_like_target(p, target, arrays[0].context) for p in (shape, scale))
    return into(cast(nd.random.gamma(alpha, beta), dtype), out)


def _full_like_target(value, shape, ctx):
    """`value` (an array or a number) as a float32 array of `shape`."""
    if isinstance(value, NDArray):
        return cast(broadcast_to(value, shape), _onp.float32)
    return nd.full(shape, float(value), ctx=ctx, dtype=_onp.float32)


@np_function
def beta(a, b, size=None, dtype=None, ctx=None):
    """Samples from Beta(a, b): X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b)."""
    x, y = gamma(a, 1.0, size, None, ctx), gamma(b, 1.0, size, None, ctx)
    return cast(binary("divide", x, binary("add", x, y)), np_dtype(dtype or _onp.float32, "beta"))


@np_function
def chisquare(df, size=None, dtype=None, ctx=None):
    """Samples from the chi-square distribution with df degrees of freedom: Gamma(df / 2, 2)."""
    return gamma(binary("divide", df, 2.0) if isinstance(df, NDArray) else df / 2.0, 2.0, size, dtype, ctx)


@np_function
def multivariate_normal(mean, cov, size=None, check_valid=None, tol=None):
    """Samples from N(mean, cov), shape size + mean.shape: mean + z L^T with L cov's Cholesky factor (cov must be
    positive definite; `check_valid` and `tol` are accepted as NumPy's but not used)."""
    if mean.ndim != 1 or cov.shape != (mean.shape[0], mean.shape[0]):
        raise MXNetValueError(f"multivariate_normal: mean must be 1-D and cov square of its length, got "
                              f"{mean.shape} and {cov.shape}")
    z = normal(0.0, 1.0, _size(size) + mean.shape, ctx=mean.context)
    factor = cholesky(cast(cov, _onp.float32))
    return binary("add", matmul(z, transpose(factor)), cast(mean, _onp.float32))
