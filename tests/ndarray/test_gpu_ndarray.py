"""mx.nd on mx.gpu(0) (the CUDA simulator when no GPU is present) gives what it gives on mx.cpu(): elementwise
math, broadcasting and scalar operators, creation, cast, reshape, copies, and indexing (x[key], x[key] = v)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mxcy as mx
from mxcy.kernels.common import REQ_ADD
from mxcy.ops import registry
from mxcy.ops.invoke import invoke

pytestmark = pytest.mark.cuda

X = np.array([[-2.5, -1.0, -0.5, 0.0], [0.5, 1.5, 2.0, 3.7], [4.0, -3.0, 0.25, 1.0]], np.float32)
ROW = np.array([1.5, -2.0, 3.0, 0.5], np.float32)
XI = np.array([[-7, -2, 0, 3], [5, 8, -1, 2], [1, 4, 9, -6]], np.int32)
ROWI = np.array([3, -2, 4, 1], np.int32)

# name -> f(ctx) building an NDArray on ctx; run on gpu(0) and on cpu(0) and compared.
CASES = {
    "exp": lambda c: mx.nd.exp(mx.nd.array(X, ctx=c)),
    "log": lambda c: mx.nd.log(mx.nd.abs(mx.nd.array(X, ctx=c)) + 0.1),
    "sigmoid_relu_tanh": lambda c: mx.nd.sigmoid(mx.nd.array(X, ctx=c)) + mx.nd.relu(mx.nd.array(X, ctx=c))
    * mx.nd.tanh(mx.nd.array(X, ctx=c)),
    "round_floor_sign": lambda c: mx.nd.round(mx.nd.array(X, ctx=c)) * 100 + mx.nd.floor(mx.nd.array(X, ctx=c))
    * 10 + mx.nd.sign(mx.nd.array(X, ctx=c)),
    "identity_blockgrad": lambda c: mx.nd.identity(mx.nd.BlockGrad(mx.nd.array(X, ctx=c))),
    "add_broadcast": lambda c: mx.nd.array(X, ctx=c) + mx.nd.array(ROW, ctx=c),
    "sub_column": lambda c: mx.nd.array(X, ctx=c) - mx.nd.array(X[:, :1], ctx=c),
    "mul_div": lambda c: mx.nd.array(X, ctx=c) * mx.nd.array(ROW, ctx=c) / mx.nd.array(ROW[::-1].copy(), ctx=c),
    "mod_power": lambda c: (mx.nd.array(X, ctx=c) % mx.nd.array(ROW, ctx=c))
    ** mx.nd.array(np.float32([2]), ctx=c),
    "maximum_hypot": lambda c: mx.nd.broadcast_maximum(mx.nd.array(X, ctx=c), mx.nd.array(ROW, ctx=c))
    + mx.nd.broadcast_hypot(mx.nd.array(X, ctx=c), mx.nd.array(ROW, ctx=c)),
    "compare_logic": lambda c: (mx.nd.array(X, ctx=c) > mx.nd.array(ROW, ctx=c)) * 4
    + (mx.nd.array(X, ctx=c) == 0.5) * 2 + mx.nd.broadcast_logical_xor(mx.nd.array(X, ctx=c), mx.nd.array(ROW, ctx=c)),
    "broadcast_to_like": lambda c: mx.nd.broadcast_to(mx.nd.array(ROW[None], ctx=c), shape=(3, 4))
    + mx.nd.broadcast_like(mx.nd.array(X[:, :1], ctx=c), mx.nd.array(X, ctx=c)),
    "elemwise_add": lambda c: mx.nd.elemwise_add(mx.nd.array(X, ctx=c), mx.nd.array(X, ctx=c)),
    "scalars": lambda c: (2 - mx.nd.array(X, ctx=c) * 0.5) / 3 + 1 / (mx.nd.array(X, ctx=c) + 10)
    + mx.nd.array(X, ctx=c) % 1.5 + mx.nd.array(X, ctx=c) ** 2 - (-mx.nd.array(X, ctx=c)),
    "int_ops": lambda c: (mx.nd.array(XI, ctx=c, dtype="int32") % mx.nd.array(ROWI, ctx=c, dtype="int32"))
    + mx.nd.array(XI, ctx=c, dtype="int32") * 2.7 + (mx.nd.array(XI, ctx=c, dtype="int32") > 1),
    "floordiv": lambda c: mx.nd.array(X, ctx=c) // 0.75,
    "zeros_ones_full": lambda c: mx.nd.zeros((2, 3), ctx=c) + mx.nd.ones((2, 3), ctx=c) * 2
    + mx.nd.full((2, 3), 7.5, ctx=c),
    "full_int": lambda c: mx.nd.full((5,), 2.7, ctx=c, dtype="int32"),
    "arange": lambda c: mx.nd.arange(2, 8, 2, repeat=2, ctx=c),
    "linspace_eye": lambda c: mx.nd.linspace(0, 1, 4, ctx=c).reshape((2, 2)) + mx.nd.eye(2, ctx=c),
    "like": lambda c: mx.nd.zeros_like(mx.nd.array(X, ctx=c)) + mx.nd.ones_like(mx.nd.array(X, ctx=c)),
    "cast": lambda c: mx.nd.array(X, ctx=c).astype("int32"),
    "cast_back": lambda c: mx.nd.cast(mx.nd.array(XI, ctx=c, dtype="int32"), dtype="float64") / 4,
    "reshape": lambda c: mx.nd.array(X, ctx=c).reshape((-1, 3)) + mx.nd.reshape(mx.nd.array(X, ctx=c), shape=(4, 3)),
    "copy": lambda c: mx.nd.array(X, ctx=c).copy() + mx.nd.array(X, ctx=mx.cpu()).copyto(c),
}


def _inplace(c):
    a = mx.nd.array(X, ctx=c)
    a += mx.nd.array(ROW, ctx=c)
    a *= 2
    a -= 1
    out = mx.nd.ones((3, 4), ctx=c)
    mx.nd.broadcast_mul(a, mx.nd.array(ROW, ctx=c), out=out)
    return out


CASES["inplace_and_out"] = _inplace


@pytest.mark.parametrize("name", sorted(CASES))
def test_gpu_matches_cpu(name):
    got = CASES[name](mx.gpu(0))
    want = CASES[name](mx.cpu())
    assert got.context == mx.gpu(0)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-6, atol=1e-6)


def test_copies_between_devices():
    a = mx.nd.array(X, ctx=mx.gpu(0))
    back = a.copyto(mx.cpu())
    assert back.context == mx.cpu()
    np.testing.assert_array_equal(back.asnumpy(), X)
    dst = mx.nd.zeros((3, 4), ctx=mx.gpu(0))
    a.copyto(dst)
    np.testing.assert_array_equal(dst.asnumpy(), X)
    dst[:] = mx.nd.array(X * 2, ctx=mx.gpu(0))  # a full-slice NDArray write is a copy
    np.testing.assert_array_equal(dst.asnumpy(), X * 2)


def test_full_slice_writes_on_the_device():
    a = mx.nd.array(X, ctx=mx.gpu(0))
    a[:] = 3
    np.testing.assert_array_equal(a.asnumpy(), np.full((3, 4), 3.0))
    a[...] = np.arange(4)
    np.testing.assert_array_equal(a.asnumpy(), np.broadcast_to(np.arange(4.0), (3, 4)))
    op = registry.get("_full")
    invoke(op, [], op.parse_attrs({"shape": a.shape, "value": 1.0}), out=a, ctx=a.context, req=REQ_ADD)
    np.testing.assert_array_equal(a.asnumpy(), np.broadcast_to(np.arange(4.0) + 1, (3, 4)))
    with pytest.raises(mx.MXNetError, match="cannot assign"):
        a[:] = np.ones(5)


def test_ops_without_a_cuda_kernel_say_so():
    # RROIAlign is CPU-only in MXNet 1.9.1 too (no rroi_align.cu).
    with pytest.raises(mx.MXNetError, match="_contrib_RROIAlign: not implemented on gpu"):
        mx.nd.contrib.RROIAlign(mx.nd.ones((1, 1, 4, 4), ctx=mx.gpu(0)), mx.nd.zeros((1, 6), ctx=mx.gpu(0)),
                                pooled_size=(2, 2), spatial_scale=1.0).wait_to_read()


def test_sparse_dot_runs_on_the_gpu():
    dense = np.array([[1, 0, 2], [0, 0, 3], [4, 5, 0]], np.float32)
    csr = mx.nd.sparse.csr_matrix(dense, ctx=mx.gpu(0))
    rhs = np.arange(6, dtype=np.float32).reshape(3, 2)
    out = mx.nd.sparse.dot(csr, mx.nd.array(rhs, ctx=mx.gpu(0)), transpose_a=True)
    assert out.context == mx.gpu(0)
    np.testing.assert_allclose(out.asnumpy(), dense.T @ rhs)


@pytest.mark.parametrize("kind,kwargs", [("sum", {"axis": 1}), ("mean", {"axis": (0, 1), "keepdims": True}),
                                         ("max", {}), ("prod", {"axis": 0, "exclude": True}), ("min", {"axis": -1}),
                                         ("nansum", {"axis": 0})])
def test_reductions_on_gpu_match_cpu(kind, kwargs):
    fn = getattr(mx.nd, kind)
    got = fn(mx.nd.array(X, ctx=mx.gpu(0)), **kwargs)
    want = fn(mx.nd.array(X, ctx=mx.cpu()), **kwargs)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-6)


# NumPy keys of X, basic (strided windows on the device) and advanced (positions computed on the host)
KEYS = {
    "int": 1, "negative_int": -1, "all_ints": (1, -2), "steps": (slice(None, None, -2), slice(1, None)),
    "none_ellipsis": (None, Ellipsis, 2), "int_array": [2, 0, 2], "arrays": ([0, 2, 2], [3, -1, 3]),
    "slice_and_array": (slice(None), [1, 1, 0]), "bool_mask": np.array([True, False, True]),
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_gpu_getitem_matches_numpy(name):
    got = mx.nd.array(X, ctx=mx.gpu(0))[KEYS[name]]
    want = X[KEYS[name]]
    assert got.context == mx.gpu(0)
    np.testing.assert_array_equal(got.asnumpy(), want.reshape(1) if want.ndim == 0 else want)


@pytest.mark.parametrize("name", sorted(KEYS))
def test_gpu_getitem_gradient_adds_at_the_key(name):
    a = mx.nd.array(X, ctx=mx.gpu(0))
    a.attach_grad()
    with mx.autograd.record():
        y = a[KEYS[name]]
    head = np.arange(1, y.size + 1, dtype=np.float32).reshape(y.shape)
    y.backward(mx.nd.array(head, ctx=mx.gpu(0)))
    want = np.zeros_like(X)
    np.add.at(want, KEYS[name], head.reshape(X[KEYS[name]].shape))  # repeated positions add up
    np.testing.assert_array_equal(a.grad.asnumpy(), want)


@pytest.mark.parametrize("name", sorted(KEYS))
@pytest.mark.parametrize("value", ["scalar", "ndarray", "row"])
def test_gpu_setitem_matches_numpy(name, value):
    key = KEYS[name]
    want = X.copy()
    target = want[key].shape
    values = {"scalar": -2.5, "ndarray": np.arange(np.prod(target), dtype=np.float32).reshape(target) + 10,
              "row": np.arange(target[-1], dtype=np.float32) - 5 if target else np.float32(-5)}[value]
    want[key] = values  # repeated positions keep the last value
    a = mx.nd.array(X, ctx=mx.gpu(0))
    a[key] = mx.nd.array(values, ctx=mx.gpu(0)) if value == "ndarray" else values
    np.testing.assert_array_equal(a.asnumpy(), want)


def test_gpu_setitem_casts_reads_itself_and_keeps_the_last_repeat():
    a = mx.nd.array(XI, ctx=mx.gpu(0), dtype="int32")
    a[0] = 2.7  # truncated, as NumPy assigns a float to int32
    a[::-1] = a  # reads a copy of what it overwrites
    a[[1, 1], [0, 0]] = np.array([5, 6])
    want = XI.copy()
    want[0] = 2.7
    want[::-1] = want.copy()
    want[1, 0] = 6
    np.testing.assert_array_equal(a.asnumpy(), want)


def test_import_does_not_load_numba_cuda():
    code = "import sys, mxcy; mxcy.nd.zeros((2,)) + 1; print('numba.cuda' in sys.modules)"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=root))
    assert res.stdout.strip() == "False", res.stderr
