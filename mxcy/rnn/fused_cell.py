"""mx.rnn.FusedRNNCell (MXNet 1.9.1): every layer and step as one `RNN` op over the sequence, with MXNet's packed
parameter vector; pack_weights/unpack_weights convert it to and from per-gate arrays, and `unfuse` gives the
equivalent stack of rnn_cell's cells."""
import math
import warnings

from .. import initializer, ndarray, symbol
from ..gluon._errors import AssertionMXNetError, ValueMXNetError
from .rnn_cell import (BaseRNNCell, BidirectionalCell, DropoutCell, GRUCell, LSTMCell, RNNCell, SequentialRNNCell,
                       _begin_states, _normalize_sequence)

__all__ = ["FusedRNNCell"]

_GATES = initializer._RNN_GATES  # gate names per mode, in the packed layout's order


class FusedRNNCell(BaseRNNCell):
    """All layers and steps as one `RNN` op over the sequence, with MXNet's packed parameter vector
    '<prefix>parameters' (initialized piece by piece by init.FusedRNN). It has no step; `unfuse` gives the
    equivalent stack of cells, and pack_weights/unpack_weights convert between the two parameter layouts."""
    _no_zoneout = "FusedRNNCell doesn't support zoneout. Please unfuse first."

    def __init__(self, num_hidden, num_layers=1, mode="lstm", bidirectional=False, dropout=0.,
                 get_next_state=False, forget_bias=1.0, prefix=None, params=None):
        if mode not in _GATES:
            raise ValueMXNetError(f"FusedRNNCell: unknown mode {mode!r}; use one of {', '.join(_GATES)}")
        super().__init__(prefix=f"{mode}_" if prefix is None else prefix, params=params)
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._dropout = dropout
        self._get_next_state = get_next_state
        self._parameter = self.params.get("parameters", init=initializer.FusedRNN(
            None, num_hidden, num_layers, mode, bidirectional, forget_bias))

    @property
    def state_info(self):
        shape = ((self._bidirectional + 1) * self._num_layers, 0, self._num_hidden)
        return [{"shape": shape, "__layout__": "LNC"} for _ in range(2 if self._mode == "lstm" else 1)]

    @property
    def _gate_names(self):
        return list(_GATES[self._mode])

    def _pieces(self, size):
        """[(unpacked name, offset, shape)] of a packed vector of `size` elements."""
        return [(self._prefix + name, offset, shape) for name, offset, shape in initializer.fused_rnn_layout(
            self._mode, self._num_layers, self._bidirectional, self._num_hidden, size)]

    def unpack_weights(self, args):
        """A copy of `args` with '<prefix>parameters' split into '<prefix><l|r><layer>_<i2h|h2h><gate>_<weight|
        bias>' arrays (copies)."""
        args = dict(args)
        packed = args.pop(self._parameter.name)
        for name, offset, shape in self._pieces(packed.size):
            args[name] = packed[offset:offset + math.prod(shape)].reshape(shape).copy()
        return args

    def pack_weights(self, args):
        """The inverse of unpack_weights: the per-layer, per-gate arrays written into one packed vector."""
        args = dict(args)
        first = args[f"{self._prefix}l0_i2h{self._gate_names[0]}_weight"]
        b, h = self._bidirectional + 1, self._num_hidden
        size = b * len(self._gate_names) * h * (first.shape[1] + h + 2 + (self._num_layers - 1) * (b * h + h + 2))
        packed = ndarray.zeros((size,), ctx=first.context, dtype=first.dtype)
        for name, offset, shape in self._pieces(size):
            piece = args.pop(name)
            if tuple(piece.shape) != shape:
                raise AssertionMXNetError(f"FusedRNNCell.pack_weights: '{name}' has shape {tuple(piece.shape)}, "
                                          f"expected {shape}")
            packed[offset:offset + math.prod(shape)] = piece.reshape((-1,))
        args[self._parameter.name] = packed
        return args

    def __call__(self, inputs, states):
        raise NotImplementedError("FusedRNNCell cannot be stepped. Please use unroll")

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, axis = _normalize_sequence(length, inputs, layout, True)
        if axis == 1:
            warnings.warn("NTC layout detected. Consider using TNC for FusedRNNCell for faster speed")
            inputs = symbol.swapaxes(inputs, dim1=0, dim2=1)
        elif axis != 0:
            raise ValueMXNetError(f"FusedRNNCell.unroll: unsupported layout {layout}")
        states = _begin_states(self, begin_state, inputs, "TNC")
        named_states = dict(zip(("state", "state_cell"), states))
        rnn = symbol.RNN(data=inputs, parameters=self._parameter, state_size=self._num_hidden,
                         num_layers=self._num_layers, bidirectional=self._bidirectional, p=self._dropout,
                         state_outputs=self._get_next_state, mode=self._mode, name=self._prefix + "rnn",
                         **named_states)
        if self._get_next_state:
            outputs, states = rnn[0], [rnn[i] for i in range(1, len(named_states) + 1)]
            for state in states:
                state._set_attr(__layout__="LNC")
        else:
            outputs, states = rnn, []
        if axis == 1:
            outputs = symbol.swapaxes(outputs, dim1=0, dim2=1)
        outputs, _ = _normalize_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def unfuse(self):
        """The same network as a SequentialRNNCell of RNN/LSTM/GRU cells (BidirectionalCell pairs when
        bidirectional, DropoutCell between layers), named so that unpack_weights' arrays are its parameters."""
        make = {"rnn_relu": lambda prefix: RNNCell(self._num_hidden, activation="relu", prefix=prefix),
                "rnn_tanh": lambda prefix: RNNCell(self._num_hidden, activation="tanh", prefix=prefix),
                "lstm": lambda prefix: LSTMCell(self._num_hidden, prefix=prefix),
                "gru": lambda prefix: GRUCell(self._num_hidden, prefix=prefix)}[self._mode]
        stack = SequentialRNNCell()
        for layer in range(self._num_layers):
            if self._bidirectional:
                stack.add(BidirectionalCell(make(f"{self._prefix}l{layer}_"), make(f"{self._prefix}r{layer}_"),
                                            output_prefix=f"{self._prefix}bi_l{layer}_"))
            else:
                stack.add(make(f"{self._prefix}l{layer}_"))
            if self._dropout > 0 and layer != self._num_layers - 1:
                stack.add(DropoutCell(self._dropout, prefix=f"{self._prefix}_dropout{layer}_"))
        return stack

