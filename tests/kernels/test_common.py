"""ParallelKernel: one source, a threaded and a serial build, chosen by the size of the largest array."""
import numpy as np
import pytest
from numba import prange

from mxcy.kernels import common


@common.parallel_kernel(nogil=True)
def _scaled_sum_rows(x, out, scale):
    for i in prange(x.shape[0]):
        acc = 0.0
        for j in range(x.shape[1]):
            acc += x[i, j]
        out[i] = scale * acc


@pytest.mark.parametrize("threshold", [0, 10 ** 9], ids=["threaded", "serial"])
def test_both_builds_compute_the_reference(monkeypatch, threshold):
    monkeypatch.setattr(common, "PARALLEL_MIN_ELEMENTS", threshold)
    x = np.random.default_rng(0).standard_normal((37, 5))
    out = np.empty(37)
    _scaled_sum_rows(x, out, 2.5)
    np.testing.assert_allclose(out, 2.5 * x.sum(axis=1), rtol=1e-12)


def _spy_on_builds(monkeypatch, kernel, calls):
    """Make `kernel`'s builds note in `calls` whether the threaded one ran, built or not yet."""
    for threaded in (False, True):
        monkeypatch.setattr(kernel.kernel, "threaded" if threaded else "serial",
                            lambda *a, threaded=threaded: calls.append(threaded))


def test_the_largest_array_picks_the_build(monkeypatch):
    monkeypatch.setattr(common, "PARALLEL_MIN_ELEMENTS", 100)
    calls = []
    _spy_on_builds(monkeypatch, _scaled_sum_rows, calls)
    _scaled_sum_rows(np.zeros((9, 11)), np.zeros(9), 1.0)     # 99 elements
    _scaled_sum_rows(np.zeros((10, 10)), np.zeros(10), 1.0)   # 100
    _scaled_sum_rows(np.zeros(3), np.zeros((20, 20)), 1.0)    # the output is the largest
    assert calls == [False, True, True]


@common.parallel_kernel(light=common.LIGHT, nogil=True)
def _light_copy(x, out):
    for i in prange(x.size):
        out[i] = x[i]


def test_light_kernels_go_parallel_later(monkeypatch):
    monkeypatch.setattr(common, "PARALLEL_MIN_ELEMENTS", 10)
    calls = []
    _spy_on_builds(monkeypatch, _light_copy, calls)
    for n in (10, 10 * common.LIGHT - 1, 10 * common.LIGHT):
        _light_copy(np.zeros(n), np.zeros(n))
    assert calls == [False, False, True]


@common.parallel_kernel(nogil=True)
def _row_sums_twice(x, out):
    _scaled_sum_rows(x, out, 2.0)


def test_a_kernel_calls_the_same_kind_of_build_of_another():
    x = np.arange(12.0).reshape(4, 3)
    out = np.empty(4)
    for threaded in (False, True):
        _row_sums_twice.build(threaded)(x, out)
        np.testing.assert_allclose(out, 2.0 * x.sum(axis=1))
        assert _row_sums_twice.build(threaded).py_func.__globals__["_scaled_sum_rows"] is \
            _scaled_sum_rows.build(threaded)


def test_builds_are_cached_under_different_names():
    assert _scaled_sum_rows.build(True).py_func.__qualname__ == "_scaled_sum_rows"
    assert _scaled_sum_rows.build(False).py_func.__qualname__ == "_scaled_sum_rows_serial"
    assert _scaled_sum_rows.build(True).targetoptions.get("parallel") is True
    assert not _scaled_sum_rows.build(False).targetoptions.get("parallel")
    assert _scaled_sum_rows.__name__ == "_scaled_sum_rows"
    assert _scaled_sum_rows.build(False) is _scaled_sum_rows.kernel.serial  # the calls' hot path takes these
    assert _scaled_sum_rows.build(True) is _scaled_sum_rows.kernel.threaded
