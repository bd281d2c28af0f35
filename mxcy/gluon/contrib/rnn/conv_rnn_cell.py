"""Convolutional recurrent cells of mx.gluon.contrib.rnn (Conv{1,2,3}D{RNN,LSTM,GRU}Cell): the RNN, LSTM and GRU
steps with the i2h and h2h projections as convolutions over (N, C, spatial...) or channels-last inputs."""
from ....base import numeric_types
from ...rnn import HybridRecurrentCell

__all__ = ["Conv1DRNNCell", "Conv2DRNNCell", "Conv3DRNNCell", "Conv1DLSTMCell", "Conv2DLSTMCell",
           "Conv3DLSTMCell", "Conv1DGRUCell", "Conv2DGRUCell", "Conv3DGRUCell"]


def _per_dim(value, dims, what):
    if isinstance(value, numeric_types):
        return (value,) * dims
    if len(value) != dims:
        raise AssertionError(f"For {dims}D convolution, the convolution settings can only be either int or "
                             f"list/tuple of length {dims}; {what}={value}")
    return tuple(value)


class _ConvCell(HybridRecurrentCell):
    """What every convolutional cell shares: its parameters and state shape from `input_shape` (one step's
    shape without the batch axis), and the i2h/h2h convolutions. The h2h convolution keeps the state's size
    (odd kernels, 'same' padding)."""
    _gates = 1

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad, i2h_dilate, h2h_dilate,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                 dims, conv_layout, activation, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._hidden_channels = hidden_channels
        self._input_shape = input_shape
        self._conv_layout = conv_layout
        self._activation = activation
        self._i2h_kernel = _per_dim(i2h_kernel, dims, "i2h_kernel")
        self._i2h_pad = _per_dim(i2h_pad, dims, "i2h_pad")
        self._i2h_dilate = _per_dim(i2h_dilate, dims, "i2h_dilate")
        self._h2h_kernel = _per_dim(h2h_kernel, dims, "h2h_kernel")
        self._h2h_dilate = _per_dim(h2h_dilate, dims, "h2h_dilate")
        self._stride = (1,) * dims
        if any(k % 2 == 0 for k in self._h2h_kernel):
            raise AssertionError(f"Only support odd number, get h2h_kernel= {h2h_kernel}")
        self._h2h_pad = tuple(d * (k - 1) // 2 for d, k in zip(self._h2h_dilate, self._h2h_kernel))
        self._channel_axis = conv_layout.find("C")
        first = self._channel_axis == 1
        self._in_channels = input_shape[0] if first else input_shape[-1]
        spatial = input_shape[1:] if first else input_shape[:-1]
        out_size = tuple((x + 2 * p - d * (k - 1) - 1) + 1 if x else 0 for x, k, p, d in
                         zip(spatial, self._i2h_kernel, self._i2h_pad, self._i2h_dilate))
        rows = hidden_channels * self._gates
        if first:
            i2h_shape = (rows, self._in_channels) + self._i2h_kernel
            h2h_shape = (rows, hidden_channels) + self._h2h_kernel
            self._state_shape = (hidden_channels,) + out_size
        else:
            i2h_shape = (rows,) + self._i2h_kernel + (self._in_channels,)
            h2h_shape = (rows,) + self._h2h_kernel + (hidden_channels,)
            self._state_shape = out_size + (hidden_channels,)
        self.i2h_weight = self.params.get("i2h_weight", shape=i2h_shape, init=i2h_weight_initializer,
                                          allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=h2h_shape, init=h2h_weight_initializer,
                                          allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(rows,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(rows,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    def __repr__(self):
        shape = self.i2h_weight.shape
        channels = shape[1 if self._channel_axis == 1 else -1]
        return (f"{type(self).__name__}({channels if channels else None} -> {shape[0]}, {self._activation}, "
                f"{self._conv_layout})")

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size,) + self._state_shape, "__layout__": self._conv_layout}] * self._n_states

    _n_states = 1

    def _conv_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, prefix):
        filters = self._hidden_channels * self._gates
        i2h = F.Convolution(data=inputs, num_filter=filters, kernel=self._i2h_kernel, stride=self._stride,
                            pad=self._i2h_pad, dilate=self._i2h_dilate, weight=i2h_weight, bias=i2h_bias,
                            layout=self._conv_layout, name=prefix + "i2h")
        h2h = F.Convolution(data=states[0], num_filter=filters, kernel=self._h2h_kernel, dilate=self._h2h_dilate,
                            pad=self._h2h_pad, stride=self._stride, weight=h2h_weight, bias=h2h_bias,
                            layout=self._conv_layout, name=prefix + "h2h")
        return i2h, h2h


class _ConvRNNCell(_ConvCell):
    def _alias(self):
        return "conv_rnn"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = f"t{self._counter}_"
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, prefix)
        output = self._get_activation(F, i2h + h2h, self._activation, name=prefix + "out")
        return output, [output]


class _ConvLSTMCell(_ConvCell):
    _gates, _n_states = 4, 2

    def _alias(self):
        return "conv_lstm"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = f"t{self._counter}_"
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, prefix)
        gates = F.SliceChannel(F.elemwise_add(i2h, h2h, name=prefix + "plus0"), num_outputs=4,
                               name=prefix + "slice", axis=self._channel_axis)
        in_gate = F.Activation(gates[0], act_type="sigmoid", name=prefix + "i")
        forget_gate = F.Activation(gates[1], act_type="sigmoid", name=prefix + "f")
        candidate = self._get_activation(F, gates[2], self._activation, name=prefix + "c")
        out_gate = F.Activation(gates[3], act_type="sigmoid", name=prefix + "o")
        next_c = F.elemwise_add(forget_gate * states[1], in_gate * candidate, name=prefix + "state")
        next_h = F.elemwise_mul(out_gate, self._get_activation(F, next_c, self._activation), name=prefix + "out")
        return next_h, [next_h, next_c]


class _ConvGRUCell(_ConvCell):
    _gates = 3

    def _alias(self):
        return "conv_gru"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        prefix = f"t{self._counter}_"
        i2h, h2h = self._conv_forward(F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias, prefix)
        i2h_r, i2h_z, i2h = F.SliceChannel(i2h, num_outputs=3, name=prefix + "i2h_slice", axis=self._channel_axis)
        h2h_r, h2h_z, h2h = F.SliceChannel(h2h, num_outputs=3, name=prefix + "h2h_slice", axis=self._channel_axis)
        reset = F.Activation(i2h_r + h2h_r, act_type="sigmoid", name=prefix + "r_act")
        update = F.Activation(i2h_z + h2h_z, act_type="sigmoid", name=prefix + "z_act")
        candidate = self._get_activation(F, i2h + reset * h2h, self._activation, name=prefix + "h_act")
        next_h = F.elemwise_add((1. - update) * candidate, update * states[0], name=prefix + "out")
        return next_h, [next_h]


def _public(name, base, dims, layout, what):
    """A public cell class over `base` for `dims` spatial dimensions with MXNet 1.9.1's signature and defaults."""
    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad=(0,) * dims,
                 i2h_dilate=(1,) * dims, h2h_dilate=(1,) * dims, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros", h2h_bias_initializer="zeros",
                 conv_layout=layout, activation="tanh", prefix=None, params=None):
        base.__init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad, i2h_dilate, h2h_dilate,
                      i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                      dims, conv_layout, activation, prefix, params)
    doc = (f"{dims}D convolutional {what} cell: input_shape is one step's ({layout[1:]}) shape; states "
           f"keep the i2h convolution's output size.")
    return type(name, (base,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
for _kind, _base, _what in (("RNN", _ConvRNNCell, "Elman RNN"), ("LSTM", _ConvLSTMCell, "LSTM"),
                            ("GRU", _ConvGRUCell, "GRU")):
    for _dims, _layout in _LAYOUTS.items():
        _name = f"Conv{_dims}D{_kind}Cell"
        globals()[_name] = _public(_name, _base, _dims, _layout, _what)
