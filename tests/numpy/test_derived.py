"""mx.np's functions written on other mx.np functions, against NumPy on drawn inputs (float64 references)."""
import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mxcy as mx
from mxcy import np


def _args(module, values):
    return [module.array(v) if isinstance(v, onp.ndarray) else v for v in values]


# (call on a module, shapes of the float32 arguments drawn); NumPy's answer is the reference
CASES = [
    (lambda m, a, b: m.append(a, b), [(2, 3), (2, 3)]),
    (lambda m, a, b: m.append(a, b, axis=0), [(2, 3), (1, 3)]),
    (lambda m, a: m.atleast_1d(a), [()]),
    (lambda m, a: m.atleast_2d(a), [(3,)]),
    (lambda m, a: m.atleast_3d(a), [(2, 3)]),
    (lambda m, a: m.atleast_3d(a), [(3,)]),
    (lambda m, a, b: m.broadcast_arrays(a, b)[0], [(2, 1), (1, 3)]),
    (lambda m, a, b: m.column_stack([a, b]), [(3,), (3, 2)]),
    (lambda m, a, b: (m.row_stack if m is np else m.vstack)([a, b]), [(3,), (2, 3)]),
    (lambda m, a, b: m.dstack([a, b]), [(2, 3), (2, 3)]),
    (lambda m, a: m.hsplit(a, 3)[1], [(2, 6)]),
    (lambda m, a: m.vsplit(a, [1])[1], [(4, 2)]),
    (lambda m, a: m.dsplit(a, 2)[0], [(1, 2, 4)]),
    (lambda m, a: m.fliplr(a), [(2, 3)]),
    (lambda m, a: m.flipud(a), [(2, 3)]),
    (lambda m, a: m.roll(a, 2), [(2, 3)]),
    (lambda m, a: m.roll(a, -1, axis=1), [(2, 3)]),
    (lambda m, a: m.roll(a, (1, 2), axis=(0, 1)), [(2, 3)]),
    (lambda m, a: m.rot90(a), [(2, 3)]),
    (lambda m, a: m.rot90(a, 2), [(2, 3)]),
    (lambda m, a: m.rot90(a, 3, axes=(1, 2)), [(2, 3, 4)]),
    (lambda m, a: m.resize(a, (3, 3)), [(2, 2)]),
    (lambda m, a: m.diff(a), [(2, 5)]),
    (lambda m, a: m.diff(a, n=2, axis=0), [(4, 3)]),
    (lambda m, a: m.diff(a, prepend=0.0, append=1.0), [(5,)]),
    (lambda m, a: m.ediff1d(a), [(2, 3)]),
    (lambda m, a, b: m.outer(a, b), [(3,), (2, 2)]),
    (lambda m, a, b: m.vdot(a, b), [(2, 3), (3, 2)]),
    (lambda m, a, b: m.inner(a, b), [(2, 3), (4, 3)]),
    (lambda m, a, b: m.tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
    (lambda m, a, b: m.tensordot(a, b, axes=([0, 2], [2, 0])), [(2, 3, 4), (4, 5, 2)]),
    (lambda m, a: m.average(a), [(2, 3)]),
    (lambda m, a, w: m.average(a, axis=1, weights=w), [(2, 3), (3,)]),
    (lambda m, a, w: m.average(a, weights=w), [(2, 3), (2, 3)]),
    (lambda m, a: m.tril(a), [(3, 4)]),
    (lambda m, a: m.tril(a, -1), [(2, 3, 3)]),
    (lambda m, a: m.tril(a, 1), [(3,)]),
    (lambda m, a, b: m.copysign(a, b), [(2, 3), (3,)]),
    (lambda m, a: m.copysign(a, -1.0), [(4,)]),
    (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    (lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [(2, 2, 3), (2, 3, 2)]),
    (lambda m, a, b: m.einsum("ij,ij->i", a, b), [(2, 3), (2, 3)]),
    (lambda m, a, b, c: m.einsum("ij,jk,ik", a, b, c), [(2, 3), (3, 4), (2, 4)]),
    (lambda m, a, b: m.einsum("i,j", a, b), [(2,), (3,)]),
    (lambda m, a: m.einsum("ijk->kji", a), [(2, 3, 4)]),
    (lambda m, a: m.einsum("ij->", a), [(2, 3)]),
    (lambda m, a: m.trace(a), [(3, 3)]),
    (lambda m, a: m.trace(a, offset=1), [(3, 4)]),
    (lambda m, a: m.diagonal(a, 1, 1, 2), [(2, 3, 3)]),
    (lambda m, a: m.diag(a), [(3,)]),
    (lambda m, a: m.diag(a, k=-1), [(3, 3)]),
    (lambda m, a: m.diagflat(a, 1), [(2, 2)]),
    (lambda m, a, b: m.hypot(a, b), [(2, 3), (3,)]),
    (lambda m, a, b: m.arctan2(a, b), [(2, 3), (2, 3)]),
    (lambda m, a: m.arctan2(a, 1.5), [(4,)]),
    (lambda m, a: m.ldexp(a, 3), [(4,)]),
    (lambda m, a: m.logical_not(a > 0), [(2, 3)]),
    (lambda m, a, b: m.meshgrid(a, b)[0], [(3,), (2,)]),
    (lambda m, a, b: m.meshgrid(a, b, indexing="ij")[1], [(3,), (2,)]),
    (lambda m, a, b: m.polyval(a, b), [(3,), (4,)]),
    (lambda m, a: (m.product if m is np else m.prod)(a, axis=0), [(2, 3)]),  # NumPy 2 dropped product, sometrue
    (lambda m, a: (m.sometrue if m is np else m.any)(a > 0), [(2, 3)]),
]


@settings(max_examples=4, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("call, shapes", CASES)
def test_derived_functions_as_numpy(call, shapes, data):
    values = [data.draw(hnp.arrays(onp.float32, s, elements=st.floats(-2, 2, width=32).filter(lambda v: v != 0)))
              for s in shapes]
    result = call(np, *_args(np, values))
    expected = call(onp, *[v.astype(onp.float64) for v in values])
    assert type(result) is np.ndarray and result.shape == onp.shape(expected)
    onp.testing.assert_allclose(result.asnumpy().astype(onp.float64), expected, rtol=1e-5, atol=1e-5)


def test_nan_and_inf_tests_and_replacement():
    values = onp.array([1.0, onp.nan, onp.inf, -onp.inf, -2.0], dtype=onp.float32)
    x = np.array(values)
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf"):
        result = getattr(np, name)(x)
        assert result.dtype == onp.bool_ and result.asnumpy().tolist() == getattr(onp, name)(values).tolist()
    assert np.isnan(np.array([1, 2], dtype="int32")).asnumpy().tolist() == [False, False]
    onp.testing.assert_array_equal(np.nan_to_num(x).asnumpy(), onp.nan_to_num(values))
    onp.testing.assert_array_equal(np.nan_to_num(x, nan=5.0, posinf=9.0, neginf=-9.0).asnumpy(),
                                   onp.nan_to_num(values, nan=5.0, posinf=9.0, neginf=-9.0))
    assert np.nan_to_num(x, copy=False) is x and not onp.isnan(x.asnumpy()).any()


def test_windows_grids_and_indices_as_numpy():
    for name in ("hanning", "hamming", "blackman"):
        for size in (0, 1, 6):
            onp.testing.assert_allclose(getattr(np, name)(size).asnumpy(), getattr(onp, name)(size), atol=1e-6)
    onp.testing.assert_allclose(np.logspace(0, 2, 5).asnumpy(), onp.logspace(0, 2, 5), rtol=1e-5)
    onp.testing.assert_allclose(np.logspace(1, 3, 3, base=2.0).asnumpy(), onp.logspace(1, 3, 3, base=2.0))
    onp.testing.assert_array_equal(np.indices((2, 3)).asnumpy(), onp.indices((2, 3)))
    coordinates = np.unravel_index(np.array([1, 5, 7], dtype="int64"), (2, 4))
    assert [c.asnumpy().tolist() for c in coordinates] == [list(c) for c in onp.unravel_index([1, 5, 7], (2, 4))]
    assert [i.asnumpy().tolist() for i in np.diag_indices_from(np.ones((3, 3)))] == [[0, 1, 2]] * 2
    assert np.invert(np.array([1, -3], dtype="int32")).asnumpy().tolist() == onp.invert([1, -3]).tolist()


def test_memory_sharing():
    a = np.zeros((4, 4))
    assert np.shares_memory(a, a[1]) and np.may_share_memory(a, a.reshape(-1))
    assert not np.shares_memory(a, a.copy())
    with pytest.raises(TypeError, match="mx.np arrays"):
        np.shares_memory(a, onp.zeros(2))


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="shape mismatch"):
        np.tensordot(np.ones((2, 3)), np.ones((2, 3)), axes=1)
    with pytest.raises(ValueError, match="weights"):
        np.average(np.ones((2, 3)), weights=np.ones((2,)))
    with pytest.raises(ValueError, match="equal length"):
        np.diag_indices_from(np.ones((2, 3)))
    with pytest.raises(TypeError, match="invert"):
        np.invert(np.ones((2,)))
    with pytest.raises(NotImplementedError, match="repeated"):
        np.einsum("ii", np.ones((2, 2)))
    with pytest.raises(ValueError, match="do not fit"):
        np.einsum("ij->i", np.ones((2,)))
    with pytest.raises(mx.MXNetError, match="indexing"):
        np.meshgrid(np.ones((2,)), indexing="yx")


def test_copysign_reads_the_sign_of_zeros():
    signs = onp.array([-0.0, 0.0, -1.0, 2.0], dtype=onp.float32)
    assert np.copysign(np.ones((4,)), np.array(signs)).asnumpy().tolist() == onp.copysign(1.0, signs).tolist()


def test_arctan2_on_the_axes_as_numpy():
    y = onp.array([1.0, -1.0, 0.0, 0.0, 2.0, -2.0, 0.0], dtype=onp.float32)
    x = onp.array([0.0, 0.0, 0.0, -1.0, -1.0, -1.0, 3.0], dtype=onp.float32)
    onp.testing.assert_allclose(np.arctan2(np.array(y), np.array(x)).asnumpy(), onp.arctan2(y, x), rtol=1e-6)
