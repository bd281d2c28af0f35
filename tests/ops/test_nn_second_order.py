"""Second-order gradients of Activation, LeakyReLU, softmax/log_softmax/softmin, SoftmaxActivation and
FullyConnected: the gradient taken with mx.autograd.grad(..., create_graph=True), differentiated again by backward,
against float64 central differences of the first-order gradient (autograd's first-order path, which test_nn_activation checks against
NumPy). Covers the data, the head gradient of the first grad, and prelu's gamma. The hidden backward ops'
gradients are also checked on their own, on arbitrary inputs (an output not computed from the data, entries past
length that are not 0), and gpu(0) against cpu()."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx

SEEDS = st.integers(0, 2**32 - 1)


def _shape(rng, min_dims=1, max_size=12):
    """A shape of 1-3 axes (min_dims at least) with at most max_size elements."""
    while True:
        shape = tuple(int(d) for d in rng.integers(1, 4, size=rng.integers(min_dims, 4)))
        if np.prod(shape) <= max_size:
            return shape


def _away_from_zero(rng, shape):
    """|x| in [0.05, 2]: piecewise functions (relu, leaky, prelu) have a kink at 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.05, 2, size=shape)


def _normal(rng, shape):
    return rng.standard_normal(shape) * 1.5


def _nd(a):
    return mx.nd.array(a, dtype=a.dtype)


def _diff_indices(arrays):
    return [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]


def _first_order(fn, arrays, head, train):
    """Gradients of sum(fn(*arrays) * head) w.r.t. the float arrays, by first-order autograd."""
    nds = [_nd(a) for a in arrays]
    diff = _diff_indices(arrays)
    for i in diff:
        nds[i].attach_grad()
    with mx.autograd.record(train_mode=train):
        y = fn(*nds)
    y.backward(mx.nd.array(head, dtype=y.dtype), train_mode=train)
    return [nds[i].grad.asnumpy() for i in diff]


def _second_order(fn, arrays, h1, h2s, train):
    """Autograd's gradients of sum_k sum(grads[k] * h2s[k]) w.r.t. the float arrays and h1, where grads are those of
    sum(fn(*arrays) * h1) w.r.t. the float arrays, taken with create_graph=True."""
    nds = [_nd(a) for a in arrays]
    diff = _diff_indices(arrays)
    for i in diff:
        nds[i].attach_grad()
    head = _nd(h1)
    head.attach_grad()
    with mx.autograd.record(train_mode=train):
        y = fn(*nds)
        grads = mx.autograd.grad(y, [nds[i] for i in diff], head_grads=head, create_graph=True, train_mode=train)
        loss = grads[0] * _nd(h2s[0])
        loss = loss.sum()
        for g, h2 in zip(grads[1:], h2s[1:]):
            loss = loss + (g * _nd(h2)).sum()
    loss.backward(train_mode=train)
    return [nds[i].grad.asnumpy() for i in diff], head.grad.asnumpy()


def _central(f, a, eps=1e-5):
    """Central differences of the scalar function f at array a."""
    out = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        step = np.zeros_like(a)
        step[idx] = eps
        out[idx] = (f(a + step) - f(a - step)) / (2 * eps)
    return out


def check_second_order(fn, arrays, rng, train=False):
    """Second-order autograd against central differences of phi(arrays, h1) = sum_k sum(grads[k] * h2s[k])."""
    y = fn(*[_nd(a) for a in arrays]).asnumpy()
    diff = _diff_indices(arrays)
    h1 = rng.standard_normal(y.shape)
    h2s = [rng.standard_normal(arrays[i].shape) for i in diff]

    def phi(arrays, h1):
        grads = _first_order(fn, arrays, h1, train)
        return sum(np.sum(g * h2) for g, h2 in zip(grads, h2s))

    got, got_h1 = _second_order(fn, arrays, h1, h2s, train)
    for i, g in zip(diff, got):
        want = _central(lambda a: phi(arrays[:i] + [a] + arrays[i + 1:], h1), arrays[i])
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-7, err_msg=f"input {i}")
    np.testing.assert_allclose(got_h1, _central(lambda h: phi(arrays, h), h1), rtol=1e-6, atol=1e-7,
                               err_msg="head gradient")


# --- Activation, LeakyReLU ---------------------------------------------------------------------

@pytest.mark.parametrize("act_type", ["relu", "sigmoid", "tanh", "softrelu", "softsign"])
@given(seed=SEEDS)
def test_activation(act_type, seed):
    rng = np.random.default_rng(seed)
    x = _away_from_zero(rng, _shape(rng)) if act_type == "relu" else _normal(rng, _shape(rng))
    check_second_order(lambda x: mx.nd.Activation(x, act_type=act_type), [x], rng)


@pytest.mark.parametrize("act_type", ["leaky", "elu", "selu", "gelu", "rrelu"])
@given(seed=SEEDS)
def test_leaky_relu(act_type, seed):
    rng = np.random.default_rng(seed)
    x = _away_from_zero(rng, _shape(rng))
    attrs = {"act_type": act_type}
    if act_type in ("leaky", "elu"):
        attrs["slope"] = float(rng.uniform(0.05, 1.5))
    if act_type == "rrelu":  # inference: the mean slope
        attrs.update(lower_bound=float(rng.uniform(0, 0.3)), upper_bound=float(rng.uniform(0.3, 0.6)))
    if act_type == "rrelu":
        check_second_order(lambda x: mx.nd.LeakyReLU(x, **attrs)[0], [x], rng)  # without the mask output
    else:
        check_second_order(lambda x: mx.nd.LeakyReLU(x, **attrs), [x], rng)


@given(seed=SEEDS)
def test_prelu_data_and_gamma(seed):
    rng = np.random.default_rng(seed)
    shape = _shape(rng, min_dims=2)
    x = _away_from_zero(rng, shape)
    gamma = rng.uniform(0.05, 0.5, size=shape[1] if rng.random() < 0.7 else 1)
    check_second_order(lambda x, gamma: mx.nd.LeakyReLU(x, gamma, act_type="prelu"), [x, gamma], rng)


def test_rrelu_training_second_order():
    """Training draws a slope per element; the gradient is linear in the head gradient with those slopes and has
    no curvature in the data."""
    rng = np.random.default_rng(0)
    x = mx.nd.array(_away_from_zero(rng, (3, 4)), dtype="float64")
    h1, h2 = mx.nd.array(rng.standard_normal((3, 4)), dtype="float64"), rng.standard_normal((3, 4))
    x.attach_grad()
    h1.attach_grad()
    with mx.autograd.record():
        y, mask = mx.nd.LeakyReLU(x, act_type="rrelu", lower_bound=0.1, upper_bound=0.4)
        (dx,) = mx.autograd.grad(y, [x], head_grads=h1, create_graph=True)
        loss = (dx * mx.nd.array(h2, dtype="float64")).sum()
    loss.backward()
    slopes = np.where(x.asnumpy() > 0, 1, mask.asnumpy())
    np.testing.assert_allclose(dx.asnumpy(), h1.asnumpy() * slopes, rtol=1e-12)
    np.testing.assert_allclose(h1.grad.asnumpy(), h2 * slopes, rtol=1e-12)
    np.testing.assert_array_equal(x.grad.asnumpy(), np.zeros((3, 4)))


def test_third_order_tanh():
    """The second derivative's gradient is differentiable too: d3 tanh / dx3 = (1 - y^2)(6 y^2 - 2)."""
    x = mx.nd.array(np.linspace(-2, 2, 7), dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Activation(x, act_type="tanh")
        (d1,) = mx.autograd.grad(y, [x], create_graph=True)
        (d2,) = mx.autograd.grad(d1, [x], create_graph=True)
    d2.backward()
    t = np.tanh(np.linspace(-2, 2, 7))
    np.testing.assert_allclose(d2.asnumpy(), -2 * t * (1 - t * t), rtol=1e-12)
    np.testing.assert_allclose(x.grad.asnumpy(), (1 - t * t) * (6 * t * t - 2), rtol=1e-10, atol=1e-14)


# --- softmax family ----------------------------------------------------------------------------

def _softmax_attrs(rng, ndim):
    return {"axis": int(rng.integers(-ndim, ndim)), "temperature": float(rng.choice([0.5, 1.0, 1.7]))}


@pytest.mark.parametrize("kind", ["softmax", "log_softmax", "softmin"])
@given(seed=SEEDS)
def test_softmax(kind, seed):
    rng = np.random.default_rng(seed)
    x = _normal(rng, _shape(rng))
    attrs = _softmax_attrs(rng, x.ndim)
    check_second_order(lambda x: getattr(mx.nd, kind)(x, **attrs), [x], rng)


@pytest.mark.parametrize("kind", ["softmax", "log_softmax", "softmin"])
@given(seed=SEEDS)
def test_softmax_with_length(kind, seed):
    rng = np.random.default_rng(seed)
    shape = _shape(rng)
    attrs = _softmax_attrs(rng, len(shape))
    axis = attrs["axis"] % len(shape)
    # Lengths from 0 to past the axis: the kernels clip them to [0, shape[axis]].
    length = rng.integers(0, shape[axis] + 2, size=(shape[:axis] + shape[axis + 1:]) or (1,))
    check_second_order(lambda x, length: getattr(mx.nd, kind)(x, length, use_length=True, **attrs),
                       [_normal(rng, shape), length], rng)


@pytest.mark.parametrize("mode", ["instance", "channel"])
@given(seed=SEEDS)
def test_softmax_activation(mode, seed):
    rng = np.random.default_rng(seed)
    x = _normal(rng, _shape(rng, min_dims=3 if mode == "channel" else 1))
    check_second_order(lambda x: mx.nd.SoftmaxActivation(x, mode=mode), [x], rng)


@pytest.mark.parametrize("kind", ["softmax", "log_softmax", "softmin"])
def test_softmax_dtype_argument(kind):
    """float32 data with dtype='float64': second-order gradients come back in the data's type, with the values of
    the all-float64 computation."""
    rng = np.random.default_rng(1)
    data = rng.standard_normal((2, 3)).astype(np.float32)
    h1, h2 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    results = []
    for x_dtype, attrs in (("float32", {"dtype": "float64"}), ("float64", {})):
        x = mx.nd.array(data, dtype=x_dtype)
        x.attach_grad()
        with mx.autograd.record():
            y = getattr(mx.nd, kind)(x, axis=0, temperature=0.7, **attrs)
            (dx,) = mx.autograd.grad(y, [x], head_grads=mx.nd.array(h1, dtype="float64"), create_graph=True)
            loss = (dx * mx.nd.array(h2, dtype=x_dtype)).sum()
        loss.backward()
        assert dx.dtype == x.grad.dtype == np.dtype(x_dtype)
        results.append(x.grad.asnumpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


# --- the hidden backward ops on their own ------------------------------------------------------

def check_op_gradient(fn, arrays, rng):
    """Autograd's gradients of sum_k sum(outputs[k] * heads[k]) w.r.t. the float arrays against central
    differences."""
    def outputs(nds):
        out = fn(*nds)
        return out if isinstance(out, (list, tuple)) else [out]

    heads = [rng.standard_normal(o.shape) for o in outputs([_nd(a) for a in arrays])]
    nds = [_nd(a) for a in arrays]
    diff = _diff_indices(arrays)
    for i in diff:
        nds[i].attach_grad()
    with mx.autograd.record():
        outs = outputs(nds)
    mx.autograd.backward(outs, [_nd(h) for h in heads])

    def value(arrays):
        return sum(np.sum(o.asnumpy() * h) for o, h in zip(outputs([_nd(a) for a in arrays]), heads))

    for i in diff:
        want = _central(lambda a: value(arrays[:i] + [a] + arrays[i + 1:]), arrays[i])
        np.testing.assert_allclose(nds[i].grad.asnumpy(), want, rtol=1e-6, atol=1e-7, err_msg=f"input {i}")


_INTERNAL = mx.nd._internal


@pytest.mark.parametrize("act_type", ["relu", "sigmoid", "tanh", "softrelu", "softsign"])
@given(seed=SEEDS)
def test_backward_activation_op(act_type, seed):
    rng = np.random.default_rng(seed)
    shape = _shape(rng)
    arrays = [_normal(rng, shape), _away_from_zero(rng, shape), _away_from_zero(rng, shape)]  # ograd, data, output
    check_op_gradient(lambda g, x, y: _INTERNAL._backward_Activation(g, x, y, act_type=act_type), arrays, rng)


@given(seed=SEEDS)
def test_backward_relu_op(seed):
    rng = np.random.default_rng(seed)
    shape = _shape(rng)
    arrays = [_normal(rng, shape), _away_from_zero(rng, shape)]  # ograd, relu's output
    check_op_gradient(lambda g, y: _INTERNAL._backward_relu(g, y), arrays, rng)


@pytest.mark.parametrize("act_type", ["leaky", "elu", "selu", "gelu", "prelu", "rrelu"])
@given(seed=SEEDS)
def test_backward_leaky_relu_op(act_type, seed):
    rng = np.random.default_rng(seed)
    shape = _shape(rng, min_dims=2 if act_type == "prelu" else 1)
    arrays = [_normal(rng, shape), _away_from_zero(rng, shape), _away_from_zero(rng, shape)]  # ograd, data, output
    attrs = {"act_type": act_type, "slope": float(rng.uniform(0.05, 1.5))}
    if act_type == "prelu":
        arrays.append(rng.uniform(0.05, 0.5, size=shape[1] if rng.random() < 0.7 else 1))  # gamma
    if act_type == "rrelu":
        arrays.append(rng.uniform(0.1, 0.4, size=shape))  # the slopes (mask)
    check_op_gradient(lambda *a: _INTERNAL._backward_LeakyReLU(*a, **attrs), arrays, rng)


@pytest.mark.parametrize("kind", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("use_length", [False, True])
@given(seed=SEEDS)
def test_backward_softmax_op(kind, use_length, seed):
    rng = np.random.default_rng(seed)
    shape = _shape(rng)
    attrs = _softmax_attrs(rng, len(shape))
    arrays = [_normal(rng, shape), _normal(rng, shape)]  # ograd, output (any values, also past length)
    if use_length:
        axis = attrs["axis"] % len(shape)
        arrays.append(rng.integers(0, shape[axis] + 2, size=(shape[:axis] + shape[axis + 1:]) or (1,)))
    op = getattr(_INTERNAL, f"_backward_{kind}")
    check_op_gradient(lambda *a: op(*a, use_length=use_length, **attrs), arrays, rng)


# --- gpu(0) against cpu() ----------------------------------------------------------------------

def _second_order_on(ctx, fn, arrays):
    """Second-order gradients of the float arrays on ctx, for fixed heads (float64 throughout)."""
    nds = [mx.nd.array(a, ctx=ctx, dtype=a.dtype) for a in arrays]
    floats = [x for x in nds if x.dtype == np.float64]
    for x in floats:
        x.attach_grad()
    with mx.autograd.record():
        y = fn(*nds)
        h1 = mx.nd.array(np.linspace(-1, 2, y.size).reshape(y.shape), ctx=ctx, dtype="float64")
        grads = mx.autograd.grad(y, floats, head_grads=h1, create_graph=True)
    # Heads for the gradients directly: sum's own gradient has no gpu compute.
    mx.autograd.backward(grads, [mx.nd.array(np.cos(np.arange(g.size)).reshape(g.shape), ctx=ctx, dtype="float64")
                                 for g in grads])
    return [x.grad.asnumpy() for x in floats]


_X = np.random.default_rng(42).standard_normal((2, 3, 2))
GPU_CASES = {
    "sigmoid": (lambda x: mx.nd.Activation(x, act_type="sigmoid"), [_X]),
    "softsign": (lambda x: mx.nd.Activation(x, act_type="softsign"), [_X]),
    "gelu": (lambda x: mx.nd.LeakyReLU(x, act_type="gelu"), [_X]),
    "elu": (lambda x: mx.nd.LeakyReLU(x, act_type="elu", slope=0.7), [_X]),
    "prelu": (lambda x, gamma: mx.nd.LeakyReLU(x, gamma, act_type="prelu"), [_X, np.array([0.1, 0.2, 0.3])]),
    "softmax_t": (lambda x: mx.nd.softmax(x, axis=1, temperature=0.7), [_X]),
    "log_softmax_len": (lambda x, n: mx.nd.log_softmax(x, n, axis=1, use_length=True),
                        [_X, np.array([[2, 0], [3, 1]], np.int32)]),
    "softmin": (lambda x: mx.nd.softmin(x), [_X]),
}


@pytest.mark.cuda
@pytest.mark.parametrize("case", GPU_CASES)
def test_gpu_matches_cpu(case):
    fn, arrays = GPU_CASES[case]
    for c, g in zip(_second_order_on(mx.cpu(), fn, arrays), _second_order_on(mx.gpu(0), fn, arrays)):
        np.testing.assert_allclose(g, c, rtol=1e-10, atol=1e-12)


# --- FullyConnected ------------------------------------------------------------------------------

def _fc_case(rng):
    """(arrays, attrs) of a small FullyConnected: data of 2-3 axes, with or without a bias ((H,) or (H, 1))."""
    flatten, no_bias = bool(rng.integers(2)), bool(rng.integers(2))
    shape = tuple(int(d) for d in rng.integers(1, 3, size=rng.integers(2, 4)))
    hidden = int(rng.integers(1, 4))
    features = int(np.prod(shape[1:])) if flatten else shape[-1]
    arrays = [_normal(rng, shape), _normal(rng, (hidden, features))]
    if not no_bias:
        arrays.append(_normal(rng, (hidden,) if rng.random() < 0.7 else (hidden, 1)))
    return arrays, {"num_hidden": hidden, "flatten": flatten, "no_bias": no_bias}


@given(seed=SEEDS)
def test_fully_connected(seed):
    rng = np.random.default_rng(seed)
    arrays, attrs = _fc_case(rng)
    check_second_order(lambda *ins: mx.nd.FullyConnected(*ins, **attrs), arrays, rng)


@given(seed=SEEDS)
def test_backward_fully_connected_op(seed):
    rng = np.random.default_rng(seed)
    (x, w, *_), attrs = _fc_case(rng)
    dy = _normal(rng, mx.nd.FullyConnected(_nd(x), _nd(w), **dict(attrs, no_bias=True)).shape)
    check_op_gradient(lambda dy, x, w: _INTERNAL._backward_FullyConnected(dy, x, w, **attrs), [dy, x, w], rng)


def test_dense_second_order_as_mxnet_test():
    """MXNet 1.9.1's test_dense_backward_flatten in closed form: d(x_grad . o_x)/dw = o_y^T o_x and
    d(w_grad . o_w)/dx = o_y o_w for y = x w^T + b."""
    rng = np.random.default_rng(5)
    x, w, b = (_nd(rng.standard_normal(s)) for s in ((3, 4), (2, 4), (2,)))
    o_y, o_x, o_w = rng.standard_normal((3, 2)), rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    for a in (x, w):
        a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.FullyConnected(x, w, b, num_hidden=2)
        (x_grad,) = mx.autograd.grad(y, [x], head_grads=_nd(o_y), create_graph=True, retain_graph=True)
        (w_grad_grad,) = mx.autograd.grad(x_grad, [w], head_grads=_nd(o_x))
        (w_grad,) = mx.autograd.grad(y, [w], head_grads=_nd(o_y), create_graph=True, retain_graph=True)
        (x_grad_grad,) = mx.autograd.grad(w_grad, [x], head_grads=_nd(o_w))
    np.testing.assert_allclose(w_grad_grad.asnumpy(), o_y.T @ o_x, rtol=1e-12)
    np.testing.assert_allclose(x_grad_grad.asnumpy(), o_y @ o_w, rtol=1e-12)
