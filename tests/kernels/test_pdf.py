"""The random_pdf kernels, the CPU's threaded builds and the CUDA twins (in the simulator), against scipy.stats'
log-densities (tests/ops/test_random_pdf.py's references): forward, and the backward against float64 central
differences of the summed log-density (the parameters' gradients; MXNet's sample gradient where it gives one) under
write and add requests."""
import numpy as np
import pytest
from numba import cuda
from scipy.special import gammaln

from mxcy.kernels import pdf
from mxcy.kernels.common import REQ_ADD, REQ_WRITE
from tests.ops.test_random_pdf import _DRAWS, _PARAMS_ONLY, _dirichlet_make, _dirichlet_ref, _reference

DEVICES = ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)]
NAMES = list(_DRAWS) + ["dirichlet"]


def _dirichlet_log_density(x, alpha):
    """The Dirichlet's log-density formula off the simplex too (scipy's, which _dirichlet_ref checks it against on
    the simplex, refuses such points), so that the sample can be moved."""
    spread = alpha.reshape(alpha.shape[:-1] + (1,) * (x.ndim - alpha.ndim) + alpha.shape[-1:])
    value = ((spread - 1) * np.log(x)).sum(-1) + gammaln(spread.sum(-1)) - gammaln(spread).sum(-1)
    return value.reshape(x.shape[:-1] or (1,))


def _case(name, rng):
    if name == "dirichlet":
        arrays, _ = _dirichlet_make(rng)
        return arrays, _dirichlet_log_density
    draw, density = _DRAWS[name]
    reference = _reference(density)
    return list(draw(rng, (2, 3), (2, 3, 2))), lambda *a: reference(*a, is_log=True)


def _numeric(f, arrays, i, eps=1e-6):
    grad = np.zeros_like(arrays[i])
    for j in range(arrays[i].size):
        moved = [a.copy() for a in arrays]
        moved[i].reshape(-1)[j] += eps
        up = f(*moved).sum()
        moved[i].reshape(-1)[j] -= 2 * eps
        grad.reshape(-1)[j] = (up - f(*moved).sum()) / (2 * eps)
    return grad


def _to(device, a):
    return a if device == "cpu" else cuda.to_device(a)


def _back(a):
    return a if isinstance(a, np.ndarray) else a.copy_to_host()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NAMES)
def test_kernels_match_scipy(name, device):
    rng = np.random.default_rng(len(name))
    arrays, log_density = _case(name, rng)
    sample, params = arrays[0], arrays[1:]
    want = log_density(*arrays)
    out = _to(device, np.full(want.shape, np.nan))
    getattr(pdf, f"forward_{device}")(name, _to(device, sample), [_to(device, p) for p in params], out, True,
                                      REQ_WRITE)
    np.testing.assert_allclose(_back(out), want, rtol=1e-6)
    if name == "dirichlet":
        np.testing.assert_allclose(want, _dirichlet_ref(*arrays, is_log=True), rtol=1e-6)

    which = _PARAMS_ONLY.get(name, range(len(arrays)))
    reqs = [REQ_ADD if i % 2 else REQ_WRITE for i in range(len(arrays))]
    priors = [rng.standard_normal(a.shape) for a in arrays]
    grads = [_to(device, p.copy()) for p in priors]
    getattr(pdf, f"backward_{device}")(name, _to(device, np.ones(want.shape)), _to(device, sample),
                                       [_to(device, p) for p in params], _to(device, np.exp(want)), grads, True, reqs)
    for i in which:
        expected = _numeric(log_density, arrays, i) + (priors[i] if reqs[i] == REQ_ADD else 0)
        np.testing.assert_allclose(_back(grads[i]), expected, rtol=1e-5, atol=1e-6, err_msg=f"input {i}")
