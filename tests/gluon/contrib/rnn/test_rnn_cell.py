"""gluon.contrib.rnn LSTMPCell (MXNet 1.9.1's numbers) and VariationalDropoutCell (masks shared along time)."""
import numpy as np
import pytest

import mxcy as mx
from mxcy import gluon
from mxcy.gluon.contrib import rnn as crnn
from tests.gluon.rnn._reference import check_cell_against_mxnet


def test_lstmp_cell_matches_mxnet():
    check_cell_against_mxnet("contrib_lstmp_cell", crnn.LSTMPCell)
    cell = crnn.LSTMPCell(4, 2, input_size=3)
    assert [i["shape"] for i in cell.state_info(5)] == [(5, 2), (5, 4)]
    assert repr(cell) == "LSTMPCell(3 -> 16 -> 2)"


def _ones_cell(hidden):
    """A cell whose output is its input (weights chosen so): RNNCell with identity i2h, zero h2h, relu."""
    cell = gluon.rnn.RNNCell(hidden, activation="relu", input_size=hidden)
    cell.initialize()
    cell.i2h_weight.set_data(mx.nd.array(np.eye(hidden)))
    cell.h2h_weight.set_data(mx.nd.zeros((hidden, hidden)))
    return cell


@pytest.mark.parametrize("drop_states", [0.0, 0.5])
def test_variational_dropout_shares_one_mask_along_time(drop_states):
    cell = crnn.VariationalDropoutCell(_ones_cell(200), drop_inputs=0.5, drop_states=drop_states)
    x = mx.nd.ones((2, 4, 200))
    out, _ = cell.unroll(4, x, merge_outputs=True)
    assert (out.asnumpy() == 1).all()  # inference: no dropout
    with mx.autograd.train_mode():
        out, _ = cell.unroll(4, x, merge_outputs=True)
    steps = out.asnumpy()
    assert set(np.unique(steps)) <= {0.0, 2.0} and 0.3 < (steps == 0).mean() < 0.7
    for t in range(1, 4):
        np.testing.assert_array_equal(steps[:, t], steps[:, 0])
    assert repr(cell) == f"VariationalDropoutCell(p_out = 0.0, p_state = {drop_states})"


def test_variational_dropout_refuses_state_dropout_of_bidirectional_cells():
    bi = gluon.rnn.BidirectionalCell(gluon.rnn.GRUCell(2), gluon.rnn.GRUCell(2))
    with pytest.raises(AssertionError, match="BidirectionalCell"):
        crnn.VariationalDropoutCell(bi, drop_states=0.5)
