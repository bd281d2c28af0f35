"""NDArray semantics: creation and dtype rules, properties, operators, in-place forms, errors."""
import operator
import pickle

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import mxcy as mx

finite = st.floats(-100, 100, allow_nan=False, width=32)


@st.composite
def broadcastable(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=4))
    a = draw(hnp.arrays(np.float32, shapes.input_shapes[0], elements=finite))
    b = draw(hnp.arrays(np.float32, shapes.input_shapes[1], elements=finite))
    return a, b


def test_array_dtype_rules():
    assert mx.nd.array([1, 2, 3]).dtype == np.float32
    assert mx.nd.array(np.arange(3, dtype=np.float64)).dtype == np.float32  # MXNet's rule
    assert mx.nd.array(np.arange(3), dtype="int64").dtype == np.int64
    src = mx.nd.array([1, 2], dtype="float16")
    assert mx.nd.array(src).dtype == np.float16
    assert mx.nd.array(5).shape == (1,)
    with mx.util.np_shape():  # MXNet 1.9.1: shape (), value 5.0
        scalar = mx.nd.array(5)
        assert scalar.shape == () and scalar.asnumpy() == np.float32(5)


def test_creation_functions():
    assert mx.nd.zeros((2, 3)).asnumpy().tolist() == [[0] * 3] * 2
    assert mx.nd.ones(4, dtype="int32").dtype == np.int32
    assert mx.nd.full((2,), 7).asnumpy().tolist() == [7, 7]
    assert mx.nd.empty((3, 1)).shape == (3, 1)
    assert mx.nd.arange(2, 8, 2, repeat=2).asnumpy().tolist() == [2, 2, 4, 4, 6, 6]
    assert mx.nd.arange(3).asnumpy().tolist() == [0, 1, 2]
    np.testing.assert_allclose(mx.nd.linspace(0, 1, 5).asnumpy(), np.linspace(0, 1, 5))
    np.testing.assert_array_equal(mx.nd.eye(3, 4, 1).asnumpy(), np.eye(3, 4, 1))
    x = mx.nd.array([[1, 2]])
    assert mx.nd.zeros_like(x).asnumpy().tolist() == [[0, 0]]
    assert mx.nd.ones_like(x).asnumpy().tolist() == [[1, 1]]


def test_properties_and_repr():
    a = mx.nd.array(np.arange(6).reshape(2, 3))
    assert (a.shape, a.ndim, a.size, a.dtype, len(a)) == ((2, 3), 2, 6, np.float32, 2)
    assert a.context == mx.cpu(0) and a.ctx == mx.cpu() and a.stype == "default"
    assert repr(a).endswith("<NDArray 2x3 @cpu(0)>")
    assert a.T.shape == (3, 2)
    assert np.asarray(a).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert mx.nd.array([2.5]).asscalar() == 2.5
    with pytest.raises(ValueError):
        a.asscalar()
    with pytest.raises(ValueError):
        bool(a)
    assert bool(mx.nd.array([1])) and not bool(mx.nd.array([0]))


def test_conversion_and_copies():
    a = mx.nd.array([1.5, 2.5])
    b = a.astype("int32")
    assert b.dtype == np.int32 and b.asnumpy().tolist() == [1, 2]
    assert a.astype("float32", copy=False) is a
    c = a.copy()
    c[:] = 0
    assert a.asnumpy().tolist() == [1.5, 2.5]
    d = mx.nd.zeros((2,))
    a.copyto(d)
    assert d.asnumpy().tolist() == [1.5, 2.5]
    assert a.as_in_context(mx.cpu()) is a
    e = pickle.loads(pickle.dumps(a))
    assert e.asnumpy().tolist() == [1.5, 2.5]
    with pytest.raises(mx.MXNetError, match="shape"):
        a.copyto(mx.nd.zeros((3,)))


OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.mod,
       operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


def _mxnet_expected(op, a, b):
    with np.errstate(all="ignore"):
        if op is operator.mod:
            return np.where(b == 0, 0, np.mod(a, b)).astype(np.float32)
        return op(a, b).astype(np.float32)


@pytest.mark.parametrize("op", OPS, ids=lambda f: f.__name__)
@given(pair=broadcastable())
def test_binary_operators_broadcast_like_numpy(op, pair):
    a, b = pair
    if op is operator.pow:
        a = np.abs(a) + 0.5
        b = np.clip(b, -3, 3)
    got = op(mx.nd.array(a), mx.nd.array(b)).asnumpy()
    np.testing.assert_allclose(got, _mxnet_expected(op, a, b), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op", OPS, ids=lambda f: f.__name__)
@given(a=hnp.arrays(np.float32, hnp.array_shapes(max_dims=3, max_side=4), elements=finite),
       s=st.floats(0.5, 4))
def test_scalar_operators_both_sides(op, a, s):
    if op is operator.pow:
        a = np.abs(a) + 0.5
    x = mx.nd.array(a)
    np.testing.assert_allclose(op(x, s).asnumpy(), _mxnet_expected(op, a, np.float32(s)), rtol=1e-5, atol=1e-5)
    if op not in (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge):
        np.testing.assert_allclose(op(s, x).asnumpy(), _mxnet_expected(op, np.float32(s), a),
                                   rtol=1e-5, atol=1e-4)


def test_comparison_gives_input_dtype():
    a = mx.nd.array([1, 2, 3], dtype="int32")
    r = a > 1
    assert r.dtype == np.int32 and r.asnumpy().tolist() == [0, 1, 1]


@pytest.mark.parametrize("name", ["__iadd__", "__isub__", "__imul__", "__itruediv__", "__imod__"])
def test_inplace_operators_write_the_same_array(name):
    a = mx.nd.array([[4.0, 5.0], [6.0, 7.0]])
    keep = a
    data = a._data
    result = getattr(a, name)(mx.nd.array([2.0, 3.0]))
    assert result is keep and a._data is data
    expected = getattr(np.array([[4.0, 5.0], [6.0, 7.0]], np.float32), name)(np.array([2.0, 3.0], np.float32))
    np.testing.assert_allclose(a.asnumpy(), expected, rtol=1e-6)


def test_unary_operators():
    a = mx.nd.array([-1.5, 2.0])
    assert (-a).asnumpy().tolist() == [1.5, -2.0]
    assert abs(a).asnumpy().tolist() == [1.5, 2.0]
    assert (a // 1).asnumpy().tolist() == [-2.0, 2.0]
    assert (7 // mx.nd.array([2.0])).asnumpy().tolist() == [3.0]


def test_methods_forward_to_ops():
    a = mx.nd.array([[0.5, 1.0]])
    np.testing.assert_allclose(a.exp().asnumpy(), np.exp([[0.5, 1.0]]), rtol=1e-6)
    np.testing.assert_allclose(a.sqrt().asnumpy(), np.sqrt([[0.5, 1.0]]), rtol=1e-6)


def test_errors_name_op_and_shapes():
    with pytest.raises(mx.MXNetError, match=r"broadcast_add.*\(2, 3\).*\(4,\)"):
        mx.nd.ones((2, 3)) + mx.nd.ones((4,))
    with pytest.raises(mx.MXNetError, match="elemwise_add"):
        mx.nd.elemwise_add(mx.nd.ones((2,)), mx.nd.ones((3,)))
    with pytest.raises(mx.MXNetError, match="unknown dtype|unsupported dtype"):
        mx.nd.zeros((2,), dtype="complex64")
    with pytest.raises(mx.MXNetError, match="unknown dtype"):
        mx.nd.zeros((2,), dtype="nonsense")
    with pytest.raises(mx.MXNetError, match=r"out= has shape \(3,\)"):
        mx.nd.exp(mx.nd.ones((2,)), out=mx.nd.zeros((3,)))
    with pytest.raises(mx.MXNetError, match="out= has dtype"):
        mx.nd.exp(mx.nd.ones((2,)), out=mx.nd.zeros((2,), dtype="float64"))
    with pytest.raises(mx.MXNetError, match="dtype"):
        mx.nd.ones((2,)) + mx.nd.ones((2,), dtype="float64")
    with pytest.raises(mx.MXNetError, match="unknown argument 'bogus'"):
        mx.nd.exp(mx.nd.ones((2,)), bogus=1)


def test_out_argument_writes_into_given_array():
    out = mx.nd.zeros((2,))
    r = mx.nd.exp(mx.nd.array([0.0, 1.0]), out=out)
    assert r is out
    np.testing.assert_allclose(out.asnumpy(), np.exp([0.0, 1.0]), rtol=1e-6)


def test_reshape_codes():
    a = mx.nd.zeros((2, 3, 4))
    cases = {(4, 0, 2): (4, 3, 2), (0, -1): (2, 12), (-2,): (2, 3, 4), (-3, 4): (6, 4),
             (-4, 1, 2, -2): (1, 2, 3, 4), (2, -4, -1, 3, 4): (2, 1, 3, 4), (-1,): (24,)}
    for codes, shape in cases.items():
        assert a.reshape(codes).shape == shape, codes
        assert mx.nd.reshape(a, shape=codes).shape == shape, codes
    assert mx.nd.zeros((10, 5, 4)).reshape((-1, 0), reverse=True).shape == (50, 4)
    for bad in [(5, -1, -1), (7,), (-4, 5, -1, 0, 0)]:
        with pytest.raises(mx.MXNetError, match="reshape"):
            a.reshape(bad)


def test_reshape_is_a_view_sharing_writes():
    a = mx.nd.zeros((2, 3))
    v = a.reshape((6,))
    v[:] = 3
    assert a.asnumpy().tolist() == [[3] * 3] * 2


def test_context_scoping():
    assert mx.current_context() == mx.cpu(0)
    with mx.Context("cpu", 1):
        assert mx.nd.zeros((1,)).context == mx.cpu(1)
        assert mx.current_context() == mx.cpu(1)
    assert mx.current_context() == mx.cpu(0)
    assert str(mx.gpu(2)) == "gpu(2)" and mx.gpu(1) != mx.cpu(1)
    with pytest.raises(mx.MXNetError, match="device_type"):
        mx.Context("tpu")


def test_runtime_features():
    features = mx.runtime.Features()
    assert features.is_enabled("CPU_KERNELS_NUMBA")
    assert features.is_enabled("CUDA") == (mx.num_gpus() > 0)
    with pytest.raises(RuntimeError):
        features.is_enabled("NOT_A_FEATURE")


def test_split_v2_sections_and_indices():
    x = mx.nd.arange(6)
    assert [p.asnumpy().tolist() for p in mx.nd.split_v2(x, 3)] == [[0, 1], [2, 3], [4, 5]]
    assert [p.asnumpy().tolist() for p in mx.nd.split_v2(x, (1, 4))] == [[0], [1, 2, 3], [4, 5]]


_FUNCS = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
          "maximum": np.maximum, "minimum": np.minimum, "power": np.power, "greater": np.greater,
          "lesser_equal": np.less_equal, "not_equal": np.not_equal, "logical_xor": np.logical_xor}


@pytest.mark.parametrize("name", sorted(_FUNCS))
@given(pair=broadcastable(), s=st.floats(0.5, 3))
def test_module_level_binary_functions_take_arrays_or_scalars(name, pair, s):
    fn, ref = getattr(mx.nd, name), _FUNCS[name]
    a, b = np.abs(pair[0]) + 0.5, np.abs(pair[1]) + 0.5
    s = np.float32(s)
    with np.errstate(all="ignore"):
        for got, want in ((fn(mx.nd.array(a), mx.nd.array(b)), ref(a, b)),
                          (fn(mx.nd.array(a), float(s)), ref(a, s)),
                          (fn(float(s), mx.nd.array(b)), ref(s, b))):
            np.testing.assert_allclose(got.asnumpy(), want.astype(np.float32), rtol=1e-5, atol=1e-5)
    assert fn(2.0, 3.0) == ref(2.0, 3.0)
    with pytest.raises(mx.MXNetError, match=name):
        fn("x", mx.nd.ones((1,)))


def test_squeeze_method_takes_mxnets_inplace_flag():
    x = mx.nd.ones((3, 1, 2, 1))
    assert x.squeeze().shape == (3, 2) and x.squeeze(axis=1, inplace=True).shape == (3, 2, 1)
    view = x.squeeze(inplace=True)
    view[:] = 5  # inplace=True shares x's buffer, as in MXNet
    np.testing.assert_array_equal(x.asnumpy(), np.full((3, 1, 2, 1), 5))
    assert mx.sym.var("a").squeeze(inplace=True).infer_shape(a=(3, 1, 2))[1] == [(3, 2)]


def test_slice_assign_writes_the_leading_axes_in_place():
    base = np.arange(24.0).reshape(2, 3, 4)
    a = mx.nd.array(base)
    assert a.slice_assign(mx.nd.ones((1, 2, 4)), (1, None), (2, 3), (None, 2)) is a
    expected = base.copy()
    expected[1:2, ::2] = 1
    np.testing.assert_array_equal(a.asnumpy(), expected)
    a.slice_assign_scalar(-3.0, (0,), (1,), ())
    expected[0:1] = -3
    np.testing.assert_array_equal(a.asnumpy(), expected)
    with pytest.raises(mx.MXNetError, match="one entry per axis"):
        a.slice_assign_scalar(1.0, (0, 0), (1,), ())


def test_split_v2_method_and_np_conversions():
    a = mx.nd.array(np.arange(12.0).reshape(3, 4))
    parts = a.split_v2((1, 3), axis=1)
    for part, ref in zip(parts, np.split(np.arange(12.0).reshape(3, 4), (1, 3), axis=1)):
        np.testing.assert_array_equal(part.asnumpy(), ref)
    assert a.as_nd_ndarray() is a
    as_np = a.as_np_ndarray()
    assert type(as_np) is mx.np.ndarray and as_np.shape == (3, 4) and as_np._var is a._var


def test_mxnet_constructor_and_creation_arguments():
    with pytest.raises(mx.MXNetError, match="C handles"):
        mx.nd.NDArray(handle=object())
    with pytest.raises(mx.MXNetError, match="writable"):
        mx.nd.NDArray(np.zeros(2), writable=False)
    sparse_empty = mx.nd.empty((3, 4), stype="row_sparse")
    assert sparse_empty.stype == "row_sparse" and sparse_empty.shape == (3, 4)
    assert mx.nd.empty((2, 2), stype="default").shape == (2, 2)
    with pytest.raises(mx.MXNetError, match="array_cls"):
        mx.nd.from_numpy(np.zeros(3), array_cls=object)
    np.testing.assert_array_equal(mx.nd.power(base=mx.nd.array([2.0, 3.0]), exp=2).asnumpy(), [4.0, 9.0])
    np.testing.assert_array_equal(mx.nd.power(2, mx.nd.array([1.0, 3.0])).asnumpy(), [2.0, 8.0])


def test_cached_op_call_refuses_unknown_keywords():
    x = mx.sym.var("x")
    op = mx.nd.CachedOp(x * 2)
    np.testing.assert_array_equal(op(mx.nd.ones(2)).asnumpy(), [2.0, 2.0])
    with pytest.raises(TypeError, match="unexpected keyword"):
        op(mx.nd.ones(2), bogus=1)


def test_pickle_state_is_mxnets_raw_bytes():
    # bytes printed by MXNet 1.9.1: mx.nd.array([[1, 2], [3, 4]]).__getstate__()['handle']
    mxnet_bytes = (b"\xc9\xfa\x93\xf9\x00\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00"
                   b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80?\x00\x00"
                   b"\x00@\x00\x00@@\x00\x00\x80@")
    assert bytes(mx.nd.array([[1, 2], [3, 4]]).__getstate__()["handle"]) == mxnet_bytes
    # MXNet's state of mx.nd.arange(1, ctx=mx.gpu()) loads on the CPU (test_ndarray.py of MXNet 1.9.1)
    gpu_state = {"handle": bytearray(b"\xc9\xfa\x93\xf9\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00"
                                     b"\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")}
    restored = mx.nd.arange(3)
    restored.__setstate__(gpu_state)
    assert restored.shape == (1,) and restored.asnumpy().tolist() == [0.0]
    original = mx.nd.array(np.arange(6).reshape(2, 3), dtype="float64")
    again = pickle.loads(pickle.dumps(original))
    assert again.dtype == np.float64 and (again.asnumpy() == original.asnumpy()).all()
    with pytest.raises(mx.MXNetError, match="trailing bytes"):
        restored.__setstate__({"handle": gpu_state["handle"] + b"\x00"})


def test_basic_indexing_slice_is_contiguous_matches_numpy():
    shape = (4, 5, 6)
    x = np.empty(shape)
    for key in [(slice(None),), (slice(1, 3),), (0, slice(1, 3)), (slice(None), slice(0, 1)),
                (slice(None, None, 2),), (0, 0, slice(None, None, -1)), (slice(2, 3), slice(None), slice(None))]:
        assert mx.nd.NDArray._basic_indexing_slice_is_contiguous(key, shape) == x[key].flags.c_contiguous, key


def test_inplace_flatten_and_expand_dims_are_views():
    x = (mx.nd.arange(30) + 1).reshape(2, 3, 5)
    copy, view = x.flatten(), x.flatten(inplace=True)
    expanded = x.expand_dims(axis=-1, inplace=True)
    assert view.shape == (2, 15) and expanded.shape == (2, 3, 5, 1) and x.expand_dims(1).shape == (2, 1, 3, 5)
    x[0] = -1
    assert (view.asnumpy()[0] == -1).all() and (expanded.asnumpy()[0] == -1).all()
    assert (copy.asnumpy()[0] == np.arange(1, 16)).all()


def test_from_numpy_shares_and_locks_the_source():
    source = np.array([[1, 2], [3, 4], [5, 6]], dtype="float32")
    shared = mx.nd.from_numpy(source)
    with pytest.raises(ValueError):
        source[2, 1] = 0  # read-only now, as in MXNet
    shared[2, 1] = 100
    assert shared.asnumpy()[2, 1] == 100 and source[2, 1] == 100
    with pytest.raises(ValueError, match="c-contiguous"):
        mx.nd.from_numpy(np.ones((2, 3)).T)
    again = mx.nd.from_numpy(source)  # a second import of the locked array shares it too (MXNet's test_zero_from_numpy)
    again[0, 0] = -1
    again.wait_to_read()  # two NDArrays over one buffer are two engine variables
    assert shared.asnumpy()[0, 0] == -1 and not source.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        mx.nd.from_numpy(np.frombuffer(bytes(24)))  # memory of an immutable bytes object


def test_creation_functions_write_out():
    out = mx.nd.zeros((2, 2))
    assert mx.nd.ones((2, 2), out=out) is out and (out.asnumpy() == 1).all()
    mx.nd.full((2, 2), 2, out=out)
    assert (out.asnumpy() == 2).all()
    mx.nd.zeros((2, 2), out=out)
    assert (out.asnumpy() == 0).all()
    with pytest.raises(mx.MXNetError, match="shape"):
        mx.nd.ones((3,), out=out)
