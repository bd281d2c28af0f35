"""The fused recurrent operator `RNN` (rnn_relu, rnn_tanh, lstm, gru; layers, directions, dropout between layers,
LSTM projection and state clipping, valid lengths) over MXNet's packed parameter vector, its hidden gradient
`_backward_RNN`, and `_rnn_param_concat` which packs the vector. Per layer and direction: the input projection of
every step as one GEMM (kernels.dense), then the recurrence kernel (kernels.rnn_cpu / rnn_gpu) with the gates fused
into one pass per step; the forward keeps what the gradient needs in a hidden `reserve` output."""
import numpy as np

from . import registry
from ..kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE
from ._nn_common import flat, host, kernel, kernel_compute, kernels, on_device_of, put, scratch, widen
from .join import _NUM_ARGS, _arg_names, _concat_grad, _concat_rule, _concat_windows, _join_computes
from .random import key
from .registry import REQUIRED, OpDef, Param

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}

_PARAMS = (
    Param("state_size", "int", doc="hidden units per layer and direction"),
    Param("num_layers", "int", doc="stacked layers"),
    Param("bidirectional", "bool", False, "run each layer forward and backward in time"),
    Param("mode", "str", REQUIRED, "the cell", choices=tuple(_GATES)),
    Param("p", "float", 0.0, "dropout rate on each layer's output but the last's, in training"),
    Param("state_outputs", "bool", False, "also output the final states"),
    Param("projection_size", "int", None, "LSTM only: project h to this size (LSTMP)"),
    Param("lstm_state_clip_min", "float", None, "LSTM only: lower clip of the cell state"),
    Param("lstm_state_clip_max", "float", None, "LSTM only: upper clip of the cell state"),
    Param("lstm_state_clip_nan", "bool", False, "LSTM only: clipping also turns NaN cell states into the bounds"),
    Param("use_sequence_length", "bool", False, "read each batch entry's valid length from `sequence_length`"),
)
_NAMES = tuple(p.name for p in _PARAMS)


def _arguments(attrs):
    names = ["data", "parameters", "state"]
    if attrs["mode"] == "lstm":
        names.append("state_cell")
    if attrs["use_sequence_length"]:
        names.append("sequence_length")
    return names


def _n_states(attrs):
    return 2 if attrs["mode"] == "lstm" else 1


def _has_mask(attrs):
    return attrs["p"] > 0 and attrs["num_layers"] > 1


def _n_visible(attrs):
    return 1 + (_n_states(attrs) if attrs["state_outputs"] else 0)


def _output_names(attrs):
    names = ["output"]
    if attrs["state_outputs"]:
        names += ["state_output", "statecell_output"][:_n_states(attrs)]
    return names + (["dropout_mask"] if _has_mask(attrs) else []) + ["reserve"]


def _n_outputs(attrs):
    return _n_visible(attrs) + _has_mask(attrs) + 1


def _sizes(attrs):
    """(gates, hidden, size of h (the projection when there is one), directions)."""
    hidden = attrs["state_size"]
    projection = attrs["projection_size"]
    if projection is not None and attrs["mode"] != "lstm":
        raise ValueError(f"projection_size={projection} needs mode='lstm', not {attrs['mode']!r}")
    return _GATES[attrs["mode"]], hidden, projection or hidden, 2 if attrs["bidirectional"] else 1


def layout(attrs, input_size):
    """[(layer, direction, name, offset, shape)] of the packed vector, in order: every layer's and direction's
    i2h, h2h (and h2r with a projection) weights, then their i2h and h2h biases (gluon's packing order)."""
    gates, hidden, out, dirs = _sizes(attrs)
    rows = gates * hidden
    pieces, offset = [], 0
    for kind in ("weight", "bias"):
        for layer in range(attrs["num_layers"]):
            width = input_size if layer == 0 else dirs * out
            for d in range(dirs):
                shapes = {"weight": [("i2h", (rows, width)), ("h2h", (rows, out))]
                          + ([("h2r", (out, hidden))] if attrs["projection_size"] is not None else []),
                          "bias": [("i2h", (rows,)), ("h2h", (rows,))]}[kind]
                for part, shape in shapes:
                    pieces.append((layer, d, f"{part}_{kind}", offset, shape))
                    offset += int(np.prod(shape))
    return pieces, offset


def _infer(attrs, shapes):
    data = shapes[0]
    if data is None:
        return None, None
    if len(data) != 3:
        raise ValueError(f"data of shape {tuple(data)} must be (sequence length, batch, input size)")
    steps, batch, width = data
    gates, hidden, out, dirs = _sizes(attrs)
    states = attrs["num_layers"] * dirs
    want = [data, (layout(attrs, width)[1],), (states, batch, out)]
    if attrs["mode"] == "lstm":
        want.append((states, batch, hidden))
    if attrs["use_sequence_length"]:
        want.append((batch,))
    for name, got, need in zip(_arguments(attrs), shapes, want):
        if got is not None and tuple(got) != need:
            raise ValueError(f"{name} has shape {tuple(got)}; mode={attrs['mode']}, num_layers="
                             f"{attrs['num_layers']}, state_size={hidden}, bidirectional={attrs['bidirectional']} "
                             f"and data of shape {tuple(data)} need {need}")
    outs = [(steps, batch, dirs * out)]
    if attrs["state_outputs"]:
        outs += want[2:2 + _n_states(attrs)]
    if _has_mask(attrs):
        outs.append((attrs["num_layers"] - 1, steps, batch, dirs * out))
    outs.append((_reserve_layout(attrs, steps, batch)[1],))
    return want, outs


def _infer_type(attrs, types):
    dtype = next((t for t in types[:len(types) - attrs["use_sequence_length"]] if t is not None), None)
    if dtype is None:
        return types, None
    n = len(types) - attrs["use_sequence_length"]
    for name, t in zip(_arguments(attrs), types[:n]):
        if t is not None and t != dtype:
            raise ValueError(f"{name} is {np.dtype(t).name} but data is {np.dtype(dtype).name}")
    ins = [dtype] * n + ([types[-1] if types[-1] is not None else dtype] if attrs["use_sequence_length"] else [])
    return ins, [dtype] * (_n_visible(attrs) + _has_mask(attrs)) + [_reserve_type(dtype)]


# --- running the layers on the kernels --------------------------------------------------------

def _reserve_layout(attrs, steps, batch):
    """{(name, layer, direction): (offset, shape)} of the hidden `reserve` output, what the gradient reads: each
    layer's input but the first's (after dropout), and per layer and direction the activated gates, h before each
    step, and where the cell has them the LSTM's cell states before and after each step, the GRU's state share of
    its candidate, the LSTM's h before its projection. Returns (layout, size)."""
    gates, hidden, out, dirs = _sizes(attrs)
    mode, proj = attrs["mode"], attrs["projection_size"] is not None
    pieces, offset = {}, 0

    def add(name, layer, d, width):
        nonlocal offset
        pieces[(name, layer, d)] = (offset, (steps, batch, width))
        offset += steps * batch * width

    for layer in range(attrs["num_layers"]):
        if layer > 0:
            add("input", layer, 0, dirs * out)
        for d in range(dirs):
            add("gates", layer, d, gates * hidden)
            add("hprev", layer, d, out)
            for name, used in (("cs", mode == "lstm"), ("cprev", mode == "lstm"), ("hn", mode == "gru"),
                               ("hraw", proj)):
                if used:
                    add(name, layer, d, hidden)
    return pieces, offset


def _reserve_type(dtype):
    return widen(dtype)


class _Layers:
    """The views one call works on: the packed weights per layer and direction, the reserve's pieces, and what
    the kernels take for what a cell lacks."""

    def __init__(self, attrs, x, params, reserve, lengths):
        self.lengths = lengths
        self.steps, self.batch, width = x.shape
        _, _, self.out, self.dirs = _sizes(attrs)
        self.mode = ("rnn_relu", "rnn_tanh", "lstm", "gru").index(attrs["mode"])  # rnn_cells' codes
        self.weights = {}
        for layer, d, name, offset, shape in layout(attrs, width)[0]:
            self.weights.setdefault((layer, d), {})[name] = params[offset:offset + int(np.prod(shape))].reshape(shape)
        self.pieces = _reserve_layout(attrs, self.steps, self.batch)[0]
        self.reserve, self.empty = reserve, scratch(reserve, reserve.dtype, (0, 0, 0))
        self.no_projection = scratch(reserve, reserve.dtype, (0, 0))
        self.clip = None if attrs["mode"] != "lstm" or attrs["lstm_state_clip_min"] is None else \
            (attrs["lstm_state_clip_min"], attrs["lstm_state_clip_max"], attrs["lstm_state_clip_nan"])

    def piece(self, name, layer, d=0):
        if (name, layer, d) not in self.pieces:
            return self.empty
        offset, shape = self.pieces[(name, layer, d)]
        return self.reserve[offset:offset + int(np.prod(shape))].reshape(shape)

    def saved(self, layer, d):
        return tuple(self.piece(name, layer, d) for name in ("cs", "cprev", "hprev", "hn", "hraw"))

    def h2r(self, layer, d):
        return self.weights[(layer, d)].get("h2r_weight", self.no_projection)

    def rows(self, a):
        """A (steps, batch, n) array as the (steps * batch, n) matrix of the all-steps GEMMs."""
        return a.reshape(self.steps * self.batch, a.shape[2])


def _lengths(device, attrs, inputs, like):
    """Each batch entry's valid length, int64 on the device; checked on the host (a copy off the GPU)."""
    steps, batch = inputs[0].shape[:2]
    if not attrs["use_sequence_length"]:
        return on_device_of(like, np.full(batch, steps, np.int64))
    given = inputs[-1] if host(inputs[-1]) else inputs[-1].copy_to_host()
    lengths = given.astype(np.int64)
    if ((lengths < 1) | (lengths > steps)).any():
        raise ValueError(f"sequence_length {given} is outside [1, {steps}]")
    return on_device_of(like, lengths)


def _dropout_mask(device, attrs, mask):
    """The mask between layers into `mask`: 0 or 1/(1-p) per element in training (Dropout's Philox draws), ones
    otherwise."""
    ones = on_device_of(mask, np.ones(mask.size, mask.dtype))
    if not attrs.get("__is_train__"):
        put(flat(mask), ones, REQ_WRITE)
        return
    p = attrs["p"]
    kernel("random_dist", "dropout", device)(ones, scratch(ones, ones.dtype), flat(mask), (mask.size,), (1,),
                                             np.uint64(round((1 - p) * 2 ** 32)), 1.0 / (1 - p), *key(attrs))


def _states(attrs, inputs, like):
    """(hx, cx): the initial states, cx with no columns for the cells that have no cell state."""
    hx = inputs[2]
    return hx, inputs[3] if attrs["mode"] == "lstm" else scratch(like, like.dtype, (hx.shape[0], hx.shape[1], 0))


def _rnn_body(device, attrs, inputs, outputs, reqs):
    """RNN forward: per layer, per direction, the input projection of every step as one GEMM (dense.fc_fwd), then
    the recurrence kernel; between layers the dropout mask. The outputs are written directly (write requests)."""
    rnn, fc_fwd = kernels(f"rnn_{device}"), kernel("dense", "fc_fwd", device)
    x, reserve = inputs[0], outputs[-1]
    hx, cx = _states(attrs, inputs, reserve)
    net = _Layers(attrs, x, inputs[1], reserve, _lengths(device, attrs, inputs, reserve))
    n_visible, last = _n_visible(attrs), attrs["num_layers"] - 1
    y = outputs[0]
    hy = outputs[1] if attrs["state_outputs"] else scratch(hx, hx.dtype)
    cy = outputs[2] if attrs["state_outputs"] and attrs["mode"] == "lstm" else scratch(cx, cx.dtype)
    mask = outputs[n_visible] if _has_mask(attrs) else None
    if mask is not None:
        _dropout_mask(device, attrs, mask)
    for layer in range(attrs["num_layers"]):
        below = x if layer == 0 else net.piece("input", layer)
        above = y if layer == last else net.piece("input", layer + 1)
        for d in range(net.dirs):
            k, w, gates = layer * net.dirs + d, net.weights[(layer, d)], net.piece("gates", layer, d)
            fc_fwd(net.rows(below), w["i2h_weight"], w["i2h_bias"], net.rows(gates), REQ_WRITE)
            getattr(rnn, f"forward_{device}")(
                net.mode, gates, w["h2h_weight"], w["h2h_bias"], net.h2r(layer, d), hx[k], cx[k], net.lengths,
                d == 1, net.clip, above, d * net.out, hy[k], cy[k], net.saved(layer, d))
        if mask is not None and layer < last:
            getattr(rnn, f"scale_{device}")(flat(above), flat(mask[layer]))


def _backward_body(device, attrs, inputs, outputs, reqs):
    """_backward_RNN: per layer from the last, per direction, the recurrence backward kernel, then the all-steps
    GEMMs (dense.fc_bwd) for the input gradient and every weight and bias gradient."""
    rnn, fc_bwd = kernels(f"rnn_{device}"), kernel("dense", "fc_bwd", device)
    n_visible, n_args = _n_visible(attrs), len(_arguments(attrs))
    heads, args = inputs[:n_visible], inputs[n_visible:n_visible + n_args]
    mask = inputs[n_visible + n_args] if _has_mask(attrs) else None
    reserve = inputs[-1]
    hx, cx = _states(attrs, args, reserve)
    net = _Layers(attrs, args[0], args[1], reserve, _lengths(device, attrs, args, reserve))
    lstm = attrs["mode"] == "lstm"

    def head(i, like):
        return heads[i] if attrs["state_outputs"] else on_device_of(like, np.zeros(like.shape, like.dtype))
    dhy = head(1, hx)
    dcy = head(2, cx) if lstm else cx
    dx_out, dparams, dhx = outputs[:3]
    dcx = outputs[3] if lstm else scratch(cx, cx.dtype)
    grads = {}
    for layer, d, name, offset, shape in layout(attrs, args[0].shape[2])[0]:
        grads[(layer, d, name)] = dparams[offset:offset + int(np.prod(shape))].reshape(shape)
    dy = heads[0]
    for layer in reversed(range(attrs["num_layers"])):
        below = args[0] if layer == 0 else net.piece("input", layer)
        dx = dx_out if layer == 0 else scratch(below, below.dtype)
        for d in range(net.dirs):
            k, w, gates = layer * net.dirs + d, net.weights[(layer, d)], net.piece("gates", layer, d)
            dxp = scratch(gates, gates.dtype)
            dhp = scratch(gates, gates.dtype) if attrs["mode"] == "gru" else dxp
            dhr = scratch(gates, gates.dtype, gates.shape[:2] + (net.out,)) if attrs["projection_size"] else net.empty
            getattr(rnn, f"backward_{device}")(
                net.mode, gates, w["h2h_weight"], net.h2r(layer, d), net.lengths, d == 1, net.clip,
                net.saved(layer, d), dy, d * net.out, dhy[k], dcy[k], dxp, dhp, dhr, dhx[k], dcx[k])
            first = reqs[0] if layer == 0 else REQ_WRITE
            dx_req = first if d == 0 or first == REQ_NULL else REQ_ADD
            fc_bwd(net.rows(dxp), net.rows(below), w["i2h_weight"], net.rows(dx), grads[(layer, d, "i2h_weight")],
                   grads[(layer, d, "i2h_bias")], dx_req, reqs[1], reqs[1])
            fc_bwd(net.rows(dhp), net.rows(net.piece("hprev", layer, d)), w["h2h_weight"], None,
                   grads[(layer, d, "h2h_weight")], grads[(layer, d, "h2h_bias")], REQ_NULL, reqs[1], reqs[1])
            if attrs["projection_size"]:
                fc_bwd(net.rows(dhr), net.rows(net.piece("hraw", layer, d)), w["h2r_weight"], None,
                       grads[(layer, d, "h2r_weight")], None, REQ_NULL, reqs[1], REQ_NULL)
        if layer > 0 and mask is not None:
            getattr(rnn, f"scale_{device}")(flat(dx), flat(mask[layer - 1]))
        dy = dx


def _rnn_gradient(F, attrs, inputs, outputs, ograds):
    n_visible = _n_visible(attrs)
    hidden = list(outputs[n_visible:])
    public = {k: attrs[k] for k in _NAMES}
    grads = F._backward_RNN(*ograds[:n_visible], *inputs, *hidden, **public)
    grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
    return grads + [None] * attrs["use_sequence_length"]


def _backward_rule(forward):
    """_backward_RNN's shape or type rule from the forward's: its inputs are the head gradients, the forward's
    inputs and hidden outputs; its outputs the gradients of the forward's inputs but sequence_length."""
    def rule(attrs, values):
        n_visible = _n_visible(attrs)
        ins, outs = forward(attrs, values[n_visible:n_visible + len(_arguments(attrs))])
        if outs is None:
            return values, None
        return outs[:n_visible] + ins + outs[n_visible:], ins[:len(ins) - attrs["use_sequence_length"]]
    return rule


registry.register(OpDef(
    "RNN", params=_PARAMS, arguments=_arguments, infer_shape=_infer, infer_type=_infer_type,
    compute=kernel_compute(_rnn_body, exact=(False,) * 5), gradient=_rnn_gradient, gradient_op="_backward_RNN",
    num_outputs=_n_outputs, output_names=_output_names,
    visible_outputs=_n_visible, random=True, train_aware=True,
    doc="Applies a stacked, optionally bidirectional recurrent network (vanilla RNN, LSTM or GRU) to a "
        "(sequence length, batch, input) sequence, its weights and biases packed in `parameters`."))

registry.register(OpDef(
    "_backward_RNN", params=_PARAMS,
    arguments=lambda attrs: [f"ograd{i}" for i in range(_n_visible(attrs))] + _arguments(attrs)
    + (["dropout_mask"] if _has_mask(attrs) else []) + ["reserve"],
    infer_shape=_backward_rule(_infer), infer_type=_backward_rule(_infer_type),
    compute=kernel_compute(_backward_body, exact=(True, True, False, False)),
    num_outputs=lambda attrs: len(_arguments(attrs)) - attrs["use_sequence_length"],
    doc="RNN's gradient with respect to data, parameters and initial states (back-propagation through time, "
        "from the forward's reserve)."))


registry.register(OpDef(
    "_rnn_param_concat", arguments=_arg_names, key_var_num_args="num_args",
    params=(_NUM_ARGS, Param("dim", "int", 1, "the dimension to concatenate along")),
    infer_shape=_concat_rule(sizes_from_output=True), partial_shapes=True, gradient=_concat_grad,
    compute=_join_computes(_concat_windows),
    doc="Concat under the name gluon's RNN layers use to pack their flattened weights and biases; the packed size "
        "(from RNN's data) gives the size of one or two inputs left unknown (the first layer's input weights)."))
