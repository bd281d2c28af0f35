"""kernels/linalg_cpu (batched potrf, trsm, trmm on NumPy's OpenBLAS) against float64 NumPy references: every
side / triangle / transpose, both float types, batches smaller and larger than the thread count, and garbage in
the triangle the kernels must not read; the fused gradients of potrf, trsm and trmm and the diagonal/triangle packers,
with their CUDA twins (in the simulator), against tests/ops/test_linalg.py's NumPy references."""
import itertools

import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import linalg_cpu
from tests.ops.test_linalg import (_extracttrian, _makediag, _maketrian, _potrf_backward, _trmm_backward,
                                   _trsm_backward)

needs_blas = pytest.mark.skipif(not linalg_cpu.AVAILABLE, reason="NumPy's BLAS is not scipy-openblas64 here")
RTOL = {np.float32: 1e-4, np.float64: 1e-11}


def _with_garbage_outside(tri, lower, rng):
    """tri plus random values in the triangle the kernel must ignore."""
    junk = rng.standard_normal(tri.shape)
    return tri + (np.triu(junk, 1) if lower else np.tril(junk, -1))


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("batch", [(), (1,), (3, 2)])
def test_potrf_matches_numpy_cholesky(dtype, lower, batch):
    rng = np.random.default_rng(0)
    m = rng.standard_normal(batch + (6, 6))
    spd = m @ np.swapaxes(m, -1, -2) + 6 * np.eye(6)
    chol = np.linalg.cholesky(spd)
    want = chol if lower else np.swapaxes(chol, -1, -2)
    given = _with_garbage_outside(np.tril(spd) if lower else np.triu(spd), lower, rng)
    out = np.full(spd.shape, np.nan, dtype)
    linalg_cpu.potrf(given.astype(dtype), out, lower)
    np.testing.assert_allclose(out, want, rtol=RTOL[dtype], atol=RTOL[dtype])


@needs_blas
def test_potrf_raises_for_a_matrix_that_is_not_positive_definite():
    a = np.stack([np.eye(3), -np.eye(3)])
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        linalg_cpu.potrf(a, np.empty_like(a), True)


def _reference(name, a, b, lower, transpose, rightside, alpha):
    t = np.tril(a) if lower else np.triu(a)
    t = np.swapaxes(t, -1, -2) if transpose else t
    if name == "trmm":
        return alpha * (b @ t if rightside else t @ b)
    if rightside:  # X t = alpha b  <=>  t^T X^T = alpha b^T
        return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), alpha * np.swapaxes(b, -1, -2)), -1, -2)
    return np.linalg.solve(t, alpha * b)


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,lower,transpose,rightside",
                         list(itertools.product(["trsm", "trmm"], [True, False], [True, False], [True, False])))
def test_triangular_matches_numpy(dtype, name, lower, transpose, rightside):
    rng = np.random.default_rng(1)
    batch, n, cols = (5,), 4, 3
    tri = rng.uniform(-1, 1, batch + (n, n)) + 3 * np.eye(n)
    tri = np.tril(tri) if lower else np.triu(tri)
    b = rng.standard_normal(batch + ((cols, n) if rightside else (n, cols)))
    a = _with_garbage_outside(tri, lower, rng)
    out = np.full(b.shape, np.nan, dtype)
    linalg_cpu.triangular(name, a.astype(dtype), b.astype(dtype), out, lower, transpose, rightside, -1.5)
    np.testing.assert_allclose(out, _reference(name, tri, b, lower, transpose, rightside, -1.5),
                               rtol=RTOL[dtype], atol=RTOL[dtype])


@needs_blas
def test_empty_batches_run():
    linalg_cpu.potrf(np.zeros((0, 3, 3)), np.zeros((0, 3, 3)), True)
    linalg_cpu.triangular("trsm", np.zeros((0, 3, 3)), np.zeros((0, 3, 2)), np.zeros((0, 3, 2)), True, False, False,
                          1.0)


def _packing(device, mats, packed, offset, lower, triangle, pack):
    """packing_<device> on NaN-filled copies; (mats, packed) back as NumPy."""
    if device == "cpu":
        linalg_cpu.packing_cpu(mats, packed, offset, lower, triangle, pack)
        return mats, packed
    from mxcy.kernels import linalg_gpu
    mats_dev, packed_dev = cuda.to_device(mats), cuda.to_device(packed)
    linalg_gpu.packing_gpu(mats_dev, packed_dev, offset, lower, triangle, pack)
    return mats_dev.copy_to_host(), packed_dev.copy_to_host()


@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)])
@pytest.mark.parametrize("offset", [-2, 0, 1])
@pytest.mark.parametrize("lower", [True, False])
def test_packers_match_numpy(offset, lower, device):
    a = np.random.default_rng(2).standard_normal((2, 3, 5, 5))
    diag, tri = np.diagonal(a, offset, -2, -1), _extracttrian(a, offset, lower)
    for triangle, packed in ((False, diag), (True, tri)):
        _, got = _packing(device, a.copy(), np.full(packed.shape, np.nan), offset, lower, triangle, True)
        np.testing.assert_array_equal(got, packed)
        got, _ = _packing(device, np.full(a.shape, np.nan), packed.copy(), offset, lower, triangle, False)
        np.testing.assert_array_equal(got, _maketrian(tri, offset, lower) if triangle else _makediag(diag, offset))


def _nan_outside(tri, lower):
    """tri with NaN in the triangle the kernels must not read."""
    ones = np.ones(tri.shape[-2:])
    return np.where((np.tril(ones) if lower else np.triu(ones)) == 1, tri, np.nan)


def _gradient_kernel(device, name, inputs, out_shapes, attrs, dtype):
    """linalg_<device>.<name>_<device>(*inputs, *outputs, *attrs) on NaN-filled outputs; the outputs as NumPy."""
    inputs = [np.ascontiguousarray(a, dtype) for a in inputs]
    outs = [np.full(shape, np.nan, dtype) for shape in out_shapes]
    if device == "cpu":
        getattr(linalg_cpu, f"{name}_cpu")(*inputs, *outs, *attrs)
        return outs
    from mxcy.kernels import linalg_gpu
    outs = [cuda.to_device(o) for o in outs]
    getattr(linalg_gpu, f"{name}_gpu")(*(cuda.to_device(a) for a in inputs), *outs, *attrs)
    return [o.copy_to_host() for o in outs]


# The simulator runs a thread at a time: the GPU twins get two matrices, in float64 only (test_registry_gpu compares
# the float32 ops on both devices).
_DEVICES = [("cpu", np.float32, 5), ("cpu", np.float64, 5), pytest.param("gpu", np.float64, 2, marks=pytest.mark.cuda)]


@needs_blas
@pytest.mark.parametrize("device,dtype,batch", _DEVICES)
@pytest.mark.parametrize("lower", [True, False])
def test_potrf_gradient_matches_numpy(device, dtype, batch, lower):
    rng = np.random.default_rng(3)
    tri = rng.uniform(-1, 1, (batch, 5, 5)) + 3 * np.eye(5)
    g = rng.standard_normal(tri.shape)
    (got,) = _gradient_kernel(device, "potrf_backward", [g, _nan_outside(tri, lower)], [g.shape], (lower,), dtype)
    np.testing.assert_allclose(got, _potrf_backward(g, tri, lower), rtol=RTOL[dtype], atol=RTOL[dtype])


@needs_blas
@pytest.mark.parametrize("device,dtype,batch", _DEVICES)
@pytest.mark.parametrize("name,lower,transpose,rightside",
                         list(itertools.product(["trsm", "trmm"], [True, False], [True, False], [True, False])))
def test_triangular_gradients_match_numpy(device, dtype, batch, name, lower, transpose, rightside):
    """dA and dB of trsm (from the head gradient, A and the output) and trmm (from the head gradient, A and B)."""
    rng = np.random.default_rng(4)
    n, cols = 4, 3
    tri = rng.uniform(-1, 1, (batch, n, n)) + 3 * np.eye(n)
    g, other = (rng.standard_normal((batch,) + ((cols, n) if rightside else (n, cols))) for _ in range(2))
    reference = _trsm_backward if name == "trsm" else _trmm_backward
    kwargs = {"lower": lower, "transpose": transpose, "rightside": rightside, "alpha": -1.5}
    got = _gradient_kernel(device, f"{name}_backward", [g, _nan_outside(tri, lower), other], [tri.shape, g.shape],
                           tuple(kwargs.values()), dtype)
    for part, want in zip(got, reference(g, tri, other, **kwargs)):
        np.testing.assert_allclose(part, want, rtol=RTOL[dtype], atol=RTOL[dtype])
