"""cumsum, histogram, amp_cast / amp_multicast, fill_element_0index, contrib index_copy / isfinite / isinf / isnan
/ allclose and reset_arrays: OpSpecs against NumPy float64 references, MXNet 1.9.1's printed values and errors."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

NO_GRAD = "MXNet 1.9.1 registers no gradient for it (integer-valued or a check)"
NO_SPEC = {"reset_arrays": "no outputs (it zeroes its inputs in place); test_reset_arrays_zeroes_every_input checks it"}


def _shape(rng, low=1):
    return tuple(int(d) for d in rng.integers(low, 4, size=int(rng.integers(1, 4))))


def _make_cumsum(rng):
    x = rng.uniform(-2, 2, _shape(rng))
    return [x], ({} if rng.integers(2) else {"axis": int(rng.integers(-x.ndim, x.ndim))})


def _cumsum(a, axis=None):
    return np.cumsum(a, axis=axis)


def _cumsum_from_the_end(ograd, axis=None):
    flat = ograd.reshape(-1) if axis is None else ograd
    axis = 0 if axis is None else axis
    return np.flip(np.cumsum(np.flip(flat, axis), axis), axis)


def _make_histogram(count):
    def make(rng):
        x = rng.uniform(-1, 3, _shape(rng))
        if count:
            return [x], {"bin_cnt": int(rng.integers(1, 5)), "range": (0.0, 2.0)}
        return [x, np.sort(rng.uniform(-1, 3, int(rng.integers(2, 5))))], {}
    return make


def _histogram(data, bins=None, bin_cnt=None, range=None):  # noqa: A002 -- MXNet's argument name
    counts, edges = np.histogram(data, bins=bin_cnt if bins is None else bins, range=range)
    return counts, edges


def _make_amp_cast(rng):
    return [rng.uniform(-2, 2, _shape(rng))], {"dtype": "float32"}


def _make_multicast(rng):
    n = int(rng.integers(1, 4))
    return [rng.uniform(-2, 2, _shape(rng)) for _ in range(n)], {"num_outputs": n}


def _make_fill_element(rng):
    n, m = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return [rng.uniform(-2, 2, (n, m)), rng.uniform(-2, 2, n), rng.integers(0, m, n).astype(np.float64)], {}


def _fill_element(lhs, mhs, rhs):
    out = lhs.copy()
    out[np.arange(len(rhs)), rhs.astype(int)] = mhs
    return out


def _make_index_copy(rng):
    old = rng.uniform(-2, 2, _shape(rng))
    index = rng.permutation(old.shape[0])[:int(rng.integers(1, old.shape[0] + 1))]
    return [old, index.astype(np.float64), rng.uniform(-2, 2, (len(index),) + old.shape[1:])], {}


def _index_copy(old, index, new):
    out = old.copy()
    out[index.astype(int)] = new
    return out


def _make_special(rng):
    x = rng.uniform(-2, 2, _shape(rng))
    x.reshape(-1)[rng.integers(0, 2, x.size).astype(bool)] = rng.choice([np.inf, -np.inf, np.nan])
    return [x], {}


def _make_allclose(rng):
    a = rng.uniform(-2, 2, _shape(rng))
    b = a + rng.choice([0, 1e-9, 1e-3]) * rng.standard_normal(a.shape)
    if rng.integers(2):
        a.reshape(-1)[0] = b.reshape(-1)[0] = np.nan
    return [a, b], {"equal_nan": bool(rng.integers(2))}


SPECS = [
    OpSpec("_np_cumsum", _make_cumsum, _cumsum),
    OpSpec("_backward_np_cumsum", _make_cumsum, _cumsum_from_the_end),
    OpSpec("_histogram", _make_histogram(True), _histogram, grad=False, why=NO_GRAD),
    OpSpec("_histogram", _make_histogram(False), _histogram, grad=False, why=NO_GRAD),
    OpSpec("amp_cast", _make_amp_cast, lambda x, dtype: x),
    OpSpec("amp_multicast", _make_multicast, lambda *a, num_outputs: a),
    OpSpec("fill_element_0index", _make_fill_element, _fill_element, grad=False, why=NO_GRAD),
    OpSpec("_contrib_index_copy", _make_index_copy, _index_copy, grad_inputs=(0, 2)),
    OpSpec("_contrib_isfinite", _make_special, lambda x: np.isfinite(x).astype(np.float64), grad=False, why=NO_GRAD),
    OpSpec("_contrib_isinf", _make_special, lambda x: np.isinf(x).astype(np.float64), grad=False, why=NO_GRAD),
    OpSpec("_contrib_isnan", _make_special, lambda x: np.isnan(x).astype(np.float64), grad=False, why=NO_GRAD),
    OpSpec("_contrib_allclose", _make_allclose,
           lambda a, b, equal_nan: np.array(np.allclose(a, b, 1e-5, 1e-8, equal_nan), np.uint8), grad=False,
           why=NO_GRAD),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def test_values_printed_by_mxnet():
    counts, edges = mx.nd._internal._histogram(mx.nd.array([[0, 1], [2, 2], [3, 4]]), bin_cnt=5, range=(0, 5))
    assert counts.dtype == np.int64 and counts.asnumpy().tolist() == [1, 1, 2, 1, 1]
    assert edges.asnumpy().tolist() == [0, 1, 2, 3, 4, 5]
    counts, edges = mx.nd._internal._histogram(mx.nd.array([[0, 1], [2, 2], [3, 4]]), mx.nd.array([0, 2.1, 3]))
    assert counts.asnumpy().tolist() == [4, 1]
    summed = mx.nd.cumsum(mx.nd.array([[1, 2], [3, 4]], dtype="int32"))
    assert summed.dtype == np.int32 and summed.asnumpy().tolist() == [1, 3, 6, 10]
    assert mx.nd.fill_element_0index(mx.nd.arange(6).reshape((2, 3)), mx.nd.array([7, 8]),
                                     mx.nd.array([2, 0])).asnumpy().tolist() == [[0, 1, 7], [8, 4, 5]]
    assert mx.nd.contrib.index_copy(mx.nd.zeros((4, 2)), mx.nd.array([3, 0]), mx.nd.ones((2, 2))).asnumpy().tolist() \
        == [[1, 1], [0, 0], [0, 0], [1, 1]]
    close = mx.nd.contrib.allclose(mx.nd.array([1, np.nan]), mx.nd.array([1, np.nan]))
    assert close.shape == () and close.dtype == np.uint8 and close.asscalar() == 1
    special = mx.nd.array([1, np.inf, np.nan])
    assert mx.nd.contrib.isfinite(special).asnumpy().tolist() == [1, 0, 0]
    assert mx.nd.contrib.isinf(special).asnumpy().tolist() == [0, 1, 0]
    assert mx.nd.choose_element_0index(mx.nd.array([[1, 2], [3, 4]]), mx.nd.array([1, 0])).asnumpy().tolist() == [2, 3]


def test_amp_casts_only_float16_and_float32():
    assert mx.nd.amp_cast(mx.nd.ones(2, dtype="int32"), dtype="float16").dtype == np.int32
    assert mx.nd.amp_cast(mx.nd.ones(2), dtype="float16").dtype == np.float16
    wide = mx.nd.amp_multicast(mx.nd.ones(2, dtype="float16"), mx.nd.ones(2), mx.nd.ones(2, dtype="int32"),
                               num_outputs=3)
    assert [w.dtype for w in wide] == [np.float32, np.float32, np.int32]
    narrow = mx.nd.amp_multicast(mx.nd.ones(2, dtype="float16"), mx.nd.ones(2), num_outputs=2, cast_narrow=True)
    assert [w.dtype for w in narrow] == [np.float16, np.float16]
    x = mx.nd.ones(2, dtype="float16")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.amp_cast(x, dtype="float32")
    y.backward(mx.nd.array([2, 3]))
    assert x.grad.dtype == np.float16 and x.grad.asnumpy().tolist() == [2, 3]


CONTEXTS = [mx.cpu(), pytest.param(mx.gpu(0), marks=pytest.mark.cuda)]


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_reset_arrays_zeroes_every_input(ctx):
    x, y = mx.nd.array([1.0, 2.0], ctx=ctx), mx.nd.array([[3, 4]], ctx=ctx, dtype="int32")
    mx.nd.reset_arrays(x, y, num_arrays=2)
    assert x.asnumpy().tolist() == [0, 0] and y.asnumpy().tolist() == [[0, 0]]


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.reset_arrays(mx.nd.ones(2), num_arrays=2), r"reset_arrays.*'array_1' is missing"),
    (lambda: mx.nd.cumsum(mx.nd.ones((2, 3)), axis=2), r"_np_cumsum.*axis 2 is out of range"),
    (lambda: mx.nd._internal._histogram(mx.nd.ones(3), bin_cnt=2), r"_histogram.*range"),
    (lambda: mx.nd._internal._histogram(mx.nd.ones(3), mx.nd.ones(1)), r"_histogram.*at least 2 edges"),
    (lambda: mx.nd.fill_element_0index(mx.nd.ones((2, 3)), mx.nd.ones(2), mx.nd.array([0, 3])),
     r"fill_element_0index.*out of range \[0, 3\)"),
    (lambda: mx.nd.fill_element_0index(mx.nd.ones((2, 3)), mx.nd.ones(3), mx.nd.ones(2)),
     r"fill_element_0index.*\(2, 3\), \(3,\), \(2,\)"),
    (lambda: mx.nd.contrib.index_copy(mx.nd.ones((3, 2)), mx.nd.array([0]), mx.nd.ones((1, 3))),
     r"_contrib_index_copy.*new_tensor \(1, 3\)"),
    (lambda: mx.nd.contrib.index_copy(mx.nd.ones((3, 2)), mx.nd.array([5]), mx.nd.ones((1, 2))),
     r"_contrib_index_copy.*out of range \[0, 3\)"),
    (lambda: mx.nd.contrib.allclose(mx.nd.ones(2), mx.nd.ones(3)), r"_contrib_allclose.*same shape"),
])
def test_bad_input_raises_naming_op(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call().wait_to_read()


@pytest.mark.parametrize("ctx", CONTEXTS)
@pytest.mark.parametrize("call,match", [
    (lambda c: mx.nd.fill_element_0index(mx.nd.ones((2, 3), ctx=c), mx.nd.ones(2, ctx=c), mx.nd.array([0, 3], ctx=c)),
     r"fill_element_0index.*out of range \[0, 3\)"),
    (lambda c: mx.nd.contrib.index_copy(mx.nd.ones((3, 2), ctx=c), mx.nd.array([-1], ctx=c), mx.nd.ones((1, 2), ctx=c)),
     r"_contrib_index_copy.*out of range \[0, 3\)"),
    (lambda c: mx.nd._internal._histogram(mx.nd.ones(3, ctx=c), mx.nd.array([0, 2, 1], ctx=c))[0],
     r"_histogram.*bins.* must increase monotonically"),
])
def test_bad_index_and_bin_values_raise_on_either_device(ctx, call, match):
    """Values only the data shows: the GPU computes check them on the host as the CPU's do, rather than writing out
    of bounds or counting wrongly."""
    with pytest.raises(mx.MXNetError, match=match):
        call(ctx).wait_to_read()


def test_histogram_function_takes_a_bin_count_or_edges():
    data = mx.nd.array([[0, 1], [2, 2], [3, 4]])
    counts, edges = mx.nd.histogram(data, bins=5, range=(0, 5))
    assert counts.asnumpy().tolist() == [1, 1, 2, 1, 1] and edges.asnumpy().tolist() == [0, 1, 2, 3, 4, 5]
    counts, _ = mx.nd.histogram(data, bins=mx.nd.array([0, 2.1, 3]))
    assert counts.asnumpy().tolist() == [4, 1]
    with pytest.raises(mx.MXNetError, match="histogram: range"):
        mx.nd.histogram(data, bins=5)
    counts, edges = mx.sym.histogram(a=mx.sym.var("d"), bins=mx.sym.var("e")).bind(
        mx.cpu(), {"d": data, "e": mx.nd.array([0, 2.1, 3])}).forward()
    assert counts.asnumpy().tolist() == [4, 1] and edges.asnumpy().tolist() == pytest.approx([0, 2.1, 3])


def test_boolean_mask_keeps_rows_where_index_is_nonzero():
    """Values printed by MXNet 1.9.1; the gradient reaches the kept rows only."""
    x = mx.nd.array([[1, 2], [3, 4], [5, 6]])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.boolean_mask(x, mx.nd.array([0, 1, 1]))
    y.backward(mx.nd.array([[1, 2], [3, 4]]))
    assert y.asnumpy().tolist() == [[3, 4], [5, 6]]
    assert x.grad.asnumpy().tolist() == [[0, 0], [1, 2], [3, 4]]
    assert mx.nd.contrib.boolean_mask(x, mx.nd.zeros(3)).shape == (0, 2)
    with pytest.raises(mx.MXNetError, match=r"boolean_mask: index .* \(3, 2\) and index \(2,\)"):
        mx.nd.contrib.boolean_mask(x, mx.nd.ones(2))
