"""MXNet 1.9.1's graph operators for DGL on CSR adjacency matrices whose values are edge ids: neighbour sampling
(uniform and by vertex probability), induced subgraphs, edge ids, adjacency, compaction of sampled subgraphs.
Their results are CSR matrices by construction, so each is an NDArray-level compute (OpDef.compute_ex) run on the
host with NumPy, CPU only as in MXNet; the sampling draws from NumPy's Philox keyed by mxcy's random stream."""
import numpy as np

from ..base import MXNetError
from .registry import OpDef, Param, register

__all__ = []

_CSR, _DNS = "csr", "default"
_NUM_ARGS = Param("num_args", "int", doc="how many input arrays")


def _host(array, name, op, stype):
    if array.stype != stype:
        raise MXNetError(f"{op}: {name} must have storage type {stype}, got {array.stype} (shape {array.shape})")
    return array._host() if stype == _CSR else array.asnumpy()


def _csr(shape, values, indptr, indices, ctx):
    from ..ndarray.sparse import _make
    return _make("csr", shape, values, (indptr, indices), ctx)


def _dense(values, ctx, dtype):
    from ..ndarray import array
    return array(np.asarray(values).astype(dtype), ctx=ctx, dtype=dtype)


def _no_dense_compute(name):
    def compute(attrs, inputs, outputs, reqs):
        raise ValueError(f"{name} takes a CSRNDArray graph (MXNet 1.9.1 has no dense version)")
    return {"cpu": compute}


def _ints(x):
    return np.asarray(x).astype(np.int64)


# --- neighbour sampling -----------------------------------------------------------------------------------

def _sample_params():
    return (_NUM_ARGS, Param("num_hops", "int", 1, "how many hops from the seeds to sample"),
            Param("num_neighbor", "int", 2, "how many neighbours to sample per vertex"),
            Param("max_num_vertices", "int", 100, "the most vertices a sampled subgraph has"))


def _pick(cols, edges, limit, weights, rng):
    """(columns, edge ids) of at most `limit` neighbours: all of them when there are few enough, else drawn
    without replacement, uniformly (kept in row order) or by `weights` (columns and edge ids each sorted, as
    MXNet's non-uniform sampler does)."""
    if cols.size <= limit:
        return cols, edges
    if weights is None:
        chosen = np.sort(rng.choice(cols.size, limit, replace=False))
        return cols[chosen], edges[chosen]
    w = weights[cols].astype(np.float64)
    chosen = rng.choice(cols.size, limit, replace=False, p=w / w.sum())
    return np.sort(cols[chosen]), np.sort(edges[chosen])


def _sample(graph, seeds, attrs, weights, rng):
    """MXNet's breadth-first sampling from `seeds`: (vertex ids sorted, their layers, the sampled edges
    {vertex: (columns, edge ids)})."""
    (values, (indptr, indices)), cap = graph, attrs["max_num_vertices"]
    if seeds.size > cap:
        raise MXNetError(f"dgl_csr_neighbor_sample: {seeds.size} seeds exceed max_num_vertices={cap}")
    layer, queue = {}, []
    for s in seeds.tolist():
        if s not in layer:
            layer[s] = 0
            queue.append(s)
    sampled, head = {}, 0
    while head < len(queue) and len(layer) < cap:
        vertex = queue[head]
        head += 1
        if layer[vertex] >= attrs["num_hops"]:
            continue
        row = slice(indptr[vertex], indptr[vertex + 1])
        cols, edges = _pick(indices[row], values[row], attrs["num_neighbor"], weights, rng)
        sampled[vertex] = (cols, edges)
        for c in cols.tolist():
            if len(layer) >= cap:
                break
            if c not in layer:
                layer[c] = layer[vertex] + 1
                queue.append(c)
    ids = np.array(sorted(layer), np.int64)
    return ids, np.array([layer[v] for v in ids.tolist()], np.int64), sampled


def _sample_outputs(graph_nd, seeds_nd, attrs, weights, rng):
    """(vertex ids, [ids padded to max_num_vertices + 1 with the count last, sampled csr of max_num_vertices rows,
    layers padded to max_num_vertices]) of one seed array; MXNet leaves the padding unwritten, here it is 0."""
    cap = attrs["max_num_vertices"]
    ids, layers, sampled = _sample(graph_nd._host(), _ints(seeds_nd.asnumpy()), attrs, weights, rng)
    empty = (np.zeros(0, np.int64), np.zeros(0, graph_nd.dtype))
    rows = [sampled.get(v, empty) for v in ids.tolist()]
    counts = np.array([len(r[0]) for r in rows] + [0] * (cap - ids.size), np.int64)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    cols = np.concatenate([r[0] for r in rows] or [np.zeros(0, np.int64)])
    edges = np.concatenate([r[1] for r in rows] or [np.zeros(0, graph_nd.dtype)])
    ctx, id_type = graph_nd.context, seeds_nd.dtype
    out_ids = np.zeros(cap + 1, np.int64)
    out_ids[:ids.size] = ids
    out_ids[cap] = ids.size
    out_layers = np.zeros(cap, np.int64)
    out_layers[:ids.size] = layers
    return ids, [_dense(out_ids, ctx, id_type),
                 _csr((cap, graph_nd.shape[1]), edges.astype(graph_nd.dtype), indptr, cols, ctx),
                 _dense(out_layers, ctx, id_type)]


def _rng(ctx):
    from .. import random
    seed, call = random.next_key(ctx)
    return np.random.Generator(np.random.Philox(key=[seed % (1 << 64), call % (1 << 64)]))


def _uniform_compute(attrs, inputs):
    graph, seeds = inputs[0], inputs[1:]
    _host(graph, "csr_matrix", "dgl_csr_neighbor_uniform_sample", _CSR)
    rng = _rng(graph.context)
    sets = [_sample_outputs(graph, s, attrs, None, rng)[1] for s in seeds]
    return [out[k] for k in range(3) for out in sets]


def _non_uniform_compute(attrs, inputs):
    graph, probability, seeds = inputs[0], inputs[1], inputs[2:]
    _host(graph, "csr_matrix", "dgl_csr_neighbor_non_uniform_sample", _CSR)
    weights = _host(probability, "probability", "dgl_csr_neighbor_non_uniform_sample", _DNS)
    rng, cap = _rng(graph.context), attrs["max_num_vertices"]
    sets = []
    for s in seeds:
        ids, (out_ids, sub, layers) = _sample_outputs(graph, s, attrs, weights, rng)
        prob = np.zeros(cap, probability.dtype)
        prob[:ids.size] = weights[ids]
        sets.append([out_ids, sub, _dense(prob, graph.context, probability.dtype), layers])
    return [out[k] for k in range(4) for out in sets]


def _sample_shape(n_fixed, n_sets):
    def rule(attrs, shapes):
        graph, cap = shapes[0], attrs["max_num_vertices"]
        if len(graph) != 2 or graph[0] != graph[1]:
            raise ValueError(f"csr_matrix must be a square matrix, got shape {tuple(graph)}")
        if any(len(s) != 1 for s in shapes[1:]):
            raise ValueError(f"probability and seed arrays must be 1-D, got {[tuple(s) for s in shapes[1:]]}")
        k = len(shapes) - n_fixed
        sets = [(cap + 1,), (cap, graph[1])] + [(cap,)] * (n_sets - 2)
        return shapes, [s for s in sets for _ in range(k)]
    return rule


def _sample_type(n_fixed, n_sets):
    def rule(attrs, types):
        k = len(types) - n_fixed
        per_set = [types[n_fixed], types[0]] + ([types[1]] if n_sets == 4 else []) + [types[n_fixed]]
        return types, [t for t in per_set for _ in range(k)]
    return rule


def _sample_stypes(n_sets):
    def rule(attrs, stypes):
        k = attrs["num_args"] - (4 - n_sets + 1)
        return [st for st in [_DNS, _CSR] + [_DNS] * (n_sets - 2) for _ in range(k)]
    return rule


for _name, _fixed, _sets, _compute, _what in (
        ("_contrib_dgl_csr_neighbor_uniform_sample", ("csr_matrix",), 3, _uniform_compute, "uniformly"),
        ("_contrib_dgl_csr_neighbor_non_uniform_sample", ("csr_matrix", "probability"), 4, _non_uniform_compute,
         "with probability proportional to `probability` of the neighbour")):
    register(OpDef(
        _name, params=_sample_params(), key_var_num_args="num_args",
        arguments=lambda attrs, fixed=_fixed: list(fixed) + [f"seed_arrays{i}" for i in
                                                             range(attrs["num_args"] - len(fixed))],
        num_outputs=lambda attrs, fixed=_fixed, sets=_sets: (attrs["num_args"] - len(fixed)) * sets,
        infer_shape=_sample_shape(len(_fixed), _sets), infer_type=_sample_type(len(_fixed), _sets),
        infer_storage=_sample_stypes(_sets), compute=_no_dense_compute(_name), compute_ex=_compute, random=True,
        doc=f"Samples subgraphs of a CSR graph (values: edge ids) breadth-first from each seed array, num_neighbor "
            f"neighbours per vertex drawn {_what}, up to num_hops hops and max_num_vertices vertices. Outputs, one "
            "per seed array in each set: the sampled vertex ids in ascending order (the last entry holds how many), "
            "the sampled edges as a CSR matrix (row i: vertex i of the ids, columns: original vertex ids, values: "
            "edge ids)" + (", the vertices' probabilities" if _sets == 4 else "") + ", the hop of each vertex."))


# --- induced subgraphs, edge ids, adjacency, compaction -----------------------------------------------------

def _subgraph(graph, vertices):
    """(indptr, new column ids, original edge ids) of the subgraph of `graph` (host parts) induced by the sorted
    vertex ids."""
    values, (indptr, indices) = graph
    n = indptr.size - 1
    if vertices.size and (np.any(np.diff(vertices) < 0)):
        raise MXNetError("dgl_subgraph: the vertex list has to be sorted")
    if vertices.size and (vertices.min() < 0 or vertices.max() >= n):
        raise MXNetError(f"dgl_subgraph: vertex ids must lie in [0, {n}), got {vertices.tolist()}")
    position = {v: i for i, v in enumerate(vertices.tolist())}
    counts, cols, edges = [0], [], []
    for v in vertices.tolist():
        row = slice(indptr[v], indptr[v + 1])
        keep = [(position[c], e) for c, e in zip(indices[row].tolist(), values[row].tolist()) if c in position]
        cols += [c for c, _ in keep]
        edges += [e for _, e in keep]
        counts.append(len(keep))
    return np.cumsum(counts), np.array(cols, np.int64), np.array(edges)


def _subgraph_compute(attrs, inputs):
    graph = inputs[0]
    parts = _host(graph, "graph", "dgl_subgraph", _CSR)
    new, old = [], []
    for varray in inputs[1:]:
        vertices = _ints(_host(varray, "varray", "dgl_subgraph", _DNS))
        indptr, cols, edges = _subgraph(parts, vertices)
        shape = (vertices.size, vertices.size)
        new.append(_csr(shape, np.arange(cols.size).astype(graph.dtype), indptr, cols, graph.context))
        old.append(_csr(shape, edges.astype(graph.dtype), indptr, cols, graph.context))
    return new + (old if attrs["return_mapping"] else [])


def _subgraph_shape(attrs, shapes):
    if len(shapes[0]) != 2 or any(len(s) != 1 for s in shapes[1:]):
        raise ValueError(f"graph must be 2-D and the vertex arrays 1-D, got {[tuple(s) for s in shapes]}")
    outs = [(s[0], s[0]) for s in shapes[1:]]
    return shapes, outs * (2 if attrs["return_mapping"] else 1)


def _int64_ids(types, first):
    if any(t is not None and np.dtype(t) != np.int64 for t in types[first:]):
        raise ValueError(f"the vertex id arrays must be int64, got {[np.dtype(t).name for t in types[first:]]}")


def _subgraph_type(attrs, types):
    _int64_ids(types, 1)
    return types, [types[0]] * ((len(types) - 1) * (2 if attrs["return_mapping"] else 1))


_RETURN_MAPPING = Param("return_mapping", "bool", doc="also return the subgraphs with the original edge ids")
register(OpDef(
    "_contrib_dgl_subgraph", params=(_NUM_ARGS, _RETURN_MAPPING), key_var_num_args="num_args",
    arguments=lambda attrs: ["graph"] + [f"varray{i}" for i in range(attrs["num_args"] - 1)],
    num_outputs=lambda attrs: (attrs["num_args"] - 1) * (2 if attrs["return_mapping"] else 1),
    infer_shape=_subgraph_shape, infer_type=_subgraph_type,
    infer_storage=lambda attrs, stypes: [_CSR] * ((len(stypes) - 1) * (2 if attrs["return_mapping"] else 1)),
    compute=_no_dense_compute("dgl_subgraph"), compute_ex=_subgraph_compute,
    doc="The subgraph of a CSR graph induced by each sorted vertex array: a CSR matrix over the array's positions "
        "whose values are new edge ids 0, 1, ...; with return_mapping, then the same matrices holding the original "
        "edge ids."))


def _edge_id_compute(attrs, inputs):
    data, u, v = inputs
    values, (indptr, indices) = _host(data, "data", "edge_id", _CSR)
    rows, cols = _ints(u.asnumpy()), _ints(v.asnumpy())
    if rows.size and (rows.min() < 0 or rows.max() >= data.shape[0] or cols.min() < 0 or cols.max() >= data.shape[1]):
        raise MXNetError(f"edge_id: u and v must index the matrix of shape {data.shape}")
    out = np.full(rows.shape, -1, values.dtype)
    for k, (r, c) in enumerate(zip(rows.tolist(), cols.tolist())):
        row = indices[indptr[r]:indptr[r + 1]]
        hit = np.flatnonzero(row == c)
        if hit.size:
            out[k] = values[indptr[r] + hit[0]]
    return [_dense(out, data.context, data.dtype)]


def _edge_id_shape(attrs, shapes):
    _, u, v = shapes
    if len(u) != 1 or tuple(u) != tuple(v):
        raise ValueError(f"u and v must be 1-D of one length, got {tuple(u)} and {tuple(v)}")
    return shapes, [tuple(u)]


register(OpDef(
    "_contrib_edge_id", arguments=("data", "u", "v"), infer_shape=_edge_id_shape,
    infer_type=lambda attrs, types: (types, types[0]), infer_storage=lambda attrs, stypes: [_DNS],
    compute=_no_dense_compute("edge_id"), compute_ex=_edge_id_compute,
    doc="output[i] = data[u[i], v[i]] where the CSR matrix stores that entry (the edge id), else -1."))


def _adjacency_compute(attrs, inputs):
    values, (indptr, indices) = _host(inputs[0], "data", "dgl_adjacency", _CSR)
    return [_csr(inputs[0].shape, np.ones(values.size, np.float32), indptr, indices, inputs[0].context)]


def _adjacency_type(attrs, types):
    _int64_ids(types, 0)
    return types, np.dtype(np.float32)


register(OpDef(
    "_contrib_dgl_adjacency", infer_shape=lambda attrs, shapes: (shapes, [tuple(shapes[0])]),
    infer_type=_adjacency_type, infer_storage=lambda attrs, stypes: [_CSR],
    compute=_no_dense_compute("dgl_adjacency"), compute_ex=_adjacency_compute,
    doc="The adjacency matrix of a CSR graph of edge ids: the same structure, every value 1 (float32)."))


def _compact_compute(attrs, inputs):
    n = len(inputs) // 2
    sizes = attrs["graph_sizes"]
    outs = []
    for graph, ids_nd, size in zip(inputs[:n], inputs[n:], sizes):
        _, (indptr, indices) = _host(graph, "graph", "dgl_graph_compact", _CSR)
        ids = _ints(_host(ids_nd, "vertex ids", "dgl_graph_compact", _DNS))
        if ids.size != indptr.size or ids[-1] != size:
            raise MXNetError(f"dgl_graph_compact: the vertex ids ({ids.size}, last {ids[-1]}) must have one more "
                             f"entry than the graph has rows ({indptr.size - 1}) and end with graph_sizes' {size}")
        new_id = {v: i for i, v in enumerate(ids[:size].tolist())}
        missing = [c for c in indices.tolist() if c not in new_id]
        if missing:
            raise MXNetError(f"dgl_graph_compact: columns {missing} are not among the graph's vertex ids")
        cols = np.array([new_id[c] for c in indices.tolist()], np.int64)
        outs.append(_csr((size, size), np.arange(cols.size), indptr[:size + 1], cols, graph.context))
    # MXNet declares the mapping outputs but writes nothing into them: empty matrices of the same shapes
    mapping = [_csr((s, s), np.zeros(0, np.int64), np.zeros(s + 1, np.int64), np.zeros(0, np.int64),
                    inputs[0].context) for s in sizes[:n]] if attrs["return_mapping"] else []
    return outs + mapping


def _compact_shape(attrs, shapes):
    n, sizes = len(shapes) // 2, attrs["graph_sizes"]
    if len(sizes) != n:
        raise ValueError(f"graph_sizes must give one size per graph ({n}), got {sizes}")
    for graph, ids, size in zip(shapes[:n], shapes[n:], sizes):
        if len(graph) != 2 or len(ids) != 1 or min(graph[0], graph[1], ids[0]) < size:
            raise ValueError(f"each graph must be 2-D and its vertex ids 1-D, both at least graph_sizes' {size}, "
                             f"got {tuple(graph)} and {tuple(ids)}")
    outs = [(s, s) for s in sizes]
    return shapes, outs * (2 if attrs["return_mapping"] else 1)


def _compact_type(attrs, types):
    _int64_ids(types, 0)
    return types, [np.dtype(np.int64)] * (len(types) // 2 * (2 if attrs["return_mapping"] else 1))


register(OpDef(
    "_contrib_dgl_graph_compact", key_var_num_args="num_args",
    params=(_NUM_ARGS, _RETURN_MAPPING, Param("graph_sizes", "shape", doc="how many vertices each graph has")),
    arguments=lambda attrs: [f"graph{i}" for i in range(attrs["num_args"] // 2)] +
    [f"varray{i}" for i in range(attrs["num_args"] // 2)],
    num_outputs=lambda attrs: attrs["num_args"] // 2 * (2 if attrs["return_mapping"] else 1),
    infer_shape=_compact_shape, infer_type=_compact_type,
    infer_storage=lambda attrs, stypes: [_CSR] * (len(stypes) // 2 * (2 if attrs["return_mapping"] else 1)),
    compute=_no_dense_compute("dgl_graph_compact"), compute_ex=_compact_compute,
    doc="Compacts the CSR matrices the neighbour samplers give: keeps the first graph_sizes[i] rows and renumbers "
        "the columns by their position in the vertex ids; values become new edge ids 0, 1, ..."))
