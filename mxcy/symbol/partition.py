"""MXNet's default subgraph backends (`default`, `default_v2`): the nodes whose op name is in a set are grouped into
maximal connected regions that create no cycle, each replaced by one `_CachedOp` node (ops/subgraph.py) running it.

The op names come from the caller (MXBuildSubgraphByOpNames) or from the names set for a backend: the test-API's
per-name table (MXSetSubgraphPropertyOpNames, read at bind under MXNET_SUBGRAPH_BACKEND) or the backend's own
property (MXSetSubgraphPropertyOpNamesV2, read by optimize_for and Gluon's hybridize(backend=...))."""
import os

from ..base import MXNetError
from ..graph_walk import post_order
from ..ops import registry
from .graph import Node, copy_graph, topo_order

__all__ = ["BACKENDS", "partition", "set_op_names", "remove_op_names", "property_op_names", "for_bind"]

BACKENDS = ("default", "default_v2")

_test_op_names = {}  # MXSetSubgraphPropertyOpNames: any name -> op names, read at bind
_property_op_names = {}  # MXSetSubgraphPropertyOpNamesV2: backend -> op names of its property


def check_backend(backend, caller):
    if backend not in BACKENDS:
        raise MXNetError(f"{caller}: subgraph backend {backend!r} is not registered; mxcy registers "
                         f"{', '.join(BACKENDS)}")


def set_op_names(backend, op_names, on_property):
    """Set the op names of `backend`: on its property (V2; the backend must exist) or in the test table (V1)."""
    if on_property:
        check_backend(backend, "MXSetSubgraphPropertyOpNamesV2")
        _property_op_names[backend] = frozenset(op_names)
    else:
        _test_op_names[backend] = frozenset(op_names)


def remove_op_names(backend, on_property):
    if on_property:
        check_backend(backend, "MXRemoveSubgraphPropertyOpNamesV2")
        _property_op_names.pop(backend, None)
    else:
        _test_op_names.pop(backend, None)


def property_op_names(backend, caller):
    """The op names set on `backend`'s property (what optimize_for partitions by)."""
    check_backend(backend, caller)
    if backend not in _property_op_names:
        raise MXNetError(f"{caller}: backend {backend!r} has no op names to select; set them with "
                         "MXSetSubgraphPropertyOpNamesV2 first")
    return _property_op_names[backend]


def for_bind(symbol):
    """What bind/simple_bind run of `symbol`: partitioned when MXNET_SUBGRAPH_BACKEND names a default backend
    whose op names are set in the test table (MXNet's executor), else `symbol` itself (other backend names are
    left to mxcy's own fusion, symbol/fuse.py)."""
    backend = os.environ.get("MXNET_SUBGRAPH_BACKEND", "")
    if backend in BACKENDS and backend in _test_op_names:
        return partition(symbol, _test_op_names[backend])
    return symbol


def _edge_order(outputs):
    """{edge: rank}, an edge being (id(consumer), input slot) or ('out', k) for the graph's k-th output: MXNet
    orders a subgraph's inputs and outputs by when its depth-first walk passes each edge (an edge to a node seen
    before is ranked on the spot, one that leads to a new node once that node is finished). post_order ranks
    nodes, not edges, hence this walk."""
    rank, seen = {}, set()
    for k, (node, _) in enumerate(outputs):
        if id(node) in seen:
            rank[("out", k)] = len(rank)
            continue
        seen.add(id(node))
        stack = [(node, 0, ("out", k))]
        while stack:
            current, slot, edge = stack[-1]
            if slot == len(current.inputs):
                rank[edge] = len(rank)
                stack.pop()
                continue
            stack[-1] = (current, slot + 1, edge)
            child = current.inputs[slot][0]
            if id(child) in seen:
                rank[(id(current), slot)] = len(rank)
            else:
                seen.add(id(child))
                stack.append((child, 0, (id(current), slot)))
    return rank


class _Graph:
    """The original graph's nodes by topological id, and each node's readers."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.order = topo_order(outputs)
        self.index = {id(n): k for k, n in enumerate(self.order)}
        self.readers = {id(n): [] for n in self.order}  # (consumer, slot)
        for node in self.order:
            for slot, (child, _) in enumerate(node.inputs):
                self.readers[id(child)].append((node, slot))

    def is_ancestor(self, ancestor, descendant, members):
        """Whether `descendant` reaches `ancestor` through its inputs without passing a member."""
        stack, seen = [descendant], set()
        while stack:
            node = stack.pop()
            if node is ancestor:
                return True
            if id(node) not in seen:
                seen.add(id(node))
                stack.extend(child for child, _ in node.inputs if id(child) not in members)
        return False


def _grow(graph, seed, label, labels, selected, excluded):
    """Label the selectable region around `seed` (breadth first over inputs and readers). Returns its members
    sorted by id, or the node to exclude when the region and some outside nodes form a cycle (labels reset)."""
    labels[id(seed)] = label
    queue, members = [seed], []
    feeds, reads = {}, {}  # outside node id -> members it feeds / members it reads
    outside = {}
    while queue:
        current = queue.pop(0)
        members.append(current)
        neighbours = [(child, feeds) for child, _ in current.inputs]
        neighbours += [(reader, reads) for reader, _ in dict.fromkeys(graph.readers[id(current)])]
        for node, side in neighbours:
            if id(node) in labels:
                continue
            if id(node) not in excluded and selected(node):
                labels[id(node)] = label
                queue.append(node)
            else:
                outside[id(node)] = node
                side.setdefault(id(node), []).append(current)
    member_ids = {id(m) for m in members}
    ranked = sorted(outside.values(), key=lambda n: graph.index[id(n)])
    latest = -1

    def last_of(side, node):
        return max(graph.index[id(m)] for m in side[id(node)])

    for i, node in enumerate(ranked):
        if id(node) in feeds and id(node) in reads:
            latest = max(latest, last_of(feeds, node), last_of(reads, node))
        elif id(node) in reads:
            for later in ranked[i + 1:]:
                if id(later) in feeds and graph.is_ancestor(node, later, member_ids):
                    latest = max(latest, last_of(reads, node), last_of(feeds, later))
    if latest == -1:
        return sorted(members, key=lambda n: graph.index[id(n)]), None
    for member in members:
        del labels[id(member)]
    return None, graph.order[latest]


def _regions(graph, op_names):
    """The regions, each a list of member nodes sorted by id, in MXNet's order (seeds in topological order)."""
    def selected(node):
        return node.op is not None and node.op.name in op_names

    labels, regions = {}, []
    for seed in graph.order:
        if id(seed) in labels or not selected(seed):
            continue
        excluded = set()
        while True:
            members, culprit = _grow(graph, seed, len(regions), labels, selected, excluded)
            if members is not None:
                break
            if id(culprit) in excluded:  # every retry finds a cycle: the seed alone, as MXNet does
                labels[id(seed)] = len(regions)
                members = [seed]
                break
            excluded.add(id(culprit))
        regions.append(members)
    return regions


class _Region:
    """One region while the outer graph is rebuilt: its members, and the edges into and out of it."""
    __slots__ = ("label", "members", "inputs", "outputs")

    def __init__(self, label, members, graph, label_of, rank):
        self.label = label
        self.members = members
        self.inputs = sorted(((m, slot) for m in members for slot, (child, _) in enumerate(m.inputs)
                              if label_of.get(id(child)) != label), key=lambda e: rank[(id(e[0]), e[1])])
        outs = [((id(reader), slot), reader.inputs[slot]) for m in members for reader, slot in graph.readers[id(m)]
                if label_of.get(id(reader)) != label]
        outs += [(("out", k), entry) for k, entry in enumerate(graph.outputs) if label_of.get(id(entry[0])) == label]
        self.outputs = sorted(outs, key=lambda e: rank[e[0]])


def _subgraph_node(region, source, dedup):
    """{edge: outer entry} for the edges leaving `region`, entries of its new `_CachedOp` node; `source(consumer,
    slot)` is the outer entry an input edge reads."""
    from .symbol import Symbol
    variables, named, counts, outer_of = {}, {}, {}, {}
    for member, slot in region.inputs:  # a variable per input edge, named <outer entry's name><count> as MXNet's
        outer = source(member, slot)
        name = outer[0].output_name(outer[1])
        counts[name] = counts.get(name, -1) + 1
        if dedup and name in named:
            variables[(id(member), slot)] = named[name]
            continue
        var = Node(None, f"{name}{counts[name]}", {})
        named.setdefault(name, var)
        variables[(id(member), slot)] = var
        outer_of[id(var)] = outer
    copies = {}
    for member in region.members:
        inputs = [(variables[(id(member), slot)], 0) if (id(member), slot) in variables else (copies[id(c)], i)
                  for slot, (c, i) in enumerate(member.inputs)]
        copies[id(member)] = Node(member.op, member.name, dict(member.attrs), inputs, params=member.params)
    heads, edge_head = [], {}
    for edge, (node, index) in region.outputs:
        entry = (copies[id(node)], index)
        if not (dedup and heads and heads[-1] == entry):
            heads.append(entry)
        edge_head[edge] = len(heads) - 1
    inner = Symbol(heads)
    inputs = [outer_of[id(v)] for v in topo_order(heads) if v.op is None]
    op = registry.get("_CachedOp")
    node = Node(op, f"_CachedOp{region.label}", {"subgraph": inner.tojson()}, inputs)
    return {edge: (node, k) for edge, k in edge_head.items()}


def partition(symbol, op_names, dedup=False):
    """A Symbol computing what `symbol` computes, each region of the ops named in `op_names` one `_CachedOp` node
    (MXNet's BuildSubgraph pass with the default property). `dedup`: a repeated input or output entry of a region
    is one subgraph input or output (optimize_for's dedup_subgraph)."""
    from .symbol import Symbol
    outputs = copy_graph(symbol._outputs)  # a graph of its own, as MXNet partitions a copy
    graph = _Graph(outputs)
    regions = _regions(graph, frozenset(op_names))
    if not regions:
        return Symbol(outputs)
    rank = _edge_order(outputs)
    label_of = {id(m): label for label, members in enumerate(regions) for m in members}
    built = [_Region(label, members, graph, label_of, rank) for label, members in enumerate(regions)]
    member_of = {m_id: built[label] for m_id, label in label_of.items()}

    def unit(node):
        return member_of.get(id(node), node)

    def children(u):
        edges = u.inputs if isinstance(u, _Region) else [(u, slot) for slot in range(len(u.inputs))]
        return [unit(m.inputs[slot][0]) for m, slot in edges]

    leaving, new_of = {}, {}  # edge -> outer entry for edges out of a region; (id(node), index) -> outer entry

    def source(consumer, slot):
        child, index = consumer.inputs[slot]
        if id(child) in member_of:
            return leaving[(id(consumer), slot)]
        return new_of[(id(child), index)]

    for u in post_order([unit(node) for node, _ in outputs], children):
        if isinstance(u, _Region):
            leaving.update(_subgraph_node(u, source, dedup))
            continue
        u.inputs = [source(u, slot) for slot in range(len(u.inputs))]  # the copy's own node, rewired
        for i in range(u.num_outputs()):
            new_of[(id(u), i)] = (u, i)
    return Symbol([leaving[("out", k)] if id(n) in member_of else new_of[(id(n), i)]
                   for k, (n, i) in enumerate(outputs)])
