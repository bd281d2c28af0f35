"""MXNet's symbol JSON (`-symbol.json`): writing byte-for-byte as MXNet 1.9.1's dmlc writer does, and
reading that layout and the older ones (`param`/`attr` node keys, two-element input entries).
Loading only parses JSON: nothing in a file is executed."""
import json
import os

from ..base import MXNetError, parse_shape
from ..fileio import atomic_write, read_bytes
from .graph import HIDDEN_KEYS, Node, registry_op, topo_order
from ..util import is_np_shape
from .symbol import Symbol

__all__ = ["to_json", "load_json", "load", "save", "debug_str"]

MXNET_VERSION = 10901


class _Raw:
    """A value the writer emits as an inline array of its items (a node entry, dmlc::any)."""
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items


class _Multi(dict):
    """An object always written one key per line (the document and each node)."""


class _MultiList(list):
    """An array always written one item per line (the node list)."""


def _write(value, depth, out):
    """dmlc::JSONWriter's layout: objects of more than one key and arrays of more than ten items go one
    item per line (', ' + newline + two spaces per level); the rest stay on one line."""
    if isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, _Raw):
        out.append("[" + ", ".join(json.dumps(v) for v in value.items) + "]")
    elif isinstance(value, dict):
        items = [(json.dumps(k, ensure_ascii=False) + ": ", v) for k, v in value.items()]
        _container("{", "}", items, isinstance(value, _Multi) or len(value) > 1, depth, out)
    elif isinstance(value, list):
        items = [("", v) for v in value]
        _container("[", "]", items, isinstance(value, _MultiList) or len(value) > 10, depth, out)
    else:
        raise TypeError(f"cannot write {type(value).__name__} to symbol JSON")


def _container(open_, close, items, multi_line, depth, out):
    out.append(open_)
    for i, (prefix, value) in enumerate(items):
        if i:
            out.append(", ")
        if multi_line:
            out.append("\n" + "  " * (depth + 1))
        out.append(prefix)
        _write(value, depth + 1, out)
    if multi_line and items:
        out.append("\n" + "  " * depth)
    out.append(close)


def to_json(symbol):
    doc = _graph_doc(symbol)
    doc["attrs"] = {"mxnet_version": _Raw(["int", MXNET_VERSION])}
    if is_np_shape():  # tells a loader that 0 in a variable's __shape__ is a zero-size dimension
        doc["attrs"] = {"is_np_shape": _Raw(["int", 1]), **doc["attrs"]}
    out = []
    _write(doc, 0, out)
    return "".join(out)


def _graph_doc(symbol):
    """A graph as nnvm writes it, without the document's attrs (a node's subgraphs have none)."""
    order = topo_order(symbol._outputs)
    index = {id(n): i for i, n in enumerate(order)}
    nodes, row_ptr, versions = _MultiList(), [0], {}
    for node in order:
        entry = _Multi(op="null" if node.op is None else node.op.name, name=node.name)
        if node.attrs:
            entry["attrs"] = dict(sorted(node.attrs.items()))
        entry["inputs"] = [_Raw([index[id(n)], i, v]) for (n, i), v in zip(node.inputs, _versions(node, versions))]
        if node.op is not None and node.params.get("subgraphs"):  # control flow's bodies (nnvm's subgraphs)
            entry["subgraphs"] = _MultiList(_graph_doc(g) for g in node.params["subgraphs"])
        nodes.append(entry)
        row_ptr.append(row_ptr[-1] + node.num_outputs())
    return _Multi(nodes=nodes, arg_nodes=[index[id(n)] for n in order if n.op is None], node_row_ptr=row_ptr,
                  heads=[_Raw([index[id(n)], i, 0]) for n, i in symbol._outputs])


def _versions(node, versions):
    """nnvm's entry versions: a variable input carries its variable's count of mutations so far, and
    each auxiliary-state input (what MXNet's graph ops mutate) counts one more first."""
    if node.op is None:
        return []
    mutated = node.aux_inputs()
    out = []
    for k, (src, _) in enumerate(node.inputs):
        if src.op is not None:
            out.append(0)
            continue
        if k in mutated:
            versions[id(src)] = versions.get(id(src), 0) + 1
        out.append(versions.get(id(src), 0))
    return out


def load_json(json_str):
    """The Symbol in MXNet JSON text; unknown ops and malformed documents raise MXNetError."""
    return _parse(json_str, "symbol JSON")


def load(fname):
    """The Symbol in an MXNet `-symbol.json` file; a file that cannot be read, is not UTF-8 or is not a
    symbol document raises MXNetError naming it."""
    source = os.fspath(fname)
    raw = read_bytes(fname, "symbol file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise MXNetError(f"{source}: not a symbol JSON file: byte {err.start} is not valid UTF-8") from None
    return _parse(text, source)


def _parse(text, source):
    try:
        doc = json.loads(text)
    except (TypeError, ValueError, RecursionError) as err:
        raise MXNetError(f"{source}: not valid JSON: {err}") from None
    try:
        symbol = _symbol_of(doc)
    except MXNetError as err:
        raise MXNetError(f"{source}: {err}") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as err:
        # A field of the wrong JSON type somewhere the format fixes one (a list for attrs, ...).
        raise MXNetError(f"{source}: malformed symbol document: {type(err).__name__}: {err}") from None
    if is_np_shape() and not (doc.get("attrs") or {}).get("is_np_shape", ["int", 0])[1]:
        _legacy_shapes_to_numpy(symbol)
    return symbol


def _legacy_shapes_to_numpy(symbol):
    """A document written without NumPy shape semantics, read with them on (MXNet 1.9.1 does the same): its
    variables' unknown dimensions (0) become -1, and an unknown rank (()) no shape at all."""
    args, auxs = symbol._variables()
    for node in args + auxs:
        text = node.attrs.get("__shape__")
        if text is None:
            continue
        shape = parse_shape(text)
        if shape:
            node.attrs["__shape__"] = str(tuple(-1 if d == 0 else d for d in shape))
        else:
            del node.attrs["__shape__"]


def _symbol_of(doc):
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list) or "heads" not in doc:
        raise MXNetError("expected an object with 'nodes' and 'heads'")
    nodes = []
    for i, spec in enumerate(doc["nodes"]):
        nodes.append(_load_node(spec, i, nodes))
    try:
        heads = [(nodes[int(e[0])], int(e[1])) for e in doc["heads"]]
    except (IndexError, TypeError, ValueError):
        raise MXNetError(f"bad heads {doc['heads']!r}") from None
    for node, i in heads:
        if not 0 <= i < node.num_outputs():
            raise MXNetError(f"head refers to output {i} of '{node.name}', which has {node.num_outputs()}")
    return Symbol(heads)


def _load_node(spec, i, nodes):
    if not isinstance(spec, dict) or not isinstance(spec.get("op"), str) or not isinstance(spec.get("name"), str):
        raise MXNetError(f"node {i} needs 'op' and 'name' strings")
    attrs = {}
    for key in ("param", "attr", "attrs"):  # MXNet < 0.9 used param (op) and attr (user); now attrs
        for k, v in (spec.get(key) or {}).items():
            attrs[f"__{k}__" if k in HIDDEN_KEYS else k] = str(v)
    inputs = []
    for entry in spec.get("inputs", []):
        try:
            src, index = int(entry[0]), int(entry[1])
        except (IndexError, TypeError, ValueError):
            raise MXNetError(f"node {i} ('{spec['name']}') has a bad input {entry!r}") from None
        if not 0 <= src < i:
            raise MXNetError(f"node {i} ('{spec['name']}') reads node {src}, which does not come before it")
        if not 0 <= index < nodes[src].num_outputs():
            raise MXNetError(f"node {i} ('{spec['name']}') reads output {index} of '{nodes[src].name}', "
                             f"which has {nodes[src].num_outputs()}")
        inputs.append((nodes[src], index))
    if spec["op"] == "null":
        return Node(None, spec["name"], attrs)
    op = registry_op(spec["op"])
    subgraphs = spec.get("subgraphs")
    if op.name == "_CachedOp" and subgraphs and "subgraph" not in attrs:
        # MXNet's partitioning keeps a subgraph node's graph in nnvm's subgraphs; mxcy's node holds it as the
        # `subgraph` attribute (its other form), which is how such a graph is saved again
        attrs["subgraph"], subgraphs = to_json(_symbol_of(subgraphs[0])), None
    try:
        node = Node(op, spec["name"], attrs, inputs)
    except MXNetError as err:
        raise MXNetError(f"node {i}: {err}") from None
    if subgraphs:  # control flow's bodies, kept with the parameters as nnvm keeps them
        node.params["subgraphs"] = [_symbol_of(g) for g in subgraphs]
    return node


def save(symbol, fname):
    atomic_write(fname, to_json(symbol).encode("utf-8"), "symbol file")


def debug_str(symbol):
    """A readable listing of the graph: one line per op with its inputs and attributes."""
    lines = []
    for node, i in symbol._outputs:
        lines.append(f"Symbol Outputs:\n\toutput[{i}]={node.name}")
    for node in symbol._topo():
        if node.op is None:
            lines.append(f"Variable:{node.name}")
            continue
        lines.append("-" * 40)
        lines.append(f"Op:{node.op.name}, Name={node.name}")
        lines.append("Inputs:")
        for k, (n, idx) in enumerate(node.inputs):
            lines.append(f"\targ[{k}]={n.name}({idx})" if n.op is not None else f"\targ[{k}]={n.name}(0) version=0")
        if node.attrs:
            lines.append("Attrs:")
            lines += [f"\t{k}={v}" for k, v in sorted(node.attrs.items())]
    return "\n".join(lines)
