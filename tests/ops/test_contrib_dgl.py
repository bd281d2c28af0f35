"""The contrib DGL graph operators (ops/contrib_dgl.py): against MXNet 1.9.1's results on small graphs
(fixtures/dgl_reference.json, made by fixtures/make_dgl_fixtures.py), NumPy references on random graphs, the
samplers' invariants, the symbol path, and errors. They take CSR inputs only, which the dense OpSpec harness cannot
feed, so NO_SPEC points here."""
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx

NAMES = ("_contrib_dgl_csr_neighbor_uniform_sample", "_contrib_dgl_csr_neighbor_non_uniform_sample",
         "_contrib_dgl_subgraph", "_contrib_edge_id", "_contrib_dgl_adjacency", "_contrib_dgl_graph_compact")
NO_SPEC = {name: "takes CSR graphs, which the dense OpSpec harness cannot feed: tests/ops/test_contrib_dgl.py "
                 "checks it against MXNet 1.9.1's values and NumPy references" for name in NAMES}

with open(os.path.join(os.path.dirname(__file__), "fixtures", "dgl_reference.json")) as _f:
    REF = json.load(_f)


def _csr(parts, n=5, dtype=np.int64):
    data, indices, indptr = parts
    return mx.nd.sparse.csr_matrix((np.array(data, dtype), np.array(indices, np.int64), np.array(indptr, np.int64)),
                                   shape=(n, n))


def _assert_parts(m, want):
    assert m.stype == "csr" and list(m.shape) == want["shape"]
    np.testing.assert_array_equal(m.indptr.asnumpy(), want["indptr"])
    np.testing.assert_array_equal(m.indices.asnumpy(), want["indices"])
    np.testing.assert_array_equal(m.data.asnumpy(), want["data"])


def _check_sample(out, case, n_sets):
    ids, sub, layers = out[0], out[1], out[n_sets - 1]
    count = int(ids[-1].asnumpy()[0])
    assert ids.shape == (case["max_num_vertices"] + 1,) and count == case["count"]
    np.testing.assert_array_equal(ids.asnumpy()[:count], case["ids"])
    np.testing.assert_array_equal(layers.asnumpy()[:count], case["layers"])
    _assert_parts(sub, case["sub"])


@pytest.mark.parametrize("case", REF["uniform"], ids=lambda c: f"seeds{c['seeds']}-hops{c['num_hops']}")
def test_uniform_sample_as_mxnet_where_every_neighbour_is_taken(case):
    out = mx.nd.contrib.dgl_csr_neighbor_uniform_sample(
        _csr(case["graph"]), mx.nd.array(case["seeds"], dtype=np.int64), num_args=2, num_hops=case["num_hops"],
        num_neighbor=4, max_num_vertices=case["max_num_vertices"])
    assert len(out) == 3 and [o.stype for o in out] == ["default", "csr", "default"]
    _check_sample(out, case, 3)


def test_non_uniform_sample_as_mxnet_where_every_neighbour_is_taken():
    case = REF["non_uniform"]
    prob = mx.nd.array([0.9, 0.8, 0.2, 0.4, 0.1])
    out = mx.nd.contrib.dgl_csr_neighbor_non_uniform_sample(
        _csr(case["graph"]), prob, mx.nd.array(case["seeds"], dtype=np.int64), num_args=3,
        num_hops=case["num_hops"], num_neighbor=4, max_num_vertices=case["max_num_vertices"])
    assert len(out) == 4 and out[2].dtype == np.float32
    _check_sample(out, case, 4)
    np.testing.assert_allclose(out[2].asnumpy()[:case["count"]], case["prob"])


def _random_graph(rng, n, density):
    dense = (rng.random((n, n)) < density).astype(np.int64)
    dense[dense > 0] = np.arange(1, int(dense.sum()) + 1)  # edge ids
    return dense


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["uniform", "non_uniform"]))
def test_sampling_invariants(seed, kind):
    """Sampled edges are edges of the graph, at most num_neighbor per vertex, from vertices within num_hops - 1
    hops; the ids are sorted and unique, seeds first at layer 0, and rows past the count are empty."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    dense = _random_graph(rng, n, float(rng.uniform(0.1, 0.8)))
    seeds = np.unique(rng.integers(0, n, int(rng.integers(1, n + 1))))
    hops, nb = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    cap = int(rng.integers(seeds.size, n + 3))
    graph, seed_nd = mx.nd.array(dense, dtype=np.int64).tostype("csr"), mx.nd.array(seeds, dtype=np.int64)
    attrs = dict(num_hops=hops, num_neighbor=nb, max_num_vertices=cap)
    if kind == "uniform":
        ids, sub, layers = mx.nd.contrib.dgl_csr_neighbor_uniform_sample(graph, seed_nd, **attrs)
    else:
        prob = rng.uniform(0.1, 1, n).astype(np.float32)
        ids, sub, sub_prob, layers = mx.nd.contrib.dgl_csr_neighbor_non_uniform_sample(
            graph, mx.nd.array(prob), seed_nd, **attrs)
    count = int(ids[-1].asnumpy()[0])
    vertices, hop = ids.asnumpy()[:count], layers.asnumpy()[:count]
    assert np.all(np.diff(vertices) > 0) and set(seeds) <= set(vertices) and count <= cap
    assert all(hop[list(vertices).index(s)] == 0 for s in seeds) and np.all(hop <= hops)
    if kind == "non_uniform":
        np.testing.assert_allclose(sub_prob.asnumpy()[:count], prob[vertices])
    sub.check_format(full_check=True)
    indptr, cols, edges = sub.indptr.asnumpy(), sub.indices.asnumpy(), sub.data.asnumpy()
    assert np.all(indptr[count:] == indptr[count])
    for i, v in enumerate(vertices):
        row_cols, row_edges = cols[indptr[i]:indptr[i + 1]], edges[indptr[i]:indptr[i + 1]]
        degree = int(np.count_nonzero(dense[v]))
        assert row_cols.size == (min(nb, degree) if hop[i] < hops and row_cols.size else row_cols.size) <= nb
        assert set(row_edges) <= set(dense[v][dense[v] > 0])  # (the non-uniform sampler sorts ids and edges apart)
        assert set(row_cols) <= set(np.flatnonzero(dense[v]))


def _subgraph_ref(dense, vertices):
    sub = dense[np.ix_(vertices, vertices)]
    new = np.zeros_like(sub)
    new[sub > 0] = np.arange(int(np.count_nonzero(sub)))
    return new, sub


@pytest.mark.parametrize("case", REF["subgraph"], ids=lambda c: str(c["vertices"]))
def test_subgraph_as_mxnet(case):
    graph = _csr(REF["edge_id"]["graph"])
    new, old = mx.nd.contrib.dgl_subgraph(graph, mx.nd.array(case["vertices"], dtype=np.int64), return_mapping=True)
    _assert_parts(new, case["new"])
    _assert_parts(old, case["old"])


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2 ** 32 - 1))
def test_subgraph_against_numpy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 9))
    dense = _random_graph(rng, n, 0.4)
    sets = [np.unique(rng.integers(0, n, int(rng.integers(1, n + 1)))) for _ in range(2)]
    graph = mx.nd.array(dense, dtype=np.int64).tostype("csr")
    outs = mx.nd.contrib.dgl_subgraph(graph, *[mx.nd.array(v, dtype=np.int64) for v in sets], return_mapping=True)
    assert len(outs) == 4
    for k, vertices in enumerate(sets):
        new, old = _subgraph_ref(dense, vertices)
        # new edge ids count in row order; a new id 0 is a stored zero, so compare the structure too
        np.testing.assert_array_equal(outs[k + 2].asnumpy(), old)
        np.testing.assert_array_equal(outs[k].asnumpy(), new)
        np.testing.assert_array_equal(outs[k].indices.asnumpy(), np.nonzero(old)[1])
    alone = mx.nd.contrib.dgl_subgraph(graph, mx.nd.array(sets[0], dtype=np.int64), return_mapping=False)
    np.testing.assert_array_equal(alone.asnumpy(), _subgraph_ref(dense, sets[0])[0])


def test_edge_id_as_mxnet_and_numpy():
    case = REF["edge_id"]
    graph = _csr(case["graph"], dtype=np.float32)
    got = mx.nd.contrib.edge_id(graph, mx.nd.array(case["u"]), mx.nd.array(case["v"]))
    assert got.dtype == np.float32 and got.stype == "default"
    np.testing.assert_array_equal(got.asnumpy(), case["out"])
    dense = graph.asnumpy()
    want = np.where(dense[case["u"], case["v"]] != 0, dense[case["u"], case["v"]], -1)
    np.testing.assert_array_equal(got.asnumpy(), want)


def test_adjacency_as_mxnet():
    case = REF["adjacency"]
    got = mx.nd.contrib.dgl_adjacency(_csr(REF["edge_id"]["graph"]))
    assert got.dtype == np.float32
    _assert_parts(got, case)


def test_compact_as_mxnet():
    case = REF["compact"]
    sub = case["sub"]
    graph = mx.nd.sparse.csr_matrix((np.array(sub["data"], np.int64), np.array(sub["indices"], np.int64),
                                     np.array(sub["indptr"], np.int64)), shape=tuple(sub["shape"]))
    ids = np.zeros(sub["shape"][0] + 1, np.int64)
    ids[:case["count"]] = case["ids"]
    ids[-1] = case["count"]
    got = mx.nd.contrib.dgl_graph_compact(graph, mx.nd.array(ids, dtype=np.int64),
                                          graph_sizes=np.array([case["count"]]), return_mapping=False)
    _assert_parts(got, case["out"])
    with_mapping = mx.nd.contrib.dgl_graph_compact(graph, mx.nd.array(ids, dtype=np.int64),
                                                   graph_sizes=(case["count"],), return_mapping=True)
    assert len(with_mapping) == 2 and with_mapping[1].shape == got.shape


def test_symbols_run_in_an_executor():
    g, u, v = mx.sym.var("g", stype="csr"), mx.sym.var("u"), mx.sym.var("v")
    out = mx.sym.Group([mx.sym.contrib.edge_id(g, u, v), mx.sym.contrib.dgl_adjacency(g)])
    graph = _csr(REF["edge_id"]["graph"])
    exe = out.bind(mx.cpu(), {"g": graph, "u": mx.nd.array([0, 1], dtype=np.int64),
                              "v": mx.nd.array([1, 1], dtype=np.int64)})
    assert [o.stype for o in exe.outputs] == ["default", "csr"]
    edge_ids, adjacency = exe.forward()
    np.testing.assert_array_equal(edge_ids.asnumpy(), [7, -1])
    np.testing.assert_array_equal(adjacency.asnumpy(), (graph.asnumpy() != 0).astype(np.float32))
    sampler = mx.sym.contrib.dgl_csr_neighbor_uniform_sample(g, mx.sym.var("s"), num_args=2, max_num_vertices=4)
    assert len(sampler.list_outputs()) == 3
    assert sampler.infer_shape(g=(5, 5), s=(2,))[1] == [(5,), (4, 5), (4,)]


@pytest.mark.parametrize("call, match", [
    (lambda: mx.nd.contrib.dgl_subgraph(_csr(REF["edge_id"]["graph"]), mx.nd.array([2, 1], dtype=np.int64),
                                        return_mapping=False), "sorted"),
    (lambda: mx.nd.contrib.dgl_subgraph(_csr(REF["edge_id"]["graph"]), mx.nd.array([7], dtype=np.int64),
                                        return_mapping=False), r"\[0, 5\)"),
    (lambda: mx.nd.contrib.dgl_adjacency(_csr(REF["edge_id"]["graph"], dtype=np.float32)), "int64"),
    (lambda: mx.nd.contrib.edge_id(_csr(REF["edge_id"]["graph"]), mx.nd.array([0, 1]), mx.nd.array([1])),
     "one length"),
    (lambda: mx.nd.contrib.dgl_csr_neighbor_uniform_sample(_csr(REF["edge_id"]["graph"]),
                                                           mx.nd.array([0, 1, 2], dtype=np.int64),
                                                           max_num_vertices=2), "max_num_vertices"),
    (lambda: mx.nd.contrib.dgl_csr_neighbor_uniform_sample(mx.nd.ones((3, 3)), mx.nd.array([0], dtype=np.int64))[0].
     asnumpy(), "CSRNDArray"),
])
def test_errors_name_the_operator_and_the_problem(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()
