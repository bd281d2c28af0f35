"""CTCLoss: OpSpecs against the brute-force alignment sum (blank first or last, data and label lengths), values and
gradients computed by MXNet 1.9.1, bad labels and lengths, symbols, and gpu(0) against cpu()."""
import numpy as np
import pytest

import mxcy as mx
from tests.kernels.test_ctc import brute_force
from tests.ops.opspec import OpSpec, outputs_and_grads, spec_tests


def _make(blank_label="first", data_lengths=False, label_lengths=False):
    """Random (T, N, C) activations and padded labels; lengths as inputs when asked (then entries past a label's
    length hold arbitrary classes, which must be ignored)."""
    def make(rng):
        steps, batch, classes = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(2, 4))
        width = int(rng.integers(1, steps + 1))
        first = blank_label == "first"
        low, high = (1, classes - 1) if first else (0, classes - 2)
        label = rng.integers(low, high + 1, size=(batch, width)).astype(np.float64)
        lengths = rng.integers(0, width + 1, batch)
        if not label_lengths:
            for n, k in enumerate(lengths):
                label[n, k:] = 0 if first else -1
        inputs = [rng.standard_normal((steps, batch, classes)) * 2, label]
        if data_lengths:
            inputs.append(rng.integers(0, steps + 1, batch).astype(np.float64))
        if label_lengths:
            inputs.append(lengths.astype(np.float64))
        return inputs, {"blank_label": blank_label, "use_data_lengths": data_lengths,
                        "use_label_lengths": label_lengths}
    return make


def _reference(data, label, *lengths, blank_label, use_data_lengths, use_label_lengths):
    steps, batch, classes = data.shape
    lengths = list(lengths)
    data_len = lengths.pop(0).astype(np.int64) if use_data_lengths else np.full(batch, steps)
    if use_label_lengths:
        label_len = lengths.pop(0).astype(np.int64)
    else:
        pad = label == (0 if blank_label == "first" else -1)
        label_len = np.where(pad.any(axis=1), pad.argmax(axis=1), label.shape[1])
    blank = 0 if blank_label == "first" else classes - 1
    return brute_force(data, label.astype(np.int64), label_len, data_len, blank)[0]


SPECS = [OpSpec("CTCLoss", _make(blank, dl, ll), _reference, grad_inputs=(0,))
         for blank, dl, ll in (("first", False, False), ("last", False, False), ("first", True, False),
                               ("last", False, True), ("first", True, True))]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


# --- values computed by MXNet 1.9.1 ------------------------------------------------------------
# data = np.random.RandomState(0).randn(3, 2, 4) as float32; loss = mx.nd.CTCLoss(x, label, ...) under
# mx.autograd.record(), loss.backward(mx.nd.ones((2,))); (label, lengths, attrs, loss, gradient of x).

DATA = np.random.RandomState(0).randn(3, 2, 4).astype(np.float32)
GRAD_BLANK_LAST = [
    [[0.3009677, 0.0769463, 0.1372342, 0.2020623], [0.6287442, 0.0365576, 0.2512014, -0.9165031]],
    [[0.1149547, 0.0405345, 0.1472012, 0.2628891], [0.343872, 0.1814367, 0.2504088, -0.7757176]],
    [[0.6307817, -0.8326344, 0.1936299, 0.0082229], [0.016051, 0.3963819, 0.4894076, -0.9018404]]]
GRAD_BLANK_FIRST = [
    [[0.228584, 0.0769463, 0.1372342, 0.484852], [-1.1939123, 0.0365576, -3.4770024, 0.0834969]],
    [[0.042571, -0.5906837, 0.1472012, 0.5456788], [-0.656128, 0.1814367, -2.3004508, 0.2242824]],
    [[-0.0310662, -0.2228307, 0.1936299, 0.060267], [-0.983949, 0.3963819, 0.4894076, 0.0981596]]]
GRAD_BLANK_REPEATED = [
    [[0.3009677, -3.2752116, 0.1372342, -1.7341564], [0.6287442, 0.0365576, 0.2512014, -0.9165027]],
    [[0.1149547, -2.3790016, 0.1472012, -0.4543208], [0.343872, 0.1814367, 0.2504088, -0.7757176]],
    [[0.6307817, 0.1153214, 0.1936299, -0.939733], [0.016051, 0.3963819, 0.4894076, -0.90184]]]
MXNET_CASES = {
    "first": ([[1, 2], [3, 0]], {}, {}, [3.684399, 3.220676],
              [[[-0.1449771, -0.4771089, 0.1372342, 0.484852], [-0.3061468, 0.0365576, 0.2512014, 0.0183881]],
               [[0.0467521, -0.367791, -0.2246397, 0.5456788], [-0.1991973, 0.1814367, 0.2504089, -0.2326482]],
               [[0.3462751, 0.1153213, -0.5218632, 0.060267], [-0.0597076, 0.3963819, 0.4894076, -0.8260818]]]),
    "last": ([[1, 2], [0, -1]], {}, {"blank_label": "last"}, [3.4448416, 3.1673489],
             [[[0.3009677, -0.3576847, 0.1372342, -0.0805171], [-0.2862549, 0.0365576, 0.2512014, -0.0015041]],
              [[0.1149547, -0.4629283, 0.057079, 0.2908944], [-0.3203178, 0.1814367, 0.2504089, -0.1115278]],
              [[0.6307817, 0.1153213, -0.7849782, 0.0388749], [-0.0844305, 0.3963819, 0.4894076, -0.8013591]]]),
    # (1, 1, 1) needs 5 steps: MXNet reports 0 with a zero gradient.
    "infeasible": ([[1, 1, 1], [1, 1, 0]], {}, {}, [0.0, 5.3017297],
                   [[[0, 0, 0, 0], [0.6287442, -0.9634429, 0.2512014, 0.0834969]],
                    [[0, 0, 0, 0], [-0.6561285, 0.1814367, 0.2504089, 0.2242824]],
                    [[0, 0, 0, 0], [0.016051, -0.6036181, 0.4894076, 0.0981596]]]),
    "data_lengths": ([[1, 2], [3, 0]], {"data_lengths": [2, 3]}, {"use_data_lengths": True}, [4.4806023, 3.220676],
                     [[[0.3009677, -0.9230537, 0.1372342, 0.484852], [-0.3061468, 0.0365576, 0.2512014, 0.0183881]],
                      [[0.1149547, 0.1921652, -0.8527988, 0.5456788], [-0.1991973, 0.1814367, 0.2504089, -0.2326482]],
                      [[0, 0, 0, 0], [-0.0597076, 0.3963819, 0.4894076, -0.8260818]]]),
    "label_lengths": ([[1, 2], [3, 0]], {"label_lengths": [1, 1]}, {"use_label_lengths": True},
                      [2.7527428, 3.220676], None),
    "empty_label": ([[0, 0], [1, 0]], {}, {}, [3.8247647, 1.9974018],
                    [[[-0.6990323, 0.0769463, 0.1372342, 0.484852], [-0.3496076, 0.0149093, 0.2512014, 0.0834969]],
                     [[-0.8850453, 0.1921652, 0.1472013, 0.5456788], [-0.2892196, -0.1854719, 0.2504089, 0.2242824]],
                     [[-0.3692183, 0.1153213, 0.1936299, 0.060267], [0.0002846, -0.5878518, 0.4894076, 0.0981596]]]),
    # Labels equal to the blank: MXNet aligns them on its own lattice (no jump into them forward, none out of them
    # backward), which kernels/ctc.py follows.
    "blank_in_label_last": ([[3, 1], [3, -1]], {}, {"blank_label": "last"}, [2.2266176, 4.5071964], GRAD_BLANK_LAST),
    "blank_in_label_first": ([[0, 1], [2, 0]], {"label_lengths": [2, 2]}, {"use_label_lengths": True},
                             [2.8982279, 6.5809717], GRAD_BLANK_FIRST),
    "blank_repeated": ([[1, 3], [3, 3]], {}, {"blank_label": "last"}, [5.9793425, 6.2989559], GRAD_BLANK_REPEATED),
}


@pytest.mark.parametrize("case", MXNET_CASES)
@pytest.mark.parametrize("name", ["CTCLoss", "ctc_loss"])
def test_matches_mxnet(case, name):
    label, lengths, attrs, want_loss, want_grad = MXNET_CASES[case]
    x = mx.nd.array(DATA)
    x.attach_grad()
    with mx.autograd.record():
        loss = getattr(mx.nd, name)(x, mx.nd.array(label), **{k: mx.nd.array(v) for k, v in lengths.items()},
                                    **attrs)
    loss.backward(mx.nd.ones((2,)))
    np.testing.assert_allclose(loss.asnumpy(), want_loss, rtol=1e-5, atol=1e-6)
    if want_grad is not None:
        np.testing.assert_allclose(x.grad.asnumpy(), want_grad, rtol=1e-5, atol=2e-6)


def test_head_gradient_scales_each_sequence():
    x = mx.nd.array(DATA)
    x.attach_grad()
    with mx.autograd.record():
        loss = mx.nd.contrib.CTCLoss(x, mx.nd.array([[1, 2], [3, 0]]))
    loss.backward(mx.nd.array([2.0, -0.5]))
    want = np.array(MXNET_CASES["first"][4]) * np.array([2.0, -0.5])[None, :, None]
    np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("label, attrs, lengths, message", [
    ([[1, 7], [3, 0]], {}, {}, r"label\[0, 1\] = 7 is not a class.*\[0, 3\]"),
    ([[-1, 1], [3, 0]], {}, {}, r"label\[0, 0\] = -1 is not a class"),
    ([[1, 2], [4, -1]], {"blank_label": "last"}, {}, r"label\[1, 0\] = 4 is not a class"),
    ([[1, -2], [2, 1]], {"use_label_lengths": True}, {"label_lengths": [2, 2]}, r"label\[0, 1\] = -2 is not a class"),
    ([[1, 2], [3, 0]], {"use_data_lengths": True}, {"data_lengths": [4, 3]}, r"data_lengths must lie in \[0, 3\]"),
    ([[1, 2], [3, 0]], {"use_data_lengths": True}, {"data_lengths": [-1, 3]}, r"data_lengths must lie in"),
    ([[1, 2], [3, 0]], {"use_label_lengths": True}, {"label_lengths": [3, 1]}, r"label_lengths must lie in \[0, 2\]"),
    ([[1, np.nan], [3, 0]], {}, {}, r"label must be finite"),
])
def test_bad_labels_and_lengths(label, attrs, lengths, message):
    with pytest.raises(mx.MXNetError, match="CTCLoss.*" + message):
        mx.nd.CTCLoss(mx.nd.array(DATA), mx.nd.array(label), **{k: mx.nd.array(v) for k, v in lengths.items()},
                      **attrs).asnumpy()


@pytest.mark.parametrize("data_shape, label_shape, attrs, lengths, message", [
    ((3, 2), (2, 2), {}, {}, "data must be 3-D"),
    ((3, 2, 4), (3, 2), {}, {}, r"label of shape \(3, 2\) does not match"),
    ((2, 2, 4), (2, 3), {}, {}, "label_sequence_length 3"),
    ((3, 2, 4), (2, 2), {"use_data_lengths": True}, {"data_lengths": (3,)}, r"data_lengths of shape \(3,\)"),
])
def test_bad_shapes(data_shape, label_shape, attrs, lengths, message):
    with pytest.raises(mx.MXNetError, match="CTCLoss.*" + message):
        mx.nd.CTCLoss(mx.nd.zeros(data_shape), mx.nd.ones(label_shape),
                      **{k: mx.nd.zeros(v) for k, v in lengths.items()}, **attrs)


def test_integer_data_is_refused():
    with pytest.raises(mx.MXNetError, match="CTCLoss.*float"):
        mx.nd.CTCLoss(mx.nd.zeros((3, 2, 4), dtype="int32"), mx.nd.ones((2, 2)))


def test_symbol_inputs_follow_the_length_flags():
    d, lab = mx.sym.var("d"), mx.sym.var("l")
    assert mx.sym.CTCLoss(d, lab).list_arguments() == ["d", "l"]
    assert mx.sym.CTCLoss(d, lab, use_label_lengths=True, name="ctc").list_arguments() == ["d", "l",
                                                                                          "ctc_label_lengths"]
    sym = mx.sym.ctc_loss(d, lab, mx.sym.var("dl"), use_data_lengths=True, blank_label="last")
    assert sym.list_arguments() == ["d", "l", "dl"]
    assert len(sym.list_outputs()) == 1
    _, out_shapes, _ = sym.infer_shape(d=(5, 3, 4), l=(3, 2), dl=(3,))
    assert out_shapes == [(3,)]


def test_executor_forward_backward_matches_ndarray():
    sym = mx.sym.CTCLoss(mx.sym.var("data"), mx.sym.var("label"), blank_label="last")
    label = np.array([[1, 2], [0, -1]], np.float32)
    exe = sym.bind(mx.cpu(), {"data": mx.nd.array(DATA), "label": mx.nd.array(label)},
                   args_grad={"data": mx.nd.zeros(DATA.shape)}, grad_req={"data": "write", "label": "null"})
    exe.forward(is_train=True)
    exe.backward(mx.nd.ones((2,)))
    _, _, attrs, want_loss, want_grad = MXNET_CASES["last"]
    np.testing.assert_allclose(exe.outputs[0].asnumpy(), want_loss, rtol=1e-5)
    np.testing.assert_allclose(exe.grad_dict["data"].asnumpy(), want_grad, rtol=1e-5, atol=2e-6)


@pytest.mark.cuda
@pytest.mark.parametrize("case", ["first", "last", "data_lengths", "infeasible"])
def test_gpu_matches_cpu(case):
    label, lengths, attrs, _, _ = MXNET_CASES[case]
    extra = [np.array(v, np.float32) for v in lengths.values()]

    def loss(x, *ins):
        return mx.nd.CTCLoss(x, *ins, **attrs)

    def run(ctx):
        xs = [mx.nd.array(a, ctx=ctx) for a in [np.array(label, np.float32)] + extra]
        return outputs_and_grads(ctx, lambda x: loss(x, *xs), [DATA])

    for got, want in zip(run(mx.gpu(0)), run(mx.cpu())):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
