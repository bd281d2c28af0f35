"""Every operator through the Symbol layer, driven by the same OpSpec rows as tests/ops: the symbol
function built from the registry infers the shapes and dtypes mx.nd produces, its parameters survive the
trip through JSON strings, and an executor computes what mx.nd computes."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx
from mxcy.ops import registry
from mxcy.ops.invoke import invoke
from mxcy.symbol.register import make_symbol_function
from tests.ops.opspec import collect_specs

# Ops that exist only behind NDArray's own machinery have no Symbol form: the indexing ops take a
# Python key (slices, arrays) as a parameter, the sparse ops take a sparse array's storage parts.
NDARRAY_ONLY = ("mxcy.ops.index", "mxcy.ops.sparse")
SPECS = [s for s in collect_specs()[0] if registry.get(s.name).module not in NDARRAY_ONLY]


def _mode(spec):
    return mx.autograd.train_mode() if spec.train else mx.autograd.predict_mode()


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@given(seed=st.integers(0, 2**32 - 1))
def test_symbol_matches_ndarray(spec, seed):
    op = registry.get(spec.name)
    arrays, attrs = spec.make(np.random.default_rng(seed))
    arrays = [a.astype(spec.dtype) if a.dtype.kind == "f" else a for a in arrays]
    parsed = op.parse_attrs(attrs)
    names = [f"in{i}" for i in range(len(arrays))]
    sym = make_symbol_function(op, spec.name)(*[mx.sym.var(n) for n in names], **attrs)
    restored = mx.sym.load_json(sym.tojson())
    assert restored.tojson() == sym.tojson()

    values = {n: mx.nd.array(a, dtype=a.dtype) for n, a in zip(names, arrays)}
    with _mode(spec):
        # on copies: ops that update inputs in place (the optimizer updates) must see the same values twice
        expected = invoke(op, [v.copy() for v in values.values()], parsed,
                          ctx=mx.cpu())[:op.n_visible_outputs(parsed)]
    _, out_shapes, _ = restored.infer_shape(**{n: a.shape for n, a in zip(names, arrays)})
    _, out_types, _ = restored.infer_type(**{n: a.dtype for n, a in zip(names, arrays)})
    assert out_shapes == [e.shape for e in expected], spec.name
    assert [np.dtype(t) for t in out_types] == [np.dtype(e.dtype) for e in expected], spec.name

    aux = set(restored.list_auxiliary_states())
    exe = restored.bind(mx.cpu(), {n: v for n, v in values.items() if n not in aux}, grad_req="null",
                        aux_states={n: v for n, v in values.items() if n in aux})
    outs = exe.forward(is_train=spec.train)
    if op.random:
        return  # a fresh draw: same shapes and dtypes, other numbers
    for got, want in zip(outs, expected):
        np.testing.assert_allclose(got.asnumpy().astype(np.float64), want.asnumpy().astype(np.float64),
                                   rtol=1e-6, atol=1e-7, err_msg=spec.name)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.grad and not registry.get(s.name).random
                                  and (s.train or not registry.get(s.name).train_aware)], ids=repr)
@given(seed=st.integers(0, 2**32 - 1))
def test_executor_gradients_match_autograd(spec, seed):
    """Also with the op's inputs and outputs as intermediates, so that grad_reads declarations are checked."""
    op = registry.get(spec.name)
    rng = np.random.default_rng(seed)
    arrays, attrs = spec.make(rng)
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    parsed = op.parse_attrs(attrs)
    names = [f"in{i}" for i in range(len(arrays))]
    n_args = len(op.list_arguments(parsed))
    # "+ 0" around the op makes its inputs and outputs intermediates, which the executor lets go of
    # when no gradient reads them (OpDef.grad_reads): a wrong declaration shows up as a wrong gradient.
    inputs = [mx.sym.var(n) + 0 if i < n_args else mx.sym.var(n) for i, n in enumerate(names)]
    outputs = make_symbol_function(op, spec.name)(*inputs, **attrs)
    sym = mx.sym.Group([o + 0 for o in outputs])
    which = spec.grad_inputs if spec.grad_inputs is not None else \
        [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    aux = set(sym.list_auxiliary_states())

    def fresh():
        return {n: mx.nd.array(a, dtype=a.dtype) for n, a in zip(names, arrays)}

    values = fresh()
    for i in which:
        values[names[i]].attach_grad()
    with mx.autograd.record():
        outs = invoke(op, list(values.values()), parsed)[:op.n_visible_outputs(parsed)]
    heads = [mx.nd.array(rng.standard_normal(o.shape), dtype=o.dtype)
             if spec.grad_outputs is None or k in spec.grad_outputs else mx.nd.zeros(o.shape, dtype=o.dtype)
             for k, o in enumerate(outs)]
    mx.autograd.backward(outs, heads)

    bound = fresh()
    grads = {names[i]: mx.nd.zeros(arrays[i].shape, dtype=arrays[i].dtype) for i in which}
    exe = sym.bind(mx.cpu(), {n: v for n, v in bound.items() if n not in aux}, args_grad=grads,
                   aux_states={n: v for n, v in bound.items() if n in aux})
    exe.forward(is_train=True)  # an executor records only in training; train-aware ops are filtered out below
    exe.backward(heads)
    for i in which:
        np.testing.assert_allclose(grads[names[i]].asnumpy(), values[names[i]].grad.asnumpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=f"{spec.name}: gradient of input {i}")
    for name in aux:  # aux states, bound directly and updated in place, end as in the mx.nd run
        np.testing.assert_allclose(bound[name].asnumpy(), values[name].asnumpy(), rtol=1e-12,
                                   err_msg=f"{spec.name}: bound array {name}")
