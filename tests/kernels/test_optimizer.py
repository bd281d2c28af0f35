"""The update rules' CPU drivers (mxcy/kernels/optimizer.py); their arithmetic is checked through the update
operators in tests/ops/test_optimizer_ops.py."""
import numpy as np

from mxcy.kernels import common
from mxcy.kernels import optimizer as kernels


def test_drivers_are_light_kernels(monkeypatch):
    """An update is a few operations a value: weights below LIGHT times the parallel threshold (1 M values, so a
    784x128 layer's 100k) update on the serial build, larger ones on the threaded one. (This folder's conftest
    sets the threshold to 0; a small one keeps the arrays small.)"""
    monkeypatch.setattr(common, "PARALLEL_MIN_ELEMENTS", 64)
    empty = np.empty(0, np.float32)
    scalars = tuple(np.float32(v) for v in (0.1, 0.0, 1.0, -1.0, 0.0, 0.0, 0.0, 0.0))

    def update(n):
        w = np.ones(n, np.float32)
        kernels.update_cpu(kernels.SGD, w, w, empty, empty, empty, empty, w, scalars, common.REQ_WRITE)
        return w

    np.testing.assert_allclose(update(8), 0.9)  # weight - lr * grad; also builds the driver
    driver = kernels._cpu_drivers[(kernels.SGD, 0, False)]
    threaded = []
    for parallel in (False, True):  # spies on the builds the calls pick
        build = driver.build(parallel)
        monkeypatch.setattr(driver.kernel, "threaded" if parallel else "serial",
                            lambda *a, parallel=parallel, build=build: threaded.append(parallel) or build(*a))
    limit = common.LIGHT * common.PARALLEL_MIN_ELEMENTS
    for n in (limit // 10, limit - 1, limit):
        np.testing.assert_allclose(update(n)[[0, -1]], 0.9)
    assert threaded == [False, False, True]
