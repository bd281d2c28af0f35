"""mx.viz: print_summary (the layer / output shape / parameter count table) and plot_network (a
graphviz.Digraph of the graph), laid out exactly as MXNet 1.9.1 lays them out."""
import re
import warnings

from .symbol import Symbol

__all__ = ["print_summary", "plot_network"]

_WEIGHT_SUFFIXES = ("_weight", "_bias", "_beta", "_gamma", "_moving_var", "_moving_mean", "_running_var",
                    "_running_mean")
_COLORS = ("#8dd3c7", "#fb8072", "#ffffb3", "#bebada", "#80b1d3", "#fdb462", "#b3de69", "#fccde5")


def _shape_dict(symbol, shape):
    internals = symbol.get_internals()
    _, out_shapes, _ = internals.infer_shape(**shape)
    if out_shapes is None:
        raise ValueError("Input shape is incomplete")
    return dict(zip(internals.list_outputs(), out_shapes))


def _key(node):
    """The internals output name of a node's (first) output, as the shape table is keyed."""
    return node.name if node.op is None else node.name + "_output"


def _ints(text):
    return [int(v) for v in re.findall(r"\d+", text)]


def print_summary(symbol, shape=None, line_length=120, positions=(.44, .64, .74, 1.)):
    """Print one row per layer: name(op), output shape without the batch axis, parameter count and
    the layers feeding it; then the total parameter count."""
    if not isinstance(symbol, Symbol):
        raise TypeError("symbol must be Symbol")
    shapes = _shape_dict(symbol, shape) if shape is not None else None
    order = symbol._topo()
    index = {id(n): i for i, n in enumerate(order)}
    head_node, head_out = symbol._outputs[0]
    # MXNet tests membership in the first head's [node, output, version] triple, so node 0 (and the
    # node whose index equals the head's output index) counts as a head; kept for identical tables.
    heads = {index[id(head_node)], head_out, 0}
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def row(fields):
        line = ""
        for field, pos in zip(fields, positions):
            line = (line + str(field))[:pos]
            line += " " * (pos - len(line))
        print(line)

    print("_" * line_length)
    row(["Layer (type)", "Output Shape", "Param #", "Previous Layer"])
    print("=" * line_length)
    total = 0
    for i, node in enumerate(order):
        if node.op is None and i > 0:
            continue
        out_shape = shapes.get(_key(node), ())[1:] if shapes is not None else ()
        previous, channels_in = [], 0
        for src, _ in (node.inputs if node.op is not None else ()):
            if src.op is not None or index[id(src)] in heads:
                previous.append(src.name)
                if shapes is not None and _key(src) in shapes:
                    channels_in += int(shapes[_key(src)][1:][0])
        params = _param_count(node, channels_in, shapes)
        total += params
        op_name = "null" if node.op is None else node.op.name
        row([f"{node.name}({op_name})", "x".join(str(d) for d in out_shape), params,
             previous[0] if previous else ""])
        for name in previous[1:]:
            row(["", "", "", name])
        print("=" * line_length if i == len(order) - 1 else "_" * line_length)
    print(f"Total params: {total}")
    print("_" * line_length)


def _param_count(node, channels_in, shapes):
    """MXNet's estimate: from the input channel count and the layer's attributes."""
    if node.op is None:
        return 0
    attrs, op = node.attrs, node.op.name
    if op == "Convolution":
        n_filter = int(attrs["num_filter"])
        count = channels_in * n_filter // int(attrs.get("num_group", "1"))
        for k in _ints(attrs["kernel"]):
            count *= k
        return count + (n_filter if attrs.get("no_bias", "False") != "True" else 0)
    if op == "FullyConnected":
        hidden = int(attrs["num_hidden"])
        return (channels_in if attrs.get("no_bias", "False") == "True" else channels_in + 1) * hidden
    if op == "BatchNorm" and shapes is not None:
        return int(shapes[_key(node)][1]) * 2
    return 0


def plot_network(symbol, title="plot", save_format="pdf", shape=None, dtype=None, node_attrs=None,
                 hide_weights=True):
    """A graphviz.Digraph of `symbol`: inputs as ovals, layers as coloured boxes, and, given input
    `shape`s, each edge labelled with the shape it carries (batch axis dropped)."""
    try:
        from graphviz import Digraph
    except ImportError:
        raise ImportError("Draw network requires graphviz library (pip install graphviz)") from None
    if not isinstance(symbol, Symbol):
        raise TypeError("symbol must be a Symbol")
    shapes = _shape_dict(symbol, shape) if shape is not None else None
    node_attr = {"shape": "box", "fixedsize": "true", "width": "1.3", "height": "0.8034", "style": "filled"}
    node_attr.update(node_attrs or {})
    dot = Digraph(name=title, format=save_format)
    order = symbol._topo()
    names = [node.name for node in order]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # graphviz joins nodes by name, so these would draw as one (a cycle, maybe), as MXNet warns
        warnings.warn("There are multiple variables with the same name in your graph, this may result in cyclic "
                      "graph. Repeated names: " + ",".join(repeated), RuntimeWarning)
    hidden = set()
    for node in order:
        attr = dict(node_attr)
        label, color = _label_and_color(node)
        if node.op is None:
            if node.name.endswith(_WEIGHT_SUFFIXES):
                if hide_weights:
                    hidden.add(node.name)
                continue
            attr["shape"] = "oval"
        attr["fillcolor"] = color
        dot.node(name=node.name, label=label, **attr)
    for node in order:
        for src, _ in (node.inputs if node.op is not None else ()):
            if src.name in hidden:
                continue
            attr = {"dir": "back", "arrowtail": "open"}
            if shapes is not None:
                key = _key(src)
                if src.op is not None and "num_outputs" in src.attrs:
                    key += str(int(src.attrs["num_outputs"]) - 1)
                attr["label"] = "x".join(str(d) for d in shapes[key][1:])
            dot.edge(tail_name=node.name, head_name=src.name, **attr)
    return dot


def _label_and_color(node):
    if node.op is None:
        return node.name, _COLORS[0]
    op, attrs = node.op.name, node.attrs

    def dims(key):
        return "x".join(str(v) for v in _ints(attrs[key])) if key in attrs else "1"

    if op == "Convolution":
        return f"Convolution\n{dims('kernel')}/{dims('stride')}, {attrs['num_filter']}", _COLORS[1]
    if op == "FullyConnected":
        return f"FullyConnected\n{attrs['num_hidden']}", _COLORS[1]
    if op == "BatchNorm":
        return node.name, _COLORS[3]
    if op in ("Activation", "LeakyReLU"):
        return f"{op}\n{attrs.get('act_type', 'leaky')}", _COLORS[2]
    if op == "Pooling":
        return f"Pooling\n{attrs.get('pool_type', 'max')}, {dims('kernel')}/{dims('stride')}", _COLORS[4]
    if op in ("Concat", "Flatten", "Reshape"):
        return node.name, _COLORS[5]
    if op == "Softmax":
        return node.name, _COLORS[6]
    return (attrs["op_type"] if op == "Custom" else node.name), _COLORS[7]
