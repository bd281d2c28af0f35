"""Update ops on sparse arrays (mxcy/ndarray/sparse_update.py): lazy row updates for row_sparse gradients
against the float64 rules applied to the gradient's rows only, standard updates against the rules on the
densified gradient, csr fallback, and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from tests import optimizer_rules as rules

# (op, rule, number of states, attrs besides lr/wd/rescale_grad/clip_gradient, lazy when weight is dense)
CASES = [
    ("sgd_update", rules.sgd, 0, {}, True),
    ("sgd_mom_update", rules.sgd_mom, 1, {"momentum": 0.9}, True),
    ("adam_update", rules.adam, 2, {"beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8}, True),
    ("ftrl_update", rules.ftrl, 2, {"lamda1": 0.01, "beta": 1.0}, False),  # lazy only when all row_sparse
]


def _rsp_grad(rng, shape, rows):
    g = np.zeros(shape)
    g[rows] = rng.standard_normal((len(rows),) + shape[1:])
    return g


@pytest.mark.parametrize("name,rule,n_states,extra,lazy_dense", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("w_stype", ["default", "row_sparse"])
@pytest.mark.parametrize("lazy_update", [True, False])
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_row_sparse_gradient(name, rule, n_states, extra, lazy_dense, w_stype, lazy_update, seed):
    rng = np.random.default_rng(seed)
    shape = (5, 3)
    rows = np.sort(rng.choice(5, size=int(rng.integers(0, 4)), replace=False))
    w = rng.standard_normal(shape)
    states = [np.abs(rng.standard_normal(shape)) for _ in range(n_states)]
    attrs = dict(extra, lr=0.1, wd=0.05, rescale_grad=0.5, clip_gradient=0.8)
    if name != "ftrl_update":
        attrs["lazy_update"] = lazy_update
    weight = mx.nd.array(w, dtype="float64").tostype(w_stype)
    nd_states = [mx.nd.array(s, dtype="float64").tostype(w_stype) for s in states]
    g = _rsp_grad(rng, shape, rows)
    getattr(mx.nd, name)(weight, mx.nd.array(g, dtype="float64").tostype("row_sparse"), *nd_states,
                         out=weight, **attrs)
    lazy = (lazy_update if name != "ftrl_update" else True) and (lazy_dense or w_stype == "row_sparse")
    new_w, *new_states = rule(w, g, *states, **attrs)
    if lazy:  # rows the gradient does not hold keep weight and states
        keep = np.setdiff1d(np.arange(5), rows)
        for new, old in zip([new_w] + new_states, [w] + states):
            new[keep] = old[keep]
    assert weight.stype == w_stype
    np.testing.assert_allclose(weight.asnumpy(), new_w, rtol=1e-12, atol=1e-12)
    for got, want in zip(nd_states, new_states):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-12, atol=1e-12)


def test_empty_row_sparse_states_start_at_zero():
    w = np.arange(8, dtype=np.float32).reshape(4, 2)
    weight = mx.nd.array(w).tostype("row_sparse")
    mom = mx.nd.zeros((4, 2), stype="row_sparse")
    g = np.zeros((4, 2), np.float32)
    g[2] = 1.0
    mx.nd.sgd_mom_update(weight, mx.nd.array(g).tostype("row_sparse"), mom, out=weight, lr=0.5, momentum=0.9)
    want_w = w.copy()
    want_w[2] -= 0.5
    np.testing.assert_array_equal(weight.asnumpy(), want_w)
    np.testing.assert_array_equal(mom.asnumpy(), -0.5 * g)


def test_csr_inputs_fall_back_to_dense_and_write_back():
    w = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    g = np.array([[0.5, 0.0], [0.0, 0.0]], np.float32)
    weight, mom = mx.nd.array(w).tostype("csr"), mx.nd.array(np.ones((2, 2), np.float32)).tostype("csr")
    mx.nd.sgd_mom_update(weight, mx.nd.array(g).tostype("csr"), mom, out=weight, lr=0.1, momentum=0.5)
    want_w, want_mom = rules.sgd_mom(w.astype(np.float64), g, np.ones((2, 2)), lr=0.1, momentum=0.5)
    assert weight.stype == "csr" and mom.stype == "csr"
    np.testing.assert_allclose(weight.asnumpy(), want_w, rtol=1e-6)
    np.testing.assert_allclose(mom.asnumpy(), want_mom, rtol=1e-6)


def test_errors():
    g = mx.nd.ones((4, 2)).tostype("row_sparse")
    partial = mx.nd.sparse.row_sparse_array((np.ones((1, 2)), [1]), shape=(4, 2))
    with pytest.raises(mx.MXNetError, match="every row of the weight"):
        mx.nd.sgd_update(partial, g, out=partial, lr=0.1)
    with pytest.raises(mx.MXNetError, match="pass out=weight"):
        mx.nd.sgd_update(mx.nd.ones((4, 2)), g, lr=0.1)
    with pytest.raises(mx.MXNetError, match=r"gradient of shape \(3, 2\)"):
        mx.nd.sgd_update(mx.nd.ones((4, 2)), mx.nd.ones((3, 2)).tostype("row_sparse"), lr=0.1)
