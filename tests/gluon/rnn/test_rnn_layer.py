"""gluon.rnn layers RNN/LSTM/GRU: MXNet 1.9.1's numbers and names (fixtures/), the same network unrolled from cells,
hybridized == imperative, deferred input size, states in and out, save/load."""
import numpy as np
import pytest

import mxcy as mx
from mxcy import gluon
from tests.gluon.rnn._reference import fixture

rnn = gluon.rnn
LAYERS = {"rnn_relu": lambda h, **kw: rnn.RNN(h, activation="relu", **kw),
          "rnn_tanh": lambda h, **kw: rnn.RNN(h, activation="tanh", **kw),
          "lstm": lambda h, **kw: rnn.LSTM(h, **kw), "gru": lambda h, **kw: rnn.GRU(h, **kw)}


def _nd(a):
    return mx.nd.array(a, dtype="float64")


def _random_layer(kind, rng, **kwargs):
    layer = LAYERS[kind](3, input_size=2, **kwargs)
    layer.initialize()
    layer.cast("float64")
    for p in layer.collect_params().values():
        p.set_data(_nd(rng.uniform(-0.6, 0.6, p.shape)))
    return layer


@pytest.mark.parametrize("name", ["rnn_relu_2l", "rnn_tanh_bi_ntc", "lstm_2l_bi", "lstm_ntc", "gru_2l_bi_ntc", "gru"])
def test_layers_match_mxnet(name):
    meta, arrays = fixture()
    case = meta[name]
    layer = getattr(rnn, case["class"])(input_size=arrays[f"{name}/x"].shape[-1], **case["kwargs"])
    layer.initialize()
    layer.cast("float64")
    strip = lambda key: key.split("_", 1)[1]  # noqa: E731 - the automatic prefixes' counters differ
    assert {strip(k): list(p.shape) for k, p in layer.collect_params().items()} == \
        {strip(k): v for k, v in case["shapes"].items()}
    assert sorted(layer._collect_params_with_prefix()) == case["structural"]
    theirs = {strip(k): k for k in case["shapes"]}
    for k, p in layer.collect_params().items():
        p.set_data(_nd(arrays[f"{name}/param/{theirs[strip(k)]}"]))
    x = _nd(arrays[f"{name}/x"])
    x.attach_grad()
    with mx.autograd.record():
        out, states = layer(x, layer.begin_state(x.shape[layer._layout.find("N")], dtype="float64"))
        loss = (out * _nd(np.linspace(-1, 1, out.size).reshape(out.shape))).sum()
    loss.backward()
    close = dict(rtol=1e-6, atol=1e-7)  # MXNet's rnn_relu runs part of its CPU kernel in float32
    np.testing.assert_allclose(out.asnumpy(), arrays[f"{name}/out"], **close)
    np.testing.assert_allclose(x.grad.asnumpy(), arrays[f"{name}/dx"], **close)
    assert len(states) == case["n_states"]
    for i, s in enumerate(states):
        np.testing.assert_allclose(s.asnumpy(), arrays[f"{name}/state{i}"], **close)
    for k, p in layer.collect_params().items():
        np.testing.assert_allclose(p.grad().asnumpy(), arrays[f"{name}/grad/{theirs[strip(k)]}"], **close)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layout", ["TNC", "NTC"])
def test_layer_equals_its_unfused_cells(kind, bidirectional, layout):
    rng = np.random.default_rng(hash((kind, bidirectional, layout)) % 2**32)
    layer = _random_layer(kind, rng, num_layers=2, bidirectional=bidirectional, layout=layout)
    x = _nd(rng.standard_normal((4, 2, 2)))  # (T, N, C) or (N, T, C)
    batch = x.shape[layout.find("N")]
    begin = [_nd(rng.standard_normal(info["shape"])) for info in layer.state_info(batch)]
    out, states = layer(x, begin)
    cells = layer._unfuse()
    # the cells take [h, (c)] per layer and direction; the layer stacks each state kind over (layer, direction)
    per_cell = [[s[k] for s in begin] for k in range(begin[0].shape[0])]
    want, want_states = cells.unroll(x.shape[layout.find("T")], x, [s for cell in per_cell for s in cell],
                                     layout=layout, merge_outputs=True)
    np.testing.assert_allclose(out.asnumpy(), want.asnumpy(), rtol=1e-10, atol=1e-12)
    n = len(begin)
    for i, s in enumerate(states):
        np.testing.assert_allclose(s.asnumpy(), np.stack([w.asnumpy() for w in want_states[i::n]]), rtol=1e-10)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_hybridized_layer_equals_imperative_and_fills_input_size(kind):
    rng = np.random.default_rng(11)
    layer = LAYERS[kind](4, num_layers=2, bidirectional=True)
    layer.initialize()
    x = mx.nd.array(rng.standard_normal((3, 2, 7)))
    out = layer(x)
    assert layer.l0_i2h_weight.shape[1] == 7 and layer.r0_i2h_weight.shape[1] == 7
    assert isinstance(out, mx.nd.NDArray) and out.shape == (3, 2, 8)
    states = layer.begin_state(2)
    want, want_states = layer(x, states)
    layer.hybridize()
    got, got_states = layer(x, states)
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-6)
    for g, w in zip(got_states, want_states):
        np.testing.assert_allclose(g.asnumpy(), w.asnumpy(), rtol=1e-6)
    fresh = LAYERS[kind](4)
    fresh.initialize()
    fresh.hybridize()
    assert fresh(x).shape == (3, 2, 4) and fresh.l0_i2h_weight.shape == (fresh._gates * 4, 7)


def test_layer_inside_a_hybridized_network_trains():
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Embedding(10, 4), rnn.LSTM(5, num_layers=2, layout="NTC", input_size=4, dropout=0.2),
                gluon.nn.Dense(10, flatten=False))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.05})
    tokens = mx.nd.array(np.random.default_rng(0).integers(0, 10, size=(3, 6)))
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    losses = []
    for _ in range(30):
        with mx.autograd.record():
            loss = loss_fn(net(tokens[:, :-1]), tokens[:, 1:])
        loss.backward()
        trainer.step(3)
        losses.append(loss.mean().asscalar())
    assert losses[-1] < 0.7 * losses[0]


def test_states_shapes_names_and_errors():
    layer = rnn.LSTM(3, num_layers=2, bidirectional=True, projection_size=2, input_size=4)
    assert [i["shape"] for i in layer.state_info(5)] == [(4, 5, 2), (4, 5, 3)]
    assert layer.l1_i2h_weight.shape == (12, 4) and layer.l0_h2r_weight.shape == (2, 3)
    assert layer.l0_h2h_weight.shape == (12, 2)
    assert [s.name for s in layer.begin_state(func=mx.sym.var)] == [f"{layer.prefix}h0_0", f"{layer.prefix}h0_1"]
    assert repr(rnn.GRU(3, num_layers=2, dropout=0.5, bidirectional=True, input_size=4)) == \
        "GRU(4 -> 3, TNC, num_layers=2, dropout=0.5, bidirectional)"
    layer.initialize()
    out, states = layer(mx.nd.ones((6, 5, 4)), layer.begin_state(5))
    assert out.shape == (6, 5, 4) and [s.shape for s in states] == [(4, 5, 2), (4, 5, 3)]
    with pytest.raises(ValueError, match=r"Invalid recurrent state shape. Expecting \(4, 5, 2\)"):
        layer(mx.nd.ones((6, 5, 4)), [mx.nd.zeros((4, 3, 2)), mx.nd.zeros((4, 5, 3))])
    with pytest.raises(AssertionError, match="layout"):
        rnn.GRU(3, layout="TCN")


def test_valid_lengths_through_the_layer():
    rng = np.random.default_rng(12)
    layer = _random_layer("gru", rng, bidirectional=True, use_sequence_length=True)
    x = rng.standard_normal((5, 2, 2))
    lengths = _nd([5, 3])
    out, states = layer(_nd(x), layer.begin_state(2, dtype="float64"), lengths)
    cells = layer._unfuse()
    want, want_states = cells.unroll(5, _nd(x), cells.begin_state(batch_size=2, dtype="float64"), layout="TNC",
                                     merge_outputs=True, valid_length=lengths)
    np.testing.assert_allclose(out.asnumpy(), want.asnumpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(states[0].asnumpy(), np.stack([s.asnumpy() for s in want_states]), rtol=1e-10)


def test_save_and_load_parameters_use_mxnets_unfused_names(tmp_path):
    rng = np.random.default_rng(13)
    layer = _random_layer("lstm", rng, bidirectional=True)
    path = str(tmp_path / "lstm.params")
    layer.save_parameters(path)
    assert sorted(mx.nd.load(path)) == sorted(layer._collect_params_with_prefix())
    other = rnn.LSTM(3, input_size=2, bidirectional=True)
    other.load_parameters(path, cast_dtype=True)
    x = _nd(rng.standard_normal((2, 1, 2)))
    np.testing.assert_allclose(other(x.astype("float32")).asnumpy(), layer(x).asnumpy(), rtol=1e-5, atol=1e-6)
