"""random_pdf_*: OpSpecs against scipy.stats densities (float64 numerical gradients wrt the parameters, and the sample
where MXNet 1.9.1 differentiates it), MXNet's printed values and errors."""
import numpy as np
import pytest
from scipy import stats

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests


def _draw_shapes(rng):
    """(parameter shape, sample shape): the parameters index the sample's leading axes."""
    params = tuple(int(d) for d in rng.integers(1, 4, int(rng.integers(1, 3))))
    return params, params + tuple(int(d) for d in rng.integers(1, 4, int(rng.integers(0, 2))))


def _make(draw):
    """make(rng) for draw(rng, param_shape, sample_shape) -> (sample, *params), is_log drawn."""
    def make(rng):
        param_shape, sample_shape = _draw_shapes(rng)
        return list(draw(rng, param_shape, sample_shape)), {"is_log": bool(rng.integers(2))}
    return make


def _reference(density):
    """reference(sample, *params, is_log) from a scipy density of (sample, *params broadcast to the sample)."""
    def reference(sample, *params, is_log):
        spread = [p.reshape(p.shape + (1,) * (sample.ndim - p.ndim)) for p in params]
        value = density(sample, *spread)
        return np.log(value) if is_log else value
    return reference


def _counts(rng, shape):
    return rng.integers(0, 6, shape).astype(np.float64)


_DRAWS = {
    "uniform": (lambda rng, ps, ss: (rng.uniform(0, 1, ss), rng.uniform(-2, -0.5, ps), rng.uniform(1.5, 3, ps)),
                # MXNet's density ignores whether the sample lies in [low, high); the samples drawn here do
                lambda x, low, high: stats.uniform.pdf(x, low, high - low)),
    "normal": (lambda rng, ps, ss: (rng.normal(0, 2, ss), rng.normal(0, 1, ps), rng.uniform(0.5, 2, ps)),
               lambda x, mu, sigma: stats.norm.pdf(x, mu, sigma)),
    "gamma": (lambda rng, ps, ss: (rng.uniform(0.5, 4, ss), rng.uniform(0.8, 4, ps), rng.uniform(0.5, 2, ps)),
              lambda x, alpha, beta: stats.gamma.pdf(x, alpha, scale=1 / beta)),
    "exponential": (lambda rng, ps, ss: (rng.uniform(0, 3, ss), rng.uniform(0.3, 2, ps)),
                    lambda x, lam: stats.expon.pdf(x, scale=1 / lam)),
    "poisson": (lambda rng, ps, ss: (_counts(rng, ss), rng.uniform(0.5, 4, ps)),
                lambda x, lam: stats.poisson.pmf(x, lam)),
    "negative_binomial": (lambda rng, ps, ss: (_counts(rng, ss), rng.uniform(1, 5, ps), rng.uniform(0.2, 0.8, ps)),
                          lambda x, k, p: stats.nbinom.pmf(x, k, p)),
    "generalized_negative_binomial": (
        lambda rng, ps, ss: (_counts(rng, ss), rng.uniform(0.5, 4, ps), rng.uniform(0.2, 2, ps)),
        lambda x, mu, alpha: stats.nbinom.pmf(x, 1 / alpha, 1 / (mu * alpha + 1))),
}
# MXNet's sample gradient of the discrete densities is zero, not a continuous extension's: parameters only
_PARAMS_ONLY = {"poisson": (1,), "negative_binomial": (1, 2), "generalized_negative_binomial": (1, 2)}


def _dirichlet_make(rng):
    k = int(rng.integers(2, 4))
    batch = tuple(int(d) for d in rng.integers(1, 3, int(rng.integers(0, 2))))
    extra = tuple(int(d) for d in rng.integers(1, 3, int(rng.integers(0, 2))))
    sample = rng.dirichlet(np.ones(k), batch + extra)
    return [sample, rng.uniform(0.8, 3, batch + (k,))], {"is_log": bool(rng.integers(2))}


def _dirichlet_ref(sample, alpha, is_log):
    extra = sample.ndim - alpha.ndim
    spread = alpha.reshape(alpha.shape[:-1] + (1,) * extra + alpha.shape[-1:])
    flat_x, flat_a = sample.reshape(-1, sample.shape[-1]), np.broadcast_to(spread, sample.shape).reshape(
        -1, sample.shape[-1])
    # scipy wants points on the simplex; the float32-rounded samples are renormalised (a change of ~1e-8)
    value = np.array([stats.dirichlet.pdf(x / x.sum(), a) for x, a in zip(flat_x, flat_a)]).reshape(sample.shape[:-1] or (1,))
    return np.log(value) if is_log else value


_TOL = dict(rtol=1e-4, atol=1e-6, grad_rtol=1e-4, grad_atol=1e-5)
SPECS = [OpSpec(f"_random_pdf_{name}", _make(draw), _reference(density), grad_inputs=_PARAMS_ONLY.get(name),
                **_TOL)
         for name, (draw, density) in _DRAWS.items()] + \
    [OpSpec("_random_pdf_dirichlet", _dirichlet_make, _dirichlet_ref, **_TOL)]

NO_SPEC = {f"_backward_pdf_{name}": f"random_pdf_{name}'s gradient; checked numerically by its spec"
           for name in list(_DRAWS) + ["dirichlet"]}

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def _grads(fn, *arrays, head=0.7, **kw):
    xs = [mx.nd.array(a, dtype=np.float32) for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        y = fn(*xs, **kw)
    y.backward(mx.nd.ones(y.shape) * head)
    return y.asnumpy(), [x.grad.asnumpy() for x in xs]


def test_values_printed_by_mxnet():
    np.testing.assert_allclose(mx.nd.random_pdf_normal(mx.nd.array([[-2, -1, 0, 1, 2]] * 2), mx.nd.array([0, 0]),
                                                       mx.nd.array([1, 2])).asnumpy(),
                               [[0.05399097, 0.24197073, 0.3989423, 0.24197073, 0.05399097],
                                [0.12098537, 0.17603266, 0.19947115, 0.17603266, 0.12098537]], rtol=1e-6)
    np.testing.assert_allclose(mx.nd.random_pdf_uniform(mx.nd.array([[1, 2, 3, 4]]), mx.nd.array([0]),
                                                        mx.nd.array([10])).asnumpy(), [[0.1] * 4], rtol=1e-6)
    sample, alpha = [[[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]], [[1.5, 2, 3]]
    out, (g_sample, g_alpha) = _grads(mx.nd.random_pdf_dirichlet, sample, alpha)
    np.testing.assert_allclose(out, [[5.447795, 3.287187]], rtol=1e-6)
    np.testing.assert_allclose(g_sample, [[[9.533641, 12.71152, 15.253825], [11.505155, 23.01031, 5.7525773]]],
                               rtol=1e-5)
    np.testing.assert_allclose(g_alpha, [[-0.69622403, -1.5119925, 2.1636343]], rtol=1e-5)
    out, grads = _grads(mx.nd.random_pdf_generalized_negative_binomial, [[1, 3.0]], [2.0], [0.5])
    np.testing.assert_allclose(out, [[0.25, 0.125]], rtol=1e-6)
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in grads]), [0, 0, -0.021875, -0.08886219], rtol=1e-5)
    out, grads = _grads(mx.nd.random_pdf_normal, [[0.5, 1.5]], [0.2], [1.3])
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in grads]),
                               [-0.03713088, -0.10022456, 0.13735545, -0.15233181], rtol=1e-5)
    np.testing.assert_allclose(mx.nd.random_pdf_dirichlet(mx.nd.array([0.2, 0.3, 0.5]), mx.nd.array([1.5, 2, 3]),
                                                          is_log=True).asnumpy(), [1.6952109], rtol=1e-6)


def test_names_and_symbols():
    assert mx.nd.random_pdf_poisson is not None and mx.sym.random_pdf_gamma is not None
    sym = mx.sym.random_pdf_normal(mx.sym.var("s"), mx.sym.var("mu"), mx.sym.var("sigma"))
    assert sym.list_arguments() == ["s", "mu", "sigma"]
    assert sym.infer_shape(s=(2, 3, 4), mu=(2, 3))[1] == [(2, 3, 4)]
    assert mx.sym.random_pdf_dirichlet(mx.sym.var("s"), mx.sym.var("a")).infer_shape(s=(2, 5, 3), a=(2, 3))[1] == \
        [(2, 5)]


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.random_pdf_normal(mx.nd.ones((2, 3)), mx.nd.ones((3,)), mx.nd.ones((3,))),
     r"_random_pdf_normal.*\(3,\).*\(2, 3\)"),
    (lambda: mx.nd.random_pdf_normal(mx.nd.ones((2, 3)), mx.nd.ones((2,)), mx.nd.ones((3,))),
     r"_random_pdf_normal.*one shape"),
    (lambda: mx.nd.random_pdf_exponential(mx.nd.ones((2,)), mx.nd.ones((2, 1))),
     r"_random_pdf_exponential.*\(2, 1\).*\(2,\)"),
    (lambda: mx.nd.random_pdf_dirichlet(mx.nd.ones((2, 3)), mx.nd.ones((2, 4))),
     r"_random_pdf_dirichlet.*\(2, 4\).*expected \(2, 3\)"),
])
def test_errors_name_the_op_and_shapes(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()
