"""The contract every registered operator is tested against, one OpSpec row per op.

check_forward: result equals a NumPy reference (computed in float64) and matches the inferred
shape/dtype. check_gradient: autograd's gradient equals float64 central differences of the forward,
for a random head gradient. check_req_add: out= with req add accumulates.
Inputs come from a NumPy Generator seeded by hypothesis, so every example draws new shapes/values.
"""
import dataclasses
import importlib
import pkgutil
from typing import Callable

import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx
from mxcy.ops import registry
from mxcy.ops.invoke import infer, invoke
from mxcy.kernels.common import REQ_ADD


@dataclasses.dataclass
class OpSpec:
    """How to test one operator.

    name: registered op name. make(rng) -> (list of NumPy inputs, attrs dict).
    reference(*inputs, **attrs) -> NumPy output or tuple of outputs (computed in float64).
    grad: check the gradient numerically (False for non-differentiable ops, with `why`).
    grad_inputs: indices of inputs to differentiate (default: every float input).
    rtol/atol: tolerances of the forward check; dtype: input dtype of the forward check.
    train: run every check in autograd's training mode (train_aware ops: BatchNorm, Dropout); backward
        runs in the same mode.
    grad_outputs: indices of the outputs that get head gradients (default: every visible output); ops
        whose saved statistics are visible outputs (output_mean_var) ignore their heads, as MXNet does.
    """
    name: str
    make: Callable
    reference: Callable
    grad: bool = True
    grad_inputs: tuple = None
    rtol: float = 1e-5
    atol: float = 1e-6
    dtype: str = "float32"
    why: str = ""
    eps: float = 1e-6
    grad_rtol: float = 1e-4
    grad_atol: float = 1e-5
    train: bool = False
    grad_outputs: tuple = None

    def __repr__(self):
        return self.name


def _run(op, arrays, attrs):
    inputs = [mx.nd.array(a, dtype=a.dtype) for a in arrays]
    parsed = op.parse_attrs(attrs)
    return inputs, parsed, invoke(op, inputs, parsed, ctx=mx.cpu())


def _mode(spec):
    return mx.autograd.train_mode() if spec.train else mx.autograd.predict_mode()


def check_forward(spec, rng):
    with _mode(spec):
        _check_forward(spec, rng)


def _check_forward(spec, rng):
    op = registry.get(spec.name)
    arrays, attrs = spec.make(rng)
    arrays = [a.astype(spec.dtype) if a.dtype.kind == "f" else a for a in arrays]
    _, parsed, outs = _run(op, arrays, attrs)
    expected = spec.reference(*[a.astype(np.float64) if a.dtype.kind == "f" else a
                                for a in arrays], **attrs)
    expected = expected if isinstance(expected, (tuple, list)) else (expected,)
    if len(expected) == op.n_visible_outputs(parsed):
        outs = outs[:len(expected)]  # references may leave out hidden outputs (Pooling's workspace)
    assert len(outs) == len(expected), f"{spec.name}: {len(outs)} outputs, expected {len(expected)}"
    out_shapes, out_types = infer(op, parsed, [a.shape for a in arrays],
                                                [a.dtype for a in arrays])
    for i, (got, want) in enumerate(zip(outs, expected)):
        want = np.asarray(want)
        got_np = got.asnumpy()
        assert got_np.shape == want.shape, f"{spec.name} output {i}: shape {got_np.shape} != {want.shape}"
        assert tuple(out_shapes[i]) == got_np.shape, f"{spec.name}: inferred shape {out_shapes[i]}"
        assert np.dtype(out_types[i]) == got_np.dtype, f"{spec.name}: inferred dtype {out_types[i]}"
        np.testing.assert_allclose(got_np.astype(np.float64), want.astype(np.float64),
                                   rtol=spec.rtol, atol=spec.atol, err_msg=f"{spec.name} output {i}")


def check_req_add(spec, rng):
    with _mode(spec):
        _check_req_add(spec, rng)


def _check_req_add(spec, rng):
    op = registry.get(spec.name)
    arrays, attrs = spec.make(rng)
    inputs, parsed, outs = _run(op, arrays, attrs)
    prior = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
    # mx.nd.array makes a 0-d source (1,); the reshape keeps a 0-d output (contrib.allclose) 0-d.
    targets = [mx.nd.array(p, dtype=p.dtype).reshape(p.shape) for p in prior]
    invoke(op, inputs, parsed, out=targets, ctx=mx.cpu(), req=REQ_ADD)
    n_visible = op.n_visible_outputs(parsed)  # hidden outputs (saved statistics, masks) are rewritten
    for o, p, t in list(zip(outs, prior, targets))[:n_visible]:
        np.testing.assert_allclose(t.asnumpy(), p + o.asnumpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=f"{spec.name}: req=add must accumulate")


def _forward_sum(op, parsed, arrays, heads):
    """sum(output * head) over the visible outputs, the function whose gradient autograd gives."""
    outs = invoke(op, [mx.nd.array(a, dtype=np.float64) for a in arrays], parsed, ctx=mx.cpu())
    return sum(float((o.asnumpy() * h).sum()) for o, h in zip(outs, heads))


def check_gradient(spec, rng):
    with _mode(spec):
        _check_gradient(spec, rng)


def _check_gradient(spec, rng):
    op = registry.get(spec.name)
    arrays, attrs = spec.make(rng)
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    parsed = op.parse_attrs(attrs)
    which = spec.grad_inputs if spec.grad_inputs is not None else \
        tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")
    inputs = [mx.nd.array(a, dtype=a.dtype) for a in arrays]
    for i in which:
        inputs[i].attach_grad()
    with mx.autograd.record(train_mode=spec.train):
        outs = invoke(op, inputs, parsed)[:op.n_visible_outputs(parsed)]
    heads = [rng.standard_normal(o.shape) if spec.grad_outputs is None or k in spec.grad_outputs
             else np.zeros(o.shape) for k, o in enumerate(outs)]
    mx.autograd.backward(outs, [mx.nd.array(h, dtype=np.float64) for h in heads], train_mode=spec.train)
    for i in which:
        analytic = inputs[i].grad.asnumpy()
        numeric = np.zeros_like(arrays[i])
        flat = arrays[i].reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + spec.eps
            plus = _forward_sum(op, parsed, arrays, heads)
            flat[j] = old - spec.eps
            minus = _forward_sum(op, parsed, arrays, heads)
            flat[j] = old
            numeric.reshape(-1)[j] = (plus - minus) / (2 * spec.eps)
        np.testing.assert_allclose(analytic, numeric, rtol=spec.grad_rtol, atol=spec.grad_atol,
                                   err_msg=f"{spec.name}: gradient of input {i}")


def check_zero_gradients(spec, seed=7):
    """For ops MXNet 1.9.1 gives no gradient (box and anchor ops): every input's gradient is zeros of its shape."""
    op = registry.get(spec.name)
    arrays, attrs = spec.make(np.random.default_rng(seed))
    inputs = [mx.nd.array(a) for a in arrays]
    for x in inputs:
        x.attach_grad()
    with mx.autograd.record():
        outs = invoke(op, inputs, op.parse_attrs(attrs), ctx=mx.cpu())[:op.n_visible_outputs(op.parse_attrs(attrs))]
    mx.autograd.backward(outs)
    for x in inputs:
        assert x.grad.shape == x.shape and not x.grad.asnumpy().any()


def check_mxnet_outputs(case, rtol=1e-5, atol=1e-6):
    """mx.nd.contrib.<case's op> on the case's float32 inputs and keyword arguments gives the outputs MXNet 1.9.1
    printed into a fixture (a case dict: op, kwargs, inputs, outputs)."""
    outs = getattr(mx.nd.contrib, case["op"])(*[mx.nd.array(np.array(a, np.float32)) for a in case["inputs"]],
                                              **case["kwargs"])
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    assert len(outs) == len(case["outputs"])
    for got, want in zip(outs, case["outputs"]):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=rtol, atol=atol)


def collect_specs():
    """(every OpSpec of the test modules under tests/ops and tests/ndarray, {exempt op: reason})."""
    import tests.ndarray
    import tests.ops
    specs, exempt = [], {}
    for package in (tests.ops, tests.ndarray):
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("test_"):
                module = importlib.import_module(f"{package.__name__}.{info.name}")
                specs += list(getattr(module, "SPECS", ()))
                exempt.update(getattr(module, "NO_SPEC", {}))
    return specs, exempt


def outputs_and_grads(ctx, fn, arrays):
    """[fn's output, then the gradient of each input] on `ctx` for NumPy `arrays`, with a fixed ramp as
    the head gradient: what GPU tests compare between mx.gpu(0) and mx.cpu()."""
    xs = [mx.nd.array(a, ctx=ctx, dtype=a.dtype) for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        y = fn(*xs)
    y.backward(mx.nd.array(np.linspace(-1, 1, y.size).reshape(y.shape), ctx=ctx, dtype=y.dtype))
    return [y.asnumpy()] + [x.grad.asnumpy() for x in xs]


def spec_tests(specs):
    """The standard tests of a list of OpSpecs, for a test module to bind at top level:

        test_forward, test_gradient, test_req_add = spec_tests(SPECS)
    """
    seeds = given(seed=st.integers(0, 2**32 - 1))

    @pytest.mark.parametrize("spec", specs, ids=repr)
    @seeds
    def test_forward(spec, seed):
        check_forward(spec, np.random.default_rng(seed))

    @pytest.mark.parametrize("spec", [s for s in specs if s.grad], ids=repr)
    @seeds
    def test_gradient(spec, seed):
        check_gradient(spec, np.random.default_rng(seed))

    @pytest.mark.parametrize("spec", specs, ids=repr)
    @seeds
    def test_req_add(spec, seed):
        check_req_add(spec, np.random.default_rng(seed))

    return test_forward, test_gradient, test_req_add
