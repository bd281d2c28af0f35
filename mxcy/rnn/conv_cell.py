"""mx.rnn's convolutional recurrent cells (MXNet 1.9.1): RNN, LSTM and GRU steps whose i2h and h2h projections are
Convolutions over (batch, channels, height, width) states, built with mx.sym ops."""
import functools

from .. import symbol
from ..gluon._errors import AssertionMXNetError
from .rnn_cell import BaseRNNCell

__all__ = ["BaseConvRNNCell", "ConvRNNCell", "ConvLSTMCell", "ConvGRUCell"]

_LEAKY = functools.partial(symbol.LeakyReLU, act_type="leaky", slope=0.2)


def _cell_init(default_prefix):
    """The constructor of a convolutional cell: MXNet's arguments and defaults, its own default prefix."""
    def __init__(self, input_shape, num_hidden, h2h_kernel=(3, 3), h2h_dilate=(1, 1), i2h_kernel=(3, 3),
                 i2h_stride=(1, 1), i2h_pad=(1, 1), i2h_dilate=(1, 1), i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros", h2h_bias_initializer="zeros",
                 activation=_LEAKY, prefix=default_prefix, params=None, conv_layout="NCHW"):
        BaseConvRNNCell.__init__(self, input_shape, num_hidden, h2h_kernel, h2h_dilate, i2h_kernel, i2h_stride,
                                 i2h_pad, i2h_dilate, i2h_weight_initializer, h2h_weight_initializer,
                                 i2h_bias_initializer, h2h_bias_initializer, activation, prefix, params, conv_layout)
    return __init__


class BaseConvRNNCell(BaseRNNCell):
    """What the convolutional cells share: the i2h convolution (its kernel, stride, pad, dilate) and the h2h
    convolution (stride 1, 'same' padding, so the state keeps the i2h output's shape), their Variables, and the
    state shape inferred from `input_shape` (one step's input, batch first)."""

    def __init__(self, input_shape, num_hidden, h2h_kernel, h2h_dilate, i2h_kernel, i2h_stride, i2h_pad, i2h_dilate,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer, h2h_bias_initializer,
                 activation, prefix="", params=None, conv_layout="NCHW"):
        super().__init__(prefix=prefix, params=params)
        if not all(k % 2 == 1 for k in h2h_kernel):
            raise AssertionMXNetError(f"{type(self).__name__}: only odd h2h_kernel sizes keep the state's shape, "
                                      f"got h2h_kernel={tuple(h2h_kernel)}")
        self._h2h_kernel = h2h_kernel
        self._h2h_pad = tuple(d * (k - 1) // 2 for d, k in zip(h2h_dilate, h2h_kernel))
        self._h2h_dilate = h2h_dilate
        self._i2h_kernel = i2h_kernel
        self._i2h_stride = i2h_stride
        self._i2h_pad = i2h_pad
        self._i2h_dilate = i2h_dilate
        self._num_hidden = num_hidden
        self._input_shape = input_shape
        self._conv_layout = conv_layout
        self._activation = activation
        probe = symbol.Convolution(data=symbol.Variable("data"), num_filter=num_hidden, kernel=i2h_kernel,
                                   stride=i2h_stride, pad=i2h_pad, dilate=i2h_dilate, layout=conv_layout)
        self._state_shape = (0,) + tuple(probe.infer_shape(data=input_shape)[1][0][1:])
        self._iW = self.params.get("i2h_weight", init=i2h_weight_initializer)
        self._hW = self.params.get("h2h_weight", init=h2h_weight_initializer)
        self._iB = self.params.get("i2h_bias", init=i2h_bias_initializer)
        self._hB = self.params.get("h2h_bias", init=h2h_bias_initializer)

    @property
    def _num_gates(self):
        return len(self._gate_names)

    @property
    def state_info(self):
        return [{"shape": self._state_shape, "__layout__": self._conv_layout} for _ in range(self._num_states)]

    def _conv_forward(self, inputs, states, name):
        filters = self._num_hidden * self._num_gates
        i2h = symbol.Convolution(name=name + "i2h", data=inputs, num_filter=filters, kernel=self._i2h_kernel,
                                 stride=self._i2h_stride, pad=self._i2h_pad, dilate=self._i2h_dilate,
                                 weight=self._iW, bias=self._iB, layout=self._conv_layout)
        h2h = symbol.Convolution(name=name + "h2h", data=states[0], num_filter=filters, kernel=self._h2h_kernel,
                                 dilate=self._h2h_dilate, pad=self._h2h_pad, stride=(1, 1), weight=self._hW,
                                 bias=self._hB, layout=self._conv_layout)
        return i2h, h2h

    def __call__(self, inputs, states):
        raise NotImplementedError("BaseConvRNNCell is abstract class for convolutional RNN")


class ConvRNNCell(BaseConvRNNCell):
    """h_t = activation(conv_i2h(x_t) + conv_h2h(h_{t-1})), activation leaky ReLU (slope 0.2) by default."""
    _num_states = 1

    __init__ = _cell_init("ConvRNN_")

    @property
    def _gate_names(self):
        return ("",)

    def __call__(self, inputs, states):
        name, states = self._begin_step(inputs, states)
        i2h, h2h = self._conv_forward(inputs, states, name)
        output = self._get_activation(i2h + h2h, self._activation, name=name + "out")
        return output, [output]


class ConvLSTMCell(BaseConvRNNCell):
    """Convolutional LSTM (Shi et al. 2015), gates (input, forget, candidate, output) along the channel axis;
    `activation` (leaky ReLU by default) takes tanh's place on the candidate and the cell state."""
    _num_states = 2

    __init__ = _cell_init("ConvLSTM_")

    @property
    def _gate_names(self):
        return ["_i", "_f", "_c", "_o"]

    def __call__(self, inputs, states):
        name, states = self._begin_step(inputs, states)
        i2h, h2h = self._conv_forward(inputs, states, name)
        gates = symbol.SliceChannel(i2h + h2h, num_outputs=4, axis=self._conv_layout.find("C"), name=name + "slice")
        in_gate = symbol.Activation(gates[0], act_type="sigmoid", name=name + "i")
        forget_gate = symbol.Activation(gates[1], act_type="sigmoid", name=name + "f")
        candidate = self._get_activation(gates[2], self._activation, name=name + "c")
        out_gate = symbol.Activation(gates[3], act_type="sigmoid", name=name + "o")
        next_c = symbol._internal._plus(forget_gate * states[1], in_gate * candidate, name=name + "state")
        next_h = symbol._internal._mul(out_gate, self._get_activation(next_c, self._activation), name=name + "out")
        return next_h, [next_h, next_c]


class ConvGRUCell(BaseConvRNNCell):
    """Convolutional GRU, gates (reset, update, new) along the channel axis, `activation` (leaky ReLU by default)
    on the new-state candidate."""
    _num_states = 1

    __init__ = _cell_init("ConvGRU_")

    @property
    def _gate_names(self):
        return ["_r", "_z", "_o"]

    def __call__(self, inputs, states):
        name, states = self._begin_step(inputs, states)
        i2h, h2h = self._conv_forward(inputs, states, name)
        i2h_r, i2h_z, i2h = symbol.SliceChannel(i2h, num_outputs=3, name=name + "_i2h_slice")
        h2h_r, h2h_z, h2h = symbol.SliceChannel(h2h, num_outputs=3, name=name + "_h2h_slice")
        reset = symbol.Activation(i2h_r + h2h_r, act_type="sigmoid", name=name + "_r_act")
        update = symbol.Activation(i2h_z + h2h_z, act_type="sigmoid", name=name + "_z_act")
        candidate = self._get_activation(i2h + reset * h2h, self._activation, name=name + "_h_act")
        next_h = symbol._internal._plus((1. - update) * candidate, update * states[0], name=name + "out")
        return next_h, [next_h]
