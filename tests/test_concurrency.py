"""Kernels under the threaded engine: concurrent convolutions and dense ops give the NaiveEngine's
results, the BLAS thread pin survives overlapping callers, and `prange` kernels entered from two
engine workers at once run on a thread-safe Numba threading layer."""
import contextlib
import threading

import numba
import numpy as np
import pytest

import mxcy as mx
from mxcy import engine as mx_engine
from mxcy._engine import Engine
from mxcy.kernels import blas_cpu
from mxcy.kernels.common import REQ_WRITE
from mxcy.kernels.conv_cpu import conv_fwd_cpu
from tests.kernels.test_conv import ref_fwd

blas = pytest.mark.skipif(not blas_cpu.THREAD_COUNTS, reason="no OpenBLAS thread count found")


@contextlib.contextmanager
def default_engine(eng):
    """Make `eng` the engine every mx.nd call pushes to (mxcy.engine's module functions)."""
    names = ("_engine", "new_var", "push", "wait_for_var", "wait_all")
    saved = {n: getattr(mx_engine, n) for n in names}
    mx_engine._engine = eng
    for n in names[1:]:
        setattr(mx_engine, n, getattr(eng, n))
    try:
        yield
    finally:
        eng.wait_all()
        for n, v in saved.items():
            setattr(mx_engine, n, v)


# Independent problems, each (op, its inputs' shapes, its attributes): im2col GEMMs (grouped, strided,
# 1x1, 1-d, 3-d), Winograd, Deconvolution and FullyConnected, forward and backward.
PROBLEMS = [
    ("Convolution", [(2, 4, 9, 9), (6, 2, 3, 3), (6,)], dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), num_filter=6, num_group=2)),
    ("Convolution", [(3, 8, 16, 16), (8, 8, 3, 3), (8,)], dict(kernel=(3, 3), pad=(1, 1), num_filter=8)),
    ("Convolution", [(2, 5, 6, 6), (7, 5, 1, 1), (7,)], dict(kernel=(1, 1), num_filter=7)),
    ("Convolution", [(2, 3, 11), (4, 3, 3), (4,)], dict(kernel=(3,), dilate=(2,), num_filter=4)),
    ("Convolution", [(1, 2, 4, 5, 5), (3, 2, 2, 2, 2), (3,)], dict(kernel=(2, 2, 2), num_filter=3)),
    ("Deconvolution", [(2, 4, 5, 5), (4, 3, 3, 3), (3,)], dict(kernel=(3, 3), stride=(2, 2), num_filter=3, no_bias=False)),
    ("FullyConnected", [(6, 10), (5, 10), (5,)], dict(num_hidden=5)),
    ("FullyConnected", [(4, 3, 4), (7, 12), (7,)], dict(num_hidden=7)),
]


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _, shapes, _ in PROBLEMS]


def _run_all(inputs, rounds):
    """Every problem's output and input gradients, `rounds` times over, all pushed before any is read."""
    results = []
    for _ in range(rounds):
        for (op, _, attrs), arrays in zip(PROBLEMS, inputs):
            args = [mx.nd.array(a) for a in arrays]
            for a in args:
                a.attach_grad()
            with mx.autograd.record():
                y = getattr(mx.nd, op)(*args, **attrs)
            y.backward(mx.nd.ones_like(y) * 0.5)
            results.append([y] + [a.grad for a in args])
    return [[r.asnumpy() for r in rs] for rs in results]


@blas
def test_blas_pin_holds_until_the_last_overlapping_caller_leaves():
    get, set_ = blas_cpu.THREAD_COUNTS[-1]
    before = get()
    set_(3)
    try:
        a_in, b_in, a_out, seen = threading.Event(), threading.Event(), threading.Event(), {}

        def first():
            with blas_cpu.single_threaded_blas():
                a_in.set()
                b_in.wait(10)
            a_out.set()

        def second():
            a_in.wait(10)
            with blas_cpu.single_threaded_blas():
                b_in.set()
                a_out.wait(10)  # the first caller has left; this one is still inside
                seen["inside"] = get()
            seen["after"] = get()

        threads = [threading.Thread(target=f) for f in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert seen == {"inside": 1, "after": 3}
    finally:
        set_(before)


def test_convolutions_and_dense_on_two_workers_match_the_naive_engine():
    inputs = _inputs(0)
    blas_before = [get() for get, _ in blas_cpu.THREAD_COUNTS]
    with default_engine(Engine(naive=True)):
        expected = _run_all(inputs, rounds=1)
    threaded = Engine(cpu_workers=2)
    try:
        with default_engine(threaded):
            got = _run_all(inputs, rounds=3)
    finally:
        threaded.shutdown()
    for k, rs in enumerate(got):
        for r, e in zip(rs, expected[k % len(PROBLEMS)]):
            np.testing.assert_array_equal(r, e, err_msg=str(PROBLEMS[k % len(PROBLEMS)][:2]))
    assert [get() for get, _ in blas_cpu.THREAD_COUNTS] == blas_before


def test_prange_kernels_entered_from_two_engine_workers_at_once():
    assert numba.config.THREADING_LAYER in ("threadsafe", "tbb", "omp")
    rng = np.random.default_rng(1)
    geo = dict(stride=(1, 1), pad=(1, 1), dilate=(1, 1), groups=1)
    problems = [(rng.standard_normal((2, 3, 10, 10)).astype(np.float32),
                 rng.standard_normal((4, 3, 3, 3)).astype(np.float32)) for _ in range(4)]
    outs = [np.empty((2, 4, 10, 10), np.float32) for _ in problems]
    together = threading.Barrier(2, timeout=30)
    eng = Engine(cpu_workers=2)

    def conv(x, w, out):
        together.wait()  # both ops of a pair are inside their kernels at the same time
        conv_fwd_cpu(x, w, None, out, REQ_WRITE, **geo)
    try:
        for (x, w), out in zip(problems, outs):
            eng.push(lambda x=x, w=w, out=out: conv(x, w, out), (), (eng.new_var(),), name="conv")
        eng.wait_all()
    finally:
        eng.shutdown()
    assert numba.threading_layer() in ("omp", "tbb")
    for (x, w), out in zip(problems, outs):
        np.testing.assert_allclose(out, ref_fwd(x, w, None, **geo), rtol=1e-4, atol=1e-4)
