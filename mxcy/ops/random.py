"""Sampling operators: _random_X (scalar parameters), _random_X_like, _sample_X (parameters per
element), _random_randint, _sample_multinomial, _shuffle. Each draws from the Philox4x32-10 stream of
its call's key attrs["__key__"] (taken by invoke in program order) with kernels.random_dist's CPU and
CUDA kernels: numbers depend on seed and call order only, and uniforms, randint, shuffle and
multinomial draws are bit-identical on cpu() and gpu(i) (other distributions agree in distribution)."""
import numpy as np

from . import registry
from ._helpers import store
from ._nn_common import cast, fill, flat, host, kernel_compute, kernels, scratch
from .registry import OpDef, Param, zero_gradients
from ..kernels.common import REQ_WRITE

_CTX = Param("ctx", "str", "", "device context (set from the ctx argument)")
_SHAPE = Param("shape", "shape", (), "shape of the output")
_FLOAT_DTYPE = Param("dtype", "dtype", None, "output type (None: float32)",
                     choices=(None, "float16", "float32", "float64"))


def key(attrs):
    """(seed, call) of the op call as the uint64 pair kernels.philox takes."""
    seed, call = attrs["__key__"]
    return np.uint64(seed % (1 << 64)), np.uint64(call % (1 << 64))


def _on(device, name):
    """kernels.random_dist's driver `name` for `device` ("cpu" or "gpu")."""
    return getattr(kernels("random_dist"), f"{name}_{device}")


def _empty(like):
    """An empty float64 array on `like`'s device: the kernels' "no per-element parameters"."""
    return scratch(like, np.float64, (0,))


def draw_uniform(attrs, out, low, high, dtype):
    """out (a C-contiguous float32/float64 buffer on either device) = the packed uniform stream of the
    call on [low, high), below high in `dtype` (the type the values end in: float16 rounds farther)."""
    device = "cpu" if host(out) else "gpu"
    h = np.dtype(dtype).type(high)
    top = float(h) if float(h) < high else float(np.nextafter(h, np.dtype(dtype).type(low)))
    _on(device, "uniform")(flat(out), out.dtype == np.float64, float(low), float(high), top, *key(attrs))


def _device(a):
    return "cpu" if host(a) else "gpu"


# name -> (scalar params [(name, default)], _sample_X input names, doc)
_DISTS = {
    "uniform": ([("low", 0.0), ("high", 1.0)], ("low", "high"), "uniform distribution on [low, high)"),
    "normal": ([("loc", 0.0), ("scale", 1.0)], ("mu", "sigma"), "normal distribution N(loc, scale**2)"),
    "gamma": ([("alpha", 1.0), ("beta", 1.0)], ("alpha", "beta"),
              "gamma distribution with shape alpha, scale beta"),
    "exponential": ([("lam", 1.0)], ("lam",), "exponential distribution with rate lam"),
    "poisson": ([("lam", 1.0)], ("lam",), "Poisson distribution of rate lam"),
    "negative_binomial": ([("k", 1), ("p", 1.0)], ("k", "p"),
                          "negative binomial distribution: failures before k successes, "
                          "success probability p"),
    "generalized_negative_binomial": ([("mu", 1.0), ("alpha", 1.0)], ("mu", "alpha"),
                                      "generalized negative binomial distribution with mean mu and "
                                      "dispersion alpha"),
}



def _scalar_params(dist):
    """attrs -> (a, b): the distribution's scalar parameters (b = 0 for one-parameter kinds), checked."""
    names = [n for n, _ in _DISTS[dist][0]]

    def values(attrs):
        params = [float(attrs[n]) for n in names] + [0.0]
        if not kernels("random_dist").valid(kernels("random_dist").KINDS[dist], params[0], params[1]):
            raise ValueError("parameters out of range: "
                             + ", ".join(f"{n}={attrs[n]}" for n in names))
        return params[0], params[1]
    return values


def _shape_from_attr(attrs, shapes, out_shapes=None):
    """The `shape` attribute; without one a symbol's output shape comes from the graph, as in MXNet (a call on
    NDArrays, which has no output shapes, must give one)."""
    if not attrs["shape"]:
        if out_shapes is None:
            raise ValueError("the output shape must be given")
        return shapes, [out_shapes[0]]
    if any(d < 0 for d in attrs["shape"]):
        raise ValueError(f"invalid shape {attrs['shape']}")
    return shapes, [tuple(attrs["shape"])]


def _dtype_or(default):
    def rule(attrs, types):
        return types, np.dtype(attrs["dtype"] or default)
    return rule


def _register_scalar(dist):
    params, _, doc = _DISTS[dist]
    param_values = _scalar_params(dist)

    def body(out_dtype):
        def run(device, attrs, inputs, outputs, reqs):
            a, b = param_values(attrs)
            out = outputs[0]
            if dist == "uniform":
                draw_uniform(attrs, out, a, b, out_dtype(attrs, inputs))
                return
            empty = _empty(out)
            _on(device, "sample")(kernels("random_dist").KINDS[dist], flat(out), empty, empty, 1, a, b,
                                  *key(attrs), out.dtype != np.float64)
        return run

    # Out-of-range parameters raise in the engine op, where the user waits (MXNet 1.9.1's test_exc_imperative)
    infer_shape = _shape_from_attr

    kinds = [Param(n, "int" if isinstance(d, int) else "float", d) for n, d in params]
    aliases = (f"random_{dist}",) + ((dist,) if dist in ("uniform", "normal") else ())
    registry.register(OpDef(
        f"_random_{dist}", arguments=(), params=(*kinds, _SHAPE, _CTX, _FLOAT_DTYPE),
        infer_shape=infer_shape, infer_type=_dtype_or("float32"), partial_shapes=True,
        compute=kernel_compute(body(lambda attrs, inputs: attrs["dtype"] or "float32"), exact=(False,)),
        random=True, aliases=aliases, doc=f"Draw samples from a {doc}."))

    def infer_like(attrs, shapes):
        return shapes, [shapes[0]]

    def type_like(attrs, types):
        if np.dtype(types[0]).kind != "f":
            raise ValueError(f"data must be a floating-point array, got {np.dtype(types[0]).name}")
        return types, types[0]

    # The input is only a shape and type: passed as it is (n_aux), so its float16 type is seen.
    registry.register(OpDef(
        f"_random_{dist}_like", params=tuple(kinds), infer_shape=infer_like, infer_type=type_like,
        compute=kernel_compute(body(lambda attrs, inputs: inputs[0].dtype), exact=(False,), n_aux=1),
        gradient=zero_gradients, random=True,
        doc=f"Draw samples from a {doc}, shaped and typed like the input."))


def _register_multi(dist):
    _, inputs, doc = _DISTS[dist]

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

    def body(device, attrs, arrays, outputs, reqs):
        # Out-of-range parameters give NaN samples rather than an error for the whole array. Parameters are
        # float64 for the kernel (one compilation per output type).
        out = flat(outputs[0])
        arrays = [cast(flat(a), np.dtype(np.float64)) for a in arrays]
        second = arrays[1] if len(arrays) > 1 else _empty(out)
        _on(device, "sample")(kernels("random_dist").KINDS[dist], out, arrays[0], second,
                              out.size // arrays[0].size, 0.0, 0.0, *key(attrs), out.dtype != np.float64)

    registry.register(OpDef(
        f"_sample_{dist}", arguments=inputs, params=(_SHAPE, _FLOAT_DTYPE), infer_shape=infer_shape,
        infer_type=infer_type, compute=kernel_compute(body, exact=(False,)), gradient=zero_gradients,
        random=True, aliases=(f"sample_{dist}",),
        doc=f"Draw `shape` samples from each {doc} given by the input arrays, element by element "
            "(float16 samples of a uniform may round up to high, as in MXNet)."))


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


def _randint_body(device, attrs, inputs, outputs, reqs):
    low, high = attrs["low"], attrs["high"]
    _on(device, "randint")(flat(outputs[0]), np.int64(low), np.uint64((high - low) % (1 << 64)), *key(attrs))


registry.register(OpDef(
    "_random_randint", arguments=(),
    params=(Param("low", "int"), Param("high", "int"), _SHAPE, _CTX,
            Param("dtype", "dtype", None, "output type (None: int32)",
                  choices=(None, "int32", "int64"))),
    infer_shape=_randint_shape,
    infer_type=_dtype_or("int32"), compute=kernel_compute(_randint_body, exact=(False,)), random=True,
    aliases=("random_randint",),
    doc="Draw integers uniformly from [low, high) (64 random bits modulo the range: a bias below "
        "(high - low) / 2**64)."))


def _shuffle_compute(attrs, inputs, outputs, reqs):
    data, out = inputs[0], outputs[0]
    perm = scratch(data, np.int64, (data.shape[0],))
    _on(_device(data), "permutation")(perm, *key(attrs))
    if host(data):
        store(out, data[perm], reqs[0])
    else:
        inner = data.size // max(data.shape[0], 1)
        kernels("gather_gpu").take_gpu(data, perm, out, data.shape[0], inner, reqs[0])


def _shuffle_shape(attrs, shapes):
    if not shapes[0]:
        raise ValueError("data must have at least one dimension")
    return shapes, [shapes[0]]


registry.register(OpDef(
    "_shuffle", aliases=("shuffle",), infer_shape=_shuffle_shape, infer_type=registry.first_type,
    compute={"cpu": _shuffle_compute, "gpu": _shuffle_compute}, random=True,
    doc="Randomly shuffle the array along its first axis (the order within each subarray stays)."))


# the largest category index each output dtype holds exactly
_LARGEST_INDEX = {"uint8": 255, "int32": 2 ** 31 - 1, "float16": 2 ** 11, "float32": 2 ** 24, "float64": 2 ** 53}


def _multinomial_shape(attrs, shapes):
    data, sample = shapes[0], tuple(attrs["shape"])
    if not data or data[-1] == 0:
        raise ValueError(f"data of shape {tuple(data)} needs a non-empty last axis of categories")
    if data[-1] - 1 > _LARGEST_INDEX[np.dtype(attrs["dtype"]).name]:
        raise ValueError(f"{data[-1]} categories: their indices do not fit dtype {np.dtype(attrs['dtype']).name}")
    out = (sample or (1,)) if len(data) == 1 else tuple(data[:-1]) + sample
    return shapes, [out] * (2 if attrs["get_prob"] else 1)


def _multinomial_type(attrs, types):
    if np.dtype(types[0]).kind != "f":
        raise ValueError(f"data must hold floating-point probabilities, got "
                         f"{np.dtype(types[0]).name}")
    return types, [np.dtype(attrs["dtype"])] + ([types[0]] if attrs["get_prob"] else [])


_BAD_PROBABILITIES = ("every row of data must hold non-negative finite probabilities with a "
                      "positive sum")


def _multinomial_body(device, attrs, inputs, outputs, reqs):
    probs = inputs[0]
    k = probs.shape[len(probs.shape) - 1]
    rows = probs.size // k
    m = outputs[0].size // rows
    idx = outputs[0].reshape(rows, m)
    logp = outputs[1].reshape(rows, m) if attrs["get_prob"] else scratch(probs, probs.dtype, (0, 0))
    args = (probs.reshape(rows, k), idx, logp)
    if device == "cpu":
        ok = _on("cpu", "multinomial")(*args, *key(attrs), attrs["get_prob"])
    else:
        # The validity flag is read back: one 4-byte transfer, so bad probabilities are an error here too.
        bad = scratch(probs, np.int32, (1,))
        fill(bad, 0, REQ_WRITE)
        _on("gpu", "multinomial")(*args, bad, *key(attrs), attrs["get_prob"])
        ok = not bad.copy_to_host()[0]
    if not ok:
        raise ValueError(_BAD_PROBABILITIES)


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
    compute=kernel_compute(_multinomial_body, exact=(False, False)), gradient=_multinomial_gradient,
    random=True,
    doc="Draw category indices from the distributions in the last axis of data (probabilities)."))


def _multinomial_backward(device, attrs, inputs, outputs, reqs):
    ograd, probs, idx = inputs
    k = probs.shape[len(probs.shape) - 1]
    rows = probs.size // k
    m = idx.size // rows
    _on(device, "multinomial_grad")(ograd.reshape(rows, m), probs.reshape(rows, k), idx.reshape(rows, m),
                                    outputs[0].reshape(rows, k), reqs[0])


registry.register(OpDef(
    "_backward_sample_multinomial", arguments=("ograd", "data", "sample"),
    infer_shape=lambda attrs, shapes: (shapes, [shapes[1]]),
    infer_type=lambda attrs, types: (types, types[1]),
    compute=kernel_compute(_multinomial_backward),
    doc="Gradient of _sample_multinomial's log-probability output with respect to data."))
