"""SVMOutput's gradient and IdentityAttachKLSparseReg's moving average, the CPU's threaded builds and the CUDA twins
(in the simulator): the gradient against the central differences of the hinge loss (tests/ops/test_misc_legacy.py),
under write and add requests, and the moving average against its formula."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import legacy_loss
from mxcy.kernels.common import REQ_ADD, REQ_WRITE
from tests.ops.test_misc_legacy import _hinge_loss_grad, _kl_make, _svm_make

DEVICES = ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)]


def _to(device, a):
    return a if device == "cpu" else cuda.to_device(a)


def _back(a):
    return a if isinstance(a, np.ndarray) else a.copy_to_host()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@pytest.mark.parametrize("seed", range(3))
def test_svm_gradient_is_the_hinge_loss_gradient(seed, req, device):
    rng = np.random.default_rng(seed)
    (scores, label), attrs = _svm_make(rng)
    prior = rng.standard_normal(scores.shape)
    grad = _to(device, prior.copy())
    getattr(legacy_loss, f"svm_grad_{device}")(_to(device, scores), _to(device, label), grad, attrs["margin"],
                                               attrs["regularization_coefficient"], attrs["use_linear"], req)
    want = _hinge_loss_grad(scores, label, **attrs) + (prior if req == REQ_ADD else 0)
    np.testing.assert_allclose(_back(grad), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", range(3))
def test_moving_average_moves_towards_the_batch_mean(seed, device):
    rng = np.random.default_rng(seed)
    (data, avg), attrs = _kl_make(rng)
    moving = _to(device, avg.copy())
    getattr(legacy_loss, f"moving_average_{device}")(_to(device, data), moving, attrs["momentum"])
    want = attrs["momentum"] * avg + (1 - attrs["momentum"]) * data.mean(axis=0)
    np.testing.assert_allclose(_back(moving), want, rtol=1e-12)
