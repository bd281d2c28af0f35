"""Sampling operators: _random_X (scalar parameters), _random_X_like, _sample_X (parameters per
element), _random_randint, _sample_multinomial, _shuffle. Each draws from a Philox stream keyed by
attrs["__key__"] (taken by invoke in program order): numbers depend on seed and call order only. GPU
streams sample on the host and copy the numbers over (_gpu.via_host)."""
import numpy as np

from . import _gpu, registry
from ._helpers import store
from .registry import OpDef, Param

_CTX = Param("ctx", "str", "", "device context (set from the ctx argument)")
_SHAPE = Param("shape", "shape", (), "shape of the output")
_FLOAT_DTYPE = Param("dtype", "dtype", None, "output type (None: float32)",
                     choices=(None, "float16", "float32", "float64"))
# numpy's Poisson sampler refuses larger rates; such counts are not meaningful in floats anyway.
_POISSON_MAX = 1e18


def generator(attrs):
    """The NumPy Generator of one op call.

    The call's counter goes into the top word of Philox's 256-bit counter: Philox advances the low
    words while drawing, so calls with neighbouring counters never share a block of numbers.
    """
    seed, counter = attrs["__key__"]
    return np.random.Generator(np.random.Philox(key=seed % (1 << 128), counter=counter << 192))


def _on_both(cpu_compute):
    return {"cpu": cpu_compute, "gpu": _gpu.via_host(cpu_compute)}


def _poisson(rng, lam):
    bad = ~(lam <= _POISSON_MAX)
    out = rng.poisson(np.where(bad, 0.0, lam)).astype(np.float64)
    out[bad] = np.nan
    return out


def _uniform(rng, size, dtype, low, high):
    values = np.asarray(low + (high - low) * rng.random(size)).astype(dtype)
    # Rounding to the output type can reach `high`; the interval is half-open.
    below = np.nextafter(np.asarray(high, dtype), np.asarray(low, dtype))
    return np.where((values >= high) & (high > low), below, values)


def _neg_binomial(rng, size, dtype, k, p):
    # Gamma-Poisson mixture: also defined for k == 0 (always 0), which numpy's sampler refuses.
    return _poisson(rng, rng.standard_gamma(k, size) * ((1 - p) / p))


def _gen_neg_binomial(rng, size, dtype, mu, alpha):
    safe_alpha = np.where(alpha > 0, alpha, 1.0)
    mixed = rng.standard_gamma(1 / safe_alpha, size) * safe_alpha * mu
    return _poisson(rng, np.where(alpha > 0, mixed, mu))


# name -> (scalar params [(name, default)], _sample_X input names, draw, valid, doc)
# draw(rng, size, dtype, *params) -> values; valid(*params) -> where the parameters are in range.
_DISTS = {
    "uniform": ([("low", 0.0), ("high", 1.0)], ("low", "high"), _uniform,
                lambda lo, hi: np.ones(np.shape(lo), bool), "uniform distribution on [low, high)"),
    "normal": ([("loc", 0.0), ("scale", 1.0)], ("mu", "sigma"),
               lambda rng, size, dt, mu, sigma: mu + sigma * rng.standard_normal(size),
               lambda mu, sigma: sigma >= 0, "normal distribution N(loc, scale**2)"),
    "gamma": ([("alpha", 1.0), ("beta", 1.0)], ("alpha", "beta"),
              lambda rng, size, dt, a, b: rng.standard_gamma(a, size) * b,
              lambda a, b: (a >= 0) & (b >= 0), "gamma distribution with shape alpha, scale beta"),
    "exponential": ([("lam", 1.0)], ("lam",),
                    lambda rng, size, dt, lam: rng.standard_exponential(size) / lam,
                    lambda lam: lam > 0, "exponential distribution with rate lam"),
    "poisson": ([("lam", 1.0)], ("lam",),
                lambda rng, size, dt, lam: _poisson(rng, np.broadcast_to(lam, size)),
                lambda lam: lam >= 0, "Poisson distribution of rate lam"),
    "negative_binomial": ([("k", 1), ("p", 1.0)], ("k", "p"), _neg_binomial,
                          lambda k, p: (k >= 0) & (p > 0) & (p <= 1),
                          "negative binomial distribution: failures before k successes, "
                          "success probability p"),
    "generalized_negative_binomial": ([("mu", 1.0), ("alpha", 1.0)], ("mu", "alpha"),
                                      _gen_neg_binomial, lambda mu, a: (mu >= 0) & (a >= 0),
                                      "generalized negative binomial distribution with mean mu and "
                                      "dispersion alpha"),
}


def _zero_grads(F, attrs, inputs, outputs, ograds):
    return [F.zeros_like(x) for x in inputs]


def _scalar_params(dist):
    names = [n for n, _ in _DISTS[dist][0]]
    valid = _DISTS[dist][3]

    def values(attrs):
        params = [attrs[n] for n in names]
        if not np.all(valid(*[np.float64(p) for p in params])):
            raise ValueError("parameters out of range: "
                             + ", ".join(f"{n}={p}" for n, p in zip(names, params)))
        return params
    return values


def _shape_from_attr(attrs, shapes):
    if not attrs["shape"]:
        raise ValueError("the output shape must be given")
    if any(d < 0 for d in attrs["shape"]):
        raise ValueError(f"invalid shape {attrs['shape']}")
    return shapes, [tuple(attrs["shape"])]


def _dtype_or(default):
    def rule(attrs, types):
        return types, np.dtype(attrs["dtype"] or default)
    return rule


def _register_scalar(dist):
    params, _, draw, _, doc = _DISTS[dist]
    param_values = _scalar_params(dist)

    def compute(attrs, inputs, outputs, reqs):
        out = outputs[0]
        store(out, draw(generator(attrs), out.shape, out.dtype, *param_values(attrs)), reqs[0])

    def infer_shape(attrs, shapes):
        param_values(attrs)
        return _shape_from_attr(attrs, shapes)

    kinds = [Param(n, "int" if isinstance(d, int) else "float", d) for n, d in params]
    aliases = (f"random_{dist}",) + ((dist,) if dist in ("uniform", "normal") else ())
    registry.register(OpDef(
        f"_random_{dist}", arguments=(), params=(*kinds, _SHAPE, _CTX, _FLOAT_DTYPE),
        infer_shape=infer_shape, infer_type=_dtype_or("float32"), compute=_on_both(compute),
        random=True, aliases=aliases, doc=f"Draw samples from a {doc}."))

    def infer_like(attrs, shapes):
        param_values(attrs)
        return shapes, [shapes[0]]

    def type_like(attrs, types):
        if np.dtype(types[0]).kind != "f":
            raise ValueError(f"data must be a floating-point array, got {np.dtype(types[0]).name}")
        return types, types[0]

    registry.register(OpDef(
        f"_random_{dist}_like", params=tuple(kinds), infer_shape=infer_like, infer_type=type_like,
        compute=_on_both(compute), gradient=_zero_grads, random=True,
        doc=f"Draw samples from a {doc}, shaped and typed like the input."))


def _register_multi(dist):
    _, inputs, draw, valid, doc = _DISTS[dist]

    def infer_shape(attrs, shapes):
        sample = tuple(attrs["shape"])
        if any(d <= 0 for d in sample):
            raise ValueError(f"shape {sample} must be positive in every dimension")
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"the parameter arrays {', '.join(inputs)} must share one shape")
        if not np.prod(shapes[0], dtype=np.int64):
            raise ValueError("the parameter arrays must not be empty")
        return shapes, [tuple(shapes[0]) + sample]

    def infer_type(attrs, types):
        if any(t != types[0] for t in types):
            raise ValueError(f"the parameter arrays {', '.join(inputs)} must share one dtype")
        return types, np.dtype(attrs["dtype"] or "float32")

    def compute(attrs, arrays, outputs, reqs):
        out = outputs[0]
        trail = (1,) * len(attrs["shape"])
        params = [np.asarray(a, np.float64).reshape(a.shape + trail) for a in arrays]
        ok = valid(*params)
        # Out-of-range parameters give NaN samples rather than an error for the whole array.
        safe = [np.where(ok, p, 1.0) for p in params]
        values = np.asarray(draw(generator(attrs), out.shape, out.dtype, *safe), np.float64)
        store(out, np.where(np.broadcast_to(ok, out.shape), values, np.nan), reqs[0])

    registry.register(OpDef(
        f"_sample_{dist}", arguments=inputs, params=(_SHAPE, _FLOAT_DTYPE), infer_shape=infer_shape,
        infer_type=infer_type, compute=_on_both(compute), gradient=_zero_grads, random=True,
        aliases=(f"sample_{dist}",),
        doc=f"Draw `shape` samples from each {doc} given by the input arrays, element by element."))


for _dist in _DISTS:
    _register_scalar(_dist)
    _register_multi(_dist)


def _randint_shape(attrs, shapes):
    low, high = attrs["low"], attrs["high"]
    if high <= low:
        raise ValueError(f"high ({high}) must be greater than low ({low})")
    info = np.iinfo(attrs["dtype"] or "int32")
    if low < info.min or high - 1 > info.max:
        raise ValueError(f"[{low}, {high}) does not fit in {info.dtype}")
    return _shape_from_attr(attrs, shapes)


def _randint_compute(attrs, inputs, outputs, reqs):
    out = outputs[0]
    store(out, generator(attrs).integers(attrs["low"], attrs["high"], out.shape), reqs[0])


registry.register(OpDef(
    "_random_randint", arguments=(),
    params=(Param("low", "int"), Param("high", "int"), _SHAPE, _CTX,
            Param("dtype", "dtype", None, "output type (None: int32)",
                  choices=(None, "int32", "int64"))),
    infer_shape=_randint_shape,
    infer_type=_dtype_or("int32"), compute=_on_both(_randint_compute), random=True,
    aliases=("random_randint",), doc="Draw integers uniformly from [low, high)."))


def _shuffle_compute(attrs, inputs, outputs, reqs):
    data = inputs[0]
    store(outputs[0], data[generator(attrs).permutation(data.shape[0])], reqs[0])


def _shuffle_shape(attrs, shapes):
    if not shapes[0]:
        raise ValueError("data must have at least one dimension")
    return shapes, [shapes[0]]


registry.register(OpDef(
    "_shuffle", aliases=("shuffle",), infer_shape=_shuffle_shape, infer_type=registry.first_type,
    compute=_on_both(_shuffle_compute), random=True,
    doc="Randomly shuffle the array along its first axis (the order within each subarray stays)."))


def _multinomial_shape(attrs, shapes):
    data, sample = shapes[0], tuple(attrs["shape"])
    if not data or data[-1] == 0:
        raise ValueError(f"data of shape {tuple(data)} needs a non-empty last axis of categories")
    out = (sample or (1,)) if len(data) == 1 else tuple(data[:-1]) + sample
    return shapes, [out] * (2 if attrs["get_prob"] else 1)


def _multinomial_type(attrs, types):
    if np.dtype(types[0]).kind != "f":
        raise ValueError(f"data must hold floating-point probabilities, got "
                         f"{np.dtype(types[0]).name}")
    return types, [np.dtype(attrs["dtype"])] + ([types[0]] if attrs["get_prob"] else [])


def _multinomial_compute(attrs, inputs, outputs, reqs):
    probs = np.asarray(inputs[0], np.float64)
    k = probs.shape[-1]
    p = probs.reshape(-1, k)
    n = p.shape[0]
    if n == 0:
        return
    m = outputs[0].size // n
    total = p.sum(axis=1, keepdims=True)
    if np.any(p < 0) or not np.all(np.isfinite(total)) or np.any(total <= 0):
        raise ValueError("every row of data must hold non-negative finite probabilities with a "
                         "positive sum")
    cdf = np.cumsum(p, axis=1) / total
    cdf[:, -1] = 1.0
    # One vectorised search: shift row i by 2*i so the rows' CDFs form one increasing sequence.
    offset = 2.0 * np.arange(n)[:, None]
    u = generator(attrs).random((n, m))
    flat = np.searchsorted((cdf + offset).ravel(), (u + offset).ravel(), side="right")
    idx = np.minimum(flat.reshape(n, m) - k * np.arange(n)[:, None], k - 1)
    store(outputs[0], idx.reshape(outputs[0].shape), reqs[0])
    if len(outputs) > 1:
        with np.errstate(divide="ignore"):
            logp = np.log(np.take_along_axis(p, idx, axis=1))
        store(outputs[1], logp.reshape(outputs[1].shape), reqs[1])


def _multinomial_gradient(F, attrs, inputs, outputs, ograds):
    if not attrs["get_prob"]:
        return [F.zeros_like(inputs[0])]
    return [F._backward_sample_multinomial(ograds[1], inputs[0], outputs[0])]


registry.register(OpDef(
    "_sample_multinomial", aliases=("sample_multinomial",),
    params=(_SHAPE, Param("get_prob", "bool", False, "also return the log-probability of each "
                          "sample, for REINFORCE-style gradients"),
            Param("dtype", "dtype", "int32", "type of the sampled indices",
                  choices=("uint8", "int32", "float16", "float32", "float64"))),
    num_outputs=lambda attrs: 2 if attrs["get_prob"] else 1,
    infer_shape=_multinomial_shape, infer_type=_multinomial_type,
    compute=_on_both(_multinomial_compute), gradient=_multinomial_gradient, random=True,
    doc="Draw category indices from the distributions in the last axis of data (probabilities)."))


def _multinomial_backward(attrs, inputs, outputs, reqs):
    ograd, probs, idx = inputs
    k = probs.shape[-1]
    p = probs.reshape(-1, k)
    cols = idx.reshape(p.shape[0], -1).astype(np.int64)
    rows = np.broadcast_to(np.arange(p.shape[0])[:, None], cols.shape)
    grad = np.zeros(p.shape, np.float64)
    # d log p[s] / d p[s] = 1 / p[s], summed over every sample that drew s.
    np.add.at(grad, (rows, cols), ograd.reshape(cols.shape) / p[rows, cols])
    store(outputs[0], grad.reshape(probs.shape), reqs[0])


registry.register(OpDef(
    "_backward_sample_multinomial", arguments=("ograd", "data", "sample"),
    infer_shape=lambda attrs, shapes: (shapes, [shapes[1]]),
    infer_type=lambda attrs, types: (types, types[1]),
    compute=_on_both(_multinomial_backward), public=False,
    doc="Gradient of _sample_multinomial's log-probability output with respect to data."))
