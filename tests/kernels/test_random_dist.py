"""kernels.random_dist: the packed stream's layout against Philox's words, CPU and simulated CUDA drivers drawing
the same numbers (tests/kernels/test_ptx.py checks the bit-identical kernels' PTX for fused multiply-adds)."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import philox
from mxcy.kernels import random_dist as R

SEED, CALL = np.uint64(0x1234_5678_9ABC), np.uint64(77)


def _words(n_blocks):
    return np.array([philox.block(SEED, CALL, b, 0) for b in range(n_blocks)], np.uint64).ravel()


def test_packed_uniforms_are_philox_words_in_order():
    w = _words(3)
    f32 = np.empty(10, np.float32)
    R.uniform_cpu(f32, False, 0.0, 1.0, 1.0, SEED, CALL)
    np.testing.assert_array_equal(f32, (w[:10] >> 8).astype(np.float64) * 2.0 ** -24)
    f64 = np.empty(5)
    R.uniform_cpu(f64, True, -1.0, 3.0, 3.0, SEED, CALL)
    bits = ((w[0:10:2] >> 5) << 26) | (w[1:10:2] >> 6)
    np.testing.assert_array_equal(f64, -1.0 + 4.0 * (bits.astype(np.float64) * 2.0 ** -53))


def test_randint_is_64_random_bits_modulo_the_range():
    w = _words(3)
    out = np.empty(5, np.int64)
    R.randint_cpu(out, -7, np.uint64(10), SEED, CALL)
    bits = (w[0:10:2] << np.uint64(32)) | w[1:10:2]
    np.testing.assert_array_equal(out, -7 + (bits % np.uint64(10)).astype(np.int64))


def test_uniform_never_reaches_high():
    out = np.empty(4000, np.float32)
    top = float(np.nextafter(np.float32(1e-30), np.float32(0)))
    R.uniform_cpu(out, False, 0.0, 1e-30, top, SEED, CALL)  # every value rounds near high
    assert out.max() <= np.float32(top) and out.min() >= 0


def test_dropout_mask_is_shared_along_axes_and_keeps_the_threshold_fraction():
    x = np.arange(1, 3 * 40 * 5 + 1, dtype=np.float64)
    out, mask = np.empty_like(x), np.empty_like(x)
    shape, draw_strides = (3, 40, 5), (0, 1, 0)  # one decision per index of axis 1
    R.dropout_cpu(x, out, mask, shape, draw_strides, np.uint64(2 ** 31), 2.0, SEED, CALL)
    m = mask.reshape(shape)
    assert (m == m[:1, :, :1]).all() and set(np.unique(m)) == {0.0, 2.0}
    np.testing.assert_array_equal(out, x * mask)
    w = _words(10)
    np.testing.assert_array_equal(m[0, :, 0], np.where(w[:40] < 2 ** 31, 2.0, 0.0))


def test_permutation_and_multinomial_draws():
    perm = np.empty(50, np.int64)
    R.permutation_cpu(perm, SEED, CALL)
    assert sorted(perm) == list(range(50)) and (perm != np.arange(50)).any()
    probs = np.array([[0.0, 0.5, 0.0, 0.5], [1.0, 0.0, 0.0, 0.0]])
    idx, logp = np.empty((2, 200), np.int32), np.empty((2, 200))
    assert R.multinomial_cpu(probs, idx, logp, SEED, CALL, True)
    assert set(idx[0]) == {1, 3} and set(idx[1]) == {0}
    np.testing.assert_allclose(logp[0], np.log(0.5))
    assert not R.multinomial_cpu(np.array([[0.5, np.inf]]), idx[:1], logp[:1], SEED, CALL, False)


@pytest.mark.cuda
def test_cuda_drivers_draw_what_the_cpu_drivers_draw():
    cpu, gpu = np.empty(9, np.float32), cuda.device_array(9, np.float32)
    R.uniform_cpu(cpu, False, -2.0, 5.0, 5.0, SEED, CALL)
    R.uniform_gpu(gpu, False, -2.0, 5.0, 5.0, SEED, CALL)
    np.testing.assert_array_equal(gpu.copy_to_host(), cpu)
    cpu, gpu = np.empty(7, np.int32), cuda.device_array(7, np.int32)
    R.randint_cpu(cpu, 3, np.uint64(1000), SEED, CALL)
    R.randint_gpu(gpu, 3, np.uint64(1000), SEED, CALL)
    np.testing.assert_array_equal(gpu.copy_to_host(), cpu)
    cpu, gpu = np.empty(12, np.int64), cuda.device_array(12, np.int64)
    R.permutation_cpu(cpu, SEED, CALL)
    R.permutation_gpu(gpu, SEED, CALL)
    np.testing.assert_array_equal(gpu.copy_to_host(), cpu)
    x = np.linspace(-1, 1, 10)
    cpu = [np.empty(10), np.empty(10)]
    gpu = [cuda.device_array(10), cuda.device_array(10)]
    R.dropout_cpu(x, *cpu, (10,), (1,), np.uint64(3 << 30), 4.0, SEED, CALL)
    R.dropout_gpu(cuda.to_device(x), *gpu, (10,), (1,), np.uint64(3 << 30), 4.0, SEED, CALL)
    for g, c in zip(gpu, cpu):
        np.testing.assert_array_equal(g.copy_to_host(), c)
    empty = np.empty(0)
    for kind in R.KINDS.values():
        cpu, gpu = np.empty(6), cuda.device_array(6)
        R.sample_cpu(kind, cpu, empty, empty, 1, 2.0, 0.5, SEED, CALL, False)
        R.sample_gpu(kind, gpu, cuda.to_device(empty), cuda.to_device(empty), 1, 2.0, 0.5, SEED, CALL, False)
        np.testing.assert_allclose(gpu.copy_to_host(), cpu, rtol=1e-6)
