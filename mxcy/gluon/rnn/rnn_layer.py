"""The fused recurrent layers of mx.gluon.rnn: RNN, LSTM and GRU, with MXNet 1.9.1's parameters ('l0_i2h_weight',
...), packed by `_rnn_param_concat` and run by the registered `RNN` operator (mxcy/ops/rnn.py)."""
import re

from ... import ndarray, symbol
from ..block import HybridBlock
from . import rnn_cell

__all__ = ["RNN", "LSTM", "GRU"]

_STRUCTURAL = re.compile(r"(l|r)(\d)_(i2h|h2h|h2r)_(weight|bias)\Z")


class _RNNLayer(HybridBlock):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, states, and the call of the
    fused operator on inputs in layout 'TNC' or 'NTC'."""

    def __init__(self, hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                 mode, projection_size, h2r_weight_initializer, lstm_state_clip_min, lstm_state_clip_max,
                 lstm_state_clip_nan, dtype, use_sequence_length=False, **kwargs):
        super().__init__(**kwargs)
        if layout not in ("TNC", "NTC"):
            raise AssertionError(f"Invalid layout {layout}; must be one of ['TNC' or 'NTC']")
        self._hidden_size = hidden_size
        self._projection_size = projection_size if projection_size else None
        self._num_layers = num_layers
        self._mode = mode
        self._layout = layout
        self._dropout = dropout
        self._dir = 2 if bidirectional else 1
        self._input_size = input_size
        self._i2h_weight_initializer = i2h_weight_initializer
        self._h2h_weight_initializer = h2h_weight_initializer
        self._i2h_bias_initializer = i2h_bias_initializer
        self._h2h_bias_initializer = h2h_bias_initializer
        self._h2r_weight_initializer = h2r_weight_initializer
        self._lstm_state_clip_min = lstm_state_clip_min
        self._lstm_state_clip_max = lstm_state_clip_max
        self._lstm_state_clip_nan = lstm_state_clip_nan
        self._dtype = dtype
        self._use_sequence_length = use_sequence_length
        self.skip_states = None
        self._gates = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}[mode]
        rows, width = self._gates * hidden_size, input_size
        recurrent = self._projection_size or hidden_size  # what h2h multiplies: h, or its projection
        for layer in range(num_layers):
            for d in "lr"[:self._dir]:
                self._register_param(f"{d}{layer}_i2h_weight", (rows, width), i2h_weight_initializer, dtype)
                self._register_param(f"{d}{layer}_h2h_weight", (rows, recurrent), h2h_weight_initializer, dtype)
                self._register_param(f"{d}{layer}_i2h_bias", (rows,), i2h_bias_initializer, dtype)
                self._register_param(f"{d}{layer}_h2h_bias", (rows,), h2h_bias_initializer, dtype)
                if self._projection_size:
                    self._register_param(f"{d}{layer}_h2r_weight", (recurrent, hidden_size),
                                         h2r_weight_initializer, dtype)
            width = recurrent * self._dir

    def _register_param(self, name, shape, init, dtype):
        p = self.params.get(name, shape=shape, init=init, allow_deferred_init=True, dtype=dtype)
        setattr(self, name, p)
        return p

    def __repr__(self):
        rows, columns = self.l0_i2h_weight.shape
        extra = (f", num_layers={self._num_layers}" if self._num_layers != 1 else "") + \
            (f", dropout={self._dropout}" if self._dropout != 0 else "") + \
            (", bidirectional" if self._dir == 2 else "")
        return f"{type(self).__name__}({columns if columns else None} -> {rows // self._gates}, {self._layout}{extra})"

    def _collect_params_with_prefix(self, prefix=""):
        """save_parameters' names are those of the unfused cell stack MXNet's layers were once built from:
        '_unfused.<layer>.<i2h|h2h|h2r>_<weight|bias>', with '<l|r>_cell.' inside when bidirectional."""
        if prefix:
            prefix += "."
        matches = {key: _STRUCTURAL.match(key) for key in self._reg_params}
        bidirectional = any(m.group(1) == "r" for m in matches.values())
        out = {}
        for key, m in matches.items():
            direction, layer, part, kind = m.groups()
            cell = f"{direction}_cell." if bidirectional else ""
            out[f"{prefix}_unfused.{layer}.{cell}{part}_{kind}"] = self._reg_params[key]
        for name, child in self._children.items():
            out.update(child._collect_params_with_prefix(prefix + name))
        return out

    def state_info(self, batch_size=0):
        raise NotImplementedError

    def _unfuse(self):
        """The same network as a HybridSequentialRNNCell of cells sharing this layer's parameters."""
        if self._projection_size:
            raise AssertionError("_unfuse does not support projection layer yet!")
        if self._lstm_state_clip_min or self._lstm_state_clip_max:
            raise AssertionError("_unfuse does not support state clipping yet!")
        make = {"rnn_relu": lambda **kw: rnn_cell.RNNCell(self._hidden_size, activation="relu", **kw),
                "rnn_tanh": lambda **kw: rnn_cell.RNNCell(self._hidden_size, activation="tanh", **kw),
                "lstm": lambda **kw: rnn_cell.LSTMCell(self._hidden_size, **kw),
                "gru": lambda **kw: rnn_cell.GRUCell(self._hidden_size, **kw)}[self._mode]
        stack = rnn_cell.HybridSequentialRNNCell(prefix=self.prefix, params=self.params)
        with stack.name_scope():
            width = self._input_size
            for layer in range(self._num_layers):
                kwargs = {"input_size": width, "i2h_weight_initializer": self._i2h_weight_initializer,
                          "h2h_weight_initializer": self._h2h_weight_initializer,
                          "i2h_bias_initializer": self._i2h_bias_initializer,
                          "h2h_bias_initializer": self._h2h_bias_initializer}
                if self._dir == 2:
                    stack.add(rnn_cell.BidirectionalCell(make(prefix=f"l{layer}_", **kwargs),
                                                         make(prefix=f"r{layer}_", **kwargs)))
                else:
                    stack.add(make(prefix=f"l{layer}_", **kwargs))
                if self._dropout > 0 and layer != self._num_layers - 1:
                    stack.add(rnn_cell.DropoutCell(self._dropout))
                width = self._hidden_size * self._dir
        return stack

    def cast(self, dtype):
        super().cast(dtype)
        self._dtype = dtype

    def begin_state(self, batch_size=0, func=ndarray.zeros, **kwargs):
        """The initial states (shapes (layers * directions, batch, size)), made by `func` with kwargs."""
        states = []
        for i, info in enumerate(self.state_info(batch_size)):
            info = dict(info, **kwargs) if info is not None else kwargs
            states.append(func(name=f"{self.prefix}h0_{i}", **info))
        return states

    def infer_shape(self, inputs, *args):
        """The input width of the first layer's i2h weights from the inputs (the rest are known)."""
        for d in "lr"[:self._dir]:
            weight = getattr(self, f"{d}0_i2h_weight")
            weight.shape = (weight.shape[0], inputs.shape[2])

    def __call__(self, inputs, states=None, sequence_length=None, **kwargs):
        self.skip_states = states is None
        if states is None:
            if isinstance(inputs, ndarray.NDArray):
                batch_size = inputs.shape[self._layout.find("N")]
                states = self.begin_state(batch_size, ctx=inputs.context, dtype=inputs.dtype)
            else:
                states = self.begin_state(0, func=rnn_cell.zeros_following(symbol, inputs, self._layout.find("N")))
        if isinstance(states, (ndarray.NDArray, symbol.Symbol)):
            states = [states]
        if self._use_sequence_length:
            return super().__call__(inputs, states, sequence_length, **kwargs)
        return super().__call__(inputs, states, **kwargs)

    def hybrid_forward(self, F, inputs, states, sequence_length=None, **kwargs):
        if F is ndarray:
            batch_size = inputs.shape[self._layout.find("N")]
            for state, info in zip(states, self.state_info(batch_size)):
                if state.shape != info["shape"]:
                    raise ValueError(f"Invalid recurrent state shape. Expecting {info['shape']}, got "
                                     f"{state.shape}.")
        out = self._forward_kernel(F, inputs, states, sequence_length, **kwargs)
        return out[0] if self.skip_states else out

    def _forward_kernel(self, F, inputs, states, sequence_length, **kwargs):
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, 0, 1)
        parts = ("i2h", "h2h", "h2r") if self._projection_size else ("i2h", "h2h")
        flat = [F.reshape(kwargs[f"{d}{layer}_{part}_{kind}"], shape=(-1,))
                for kind in ("weight", "bias") for layer in range(self._num_layers) for d in "lr"[:self._dir]
                for part in parts if not (part == "h2r" and kind == "bias")]
        params = F._internal._rnn_param_concat(*flat, dim=0)
        args = states + [sequence_length] if self._use_sequence_length else states
        rnn = F.RNN(inputs, params, *args, use_sequence_length=self._use_sequence_length,
                    state_size=self._hidden_size, projection_size=self._projection_size,
                    num_layers=self._num_layers, bidirectional=self._dir == 2, p=self._dropout,
                    state_outputs=True, mode=self._mode, lstm_state_clip_min=self._lstm_state_clip_min,
                    lstm_state_clip_max=self._lstm_state_clip_max, lstm_state_clip_nan=self._lstm_state_clip_nan)
        outputs, states = rnn[0], [rnn[1], rnn[2]] if self._mode == "lstm" else [rnn[1]]
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, 0, 1)
        return outputs, states


def _state(layer, batch_size, size):
    return {"shape": (layer._num_layers * layer._dir, batch_size, size), "__layout__": "LNC",
            "dtype": layer._dtype}


class RNN(_RNNLayer):
    """Multi-layer Elman RNN, activation 'relu' or 'tanh': h_t = activation(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
    Called as layer(inputs, states=None); with states it also returns the final states."""

    def __init__(self, hidden_size, num_layers=1, activation="relu", layout="TNC", dropout=0, bidirectional=False,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "rnn_" + activation, None, None, None, None, False, dtype, **kwargs)

    def state_info(self, batch_size=0):
        return [_state(self, batch_size, self._hidden_size)]


class LSTM(_RNNLayer):
    """Multi-layer LSTM (gates as LSTMCell's), optionally with a projection of h (projection_size) and the cell
    state clipped to [state_clip_min, state_clip_max]; states [h, c]."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False, input_size=0,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", projection_size=None, h2r_weight_initializer=None,
                 state_clip_min=None, state_clip_max=None, state_clip_nan=False, dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "lstm", projection_size, h2r_weight_initializer, state_clip_min, state_clip_max,
                         state_clip_nan, dtype, **kwargs)

    def state_info(self, batch_size=0):
        return [_state(self, batch_size, self._projection_size or self._hidden_size),
                _state(self, batch_size, self._hidden_size)]


class GRU(_RNNLayer):
    """Multi-layer GRU (gates as GRUCell's)."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False, input_size=0,
                 i2h_weight_initializer=None, h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                         "gru", None, None, None, None, False, dtype, **kwargs)

    def state_info(self, batch_size=0):
        return [_state(self, batch_size, self._hidden_size)]
