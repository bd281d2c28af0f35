"""gluon.contrib.rnn convolutional cells: MXNet 1.9.1's parameters, outputs and gradients (fixtures of
tests/gluon/rnn), shapes of every class, channels-last shapes."""
import pytest

import mxcy as mx
from mxcy.gluon.contrib import rnn as crnn
from tests.gluon.rnn._reference import check_cell_against_mxnet


@pytest.mark.parametrize("name,cls", [("contrib_conv1d_gru", crnn.Conv1DGRUCell),
                                      ("contrib_conv2d_lstm", crnn.Conv2DLSTMCell),
                                      ("contrib_conv2d_rnn", crnn.Conv2DRNNCell),
                                      ("contrib_conv3d_gru", crnn.Conv3DGRUCell)])
def test_conv_cells_match_mxnet(name, cls):
    check_cell_against_mxnet(name, cls)


@pytest.mark.parametrize("kind,gates,states", [("RNN", 1, 1), ("LSTM", 4, 2), ("GRU", 3, 1)])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_shapes_of_every_class(kind, gates, states, dims):
    cls = getattr(crnn, f"Conv{dims}D{kind}Cell")
    spatial = (5, 4, 3)[:dims]
    cell = cls((3,) + spatial, 2, i2h_kernel=3, h2h_kernel=1, i2h_pad=1)
    assert cell.i2h_weight.shape == (2 * gates, 3) + (3,) * dims
    assert cell.h2h_weight.shape == (2 * gates, 2) + (1,) * dims
    assert [i["shape"] for i in cell.state_info(4)] == [(4, 2) + spatial] * states
    cell.initialize()
    out, new = cell.unroll(2, mx.nd.ones((4, 2, 3) + spatial), merge_outputs=True)
    assert out.shape == (4, 2, 2) + spatial and len(new) == states
    with pytest.raises(AssertionError, match="odd"):
        cls((3,) + spatial, 2, i2h_kernel=3, h2h_kernel=2)


def test_channels_last_shapes_and_convolution_error():
    cell = crnn.Conv2DGRUCell((5, 4, 2), 3, i2h_kernel=(3, 1), h2h_kernel=3, activation="relu", conv_layout="NHWC")
    assert cell.i2h_weight.shape == (9, 3, 1, 2) and cell.h2h_weight.shape == (9, 3, 3, 3)
    assert cell.state_info(2)[0]["shape"] == (2, 3, 4, 3)
    assert repr(cell) == "Conv2DGRUCell(2 -> 9, relu, NHWC)"
    cell.initialize()
    # as on MXNet 1.9.1's CPU, Convolution itself takes channel-first layouts only
    with pytest.raises(mx.MXNetError, match="Convolution.*NHWC"):
        cell.unroll(2, mx.nd.ones((2, 2, 5, 4, 2)), merge_outputs=True)
