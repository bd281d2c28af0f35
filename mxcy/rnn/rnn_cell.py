"""mx.rnn's symbolic recurrent cells (MXNet 1.9.1's older API): parameters are symbol Variables shared through
RNNParams, a call builds one time step with mx.sym ops, `unroll` builds a whole sequence (FusedRNNCell, one `RNN`
op over the sequence, is in fused_cell.py)."""
from .. import initializer, ndarray, symbol
from ..base import numeric_types, parse_shape, string_types
from ..gluon._errors import AssertionMXNetError
from ..gluon.rnn.rnn_cell import zeros_following

__all__ = ["RNNParams", "BaseRNNCell", "RNNCell", "LSTMCell", "GRUCell", "SequentialRNNCell",
           "DropoutCell", "ModifierCell", "ZoneoutCell", "ResidualCell", "BidirectionalCell"]


def _cells_state_info(cells):
    return [info for cell in cells for info in cell.state_info]


def _cells_begin_state(cells, **kwargs):
    return [state for cell in cells for state in cell.begin_state(**kwargs)]


def _cells_unpack_weights(cells, args):
    for cell in cells:
        args = cell.unpack_weights(args)
    return args


def _cells_pack_weights(cells, args):
    for cell in cells:
        args = cell.pack_weights(args)
    return args


def _check(condition, message):
    if not condition:
        raise AssertionMXNetError(message)


def _check_unmodified(cell):
    _check(not cell._modified, "After applying modifier cells (e.g. ZoneoutCell) the base cell cannot be called "
                               "directly. Call the modifier cell instead.")


def _normalize_sequence(length, inputs, layout, merge, in_layout=None):
    """(inputs as one symbol in `layout` when merge is True, a list of per-step symbols when False, as given
    when None; the time axis)."""
    _check(inputs is not None, "unroll(inputs=None) is not supported: create the input variables outside unroll")
    axis = layout.find("T")
    in_axis = in_layout.find("T") if in_layout is not None else axis
    if isinstance(inputs, symbol.Symbol):
        if merge is False:
            _check(len(inputs.list_outputs()) == 1,
                   "unroll does not take a grouped symbol as input: pass list(inputs), or one symbol for unroll "
                   "to split")
            inputs = list(symbol.split(inputs, axis=in_axis, num_outputs=length, squeeze_axis=1))
    else:
        _check(length is None or len(inputs) == length,
               f"unroll(length={length}) of a list of {len(inputs)} inputs")
        if merge is True:
            inputs = symbol.Concat(*[symbol.expand_dims(i, axis=axis) for i in inputs], dim=axis)
            in_axis = axis
    if isinstance(inputs, symbol.Symbol) and axis != in_axis:
        inputs = symbol.swapaxes(inputs, dim0=axis, dim1=in_axis)
    return inputs, axis


def _follow_batch(states, data, batch_axis=0):
    """`states` with every sym.zeros whose shape has a 0 batch dimension (MXNet's default begin state) replaced by
    zeros of that shape whose batch size is `data`'s along batch_axis. MXNet infers that dimension from the
    states' consumers (partial shape inference); mxcy's inference, all or nothing per array, cannot."""
    follow = None
    resolved = []
    for state in states:
        node = state._outputs[0][0] if isinstance(state, symbol.Symbol) and len(state._outputs) == 1 else None
        if node is not None and node.op is not None and node.op.name == "_zeros":
            shape = parse_shape(node.attrs["shape"])
            if list(shape).count(0) == 1:
                follow = follow or zeros_following(symbol, data, batch_axis)
                state = follow(name=node.name, shape=shape)
        resolved.append(state)
    return resolved


def _begin_states(cell, begin_state, inputs, layout):
    """`begin_state` (the cell's own begin_state() when None) with zero states following the inputs' batch size;
    inputs: one symbol in `layout` or a list of per-step symbols."""
    data, batch_axis = (inputs, layout.find("N")) if isinstance(inputs, symbol.Symbol) else (inputs[0], 0)
    return _follow_batch(cell.begin_state() if begin_state is None else begin_state, data, batch_axis)


class RNNParams:
    """The Variables of one or more cells by name (`prefix` + name), so cells built on one container share them."""

    def __init__(self, prefix=""):
        self._prefix = prefix
        self._params = {}

    def get(self, name, **kwargs):
        """The Variable `prefix + name`, created with symbol.Variable(**kwargs) the first time."""
        name = self._prefix + name
        if name not in self._params:
            self._params[name] = symbol.Variable(name, **kwargs)
        return self._params[name]


class BaseRNNCell:
    """Base of the cells: `cell(inputs, states)` builds one step, `unroll` a sequence; `params` holds the
    Variables (a new RNNParams(prefix) when None is given)."""
    _no_zoneout = None  # why ZoneoutCell cannot wrap this cell (zoneout needs steps), or None

    def __init__(self, prefix="", params=None):
        self._own_params = params is None
        self._prefix = prefix
        self._params = RNNParams(prefix) if params is None else params
        self._modified = False
        self.reset()

    def reset(self):
        """Restart the step counters (symbol names t0, t1, ...) before building another graph."""
        self._init_counter = -1
        self._counter = -1
        for cell in getattr(self, "_cells", ()):
            cell.reset()

    def __call__(self, inputs, states):
        """(output, new states) of one time step on `inputs` (batch, features)."""
        raise NotImplementedError(f"{type(self).__name__} does not define a step")

    @property
    def params(self):
        """The RNNParams holding this cell's Variables."""
        self._own_params = False
        return self._params

    @property
    def state_info(self):
        """A dict per state: its 'shape' (0 for the batch dimension) and '__layout__'."""
        raise NotImplementedError(f"{type(self).__name__} does not define its states")

    @property
    def state_shape(self):
        return [info["shape"] for info in self.state_info]

    @property
    def _gate_names(self):
        return ()

    def begin_state(self, func=symbol.zeros, **kwargs):
        """The states of the first step: func(name='<prefix>begin_state_<n>', **kwargs, **state_info[i]) each
        (symbol.zeros by default; symbol.Variable to feed the states as inputs)."""
        _check_unmodified(self)
        states = []
        for info in self.state_info:
            self._init_counter += 1
            name = f"{self._prefix}begin_state_{self._init_counter}"
            states.append(func(name=name, **{**kwargs, **(info or {})}))
        return states

    def unpack_weights(self, args):
        """A copy of `args` (name -> NDArray) with this cell's i2h/h2h weights and biases split per gate
        ('<prefix>i2h_f_weight', ...)."""
        args = dict(args)
        hidden = getattr(self, "_num_hidden", None)
        for group in ("i2h", "h2h") if self._gate_names else ():
            weight = args.pop(f"{self._prefix}{group}_weight")
            bias = args.pop(f"{self._prefix}{group}_bias")
            for j, gate in enumerate(self._gate_names):
                rows = slice(j * hidden, (j + 1) * hidden)
                args[f"{self._prefix}{group}{gate}_weight"] = weight[rows].copy()
                args[f"{self._prefix}{group}{gate}_bias"] = bias[rows].copy()
        return args

    def pack_weights(self, args):
        """The inverse of unpack_weights: per-gate weights and biases concatenated back into i2h/h2h ones."""
        args = dict(args)
        for group in ("i2h", "h2h") if self._gate_names else ():
            for kind in ("weight", "bias"):
                parts = [args.pop(f"{self._prefix}{group}{gate}_{kind}") for gate in self._gate_names]
                args[f"{self._prefix}{group}_{kind}"] = ndarray.concatenate(parts)
        return args

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        """(outputs, states) of `length` steps. inputs: one symbol in `layout` ('NTC' or 'TNC') or a list of
        per-step symbols (batch, features); begin_state: the first states (zeros when None); merge_outputs:
        True for one symbol in `layout`, False for a list of steps, None for whichever is at hand."""
        self.reset()
        inputs, _ = _normalize_sequence(length, inputs, layout, False)
        states = _begin_states(self, begin_state, inputs, layout)
        outputs = []
        for step in range(length):
            output, states = self(inputs[step], states)
            outputs.append(output)
        outputs, _ = _normalize_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def _begin_step(self, inputs, states):
        """Count a step: (its symbols' name prefix '<prefix>t<step>_', states with zero begin states following the
        inputs' batch size)."""
        self._counter += 1
        return f"{self._prefix}t{self._counter}_", _follow_batch(states, inputs)

    def _get_activation(self, inputs, activation, **kwargs):
        """`activation` applied to inputs: an Activation act_type name, or a callable building the symbol."""
        if isinstance(activation, string_types):
            return symbol.Activation(inputs, act_type=activation, **kwargs)
        return activation(inputs, **kwargs)


class _GatedCell(BaseRNNCell):
    """What RNNCell, LSTMCell and GRUCell share: i2h/h2h Variables of len(gates) * num_hidden rows, one state
    per name in `_state_names`, and the two FullyConnected projections each step starts with."""

    def __init__(self, num_hidden, prefix, params, i2h_bias_init=None):
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._iW = self.params.get("i2h_weight")
        self._hW = self.params.get("h2h_weight")
        self._iB = self.params.get("i2h_bias", **({"init": i2h_bias_init} if i2h_bias_init else {}))
        self._hB = self.params.get("h2h_bias")

    @property
    def state_info(self):
        return [{"shape": (0, self._num_hidden), "__layout__": "NC"} for _ in range(self._num_states)]

    def _projections(self, inputs, state, name, i2h_name, h2h_name):
        rows = len(self._gate_names) * self._num_hidden
        i2h = symbol.FullyConnected(data=inputs, weight=self._iW, bias=self._iB, num_hidden=rows,
                                    name=name + i2h_name)
        h2h = symbol.FullyConnected(data=state, weight=self._hW, bias=self._hB, num_hidden=rows,
                                    name=name + h2h_name)
        return i2h, h2h



class RNNCell(_GatedCell):
    """Elman cell: h_t = activation(W_i2h x_t + b_i2h + W_h2h h_{t-1} + b_h2h)."""
    _num_states = 1

    def __init__(self, num_hidden, activation="tanh", prefix="rnn_", params=None):
        super().__init__(num_hidden, prefix, params)
        self._activation = activation

    @property
    def _gate_names(self):
        return ("",)

    def __call__(self, inputs, states):
        name, states = self._begin_step(inputs, states)
        i2h, h2h = self._projections(inputs, states[0], name, "i2h", "h2h")
        output = self._get_activation(i2h + h2h, self._activation, name=name + "out")
        return output, [output]


class LSTMCell(_GatedCell):
    """LSTM cell, gates in MXNet's order (input, forget, candidate, output), states [h, c]; the i2h bias starts
    at `forget_bias` on the forget gate (init.LSTMBias)."""
    _num_states = 2

    def __init__(self, num_hidden, prefix="lstm_", params=None, forget_bias=1.0):
        super().__init__(num_hidden, prefix, params, i2h_bias_init=initializer.LSTMBias(forget_bias=forget_bias))

    @property
    def _gate_names(self):
        return ["_i", "_f", "_c", "_o"]

    def __call__(self, inputs, states):
        name, states = self._begin_step(inputs, states)
        i2h, h2h = self._projections(inputs, states[0], name, "i2h", "h2h")
        gates = symbol.SliceChannel(i2h + h2h, num_outputs=4, name=name + "slice")
        in_gate, forget_gate, candidate, out_gate = (
            symbol.Activation(gates[k], act_type="tanh" if k == 2 else "sigmoid", name=name + gate)
            for k, gate in enumerate("ifco"))
        next_c = symbol._internal._plus(forget_gate * states[1], in_gate * candidate, name=name + "state")
        next_h = symbol._internal._mul(out_gate, symbol.Activation(next_c, act_type="tanh"), name=name + "out")
        return next_h, [next_h, next_c]


class GRUCell(_GatedCell):
    """GRU cell as cuDNN computes it, gates (reset, update, new): n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h_t = (1 - z) * n + z * h_{t-1}."""
    _num_states = 1

    def __init__(self, num_hidden, prefix="gru_", params=None):
        super().__init__(num_hidden, prefix, params)

    @property
    def _gate_names(self):
        return ["_r", "_z", "_o"]

    def __call__(self, inputs, states):
        name, states = self._begin_step(inputs, states)
        prev_h = states[0]
        i2h, h2h = self._projections(inputs, prev_h, name, "_i2h", "_h2h")
        i2h_r, i2h_z, i2h = symbol.SliceChannel(i2h, num_outputs=3, name=name + "_i2h_slice")
        h2h_r, h2h_z, h2h = symbol.SliceChannel(h2h, num_outputs=3, name=name + "_h2h_slice")
        reset = symbol.Activation(i2h_r + h2h_r, act_type="sigmoid", name=name + "_r_act")
        update = symbol.Activation(i2h_z + h2h_z, act_type="sigmoid", name=name + "_z_act")
        candidate = symbol.Activation(i2h + reset * h2h, act_type="tanh", name=name + "_h_act")
        next_h = symbol._internal._plus((1. - update) * candidate, update * prev_h, name=name + "out")
        return next_h, [next_h]


class _CellGroup(BaseRNNCell):
    """What SequentialRNNCell and BidirectionalCell share: child cells whose states, begin states and weights are
    theirs in order, and whose Variables join the group's params (or, when the group was given params, come
    from them)."""

    def __init__(self, params):
        super().__init__(prefix="", params=params)
        self._override_cell_params = params is not None
        self._cells = []

    def _adopt(self, cell):
        if self._override_cell_params:
            _check(cell._own_params, f"Either specify params for {type(self).__name__} or child cells, not both.")
            cell.params._params.update(self.params._params)
        self.params._params.update(cell.params._params)
        self._cells.append(cell)

    @property
    def state_info(self):
        return _cells_state_info(self._cells)

    def begin_state(self, **kwargs):
        _check_unmodified(self)
        return _cells_begin_state(self._cells, **kwargs)

    def unpack_weights(self, args):
        return _cells_unpack_weights(self._cells, args)

    def pack_weights(self, args):
        return _cells_pack_weights(self._cells, args)


class SequentialRNNCell(_CellGroup):
    """Cells stacked: each cell's output is the next one's input; the states are all cells' states in order."""

    def __init__(self, params=None):
        super().__init__(params)

    def add(self, cell):
        """Append `cell` to the stack (it shares this stack's params when the stack was given some)."""
        self._adopt(cell)

    @property
    def _no_zoneout(self):
        if any(isinstance(c, BidirectionalCell) for c in self._cells):
            return ("Bidirectional SequentialRNNCell doesn't support zoneout. Please add ZoneoutCell to the cells "
                    "underneath instead.")
        return None

    def __call__(self, inputs, states):
        self._counter += 1
        next_states, at = [], 0
        for cell in self._cells:
            _check(not isinstance(cell, BidirectionalCell), "a BidirectionalCell in a SequentialRNNCell cannot be "
                                                            "stepped: use unroll")
            n = len(cell.state_info)
            inputs, state = cell(inputs, states[at:at + n])
            at += n
            next_states.extend(state)
        return inputs, next_states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        begin_state = _begin_states(self, begin_state, _normalize_sequence(length, inputs, layout, None)[0], layout)
        next_states, at = [], 0
        for i, cell in enumerate(self._cells):
            n = len(cell.state_info)
            inputs, states = cell.unroll(length, inputs=inputs, begin_state=begin_state[at:at + n], layout=layout,
                                         merge_outputs=merge_outputs if i == len(self._cells) - 1 else None)
            at += n
            next_states.extend(states)
        return inputs, next_states


class DropoutCell(BaseRNNCell):
    """Dropout (rate `dropout`) on the inputs; no states."""

    def __init__(self, dropout, prefix="dropout_", params=None):
        super().__init__(prefix, params)
        _check(isinstance(dropout, numeric_types), "dropout probability must be a number")
        self.dropout = dropout

    @property
    def state_info(self):
        return []

    def __call__(self, inputs, states):
        if self.dropout > 0:
            inputs = symbol.Dropout(data=inputs, p=self.dropout)
        return inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, _ = _normalize_sequence(length, inputs, layout, merge_outputs)
        if isinstance(inputs, symbol.Symbol):
            return self(inputs, [])
        return super().unroll(length, inputs, begin_state=begin_state, layout=layout, merge_outputs=merge_outputs)


class ModifierCell(BaseRNNCell):
    """Base of the cells that wrap another (`base_cell`) and change its step; once wrapped, the base cell is
    used through the wrapper only."""

    def __init__(self, base_cell):
        super().__init__()
        base_cell._modified = True
        self.base_cell = base_cell

    @property
    def params(self):
        self._own_params = False
        return self.base_cell.params

    @property
    def state_info(self):
        return self.base_cell.state_info

    def begin_state(self, init_sym=symbol.zeros, **kwargs):
        """The base cell's begin states, made by `init_sym` (or `func`, the name the other cells take)."""
        _check_unmodified(self)
        func = kwargs.pop("func", init_sym)
        self.base_cell._modified = False
        try:
            return self.base_cell.begin_state(func=func, **kwargs)
        finally:
            self.base_cell._modified = True

    def unpack_weights(self, args):
        return self.base_cell.unpack_weights(args)

    def pack_weights(self, args):
        return self.base_cell.pack_weights(args)

    def __call__(self, inputs, states):
        raise NotImplementedError(f"{type(self).__name__} does not define a step")


class ZoneoutCell(ModifierCell):
    """Zoneout: while training, each output (states) element keeps its previous value with probability
    zoneout_outputs (zoneout_states) instead of taking the base cell's new one."""

    def __init__(self, base_cell, zoneout_outputs=0., zoneout_states=0.):
        _check(base_cell._no_zoneout is None, base_cell._no_zoneout)
        super().__init__(base_cell)
        self.zoneout_outputs = zoneout_outputs
        self.zoneout_states = zoneout_states
        self.prev_output = None

    def reset(self):
        super().reset()
        self.prev_output = None

    def __call__(self, inputs, states):
        states = _follow_batch(states, inputs)
        next_output, next_states = self.base_cell(inputs, states)

        def zone(p, new, old):  # Dropout of ones is nonzero where the new value is kept
            return symbol.where(symbol.Dropout(symbol.ones_like(new), p=p), new, old) if p != 0. else new

        prev_output = symbol.zeros_like(next_output) if self.prev_output is None else self.prev_output
        output = zone(self.zoneout_outputs, next_output, prev_output)
        states = [zone(self.zoneout_states, new, old) for new, old in zip(next_states, states)]
        self.prev_output = output
        return output, states


class ResidualCell(ModifierCell):
    """The base cell's output plus its input (Wu et al. 2016)."""

    def __call__(self, inputs, states):
        output, states = self.base_cell(inputs, states)
        return symbol.elemwise_add(output, inputs, name=f"{output.name}_plus_residual"), states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        self.base_cell._modified = False
        try:
            outputs, states = self.base_cell.unroll(length, inputs=inputs, begin_state=begin_state, layout=layout,
                                                    merge_outputs=merge_outputs)
        finally:
            self.base_cell._modified = True
        merge_outputs = isinstance(outputs, symbol.Symbol) if merge_outputs is None else merge_outputs
        inputs, _ = _normalize_sequence(length, inputs, layout, merge_outputs)
        if merge_outputs:
            return symbol.elemwise_add(outputs, inputs, name=f"{outputs.name}_plus_residual"), states
        return [symbol.elemwise_add(o, i, name=f"{o.name}_plus_residual") for o, i in zip(outputs, inputs)], states


class BidirectionalCell(_CellGroup):
    """l_cell over the sequence and r_cell over it reversed, outputs concatenated per step ('<output_prefix>t<i>',
    or '<output_prefix>out' merged); states [l_cell's, r_cell's]. It has no step: use unroll."""
    _no_zoneout = ("BidirectionalCell doesn't support zoneout since it doesn't support step. Please add ZoneoutCell "
                   "to the cells underneath instead.")

    def __init__(self, l_cell, r_cell, params=None, output_prefix="bi_"):
        super().__init__(params)
        self._output_prefix = output_prefix
        self._adopt(l_cell)
        self._adopt(r_cell)

    def __call__(self, inputs, states):
        raise NotImplementedError("Bidirectional cannot be stepped. Please use unroll")

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, axis = _normalize_sequence(length, inputs, layout, False)
        states = _begin_states(self, begin_state, inputs, layout)
        l_cell, r_cell = self._cells
        n_left = len(l_cell.state_info)
        l_outputs, l_states = l_cell.unroll(length, inputs=inputs, begin_state=states[:n_left], layout=layout,
                                            merge_outputs=merge_outputs)
        r_outputs, r_states = r_cell.unroll(length, inputs=list(reversed(inputs)), begin_state=states[n_left:],
                                            layout=layout, merge_outputs=merge_outputs)
        if merge_outputs is None:
            merge_outputs = isinstance(l_outputs, symbol.Symbol) and isinstance(r_outputs, symbol.Symbol)
            if not merge_outputs:
                l_outputs, r_outputs = (
                    list(symbol.SliceChannel(o, axis=axis, num_outputs=length, squeeze_axis=1))
                    if isinstance(o, symbol.Symbol) else o for o in (l_outputs, r_outputs))
        if merge_outputs:
            outputs = symbol.Concat(l_outputs, symbol.reverse(r_outputs, axis=axis), dim=2,
                                    name=f"{self._output_prefix}out")
        else:
            outputs = [symbol.Concat(l_o, r_o, dim=1, name=f"{self._output_prefix}t{i}")
                       for i, (l_o, r_o) in enumerate(zip(l_outputs, reversed(r_outputs)))]
        return outputs, [l_states, r_states]
