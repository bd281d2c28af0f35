"""mx.nd.random: reproducibility under mx.random.seed, per-context streams, distributions (loose
statistical bounds on fixed seeds, so deterministic), shapes/dtypes, gradients and engine order."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import stats

import mxcy as mx
from mxcy.ndarray import random as ndr
from mxcy.ops import registry
from tests.ops.opspec import OpSpec, check_forward, check_req_add

SEEDS = st.integers(0, 2 ** 63)
N = 20000


def _draws():
    """One array from every sampler, in a fixed order."""
    lo, hi = mx.nd.array([0.0, 5.0]), mx.nd.array([1.0, 6.0])
    return [ndr.uniform(-1, 2, shape=(3, 4)), ndr.normal(1, 2, shape=7, dtype="float64"),
            ndr.randint(-5, 5, shape=(2, 5)), ndr.exponential(2.0, shape=6),
            ndr.gamma(2.0, 0.5, shape=6), ndr.poisson(3.0, shape=6),
            ndr.negative_binomial(3, 0.4, shape=6),
            ndr.generalized_negative_binomial(2, 0.3, shape=6),
            ndr.uniform(lo, hi, shape=3), ndr.normal(lo, hi), ndr.randn(2, 3),
            ndr.multinomial(mx.nd.array([[0.2, 0.8], [0.5, 0.5]]), shape=5),
            ndr.shuffle(mx.nd.arange(10))]


def _values(seed):
    mx.random.seed(seed)
    return [a.asnumpy() for a in _draws()]


@given(seed=SEEDS)
def test_same_seed_same_numbers_other_seed_other_numbers(seed):
    first, again, other = _values(seed), _values(seed), _values(seed + 1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0]) and not np.array_equal(first[1], other[1])


@given(seed=SEEDS)
def test_consecutive_calls_are_independent_streams(seed):
    mx.random.seed(seed)
    a, b = (ndr.uniform(shape=1000, dtype="float64").asnumpy() for _ in range(2))
    assert not np.array_equal(a, b)
    # Philox streams of neighbouring calls must not be shifted copies of each other.
    assert not np.intersect1d(a, b).size


def test_other_ops_between_draws_do_not_change_the_numbers():
    mx.random.seed(11)
    plain = [ndr.normal(shape=5).asnumpy() for _ in range(3)]
    mx.random.seed(11)
    mixed = []
    for _ in range(3):
        x = mx.nd.ones((4, 4)) * 3 + 1
        mixed.append(ndr.normal(shape=5).asnumpy())
        x.asnumpy()
    for a, b in zip(plain, mixed):
        np.testing.assert_array_equal(a, b)


def test_streams_are_per_context():
    mx.random.seed(3)
    on0 = ndr.uniform(shape=50, ctx=mx.cpu(0)).asnumpy()
    on1 = ndr.uniform(shape=50, ctx=mx.cpu(1)).asnumpy()
    assert not np.array_equal(on0, on1)
    # Reseeding (or drawing on) cpu(1) alone leaves the stream of cpu(0) where it was.
    mx.random.seed(3)
    mx.random.seed(99, ctx=mx.cpu(1))
    ndr.uniform(shape=50, ctx=mx.cpu(1))
    np.testing.assert_array_equal(ndr.uniform(shape=50, ctx=mx.cpu(0)).asnumpy(), on0)
    mx.random.seed(99, ctx=mx.cpu(1))
    first = ndr.uniform(shape=50, ctx=mx.cpu(1)).asnumpy()
    mx.random.seed(99, ctx=mx.cpu(1))
    np.testing.assert_array_equal(ndr.uniform(shape=50, ctx=mx.cpu(1)).asnumpy(), first)
    assert ndr.uniform(shape=2, ctx="cpu(1)").context == mx.cpu(1)


_SCRIPT = """
import mxcy as mx
mx.random.seed(2024)
outs = []
for i in range(20):
    x = mx.nd.random.uniform(shape=(50, 50)) * 2
    y = mx.nd.random.normal(x, mx.nd.ones((50, 50)))
    outs += [x, y, mx.nd.random.randint(0, 100, shape=10), mx.nd.random.shuffle(mx.nd.arange(30))]
print(mx.engine.is_naive())
print(repr([o.asnumpy().tobytes().hex() for o in outs]))
"""


def test_threaded_and_naive_engines_give_the_same_numbers():
    def run(engine_type):
        env = dict(os.environ, MXNET_ENGINE_TYPE=engine_type, MXNET_CPU_WORKER_NTHREADS="4")
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        return subprocess.run([sys.executable, "-c", _SCRIPT], env=env, cwd=root, check=True,
                              capture_output=True, text=True, timeout=300).stdout.split("\n", 1)
    naive, threaded = run("NaiveEngine"), run("ThreadedEnginePerDevice")
    assert (naive[0], threaded[0]) == ("True", "False")
    assert naive[1] == threaded[1]


# --- distributions: fixed seeds and generous bounds, so these never flake ---------------------

# (context, sample size): the simulator runs a CUDA thread per element in Python, so gpu(0) samples are small.
_DEVICES = [pytest.param((mx.cpu, N), id="cpu"),
            pytest.param((lambda: mx.gpu(0), 1500), id="gpu", marks=pytest.mark.cuda)]


def _sample(fn, device, seed=5, **kwargs):
    ctx, n = device
    mx.random.seed(seed)
    return fn(shape=n, dtype="float64", ctx=ctx(), **kwargs).asnumpy()


def _mean_ok(x, mean, var):
    assert abs(x.mean() - mean) < 6 * np.sqrt(var / x.size), (x.mean(), mean)


@pytest.mark.parametrize("device", _DEVICES)
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("fn,kwargs,dist", [
    (ndr.uniform, dict(low=-2, high=3), stats.uniform(-2, 5)),
    (ndr.normal, dict(loc=1.5, scale=0.5), stats.norm(1.5, 0.5)),
    (ndr.exponential, dict(scale=2.0), stats.expon(scale=2.0)),
    (ndr.gamma, dict(alpha=2.5, beta=0.7), stats.gamma(2.5, scale=0.7)),
    (ndr.gamma, dict(alpha=0.3, beta=2.0), stats.gamma(0.3, scale=2.0)),
])
def test_continuous_distributions_pass_ks(fn, kwargs, dist, seed, device):
    x = _sample(fn, device, seed, **kwargs)
    assert stats.kstest(x, dist.cdf).pvalue > 1e-6
    _mean_ok(x, dist.mean(), dist.var())


@pytest.mark.parametrize("device", _DEVICES)
@pytest.mark.parametrize("fn,kwargs,dist", [
    (ndr.poisson, dict(lam=4.0), stats.poisson(4.0)),
    (ndr.poisson, dict(lam=0.2), stats.poisson(0.2)),
    (ndr.poisson, dict(lam=30.0), stats.poisson(30.0)),  # large rates: transformed rejection
    (ndr.poisson, dict(lam=1e4), stats.poisson(1e4)),
    (ndr.negative_binomial, dict(k=3, p=0.4), stats.nbinom(3, 0.4)),
    # generalized_negative_binomial(mu, alpha) is NB(1 / alpha, 1 / (1 + alpha * mu)); alpha = 0 is Poisson(mu).
    (ndr.generalized_negative_binomial, dict(mu=2.0, alpha=0.5), stats.nbinom(2.0, 0.5)),
    (ndr.generalized_negative_binomial, dict(mu=3.0, alpha=0.0), stats.poisson(3.0)),
])
def test_count_distributions_moments(fn, kwargs, dist, device):
    x = _sample(fn, device, **kwargs)
    assert np.all(x == np.floor(x)) and x.min() >= 0
    _mean_ok(x, dist.mean(), dist.var())
    assert abs(x.var() / dist.var() - 1) < 0.15 * np.sqrt(N / x.size)


def test_uniform_stays_below_high_in_every_dtype():
    mx.random.seed(0)
    for dtype in ("float16", "float32", "float64"):
        x = ndr.uniform(0, 1, shape=N, dtype=dtype).asnumpy()
        assert x.dtype == np.dtype(dtype) and x.min() >= 0 and x.max() < 1
    x = ndr.uniform(1000, 1000.5, shape=N, dtype="float16").asnumpy()
    assert x.min() >= 1000 and x.max() < 1000.5


def test_randint_range_and_frequencies():
    mx.random.seed(8)
    x = ndr.randint(-3, 7, shape=N).asnumpy()
    assert x.dtype == np.int32 and x.min() == -3 and x.max() == 6
    counts = np.bincount(x + 3)
    assert np.all(np.abs(counts - N / 10) < 6 * np.sqrt(N * 0.1 * 0.9))
    big = ndr.randint(2 ** 40, 2 ** 40 + 3, shape=100, dtype="int64").asnumpy()
    assert big.dtype == np.int64 and set(big) <= {2 ** 40, 2 ** 40 + 1, 2 ** 40 + 2}


def test_per_element_samplers_follow_their_parameters():
    mx.random.seed(4)
    mu, sigma = mx.nd.array([-5.0, 0.0, 10.0]), mx.nd.array([0.1, 1.0, 3.0])
    x = ndr.normal(mu, sigma, shape=N).asnumpy()
    assert x.shape == (3, N)
    for row, m, s in zip(x, mu.asnumpy(), sigma.asnumpy()):
        _mean_ok(row, m, s * s)
        assert abs(row.std() / s - 1) < 0.05
    low, high = mx.nd.array([[0.0, 10.0]]), mx.nd.array([[1.0, 10.5]])
    u = ndr.uniform(low, high, shape=(100, 2)).asnumpy()
    assert u.shape == (1, 2, 100, 2)
    assert u[0, 0].min() >= 0 and u[0, 0].max() < 1 and u[0, 1].min() >= 10 and u[0, 1].max() < 10.5
    lam = mx.nd.array([1.0, 20.0])
    np.testing.assert_allclose(ndr.poisson(lam, shape=N).asnumpy().mean(axis=1), [1, 20], rtol=0.05)
    np.testing.assert_allclose(ndr.exponential(1 / lam, shape=N).asnumpy().mean(axis=1),
                               [1, 1 / 20], rtol=0.05)


def test_per_element_out_of_range_parameters_give_nan():
    x = ndr.gamma(mx.nd.array([-1.0, 2.0]), mx.nd.array([1.0, 1.0]), shape=3).asnumpy()
    assert np.isnan(x[0]).all() and np.isfinite(x[1]).all()
    assert np.isnan(ndr.poisson(mx.nd.array([-2.0])).asnumpy()).all()
    u = ndr.uniform(mx.nd.array([1.0, 0.0]), mx.nd.array([0.0, 1.0]), shape=2).asnumpy()
    assert np.isnan(u[0]).all() and np.isfinite(u[1]).all()
    assert np.isnan(ndr.poisson(mx.nd.array([np.inf]), dtype="float64").asnumpy()).all()


def test_multinomial_frequencies_and_log_probabilities():
    mx.random.seed(6)
    p = np.array([[0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25]])
    idx, logp = ndr.multinomial(mx.nd.array(p), shape=N, get_prob=True)
    idx, logp = idx.asnumpy(), logp.asnumpy()
    assert idx.dtype == np.int32 and idx.shape == (2, N) and logp.dtype == np.float32
    for row, probs in zip(idx, p):
        counts = np.bincount(row, minlength=4)
        assert np.all(np.abs(counts - N * probs) <= 6 * np.sqrt(N * probs * (1 - probs)))
    np.testing.assert_allclose(logp, np.log(np.take_along_axis(p, idx, 1)), rtol=1e-6)
    one = ndr.multinomial(mx.nd.array([0.5, 0.5]))
    assert one.shape == (1,)
    assert ndr.multinomial(mx.nd.array([0.5, 0.5]), shape=(2, 3)).shape == (2, 3)
    assert ndr.multinomial(mx.nd.array(p), dtype="float32").dtype == np.float32


def test_multinomial_log_probability_gradient():
    mx.random.seed(1)
    p = mx.nd.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], dtype="float64")
    p.attach_grad()
    head = np.arange(10, dtype=np.float64).reshape(2, 5)
    with mx.autograd.record():
        idx, logp = ndr.multinomial(p, shape=5, get_prob=True)
    logp.backward(mx.nd.array(head, dtype="float64"))
    want = np.zeros((2, 3))
    for r in range(2):
        for j, k in enumerate(idx.asnumpy()[r]):
            want[r, k] += head[r, j] / p.asnumpy()[r, k]
    np.testing.assert_allclose(p.grad.asnumpy(), want)


def test_per_element_samplers_have_zero_gradient():
    mu, sigma = mx.nd.array([0.0, 1.0]), mx.nd.array([1.0, 2.0])
    mu.attach_grad()
    sigma.attach_grad()
    with mx.autograd.record():
        y = ndr.normal(mu, sigma, shape=3) * 2
    y.backward()
    assert not mu.grad.asnumpy().any() and not sigma.grad.asnumpy().any()


@given(seed=SEEDS, rows=st.integers(1, 30), cols=st.integers(1, 4))
def test_shuffle_permutes_rows_and_keeps_them_whole(seed, rows, cols):
    mx.random.seed(seed)
    data = np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)
    out = ndr.shuffle(mx.nd.array(data)).asnumpy()
    assert out.shape == data.shape
    np.testing.assert_array_equal(np.sort(out[:, 0]), data[:, 0])
    np.testing.assert_array_equal(out - out[:, :1], data - data[:, :1])


def test_shuffle_mixes_large_arrays():
    mx.random.seed(0)
    out = mx.nd.shuffle(mx.nd.arange(1000)).asnumpy()
    assert (out != np.arange(1000)).mean() > 0.9


@given(seed=SEEDS, shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       dtype=st.sampled_from(["float16", "float32", "float64"]))
def test_shapes_and_dtypes(seed, shape, dtype):
    mx.random.seed(seed)
    for fn in (ndr.uniform, ndr.normal, ndr.exponential, ndr.gamma, ndr.poisson,
               ndr.negative_binomial, ndr.generalized_negative_binomial):
        x = fn(shape=shape, dtype=dtype)
        assert x.shape == shape and x.dtype == np.dtype(dtype)
        assert fn().shape == (1,) and fn().dtype == np.float32
    assert ndr.randn(*shape).shape == shape
    assert ndr.randint(0, 5, shape=shape).dtype == np.int32


def test_out_argument_takes_shape_and_dtype_from_out():
    out = mx.nd.zeros((3, 2), dtype="float64")
    assert ndr.uniform(5, 6, out=out) is out
    values = out.asnumpy()
    assert values.min() >= 5 and values.max() < 6
    mu = mx.nd.zeros((2,))
    target = mx.nd.zeros((2, 4))
    ndr.normal(mu, mu + 1, out=target)
    assert target.asnumpy().std() > 0


def test_like_ops_and_registered_aliases():
    data = mx.nd.zeros((2, 3), dtype="float64")
    x = mx.nd.random.uniform_like(data, low=3, high=4)
    assert x.shape == (2, 3) and x.dtype == np.float64 and 3 <= x.asnumpy().min()
    assert mx.nd.random.normal_like(data).shape == (2, 3)
    assert mx.nd.uniform(shape=(2,)).shape == (2,) and mx.nd.random_normal(shape=4).shape == (4,)
    assert mx.nd.sample_normal(mx.nd.zeros(2), mx.nd.ones(2), shape=3).shape == (2, 3)
    assert repr(ndr._Null) == "_Null"


@pytest.mark.parametrize("call,match", [
    # out-of-range parameters raise where the value is read, as MXNet's do
    (lambda: ndr.normal(0, -1, shape=2).asnumpy(), "_random_normal"),
    (lambda: ndr.uniform(2, 1, shape=2).asnumpy(), "_random_uniform"),  # MXNet: low must be <= high
    (lambda: ndr.exponential(-1.0, shape=2).asnumpy(), "_random_exponential"),
    (lambda: ndr.randint(5, 5, shape=2), "greater than low"),
    (lambda: ndr.randint(0, 2 ** 40, shape=2), "does not fit"),
    (lambda: ndr.uniform(shape=2, dtype="int32"), "dtype"),
    (lambda: ndr.uniform(mx.nd.zeros(2), 1.0), "all be NDArrays or all be numbers"),
    (lambda: ndr.uniform("a", 1.0), "NDArrays or numbers"),
    (lambda: ndr.normal(mx.nd.zeros(2), mx.nd.ones(3)), "share one shape"),
    (lambda: ndr.normal(mx.nd.zeros(2), mx.nd.ones(2), shape=(0,)), "positive"),
    (lambda: ndr.randint(mx.nd.zeros(2), mx.nd.ones(2)), "must be numbers"),
    (lambda: ndr.multinomial(mx.nd.array(np.zeros((2, 0)))), "categories"),
    (lambda: ndr.multinomial(mx.nd.array([1, 2], dtype="int32")), "floating-point"),
    (lambda: ndr.multinomial([0.5, 0.5]), "NDArray"),
    (lambda: ndr.shuffle(np.zeros(3)), "NDArray"),
    (lambda: ndr.uniform(shape=2, out=mx.nd.zeros((3,)), dtype="float32"), "shape"),
])
def test_bad_arguments_raise_mxnet_error(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


def test_invalid_probabilities_fail_at_read():
    out = ndr.multinomial(mx.nd.array([[-1.0, 2.0]]))
    with pytest.raises(mx.MXNetError, match="_sample_multinomial"):
        out.asnumpy()


# --- the OpSpec contract: samplers have no reference value, so they are exempt and tested above --

_RANDOM = "random sampler: no reference value; reproducibility and distribution tested in " \
          "tests/ndarray/test_random.py"
NO_SPEC = {op.name: _RANDOM for op in registry.all_ops() if op.random}


def _make_multinomial_backward(rng):
    n, k, m = (int(v) for v in rng.integers(1, 5, size=3))
    probs = rng.uniform(0.1, 1.0, (n, k))
    return [rng.standard_normal((n, m)), probs, rng.integers(0, k, (n, m)).astype(np.int32)], {}


def _multinomial_backward(ograd, probs, sample):
    grad = np.zeros_like(probs)
    for r, c in np.ndindex(sample.shape):
        grad[r, sample[r, c]] += ograd[r, c] / probs[r, sample[r, c]]
    return grad


SPECS = [OpSpec("_backward_sample_multinomial", _make_multinomial_backward, _multinomial_backward,
                grad=False, why="gradient helper of _sample_multinomial; not differentiated again")]


def test_every_sampler_is_exempt_from_value_specs():
    names = {op.name for op in registry.all_ops() if op.random}
    assert {"_random_uniform", "_sample_normal", "_shuffle", "_sample_multinomial",
            "_random_randint", "_random_gamma_like"} <= names <= set(NO_SPEC)


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@given(seed=SEEDS)
def test_multinomial_backward_spec(spec, seed):
    check_forward(spec, np.random.default_rng(seed % 2 ** 32))
    check_req_add(spec, np.random.default_rng(seed % 2 ** 32))


# --- gpu(0): the same Philox streams computed by the CUDA kernels ---------------------------------

_EVERY_SAMPLER = [
    (ndr.uniform, dict(low=-2, high=3, shape=(3, 2))), (ndr.normal, dict(loc=1, scale=2, shape=4)),
    (ndr.gamma, dict(alpha=2, beta=3, shape=4)), (ndr.gamma, dict(alpha=0.5, beta=3, shape=4)),
    (ndr.exponential, dict(scale=2, shape=4)), (ndr.poisson, dict(lam=3, shape=4)),
    (ndr.poisson, dict(lam=40, shape=4)), (ndr.negative_binomial, dict(k=3, p=0.4, shape=4)),
    (ndr.generalized_negative_binomial, dict(mu=2, alpha=0.5, shape=4)),
    (ndr.randint, dict(low=-5, high=9, shape=6)),
    (ndr.uniform, dict(low=0.5, high=0.75, shape=5, dtype="float64")),
    (ndr.uniform, dict(low=10, high=10.5, shape=5, dtype="float16")),
]
# Integer arithmetic only: the same bits on any GPU. The others go through log/cos/lgamma, which a GPU's libdevice
# may round differently in the last place (the simulator runs the CPU code, so it matches exactly there).
_BIT_IDENTICAL = {ndr.uniform, ndr.randint}


def _assert_same_draws(fn, gpu, cpu):
    if fn in _BIT_IDENTICAL:
        np.testing.assert_array_equal(gpu, cpu)
    else:
        np.testing.assert_allclose(gpu, cpu, rtol=1e-5)


@pytest.mark.cuda
@pytest.mark.parametrize("fn,kwargs", _EVERY_SAMPLER, ids=lambda v: getattr(v, "__name__", ""))
def test_after_seed_gpu_and_cpu_draw_the_same_numbers(fn, kwargs):
    def draw(ctx):
        mx.random.seed(11)
        first = fn(**kwargs, ctx=ctx)
        return first, fn(**kwargs, ctx=ctx)
    gpu, cpu = draw(mx.gpu(0)), draw(mx.cpu())
    assert gpu[0].context == mx.gpu(0)
    for g, c in zip(gpu, cpu):
        _assert_same_draws(fn, g.asnumpy(), c.asnumpy())
    assert not np.array_equal(gpu[0].asnumpy(), gpu[1].asnumpy())


@pytest.mark.cuda
def test_uniform_sequence_is_bit_identical_across_devices_and_seeding_one_device_leaves_the_other():
    def sequence(ctx):
        return [ndr.uniform(shape=(64,), ctx=ctx).asnumpy(), ndr.uniform(-1, 1, shape=(3, 5), ctx=ctx).asnumpy(),
                ndr.uniform(shape=9, dtype="float64", ctx=ctx).asnumpy()]
    mx.random.seed(7)
    on_cpu = sequence(mx.cpu())
    mx.random.seed(7)
    on_gpu = sequence(mx.gpu(0))
    for c, g in zip(on_cpu, on_gpu):
        np.testing.assert_array_equal(g, c)
    # Seeding gpu(0) alone restarts its stream and leaves cpu()'s where it was.
    mx.random.seed(7)
    sequence(mx.cpu())
    mx.random.seed(7, ctx=mx.gpu(0))
    np.testing.assert_array_equal(sequence(mx.gpu(0))[0], on_gpu[0])
    assert not np.array_equal(sequence(mx.cpu())[0], on_cpu[0])
    mx.random.seed(8, ctx=mx.gpu(0))
    assert not np.array_equal(sequence(mx.gpu(0))[0], on_gpu[0])


@pytest.mark.cuda
def test_gpu_per_element_samplers_shuffle_and_multinomial():
    def draw(ctx):
        mx.random.seed(5)
        mu = mx.nd.array([0.0, 100.0], ctx=ctx)
        probs = mx.nd.array([[0.2, 0.8], [0.9, 0.1]], ctx=ctx)
        sample, logp = ndr.multinomial(probs, shape=3, get_prob=True)
        return [ndr.normal(mu, mu * 0 + 1, shape=2), ndr.shuffle(mx.nd.arange(6, ctx=ctx)), sample, logp,
                ndr.gamma(mx.nd.array([-1.0, 2.0], ctx=ctx), mu + 1, shape=2)]
    for g, c in zip(draw(mx.gpu(0)), draw(mx.cpu())):
        assert g.context == mx.gpu(0)
        np.testing.assert_allclose(g.asnumpy(), c.asnumpy(), rtol=1e-5)


@pytest.mark.cuda
def test_gpu_multinomial_gradient_and_bad_probabilities():
    grads = []
    for ctx in (mx.cpu(), mx.gpu(0)):
        mx.random.seed(1)
        p = mx.nd.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], ctx=ctx)
        p.attach_grad()
        with mx.autograd.record():
            _, logp = ndr.multinomial(p, shape=4, get_prob=True)
        logp.backward(mx.nd.ones((2, 4), ctx=ctx))
        grads.append(p.grad.asnumpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)
    with pytest.raises(mx.MXNetError, match="non-negative finite probabilities"):
        ndr.multinomial(mx.nd.array([[-1.0, 2.0]], ctx=mx.gpu(0))).asnumpy()


@pytest.mark.cuda
def test_out_on_gpu_runs_the_sampler_there():
    target = mx.nd.zeros((2, 3), ctx=mx.gpu(0))
    assert ndr.uniform(4, 5, out=target) is target
    values = target.asnumpy()
    assert values.min() >= 4 and values.max() < 5


def test_an_invalid_random_parameter_raises_where_the_user_waits():
    # MXNet 1.9.1's test_exc_imperative: the call returns, the error comes with the value
    b = mx.nd.random.normal(0, -1, (2, 2))
    c = mx.nd.dot(mx.nd.ones((2, 2)), b)
    with pytest.raises(mx.MXNetError, match="out of range"):
        c.asnumpy()


def test_multinomial_refuses_more_categories_than_its_dtype_holds():
    # MXNet 1.9.1's test_sample_multinomial bound check: raised when called
    with pytest.raises(mx.MXNetError, match="categories"):
        mx.nd.random.multinomial(mx.nd.ones((300,)), dtype="uint8")
    assert mx.nd.random.multinomial(mx.nd.ones((256,)) / 256, dtype="uint8").dtype == np.uint8


def test_randn_takes_array_parameters():
    loc, scale = mx.nd.array([0.0, 100.0]), mx.nd.array([1e-3, 1e-3])
    draws = mx.nd.random.randn(3, loc=loc, scale=scale)
    assert draws.shape == (2, 3)
    np.testing.assert_allclose(draws.asnumpy().mean(axis=1), [0.0, 100.0], atol=0.01)


def test_randn_without_a_shape_is_refused_as_mxnet():
    # MXNet 1.9.1 passes shape () and fails shape inference; a symbol's shape comes from its graph instead
    with pytest.raises(mx.MXNetError, match="shape"):
        mx.nd.random.randn()
    assert mx.nd.random.randn(out=mx.nd.zeros((2, 2))).shape == (2, 2)
