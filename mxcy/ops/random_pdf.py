"""The random_pdf_* operators: densities (or log-densities, is_log) of samples under uniform, normal, gamma,
exponential, Poisson, negative binomial, generalized negative binomial and Dirichlet distributions whose parameters
index the sample's leading axes, with MXNet 1.9.1's gradients (hidden _backward_pdf_* ops).

CPU only: NumPy and SciPy's special functions (gammaln, digamma) on the host.
"""
import numpy as np
from scipy.special import digamma, gammaln

from . import registry
from ._helpers import results_compute
from .registry import OpDef, Param

__all__ = []


# Each distribution: (parameter names, log-density, its derivatives). lpdf(x, *params) and
# grads(x, *params) -> (d lpdf / d sample as MXNet gives it, d lpdf / d param for each param), all broadcast to
# the sample's shape (the Dirichlet's: to its vectors). MXNet gives a zero sample gradient for the discrete
# distributions and the uniform.

def _uniform_grads(x, low, high):
    return np.zeros_like(x), 1 / (high - low) + 0 * x, 1 / (low - high) + 0 * x


def _nb_lpdf(x, limit, prob):
    return gammaln(x + limit) - gammaln(x + 1) - gammaln(limit) + limit * np.log(prob) + x * np.log1p(-prob)


def _nb_grads(x, limit, prob):
    return np.zeros_like(x), digamma(x + limit) - digamma(limit) + np.log(prob), limit / prob - x / (1 - prob)


def _gnb_params(mu, alpha):
    return 1 / alpha, 1 / (mu * alpha + 1)


def _gnb_grads(x, mu, alpha):
    zero, d_limit, d_prob = _nb_grads(x, *_gnb_params(mu, alpha))
    den2 = (mu * alpha + 1) ** 2
    return zero, -d_prob * alpha / den2, -d_limit / alpha ** 2 - d_prob * mu / den2


def _dirichlet_lpdf(x, alpha):
    return ((alpha - 1) * np.log(x)).sum(-1) + gammaln(alpha.sum(-1)) - gammaln(alpha).sum(-1)


def _dirichlet_grads(x, alpha):
    return (alpha - 1) / x, np.log(x) + digamma(alpha.sum(-1, keepdims=True)) - digamma(alpha)


_DISTRIBUTIONS = {
    "uniform": (("low", "high"), lambda x, low, high: -np.log(high - low) + 0 * x, _uniform_grads),
    "normal": (("mu", "sigma"),
               lambda x, mu, sigma: -0.5 * ((x - mu) / sigma) ** 2 - np.log(np.sqrt(2 * np.pi) * sigma),
               lambda x, mu, sigma: ((mu - x) / sigma ** 2, (x - mu) / sigma ** 2,
                                     ((x - mu) ** 2 - sigma ** 2) / sigma ** 3)),
    "gamma": (("alpha", "beta"),
              lambda x, alpha, beta: alpha * np.log(beta) + (alpha - 1) * np.log(x) - beta * x - gammaln(alpha),
              lambda x, alpha, beta: ((alpha - 1) / x - beta, np.log(beta) + np.log(x) - digamma(alpha),
                                      alpha / beta - x)),
    "exponential": (("lam",), lambda x, lam: np.log(lam) - lam * x, lambda x, lam: (-lam + 0 * x, 1 / lam - x)),
    "poisson": (("lam",), lambda x, lam: x * np.log(lam) - gammaln(x + 1) - lam,
                lambda x, lam: (np.zeros_like(x), x / lam - 1)),
    "negative_binomial": (("k", "p"), _nb_lpdf, _nb_grads),
    "generalized_negative_binomial": (("mu", "alpha"), lambda x, mu, alpha: _nb_lpdf(x, *_gnb_params(mu, alpha)),
                                      _gnb_grads),
    "dirichlet": (("alpha",), _dirichlet_lpdf, _dirichlet_grads),
}
_VECTOR = frozenset(("dirichlet",))  # one density per sample vector along the last axis


def _shapes(name, sample, params):
    """The parameters' shape for `sample` (its leading axes; the Dirichlet's last one is the vector length) and
    the output's shape; ValueError naming the shapes when they do not fit."""
    first = params[0]
    if any(tuple(p) != tuple(first) for p in params):
        raise ValueError(f"the parameters must have one shape, got {[tuple(p) for p in params]}")
    if len(first) == 0 or len(first) > len(sample):
        raise ValueError(f"parameters of shape {tuple(first)} need a sample with at least as many axes, got "
                         f"{tuple(sample)}")
    want = tuple(sample[:len(first)])
    if name in _VECTOR:
        want = want[:-1] + (sample[-1],)
    if tuple(first) != want:
        raise ValueError(f"parameters of shape {tuple(first)} do not match sample {tuple(sample)}: expected {want}")
    if name in _VECTOR:
        return want, tuple(sample[:-1]) or (1,)
    return want, tuple(sample)


def _infer(name, n_params):
    def infer(attrs, shapes):
        sample, params = shapes[0], shapes[1:1 + n_params]
        known = next((p for p in params if p is not None), None)
        if sample is None or known is None:
            return shapes, [None]
        filled = [known if p is None else p for p in params]
        param_shape, out = _shapes(name, tuple(sample), filled)
        return [sample] + [param_shape] * n_params + list(shapes[1 + n_params:]), [out]
    return infer


def _spread(name, sample, params):
    """The parameters reshaped to broadcast against the sample (the Dirichlet's: against its vectors)."""
    extra = sample.ndim - params[0].ndim
    if name in _VECTOR:
        return [p.reshape(p.shape[:-1] + (1,) * extra + p.shape[-1:]) for p in params]
    return [p.reshape(p.shape + (1,) * extra) for p in params]


def _sum_to(grad, param, name):
    """A parameter's gradient summed over the samples each distribution has."""
    keep = param.ndim - (1 if name in _VECTOR else 0)
    axes = tuple(range(keep, grad.ndim - (1 if name in _VECTOR else 0)))
    return grad.sum(axis=axes).reshape(param.shape)


def _register(name):
    names, lpdf, grads = _DISTRIBUTIONS[name]
    n = len(names)

    def forward(attrs, sample, *params):
        value = lpdf(sample, *_spread(name, sample, params))
        return (value if attrs["is_log"] else np.exp(value)).reshape(_shapes(name, sample.shape,
                                                                             [p.shape for p in params])[1])

    def backward(attrs, ograd, sample, *rest):
        params, out = rest[:n], rest[n]
        scaling = ograd if attrs["is_log"] else ograd * out
        scaling = scaling.reshape(sample.shape[:-1] + (1,) if name in _VECTOR else sample.shape)
        d_sample, *d_params = grads(sample, *_spread(name, sample, params))
        return (scaling * d_sample,) + tuple(_sum_to(scaling * g, p, name) for g, p in zip(d_params, params))

    is_log = (Param("is_log", "bool", False, "compute the log-density instead of the density"),)
    registry.register(OpDef(
        f"_backward_pdf_{name}", params=is_log, arguments=("ograd", "sample") + names + ("output",),
        infer_shape=lambda attrs, shapes: (shapes, list(shapes[1:2 + n])), num_outputs=n + 1,
        compute={"cpu": results_compute(backward)},
        doc=f"random_pdf_{name}'s gradients wrt the sample and the parameters."))
    registry.register(OpDef(
        f"_random_pdf_{name}", aliases=(f"random_pdf_{name}",), params=is_log, arguments=("sample",) + names,
        infer_shape=_infer(name, n), compute={"cpu": results_compute(forward)},
        gradient=lambda F, attrs, inputs, outputs, ograds: list(
            getattr(F, f"_backward_pdf_{name}")(ograds[0], *inputs, outputs[0], **attrs)),
        doc=f"Density (log-density with is_log) of each sample under the {name.replace('_', ' ')} distribution "
            f"of parameters {', '.join(names)}, which index the sample's leading axes."))


for _name in _DISTRIBUTIONS:
    _register(_name)
