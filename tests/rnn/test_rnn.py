"""mx.rnn checkpoints: the file holds the cells' unpacked weights, loading packs them again; do_rnn_checkpoint's
period; the deprecated rnn_unroll."""
import numpy as np
import pytest

import mxcy as mx


def _fused_model():
    cell = mx.rnn.FusedRNNCell(3, num_layers=1, mode="gru", prefix="g_")
    out, _ = cell.unroll(2, mx.sym.Variable("data"), layout="TNC", merge_outputs=True)
    size = dict(zip(out.list_arguments(), out.infer_shape(data=(2, 1, 4))[0]))["g_parameters"]
    packed = mx.nd.array(np.random.default_rng(0).uniform(-1, 1, size))
    return cell, out, {"g_parameters": packed}


def test_save_and_load_rnn_checkpoint(tmp_path):
    cell, sym, args = _fused_model()
    prefix = str(tmp_path / "model")
    mx.rnn.save_rnn_checkpoint(cell, prefix, 3, sym, args, {})
    saved = mx.nd.load(prefix + "-0003.params")
    assert sorted(saved) == sorted("arg:" + n for n in cell.unpack_weights(args))
    np.testing.assert_array_equal(saved["arg:g_l0_h2h_z_weight"].asnumpy(),
                                  args["g_parameters"].asnumpy()[3 * 3 * 4 + 9:3 * 3 * 4 + 18].reshape(3, 3))
    loaded_sym, loaded_args, loaded_aux = mx.rnn.load_rnn_checkpoint([cell], prefix, 3)
    assert loaded_sym.tojson() == sym.tojson() and loaded_aux == {}
    assert list(loaded_args) == ["g_parameters"]
    np.testing.assert_array_equal(loaded_args["g_parameters"].asnumpy(), args["g_parameters"].asnumpy())


def test_do_rnn_checkpoint_saves_every_period(tmp_path):
    cell, sym, args = _fused_model()
    callback = mx.rnn.do_rnn_checkpoint(cell, str(tmp_path / "m"), period=2)
    for epoch in range(4):
        callback(epoch, sym, args, {})
    assert sorted(p.name for p in tmp_path.glob("*.params")) == ["m-0002.params", "m-0004.params"]


def test_rnn_unroll_is_deprecated_cell_unroll():
    cell = mx.rnn.RNNCell(2, prefix="r_")
    with pytest.warns(UserWarning, match="deprecated"):
        outputs, _ = mx.rnn.rnn_unroll(cell, 2, mx.sym.Variable("data"))
    assert [o.list_outputs()[0] for o in outputs] == ["r_t0_out_output", "r_t1_out_output"]
