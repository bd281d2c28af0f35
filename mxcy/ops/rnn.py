"""The fused recurrent operator `RNN` (rnn_relu, rnn_tanh, lstm, gru; layers, directions, dropout between layers,
LSTM projection and state clipping, valid lengths) over MXNet's packed parameter vector, its hidden gradient
`_backward_RNN`, and `_rnn_param_concat` which packs the vector. Interim: forward and backward run in NumPy on the
host (one GEMM for every step's input projection, then the recurrence step by step); Numba kernels replace them."""
import numpy as np

from . import registry
from ._helpers import store
from ._nn_common import kernels
from .join import _NUM_ARGS, _arg_names, _concat_grad, _concat_infer, _concat_windows, _join_computes
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
    return names + (["dropout_mask"] if _has_mask(attrs) else [])


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
    return ins, [dtype] * (_n_visible(attrs) + _has_mask(attrs))


# --- the NumPy recurrence -----------------------------------------------------------------------

def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1)


def _reversal(lengths, steps, batch):
    """Time index (steps, batch) that reverses each sequence's valid steps and leaves the rest in place."""
    t = np.arange(steps)[:, None]
    if lengths is None:
        return np.broadcast_to(steps - 1 - t, (steps, batch))
    return np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)


def _reverse(x, index):
    return x[index, np.arange(x.shape[1])[None, :]]


class _Direction:
    """One layer's one direction: forward keeps what backward needs."""

    def __init__(self, attrs, weights, active):
        self.mode, self.w, self.active = attrs["mode"], weights, active  # active: (steps, batch, 1) or None
        self.clip = (attrs["lstm_state_clip_min"], attrs["lstm_state_clip_max"]) \
            if attrs["mode"] == "lstm" and attrs["lstm_state_clip_min"] is not None else None
        self.clip_nan = attrs["lstm_state_clip_nan"]

    def _keep(self, t, new, old):
        return new if self.active is None else np.where(self.active[t], new, old)

    def forward(self, x, h, c):
        w, mode = self.w, self.mode
        self.x, steps = x, x.shape[0]
        xp = x @ w["i2h_weight"].T + w["i2h_bias"]
        y = np.zeros(x.shape[:2] + (h.shape[1],), x.dtype)
        self.tape = []
        for t in range(steps):
            hp = h @ w["h2h_weight"].T + w["h2h_bias"]
            saved = {"h": h, "c": c}
            if mode in ("rnn_tanh", "rnn_relu"):
                a = xp[t] + hp
                h_new = np.tanh(a) if mode == "rnn_tanh" else np.maximum(a, 0)
                c_new = None
                saved["out"] = h_new
            elif mode == "lstm":
                i, f, g, o = np.split(xp[t] + hp, 4, axis=1)
                i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
                c_new = f * c + i * g
                if self.clip is not None:
                    low, high = self.clip
                    saved["inside"] = (c_new >= low) & (c_new <= high)
                    c_new = np.clip(c_new, low, high)
                    if self.clip_nan:
                        c_new = np.where(np.isnan(c_new), high, c_new)
                tanh_c = np.tanh(c_new)
                h_raw = o * tanh_c
                h_new = h_raw @ w["h2r_weight"].T if "h2r_weight" in w else h_raw
                saved.update(i=i, f=f, g=g, o=o, tanh_c=tanh_c, h_raw=h_raw)
            else:
                xr, xz, xn = np.split(xp[t], 3, axis=1)
                hr, hz, hn = np.split(hp, 3, axis=1)
                r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
                n = np.tanh(xn + r * hn)
                h_new = (1 - z) * n + z * h
                c_new = None
                saved.update(r=r, z=z, n=n, hn=hn)
            self.tape.append(saved)
            y[t] = h_new if self.active is None else np.where(self.active[t], h_new, 0)
            h = self._keep(t, h_new, h)
            c = None if c_new is None else self._keep(t, c_new, c)
        return y, h, c

    def backward(self, dy, dh, dc):
        """(dx, dh0, dc0, {weight name: gradient}) from the output's and the final states' gradients."""
        w, mode = self.w, self.mode
        grads = {name: np.zeros_like(v) for name, v in w.items()}
        dxp = np.zeros(dy.shape[:2] + (w["i2h_bias"].shape[0],), dy.dtype)
        for t in reversed(range(dy.shape[0])):
            s = self.tape[t]
            on = 1.0 if self.active is None else self.active[t]
            dh_new, dh_pass = (dh + dy[t]) * on, dh * (1 - on)
            if mode in ("rnn_tanh", "rnn_relu"):
                da = dh_new * (1 - s["out"] ** 2) if mode == "rnn_tanh" else dh_new * (s["out"] > 0)
                dhp = da
                dxp[t] = da
            elif mode == "lstm":
                dc_new, dc_pass = dc * on, dc * (1 - on)
                if "h2r_weight" in w:
                    grads["h2r_weight"] += dh_new.T @ s["h_raw"]
                    dh_new = dh_new @ w["h2r_weight"]
                dcs = dc_new + dh_new * s["o"] * (1 - s["tanh_c"] ** 2)
                if "inside" in s:
                    dcs = dcs * s["inside"]
                i, f, g, o = s["i"], s["f"], s["g"], s["o"]
                dhp = np.concatenate([dcs * g * i * (1 - i), dcs * s["c"] * f * (1 - f), dcs * i * (1 - g ** 2),
                                      dh_new * s["tanh_c"] * o * (1 - o)], axis=1)
                dxp[t] = dhp
                dc = dcs * f + dc_pass
            else:
                r, z, n, hn = s["r"], s["z"], s["n"], s["hn"]
                dan = dh_new * (1 - z) * (1 - n ** 2)
                dar = dan * hn * r * (1 - r)
                daz = dh_new * (s["h"] - n) * z * (1 - z)
                dxp[t] = np.concatenate([dar, daz, dan], axis=1)
                dhp = np.concatenate([dar, daz, dan * r], axis=1)
                dh_pass = dh_pass + dh_new * z
            grads["h2h_weight"] += dhp.T @ s["h"]
            grads["h2h_bias"] += dhp.sum(axis=0)
            dh = dhp @ w["h2h_weight"] + dh_pass
        flat = dxp.reshape(-1, dxp.shape[2])
        grads["i2h_weight"] += flat.T @ self.x.reshape(-1, self.x.shape[2])
        grads["i2h_bias"] += flat.sum(axis=0)
        return dxp @ w["i2h_weight"], dh, dc, grads


def _network(attrs, inputs, mask):
    """Run the whole op forward in NumPy, keeping every direction's tape: (output, hy, cy, directions,
    reversals). `mask` is the dropout mask between layers (None when there is none)."""
    gates, hidden, out, dirs = _sizes(attrs)
    x, params, hx = inputs[0], inputs[1], inputs[2]
    cx = inputs[3] if attrs["mode"] == "lstm" else None
    steps, batch, width = x.shape
    lengths = None
    if attrs["use_sequence_length"]:
        lengths = inputs[-1].astype(np.int64)
        if ((lengths < 1) | (lengths > steps)).any():
            raise ValueError(f"sequence_length {inputs[-1]} is outside [1, {steps}]")
    active = None if lengths is None else (np.arange(steps)[:, None] < lengths[None, :])[..., None]
    index = _reversal(lengths, steps, batch)
    weights = {}
    for layer, d, name, offset, shape in layout(attrs, width)[0]:
        weights.setdefault((layer, d), {})[name] = params[offset:offset + int(np.prod(shape))].reshape(shape)
    hy, cy = np.empty_like(hx), None if cx is None else np.empty_like(cx)
    directions = []
    for layer in range(attrs["num_layers"]):
        if layer > 0 and mask is not None:
            x = x * mask[layer - 1]
        ys = []
        for d in range(dirs):
            k = layer * dirs + d
            run = _Direction(attrs, weights[(layer, d)], active)
            y, hy[k], c = run.forward(x if d == 0 else _reverse(x, index), hx[k], None if cx is None else cx[k])
            if cy is not None:
                cy[k] = c
            ys.append(y if d == 0 else _reverse(y, index))
            directions.append(run)
        x = np.concatenate(ys, axis=2) if dirs > 1 else ys[0]
    return x, hy, cy, directions, index, layout(attrs, width)[0]


def _dropout_mask(attrs, shape, dtype):
    """The mask between layers: 0 or 1/(1-p) per element in training (Dropout's Philox draws), ones otherwise."""
    mask = np.ones(shape, dtype)
    if attrs.get("__is_train__"):
        p = attrs["p"]
        out = np.empty(mask.size, dtype)
        kernels("random_dist").dropout_cpu(mask.reshape(-1), out, mask.reshape(-1), (mask.size,), (1,),
                                          np.uint64(round((1 - p) * 2 ** 32)), 1.0 / (1 - p), *key(attrs))
    return mask


def _work_type(dtype):
    return np.float32 if dtype == np.float16 else dtype


def _rnn_compute(attrs, inputs, outputs, reqs):
    work = _work_type(inputs[0].dtype)
    arrays = [a.astype(work, copy=False) for a in inputs]
    mask = None
    if _has_mask(attrs):
        mask = _dropout_mask(attrs, outputs[-1].shape, work)
        store(outputs[-1], mask, reqs[-1])
    y, hy, cy = _network(attrs, arrays, mask)[:3]
    results = [y] + ([hy, cy][:_n_states(attrs)] if attrs["state_outputs"] else [])
    for out, value, req in zip(outputs, results, reqs):
        store(out, value, req)


def _backward_compute(attrs, inputs, outputs, reqs):
    n_heads, n_args = _n_visible(attrs), len(_arguments(attrs))
    work = _work_type(inputs[n_heads].dtype)
    heads = [a.astype(work, copy=False) for a in inputs[:n_heads]]
    args = [a.astype(work, copy=False) for a in inputs[n_heads:n_heads + n_args]]
    mask = inputs[n_heads + n_args].astype(work, copy=False) if _has_mask(attrs) else None
    y, hy, cy, directions, index, pieces = _network(attrs, args, mask)
    dirs = 2 if attrs["bidirectional"] else 1
    dy = heads[0]
    dhy = heads[1] if attrs["state_outputs"] else np.zeros_like(hy)
    dcy = (heads[2] if attrs["state_outputs"] else np.zeros_like(cy)) if cy is not None else None
    dhx, dcx = np.zeros_like(dhy), None if dcy is None else np.zeros_like(dcy)
    grads = {}
    for layer in reversed(range(attrs["num_layers"])):
        parts = np.split(dy, dirs, axis=2)
        dx = 0
        for d in range(dirs):
            k = layer * dirs + d
            part = parts[d] if d == 0 else _reverse(parts[d], index)
            g, dhx[k], dc, grads[(layer, d)] = directions[k].backward(
                part, dhy[k], None if dcy is None else dcy[k])
            if dcx is not None:
                dcx[k] = dc
            dx = dx + (g if d == 0 else _reverse(g, index))
        if layer > 0 and mask is not None:
            dx = dx * mask[layer - 1]
        dy = dx
    dparams = np.empty(args[1].shape, work)
    for layer, d, name, offset, shape in pieces:
        dparams[offset:offset + int(np.prod(shape))] = grads[(layer, d)][name].reshape(-1)
    results = [dy, dparams, dhx] + ([dcx] if dcx is not None else [])
    for out, value, req in zip(outputs, results, reqs):
        store(out, value, req)


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
    compute={"cpu": _rnn_compute}, gradient=_rnn_gradient,
    num_outputs=lambda attrs: _n_visible(attrs) + _has_mask(attrs), output_names=_output_names,
    visible_outputs=_n_visible, random=True, train_aware=True,
    doc="Applies a stacked, optionally bidirectional recurrent network (vanilla RNN, LSTM or GRU) to a "
        "(sequence length, batch, input) sequence, its weights and biases packed in `parameters`."))

registry.register(OpDef(
    "_backward_RNN", params=_PARAMS,
    arguments=lambda attrs: [f"ograd{i}" for i in range(_n_visible(attrs))] + _arguments(attrs)
    + (["dropout_mask"] if _has_mask(attrs) else []),
    infer_shape=_backward_rule(_infer), infer_type=_backward_rule(_infer_type), compute={"cpu": _backward_compute},
    num_outputs=lambda attrs: len(_arguments(attrs)) - attrs["use_sequence_length"],
    doc="RNN's gradient with respect to data, parameters and initial states (back-propagation through time, "
        "recomputing the forward)."))


registry.register(OpDef(
    "_rnn_param_concat", arguments=_arg_names, key_var_num_args="num_args",
    params=(_NUM_ARGS, Param("dim", "int", 1, "the dimension to concatenate along")),
    infer_shape=_concat_infer, gradient=_concat_grad, compute=_join_computes(_concat_windows),
    doc="Concat under the name gluon's RNN layers use to pack their flattened weights and biases."))
