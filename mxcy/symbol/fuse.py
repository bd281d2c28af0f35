"""The inference fusion pass: Convolution -> BatchNorm [-> elemwise_add with another value] [-> relu] chains become
one _fused_conv_bn node (ops/nn_conv.py), as MXNet's oneDNN subgraph backend makes _sg_mkldnn_conv of them. A CachedOp
runs the fused graph for calls outside training (BatchNorm then reads its moving statistics) on the CPU;
MXNET_SUBGRAPH_BACKEND=NONE turns it off, as it turns off MXNet's."""
import os

from ..ops import registry
from .graph import Node, topo_order


def enabled():
    return os.environ.get("MXNET_SUBGRAPH_BACKEND", "").upper() != "NONE"


def _readers(order, outputs):
    """(node id, output index) -> how many node inputs and graph outputs read that entry."""
    count = {}
    for node in order:
        for child, i in node.inputs:
            count[(id(child), i)] = count.get((id(child), i), 0) + 1
    for node, i in outputs:
        count[(id(node), i)] = count.get((id(node), i), 0) + 1
    return count


def _only_reader(readers, reader_of, node):
    """The node that alone reads `node`'s output 0 (nothing else reading any of its outputs), or None."""
    if readers.get((id(node), 0), 0) != 1 or any(readers.get((id(node), i), 0) for i in range(1, node.num_outputs())):
        return None
    return reader_of.get(id(node))


def _is(node, name):
    return node is not None and node.op is not None and node.op.name == name


def _chains(order, outputs):
    """{id(last node of a chain): (conv, bn, add or None, relu or None)} for every fusable chain."""
    readers = _readers(order, outputs)
    reader_of = {}
    for node in order:
        for child, i in node.inputs:
            if i == 0:
                reader_of[id(child)] = node
    chains, claimed = {}, set()
    for conv in order:
        if not _is(conv, "Convolution"):
            continue
        bn = _only_reader(readers, reader_of, conv)
        if not _is(bn, "BatchNorm") or bn.inputs[0][0] is not conv or bn.params["axis"] != 1 \
                or bn.params["fix_gamma"] or bn.params["output_mean_var"]:
            continue
        chain, tail = [conv, bn, None, None], bn
        nxt = _only_reader(readers, reader_of, tail)
        if _is(nxt, "elemwise_add") and id(nxt) not in claimed and [n for n, _ in nxt.inputs].count(bn) == 1:
            chain[2], tail = nxt, nxt  # the add of a residual block's two branches goes to the first branch
            nxt = _only_reader(readers, reader_of, tail)
            if _is(nxt, "Activation") and nxt.params["act_type"] == "relu":
                chain[3], tail = nxt, nxt
        elif _is(nxt, "Activation") and nxt.params["act_type"] == "relu":
            chain[3], tail = nxt, nxt
        claimed.update(id(n) for n in chain if n is not None)
        chains[id(tail)] = tuple(chain)
    return chains


def _fused_node(conv, bn, add, relu, new_of):
    attrs = {k: v for k, v in conv.attrs.items() if not k.startswith("__")}
    attrs.update(eps=repr(float(bn.params["eps"])), with_sum=str(add is not None), with_relu=str(relu is not None))
    inputs = [new_of[(id(n), i)] for n, i in conv.inputs] + [new_of[(id(n), i)] for n, i in bn.inputs[1:5]]
    if add is not None:
        inputs += [new_of[(id(n), i)] for n, i in add.inputs if n is not bn]
    tail = relu or add or bn
    return Node(registry.get("_fused_conv_bn"), tail.name, attrs, inputs)


def fuse_conv_bn(symbol):
    """A Symbol computing what `symbol` computes in inference mode, its fusable chains each one node (the others
    are shared with `symbol`'s graph when nothing below them changed)."""
    from .symbol import Symbol
    order = topo_order(symbol._outputs)
    chains = _chains(order, symbol._outputs)
    if not chains:
        return symbol
    inner = {id(n) for chain in chains.values() for n in chain if n is not None}
    new_of = {}
    for node in order:
        if id(node) in chains:
            fused = _fused_node(*chains[id(node)], new_of)
            new_of[(id(node), 0)] = (fused, 0)
        elif id(node) in inner:
            continue  # read only inside its chain
        elif node.op is None or all(new_of[(id(n), i)] == (n, i) for n, i in node.inputs):
            for i in range(node.num_outputs()):
                new_of[(id(node), i)] = (node, i)
        else:
            copy = Node(node.op, node.name, dict(node.attrs), [new_of[(id(n), i)] for n, i in node.inputs],
                        params=node.params)
            for i in range(node.num_outputs()):
                new_of[(id(node), i)] = (copy, i)
    return Symbol([new_of[(id(n), i)] for n, i in symbol._outputs])
