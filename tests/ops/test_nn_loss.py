"""Loss layers: forward against NumPy references, gradients through autograd against formulas and values computed
by MXNet 1.9.1 (their gradients ignore the head gradient, so no numerical check applies), errors, gpu(0)."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

_IGNORES_HEAD = "the gradient ignores the head gradient, as MXNet's loss layers do; test_* below check it"


def _shape(rng, min_dims=1, max_dims=3, max_size=4):
    return tuple(int(d) for d in rng.integers(1, max_size + 1, size=rng.integers(min_dims, max_dims + 1)))


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --- SoftmaxOutput -----------------------------------------------------------------------------

def _softmax_output_make(multi_output=False, preserve_shape=False):
    def make(rng):
        shape = _shape(rng, min_dims=2, max_dims=4, max_size=3)
        if multi_output:
            label_shape = (shape[0],) + shape[2:]
            classes = shape[1]
        else:
            label_shape, classes = shape[:-1], shape[-1]
        label = rng.integers(-1, classes + 1, size=label_shape).astype(np.float64)
        return [rng.standard_normal(shape) * 2, label], {"multi_output": multi_output,
                                                        "preserve_shape": preserve_shape}
    return make


def _softmax_output_ref(data, label, multi_output, preserve_shape):
    if multi_output:
        return _softmax(data, 1)
    if preserve_shape:
        return _softmax(data, -1)
    return _softmax(data.reshape(len(data), -1), 1).reshape(data.shape)  # over all axes but the first


# --- regression outputs, MakeLoss, softmax_cross_entropy ------------------------------------------

def _regression_make(rng):
    shape = _shape(rng)
    label_shape = (shape[0],) if len(shape) == 2 and shape[1] == 1 and rng.random() < 0.5 else shape
    return [rng.standard_normal(shape), rng.standard_normal(label_shape)], {"grad_scale": float(rng.uniform(0.5, 2))}


def _cross_entropy_make(rng):
    n, k = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    return [rng.standard_normal((n, k)) * 2, rng.integers(0, k, size=n).astype(np.float64)], {}


def _cross_entropy_ref(data, label):
    p = _softmax(data, 1)
    return -np.log(p[np.arange(len(p)), label.astype(np.int64)]).sum(keepdims=True)


SPECS = [
    OpSpec("SoftmaxOutput", _softmax_output_make(), _softmax_output_ref, grad=False, why=_IGNORES_HEAD),
    OpSpec("SoftmaxOutput", _softmax_output_make(preserve_shape=True), _softmax_output_ref, grad=False,
           why=_IGNORES_HEAD),
    OpSpec("SoftmaxOutput", _softmax_output_make(multi_output=True), _softmax_output_ref, grad=False,
           why=_IGNORES_HEAD),
    OpSpec("LinearRegressionOutput", _regression_make, lambda x, label, grad_scale: x, grad=False,
           why=_IGNORES_HEAD),
    OpSpec("LogisticRegressionOutput", _regression_make, lambda x, label, grad_scale: 1 / (1 + np.exp(-x)),
           grad=False, why=_IGNORES_HEAD),
    OpSpec("MAERegressionOutput", _regression_make, lambda x, label, grad_scale: x, grad=False, why=_IGNORES_HEAD),
    OpSpec("MakeLoss", lambda rng: ([rng.standard_normal(_shape(rng))], {"grad_scale": 2.0}),
           lambda x, grad_scale: x, grad=False, why=_IGNORES_HEAD),
    OpSpec("make_loss", lambda rng: ([rng.standard_normal(_shape(rng))], {}), lambda x: x, grad=False,
           why=_IGNORES_HEAD),
    # softmax_cross_entropy's gradient scales by the head gradient: numerically checked (labels excluded).
    OpSpec("softmax_cross_entropy", _cross_entropy_make, _cross_entropy_ref, grad_inputs=(0,)),
]
NO_SPEC = {
    "_backward_SoftmaxOutput": "hidden backward op; test_softmax_output_* run it",
    "_backward_softmax_cross_entropy": "hidden backward op; the softmax_cross_entropy gradient spec runs it",
}

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def _grad(op, data, label=None, head=None, **attrs):
    """(output, gradient of data) of mx.nd.<op> through autograd, with an explicit head gradient."""
    x = mx.nd.array(data)
    x.attach_grad()
    args = [x] + ([mx.nd.array(label)] if label is not None else [])
    with mx.autograd.record():
        y = getattr(mx.nd, op)(*args, **attrs)
    y.backward(mx.nd.array(head) if head is not None else None)
    return y.asnumpy(), x.grad.asnumpy()


# --- values computed by MXNet 1.9.1 ------------------------------------------------------------

D2 = np.array([[0.1, -0.4, 0.7], [1.2, 0.3, -0.5]], np.float32)
L2 = np.array([2, 0], np.float32)
OG2 = np.array([[2., 3., 4.], [5., 6., 7.]], np.float32)  # head gradient: the loss layers ignore it
D3 = np.arange(12, dtype=np.float32).reshape(2, 3, 2) / 7 - 0.5
L3 = np.array([[0, 2], [1, 1]], np.float32)
P3 = np.array([[0, 1, 1], [1, 0, 1]], np.float32)

# (data, label, attrs, gradient of data): MXNet 1.9.1, mx.autograd, SoftmaxOutput(...).backward(OG2 or ones).
SOFTMAX_OUTPUT_CASES = [
    (D2, L2, {},
     [[0.29166, 0.1769007, -0.4685608], [-0.3707736, 0.2558244, 0.1149493]]),
    (D2, L2, {"grad_scale": 2.0},
     [[0.5833201, 0.3538015, -0.9371216], [-0.7415472, 0.5116487, 0.2298986]]),
    (D2, L2, {"normalization": "batch"},
     [[0.14583, 0.0884504, -0.2342804], [-0.1853868, 0.1279122, 0.0574746]]),
    (D2, L2, {"use_ignore": True, "ignore_label": 0},
     [[0.29166, 0.1769007, -0.4685608], [0., 0., 0.]]),
    (D2, L2, {"use_ignore": True, "ignore_label": 0, "normalization": "valid"},
     [[0.29166, 0.1769007, -0.4685608], [0., 0., 0.]]),
    (D2, L2, {"normalization": "valid", "ignore_label": 0},  # counts ignore_label even without use_ignore
     [[0.29166, 0.1769007, -0.4685608], [-0.3707736, 0.2558244, 0.1149493]]),
    (D2, L2, {"smooth_alpha": 0.2},
     [[0.19166, 0.0769007, -0.2685608], [-0.1707736, 0.1558244, 0.0149493]]),
    (D2, L2, {"smooth_alpha": 0.2, "use_ignore": True, "ignore_label": 2},
     [[0., 0., 0.], [-0.1707736, 0.1558244, 0.0149493]]),
    (D2, np.array([-1., 5.]), {},  # labels outside the classes subtract nothing
     [[0.29166, 0.1769007, 0.5314392], [0.6292264, 0.2558244, 0.1149493]]),
    (D2, np.array([[0.2, 0.3, 0.5], [1, 0, 0]]), {"grad_scale": 3.0, "normalization": "batch"},  # probabilities
     [[0.2749801, -0.3692978, 0.0943176], [-1.1123209, 0.7674731, 0.3448478]]),
    (D3, L3, {"multi_output": True},
     [[[-0.3780936, 0.1219064], [0.1622223, 0.1622223], [0.2158712, -0.2841288]],
      [[0.1219064, 0.1219064], [-0.3377777, -0.3377777], [0.2158712, 0.2158712]]]),
    (D3, L3, {"multi_output": True, "normalization": "batch"},
     [[[-0.1890468, 0.0609532], [0.0811112, 0.0811112], [0.1079356, -0.1420644]],
      [[0.0609532, 0.0609532], [-0.1688888, -0.1688888], [0.1079356, 0.1079356]]]),
    (D3, L3, {"multi_output": True, "normalization": "valid", "use_ignore": True, "ignore_label": 1},
     [[[-0.3780936, 0.1219064], [0.1622223, 0.1622223], [0.2158712, -0.2841288]],
      [[0., 0.], [0., 0.], [0., 0.]]]),
    (D3, P3, {},  # softmax over all but axis 0; row i reads label i of the flattened labels
     [[[-0.8867864, 0.1305992], [0.1506547, 0.17379], [0.200478, 0.2312644]],
      [[0.1132136, -0.8694007], [0.1506547, 0.17379], [0.200478, 0.2312644]]]),
    (D3, P3, {"preserve_shape": True},
     [[[-0.5356537, 0.5356537], [0.4643463, -0.4643463], [0.4643463, -0.4643463]],
      [[0.4643463, -0.4643463], [-0.5356537, 0.5356537], [0.4643463, -0.4643463]]]),
    (D3, P3, {"preserve_shape": True, "normalization": "batch"},
     [[[-0.0892756, 0.0892756], [0.0773911, -0.0773911], [0.0773911, -0.0773911]],
      [[0.0773911, -0.0773911], [-0.0892756, 0.0892756], [0.0773911, -0.0773911]]]),
]


@pytest.mark.parametrize("case", range(len(SOFTMAX_OUTPUT_CASES)))
def test_softmax_output_matches_mxnet(case):
    data, label, attrs, want = SOFTMAX_OUTPUT_CASES[case]
    head = OG2 if data is D2 else None
    _, grad = _grad("SoftmaxOutput", data, label, head, **attrs)
    np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-6)
    _, alias = _grad("Softmax", data, label, head, **attrs)
    np.testing.assert_array_equal(alias, grad)


def test_softmax_output_out_grad_multiplies_by_the_head_gradient():
    # Documented behaviour. MXNet 1.9.1 passes the output where the head gradient belongs and so multiplies by
    # softmax(data) instead (it gives [[0.0850656, 0.0312939, -0.2490116], ...] here).
    out, grad = _grad("SoftmaxOutput", D2, L2, OG2, out_grad=True, grad_scale=0.5)
    onehot = np.eye(3)[L2.astype(int)]
    np.testing.assert_allclose(grad, (out - onehot) * 0.5 * OG2, rtol=1e-5)


def test_softmax_output_gradient_formula_random():
    rng = np.random.default_rng(7)
    data = rng.standard_normal((5, 4))
    label = rng.integers(0, 4, size=5).astype(np.float64)
    label[1] = 3
    out, grad = _grad("SoftmaxOutput", data, label, rng.standard_normal((5, 4)), grad_scale=1.5,
                      use_ignore=True, ignore_label=3, normalization="valid", smooth_alpha=0.1)
    target = np.where(np.eye(4)[label.astype(int)] == 1, 0.9, 0.1 / 3)
    want = (_softmax(data, 1) - target) * 1.5 / max(np.sum(label != 3), 1)
    want[label == 3] = 0
    np.testing.assert_allclose(out, _softmax(data, 1), rtol=1e-5)
    np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-7)


# (op, data, label, attrs, output, gradient of data): MXNet 1.9.1, backward(OG2) for the 2-D cases.
REGRESSION_CASES = [
    ("LinearRegressionOutput", D2, [[0.5, 0.5, 0.5], [0, 1, -1]], {"grad_scale": 2.0}, D2,
     [[-0.2666667, -0.6, 0.1333333], [0.8000001, -0.4666667, 0.3333333]]),
    ("LogisticRegressionOutput", D2, [[0.5, 0.5, 0.5], [0, 1, -1]], {"grad_scale": 2.0},
     [[0.5249792, 0.4013124, 0.6681877], [0.7685248, 0.5744425, 0.3775407]],
     [[0.0166528, -0.0657918, 0.1121252], [0.5123499, -0.283705, 0.9183605]]),
    ("MAERegressionOutput", D2, [[0.5, 0.5, 0.5], [0, 1, -1]], {"grad_scale": 2.0}, D2,
     [[-0.6666667, -0.6666667, 0.6666667], [0.6666667, -0.6666667, 0.6666667]]),
    ("LinearRegressionOutput", D3, D3 * 0.5, {}, D3,
     [[[-0.0416667, -0.0297619], [-0.0178571, -0.0059524], [0.0059524, 0.0178571]],
      [[0.0297619, 0.0416667], [0.0535714, 0.0654762], [0.077381, 0.0892857]]]),
    ("LogisticRegressionOutput", D3, D3 * 0.5, {}, 1 / (1 + np.exp(-D3.astype(np.float64))),
     [[[0.1045901, 0.0983705], [0.0922959, 0.0863108], [0.0803559, 0.0743708]],
      [[0.0682962, 0.0620766], [0.0556617, 0.0490089], [0.0420833, 0.034859]]]),
    ("MAERegressionOutput", D3, D3 * 0.5, {}, D3,
     [[[-0.1666667] * 2] * 2 + [[0.1666667] * 2], [[0.1666667] * 2] * 3]),
    ("LinearRegressionOutput", D2[:, :1], [0.5, 0.25], {}, D2[:, :1], [[-0.4], [0.95]]),  # (batch,) label
]


@pytest.mark.parametrize("case", range(len(REGRESSION_CASES)))
def test_regression_matches_mxnet(case):
    op, data, label, attrs, want_out, want_grad = REGRESSION_CASES[case]
    out, grad = _grad(op, data, np.asarray(label, np.float32), OG2 if data is D2 else None, **attrs)
    np.testing.assert_allclose(out, want_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"])
def test_regression_gradient_formula_random(op):
    rng = np.random.default_rng(11)
    data, label = rng.standard_normal((3, 2, 2)), rng.standard_normal((3, 4))  # label: same batch and size
    out, grad = _grad(op, data, label, rng.standard_normal((3, 2, 2)), grad_scale=0.7)
    diff = out - label.reshape(out.shape)
    want = (np.sign(diff) if op == "MAERegressionOutput" else diff) * 0.7 / 4  # per-sample label count
    np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-7)


# (attrs, gradient of D2): MXNet 1.9.1, MakeLoss(D2).backward(OG2).
MAKE_LOSS_CASES = [
    ({}, np.ones((2, 3))),
    ({"grad_scale": 2.0}, np.full((2, 3), 2.0)),
    ({"normalization": "batch"}, np.full((2, 3), 0.5)),
    ({"normalization": "valid", "valid_thresh": 0.2}, np.full((2, 3), 1 / 3)),  # 3 elements above 0.2
    ({"normalization": "valid", "valid_thresh": 5.0}, np.ones((2, 3))),  # none valid: divides by 1
]


@pytest.mark.parametrize("case", range(len(MAKE_LOSS_CASES)))
def test_make_loss_matches_mxnet(case):
    attrs, want = MAKE_LOSS_CASES[case]
    out, grad = _grad("MakeLoss", D2, None, OG2, **attrs)
    np.testing.assert_array_equal(out, D2)
    np.testing.assert_allclose(grad, want, rtol=1e-6)


def test_make_loss_lowercase_is_identity_with_unit_gradient():
    out, grad = _grad("make_loss", D2, None, OG2)
    np.testing.assert_array_equal(out, D2)
    np.testing.assert_array_equal(grad, np.ones((2, 3)))
    assert mx.ops.registry.get("make_loss").list_outputs({}) == ["loss"]


def test_softmax_cross_entropy_matches_mxnet():
    out, grad = _grad("softmax_cross_entropy", D2, L2, np.array([2.0]))  # MXNet 1.9.1 values
    np.testing.assert_allclose(out, [1.0954306], rtol=1e-6)
    np.testing.assert_allclose(grad, [[0.5833201, 0.3538015, -0.9371216], [-0.7415472, 0.5116487, 0.2298986]],
                               rtol=1e-5)


def test_softmax_cross_entropy_clips_labels():
    # MXNet 1.9.1 reads outside the row for such labels; mxcy clips them to the classes.
    out = mx.nd.softmax_cross_entropy(mx.nd.array(D2), mx.nd.array([5, -1])).asnumpy()
    p = _softmax(D2.astype(np.float64), 1)
    np.testing.assert_allclose(out, [-np.log(p[0, 2]) - np.log(p[1, 0])], rtol=1e-5)


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.SoftmaxOutput(mx.nd.ones((2, 3)), mx.nd.ones((3,))),
     r"SoftmaxOutput: .*label of shape \(3,\) does not match data of shape \(2, 3\): expected \(2,\)"),
    (lambda: mx.nd.SoftmaxOutput(mx.nd.ones((3,)), mx.nd.ones((1,))), r"ndim >= 2"),
    (lambda: mx.nd.SoftmaxOutput(mx.nd.ones((2, 3, 4)), mx.nd.ones((2, 3)), multi_output=True),
     r"with multi_output: expected \(2, 4\)"),
    (lambda: mx.nd.SoftmaxOutput(mx.nd.ones((2, 3)), mx.nd.array([1, 0], dtype="int32")),
     "inputs must share one dtype"),
    (lambda: mx.nd.SoftmaxOutput(mx.nd.ones((2, 3)), mx.nd.ones((2,)), normalization="all"), "expected one of"),
    (lambda: mx.nd.LinearRegressionOutput(mx.nd.ones((2, 3)), mx.nd.ones((6,))),
     r"label of shape \(6,\) does not match data of shape \(2, 3\)"),
    (lambda: mx.nd.LogisticRegressionOutput(mx.nd.ones((2, 3), dtype="int32"), mx.nd.ones((2, 3), dtype="int32")),
     "float16, float32 or float64, got"),
    (lambda: mx.nd.softmax_cross_entropy(mx.nd.ones((2, 3, 2)), mx.nd.ones((2,))), "must be 2-D"),
    (lambda: mx.nd.softmax_cross_entropy(mx.nd.ones((2, 3)), mx.nd.ones((2, 1))),
     r"label of shape \(2, 1\) does not match data of shape \(2, 3\): expected \(2,\)"),
])
def test_errors(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


# --- gpu(0) against cpu() ----------------------------------------------------------------------

GPU_CASES = [  # (op, data, label, attrs)
    ("SoftmaxOutput", D3, L3, {"multi_output": True, "normalization": "valid", "smooth_alpha": 0.1}),
    ("SoftmaxOutput", D3, L3.reshape(2, 1, 2), {"multi_output": True, "normalization": "batch"}),
    ("SoftmaxOutput", D2, L2, {"use_ignore": True, "ignore_label": 2, "normalization": "valid"}),
    ("SoftmaxOutput", D2, np.array([5, -1], np.float32), {"normalization": "batch", "grad_scale": 2.0}),
    ("SoftmaxOutput", D2, np.abs(D2) / np.abs(D2).sum(1, keepdims=True), {"out_grad": True}),  # probabilities
    ("SoftmaxOutput", D3, np.array([[0, 1, 1], [1, 0, 1]], np.float32), {"preserve_shape": True, "out_grad": True}),
    ("SoftmaxOutput", D2.astype(np.float16), L2.astype(np.float16), {"smooth_alpha": 0.2}),
    ("LinearRegressionOutput", D2, OG2 / 5, {"grad_scale": 3.0}),
    ("LogisticRegressionOutput", D2, OG2 / 10, {}),
    ("MAERegressionOutput", D2, OG2 / 5, {}),
    ("MakeLoss", D2, None, {"normalization": "valid", "valid_thresh": 0.2}),
    ("make_loss", D2, None, {}),
    ("softmax_cross_entropy", D2, L2, {}),
    ("softmax_cross_entropy", D2.astype(np.float64), np.array([7, -3], np.float64), {}),  # clipped labels
    ("softmax_cross_entropy", D2.astype(np.float16), L2.astype(np.float16), {}),
]


def _on(ctx, op, data, label, attrs):
    x = mx.nd.array(data, ctx=ctx, dtype=data.dtype)
    x.attach_grad()
    args = [x] + ([mx.nd.array(label, ctx=ctx, dtype=label.dtype)] if label is not None else [])
    with mx.autograd.record():
        y = getattr(mx.nd, op)(*args, **attrs)
    y.backward(mx.nd.full(y.shape, 1.5, ctx=ctx))
    return y.asnumpy(), x.grad.asnumpy()


@pytest.mark.cuda
@pytest.mark.parametrize("case", GPU_CASES, ids=lambda case: case[0])
def test_gpu_matches_cpu(case):
    tol = 1e-3 if case[1].dtype == np.float16 else 1e-5
    for c, g in zip(_on(mx.cpu(), *case), _on(mx.gpu(0), *case)):
        np.testing.assert_allclose(g, c, rtol=tol, atol=tol / 10)
