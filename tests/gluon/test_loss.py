"""mx.gluon.loss: every loss against its NumPy formula in float64 (weight, sample_weight, batch_axis and the
losses' own options), float64 central-difference gradients w.r.t. pred, hybridized against imperative, values and
gradients computed by MXNet 1.9.1 (fixtures/loss_reference.json), and bad arguments."""
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mxcy as mx
from mxcy.gluon import loss as gloss
from tests.kernels.test_ctc import brute_force

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "loss_reference.json")


# --- NumPy references (float64) ---------------------------------------------------------------

def mean_except(x, axis):
    return x.mean(axis=tuple(i for i in range(x.ndim) if i != axis % x.ndim))


def sum_except(x, axis):
    return x.sum(axis=tuple(i for i in range(x.ndim) if i != axis % x.ndim))


def weighted(loss, weight=None, sample_weight=None):
    loss = loss if sample_weight is None else loss * sample_weight
    return loss if weight is None else loss * weight


def log_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def bce(pred, label, sw=None, pos_weight=None, from_sigmoid=False, weight=None, batch_axis=0):
    p = pred if from_sigmoid else sigmoid(pred)
    eps = 1e-12 if from_sigmoid else 0.0
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * label * np.log(p + eps) + (1 - label) * np.log(1 - p + eps))
    return mean_except(weighted(loss, weight, sw), batch_axis)


def softmax_ce(pred, label, sw=None, axis=-1, sparse_label=True, from_logits=False, weight=None, batch_axis=0):
    logp = pred if from_logits else log_softmax(pred, axis)
    if sparse_label:
        loss = -np.take_along_axis(logp, np.expand_dims(label.astype(np.int64), axis), axis=axis)
    else:
        loss = -(logp * label).sum(axis=axis, keepdims=True)
    return mean_except(weighted(loss, weight, sw), batch_axis)


def kl_div(pred, label, sw=None, from_logits=True, axis=-1, weight=None, batch_axis=0):
    logp = pred if from_logits else log_softmax(pred, axis)
    return sum_except(weighted(label * (np.log(label + 1e-12) - logp), weight, sw), batch_axis)


def pointwise(fn):
    """Reference of a loss that is fn(pred, label, **options) element by element, weighted, averaged per sample."""
    def reference(pred, label, sw=None, weight=None, batch_axis=0, **options):
        return mean_except(weighted(fn(pred, label.reshape(pred.shape), **options), weight, sw), batch_axis)
    return reference


def l2(pred, label, sw=None, weight=1.0, batch_axis=0):
    return mean_except(weighted((label - pred) ** 2, weight / 2, sw), batch_axis)


def huber(e, rho):
    return np.where(np.abs(e) > rho, np.abs(e) - rho / 2, e ** 2 / (2 * rho))


def triplet(pred, positive, negative, margin=1, weight=None, batch_axis=0):
    gap = sum_except((positive.reshape(pred.shape) - pred) ** 2 - (negative.reshape(pred.shape) - pred) ** 2,
                     batch_axis)
    return weighted(np.maximum(gap + margin, 0), weight)


def poisson(pred, target, sw=None, from_logits=True, compute_full=False, weight=None):
    loss = np.exp(pred) - target * pred if from_logits else pred - target * np.log(pred + 1e-8)
    if compute_full:
        loss = loss + np.where(target > 1, target * np.log(target) - target + 0.5 * np.log(2 * np.pi * target), 0)
    return np.atleast_1d(weighted(loss, weight, sw).mean())


def cosine(x1, x2, label, sw=None, margin=0, weight=None):
    cos = (x1 * x2).sum(-1) / np.maximum(np.linalg.norm(x1, axis=-1) * np.linalg.norm(x2, axis=-1), 1e-12)
    loss = np.where(label == 1, 1 - cos, np.maximum(cos - margin, 0))[:, None]
    return weighted(loss, weight, sw)


def sdml(x1, x2, smoothing_parameter=0.3):
    n = len(x1)
    distances = ((x1[:, None, :] - x2[None, :, :]) ** 2).sum(-1)
    eye = np.eye(n)
    labels = eye * (1 - smoothing_parameter) + (1 - eye) * smoothing_parameter / (n - 1)
    return (labels * (np.log(labels + 1e-12) - log_softmax(-distances, 1))).sum(1)


def ctc(pred, label, pred_lengths, label_lengths, sw, layout="NTC", label_layout="NT", weight=None):
    data = pred.transpose(1, 0, 2) if layout == "NTC" else pred
    label = label if label_layout == "NT" else label.T
    steps, batch, classes = data.shape
    if label_lengths is None:
        pad = label == -1
        label_lengths = np.where(pad.any(1), pad.argmax(1), label.shape[1])
    data_len = np.full(batch, steps) if pred_lengths is None else pred_lengths.astype(np.int64)
    cost = brute_force(data, label.astype(np.int64), label_lengths.astype(np.int64), data_len, classes - 1)[0]
    return weighted(cost, weight, sw)


# --- the table: (loss class, constructor kwargs, inputs(rng), reference(*inputs)) ----------------

def shape(rng, batch_axis=0, ndim=None):
    ndim = ndim or int(rng.integers(2, 4))
    dims = [int(d) for d in rng.integers(1, 4, ndim)]
    dims[batch_axis] = int(rng.integers(2, 4))
    return tuple(dims)


def sample_weight(rng, shp, batch_axis=0):
    """Per-sample weights: the batch axis kept, the others 1."""
    return rng.uniform(0, 2, tuple(d if i == batch_axis else 1 for i, d in enumerate(shp)))


def pair(label_fn, sw=False, batch_axis=0, ndim=None, label_flat=False):
    """inputs(rng): pred ~ N(0, 1.5^2), a label of pred's shape (flattened when label_flat: reshaped inside the
    loss), and sample weights when sw."""
    def make(rng):
        shp = shape(rng, batch_axis, ndim)
        label = label_fn(rng, shp)
        inputs = [rng.standard_normal(shp) * 1.5, label.reshape(-1) if label_flat else label]
        return inputs + ([sample_weight(rng, shp, batch_axis)] if sw else [])
    return make


def normal(rng, shp):
    return rng.standard_normal(shp)


def signs(rng, shp):
    return rng.choice([-1.0, 1.0], shp)


def bits(rng, shp):
    return rng.integers(0, 2, shp).astype(np.float64)


def unit(rng, shp):
    return rng.uniform(0, 1, shp)


def distribution(rng, shp, axis=-1):
    p = rng.uniform(0.1, 1, shp)
    return p / p.sum(axis=axis, keepdims=True)


def classes_of(axis):
    def make(rng):
        shp = shape(rng)
        k = shp[axis]
        label = rng.integers(0, k, np.delete(shp, axis % len(shp))).astype(np.float64)
        per_sample = tuple(d if i == 0 else 1 for i, d in enumerate(shp))  # the picked loss keeps `axis` as 1
        return [rng.standard_normal(shp) * 2, label, rng.uniform(0, 2, per_sample)]
    return make


def bce_inputs(from_sigmoid, pos_weight):
    def make(rng):
        shp = shape(rng, ndim=2)
        pred = rng.uniform(0.05, 0.95, shp) if from_sigmoid else rng.standard_normal(shp) * 2
        return [pred, unit(rng, shp), sample_weight(rng, shp)] + ([rng.uniform(0.5, 3, (1, shp[1]))]
                                                                   if pos_weight else [])
    return make


def triplet_inputs(rng):
    shp = shape(rng)
    return [rng.standard_normal(shp), rng.standard_normal(shp).reshape(shp[0], -1), rng.standard_normal(shp)]


def poisson_inputs(from_logits):
    def make(rng):
        shp = shape(rng)
        pred = rng.standard_normal(shp) if from_logits else rng.uniform(0.2, 3, shp)
        return [pred, rng.integers(1, 5, shp).astype(np.float64), sample_weight(rng, shp)]
    return make


def cosine_inputs(rng):
    n, d = int(rng.integers(2, 4)), int(rng.integers(1, 4))
    return [rng.standard_normal((n, d)), rng.standard_normal((n, d)), signs(rng, n), rng.uniform(0, 2, (n, 1))]


def sdml_inputs(rng):
    n, d = int(rng.integers(2, 4)), int(rng.integers(1, 3))
    return [rng.standard_normal((n, d)), rng.standard_normal((n, d))]


def ctc_inputs(layout="NTC", label_layout="NT", lengths=False):
    def make(rng):
        batch, steps, classes = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(2, 4))
        width = int(rng.integers(1, steps + 1))
        label = rng.integers(0, classes - 1, (batch, width)).astype(np.float64)
        label_len = rng.integers(0, width + 1, batch)
        if not lengths:
            for n, k in enumerate(label_len):
                label[n, k:] = -1
        pred = rng.standard_normal((batch, steps, classes) if layout == "NTC" else (steps, batch, classes))
        inputs = [pred, label if label_layout == "NT" else label.T]
        if lengths:
            inputs += [rng.integers(0, steps + 1, batch).astype(np.float64), label_len.astype(np.float64)]
        else:
            inputs += [None, None]
        return inputs + [rng.uniform(0, 2, batch)]
    return make


CASES = [
    ("L2Loss", {}, pair(normal), l2),
    ("L2Loss", {"weight": 3.0, "batch_axis": 1}, pair(normal, sw=True, batch_axis=1), l2),
    ("L1Loss", {}, pair(normal, label_flat=True), pointwise(lambda p, y: np.abs(y - p))),
    ("L1Loss", {"weight": 0.5}, pair(normal, sw=True), pointwise(lambda p, y: np.abs(y - p))),
    ("SigmoidBinaryCrossEntropyLoss", {}, bce_inputs(False, False), bce),
    ("SigmoidBCELoss", {"weight": 2.0}, bce_inputs(False, True), bce),
    ("SigmoidBCELoss", {"from_sigmoid": True}, bce_inputs(True, False), bce),
    ("SigmoidBCELoss", {"from_sigmoid": True}, bce_inputs(True, True), bce),
    ("SoftmaxCrossEntropyLoss", {}, classes_of(-1), softmax_ce),
    ("SoftmaxCELoss", {"axis": 1, "weight": 0.5}, classes_of(1), softmax_ce),
    ("SoftmaxCELoss", {"sparse_label": False}, pair(distribution, sw=True), softmax_ce),
    ("SoftmaxCELoss", {"from_logits": True, "sparse_label": False}, pair(distribution), softmax_ce),
    ("KLDivLoss", {}, pair(distribution, sw=True), kl_div),
    ("KLDivLoss", {"from_logits": False, "axis": 1, "batch_axis": 1, "weight": 2.0},
     pair(lambda rng, shp: distribution(rng, shp, 1), batch_axis=1), kl_div),
    ("HuberLoss", {}, pair(normal), pointwise(lambda p, y: huber(y - p, 1))),
    ("HuberLoss", {"rho": 0.5, "weight": 2.0}, pair(normal, sw=True), pointwise(lambda p, y, rho: huber(y - p, rho))),
    ("HingeLoss", {}, pair(signs), pointwise(lambda p, y: np.maximum(1 - p * y, 0))),
    ("HingeLoss", {"margin": 2.0}, pair(signs, sw=True, label_flat=True),
     pointwise(lambda p, y, margin: np.maximum(margin - p * y, 0))),
    ("SquaredHingeLoss", {}, pair(signs), pointwise(lambda p, y: np.maximum(1 - p * y, 0) ** 2)),
    ("SquaredHingeLoss", {"margin": 0.5, "batch_axis": 1}, pair(signs, sw=True, batch_axis=1),
     pointwise(lambda p, y, margin: np.maximum(margin - p * y, 0) ** 2)),
    ("LogisticLoss", {}, pair(signs, sw=True), pointwise(lambda p, y: np.log1p(np.exp(-p * y)))),
    ("LogisticLoss", {"label_format": "binary"}, pair(bits),
     pointwise(lambda p, y, label_format: np.log1p(np.exp(-p * (2 * y - 1))))),
    ("TripletLoss", {}, triplet_inputs, triplet),
    ("TripletLoss", {"margin": 3.0, "weight": 0.5}, triplet_inputs, triplet),
    ("PoissonNLLLoss", {}, poisson_inputs(True), poisson),
    ("PoissonNLLLoss", {"from_logits": False, "compute_full": True, "weight": 2.0}, poisson_inputs(False), poisson),
    ("CosineEmbeddingLoss", {}, cosine_inputs, cosine),
    ("CosineEmbeddingLoss", {"margin": 0.3, "weight": 2.0}, cosine_inputs, cosine),
    ("SDMLLoss", {}, sdml_inputs, sdml),
    ("SDMLLoss", {"smoothing_parameter": 0.1}, sdml_inputs, sdml),
    ("CTCLoss", {}, ctc_inputs(), ctc),
    ("CTCLoss", {"layout": "TNC", "label_layout": "TN", "weight": 0.5}, ctc_inputs("TNC", "TN"), ctc),
    ("CTCLoss", {}, ctc_inputs(lengths=True), ctc),
]
IDS = [f"{name}{i}" for i, (name, *_) in enumerate(CASES)]


def call(name, kwargs, inputs, hybridize=False, dtype="float64", grad=True):
    """(loss, gradient of inputs[0] for a head gradient of ones) of gluon.loss.<name>(**kwargs)."""
    block = getattr(gloss, name)(**kwargs)
    if hybridize:
        block.hybridize()
    arrays = [None if a is None else mx.nd.array(a, dtype=dtype) for a in inputs]
    if not grad:
        return block(*arrays).asnumpy(), None
    arrays[0].attach_grad()
    with mx.autograd.record():
        out = block(*arrays)
    out.backward(mx.nd.ones(out.shape, dtype=dtype))
    return out.asnumpy(), arrays[0].grad.asnumpy()


def reference(case, inputs):
    name, kwargs, _, ref = case
    return ref(*inputs, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_value_matches_formula(case, seed):
    inputs = case[2](np.random.default_rng(seed))
    got, _ = call(case[0], case[1], inputs, grad=False)
    np.testing.assert_allclose(got, reference(case, inputs), rtol=1e-10, atol=1e-12)


def _numeric_grad(name, kwargs, inputs, eps=1e-6):
    """d sum(loss) / d inputs[0] by central differences, in float64."""
    x = inputs[0].copy()
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    for j in range(flat.size):
        values = []
        for step in (eps, -eps):
            old = flat[j]
            flat[j] = old + step
            values.append(call(name, kwargs, [x] + inputs[1:], grad=False)[0].sum())
            flat[j] = old
        grad.reshape(-1)[j] = (values[0] - values[1]) / (2 * eps)
    return grad


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_gradient_matches_central_differences(case, seed):
    inputs = case[2](np.random.default_rng(seed))
    _, analytic = call(case[0], case[1], inputs)
    np.testing.assert_allclose(analytic, _numeric_grad(case[0], case[1], inputs), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_hybridized_matches_imperative(case, seed):
    inputs = case[2](np.random.default_rng(seed))
    for got, want in zip(call(case[0], case[1], inputs, hybridize=True), call(case[0], case[1], inputs)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# --- values computed by MXNet 1.9.1 ------------------------------------------------------------

with open(FIXTURE) as _f:
    MXNET_CASES = json.load(_f)["cases"]


@pytest.mark.parametrize("hybridize", [False, True])
@pytest.mark.parametrize("case", MXNET_CASES, ids=[f"{c['loss']}{i}" for i, c in enumerate(MXNET_CASES)])
def test_matches_mxnet(case, hybridize):
    dtype = "float32" if case["float32"] else "float64"
    inputs = [None if a is None else np.array(a) for a in case["inputs"]]
    value, grad = call(case["loss"], case["kwargs"], inputs, hybridize, dtype, grad=case["grad"] is not None)
    tol = 1e-5 if case["float32"] else 1e-10
    np.testing.assert_allclose(value, case["value"], rtol=tol, atol=tol)
    if grad is not None:
        np.testing.assert_allclose(grad, case["grad"], rtol=tol, atol=tol)


def test_poisson_full_computes_gradients_under_record():
    # MXNet 1.9.1 refuses this (its compute_full multiplies in place under autograd.record); mxcy differentiates it.
    pred, target = np.array([[0.5, 2.0], [1.5, 0.7]]), np.array([[2.0, 3.0], [1.0, 4.0]])
    kwargs = {"from_logits": False, "compute_full": True}
    _, grad = call("PoissonNLLLoss", kwargs, [pred, target])
    np.testing.assert_allclose(grad, (1 - target / (pred + 1e-8)) / pred.size, rtol=1e-12)


# --- arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, message", [
    (lambda: gloss.CTCLoss(layout="NCT"), AssertionError, "Only 'NTC' and 'TNC'"),
    (lambda: gloss.CTCLoss(label_layout="NN"), AssertionError, "Only 'NT' and 'TN'"),
    (lambda: gloss.LogisticLoss(label_format="pm1"), ValueError, "signed or binary"),
    (lambda: gloss.L1Loss(weight="2")(mx.nd.ones((2, 2)), mx.nd.ones((2, 2))), AssertionError,
     "weight must be a number"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_repr_and_batch_axis():
    assert repr(gloss.L2Loss()) == "L2Loss(batch_axis=0, w=1.0)"
    assert repr(gloss.SoftmaxCELoss(batch_axis=1, weight=0.5)) == "SoftmaxCrossEntropyLoss(batch_axis=1, w=0.5)"
    assert repr(gloss.CTCLoss(label_layout="TN")) == "CTCLoss(batch_axis=1, w=None)"
    assert gloss.SigmoidBCELoss is gloss.SigmoidBinaryCrossEntropyLoss


def test_ctc_bad_label_names_the_operator():
    with pytest.raises(mx.MXNetError, match="CTCLoss.*label.*not a class"):
        gloss.CTCLoss()(mx.nd.zeros((1, 3, 4)), mx.nd.array([[5, 0]])).asnumpy()


def test_base_loss_has_no_forward():
    with pytest.raises(NotImplementedError):
        gloss.Loss(None, 0)(mx.nd.ones((1,)))
