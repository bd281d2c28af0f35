"""Symbol construction, naming, attributes, composition and introspection, against MXNet 1.9.1's behaviour
(the expected names and layouts were read off a real MXNet 1.9.1)."""
import copy
import inspect
import json
import pickle

import numpy as np
import pytest

import mxcy as mx
from mxcy.base import NotImplementedForSymbol


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def test_auto_names_follow_the_function_called():
    d = mx.sym.var("data")
    assert (d + 1).name == "_plusscalar0"
    assert (d + d).name == "_plus0"
    assert (-d).name == "_mulscalar0"
    assert (2 - d).name == "_rminusscalar0"
    assert (d ** 2).name == "_powerscalar0"
    assert (d == d).name == "_equal0"
    assert (d > 1).name == "_greater_scalar0"
    assert (d / d).name == "_div0"
    assert mx.sym.relu(d).name == "relu0"
    assert mx.sym.relu(d).name == "relu1"
    assert mx.sym.relu(d, name="r").name == "r"


def test_prefix_applies_to_given_and_automatic_names():
    d = mx.sym.var("data")
    with mx.name.Prefix("p_"):
        a = mx.sym.tanh(d)
        b = mx.sym.tanh(d, name="t")
    assert (a.name, b.name) == ("p_tanh0", "p_t")


def test_missing_inputs_become_named_variables_carrying_the_op_attrs():
    x = mx.sym.dot(transpose_b=True, name="mm")
    assert x.list_arguments() == ["mm_lhs", "mm_rhs"]
    assert x.get_children().list_outputs() == ["mm_lhs", "mm_rhs"]
    assert x.get_children()[0].list_attr() == {"transpose_b": "True"}


def test_numpy_scalar_parameters_are_written_as_python_numbers():
    """NumPy 2's repr of np.int64 must not leak into the graph's attribute strings (MXNet's test_ravel)."""
    shape = tuple(np.array([4, 5], dtype=np.int64))
    sym = mx.sym.ravel_multi_index(mx.sym.var("a"), shape=shape)
    assert sym.list_attr()["shape"] == "(4, 5)"
    assert mx.sym.Reshape(mx.sym.var("a"), shape=[np.int32(2), np.int64(-1)]).list_attr()["shape"] == "[2, -1]"


def test_list_outputs_internals_and_indexing():
    d = mx.sym.var("data")
    parts = mx.sym.SliceChannel(d, num_outputs=3, name="sc")
    assert parts.list_outputs() == ["sc_output0", "sc_output1", "sc_output2"]
    assert len(parts) == 3 and parts.name is None
    assert parts[1].list_outputs() == ["sc_output1"]
    assert parts["sc_output2"].list_outputs() == ["sc_output2"]
    assert [s.list_outputs()[0] for s in parts] == parts.list_outputs()
    net = mx.sym.exp(parts[0] + parts[2], name="e")
    internals = net.get_internals()
    assert internals.list_outputs() == ["data", "sc_output0", "sc_output1", "sc_output2", "_plus0_output",
                                        "e_output"]
    assert internals["_plus0_output"].get_children().list_outputs() == ["sc_output0", "sc_output2"]
    assert d.get_children() is None
    with pytest.raises(mx.MXNetError, match="no output named"):
        parts["nope"]
    with pytest.raises(IndexError):
        parts[3]


def test_group_and_arguments_in_topological_order():
    a, b, c = mx.sym.var("a"), mx.sym.var("b"), mx.sym.var("c")
    g = mx.sym.Group([a * b, b + c, a])
    assert g.list_arguments() == ["a", "b", "c"]
    assert g.list_inputs() == ["a", "b", "c"]
    assert g.list_outputs() == ["_mul0_output", "_plus0_output", "a"]
    with pytest.raises(TypeError):
        mx.sym.Group([])


def test_variable_attributes_as_mxnet_stores_them():
    w = mx.sym.Variable("w", shape=(4, 3), lr_mult=2.0, wd_mult=0.5, dtype="float16",
                        init='["zero", {}]', stype="row_sparse", __extra__="x")
    assert w.list_attr() == {"__shape__": "(4, 3)", "__lr_mult__": "2.0", "lr_mult": "2.0",
                             "__wd_mult__": "0.5", "wd_mult": "0.5", "__dtype__": "2",
                             "__init__": '["zero", {}]', "__storage_type__": "1", "__extra__": "x"}
    assert w.attr("lr_mult") == "2.0" and w.attr("__shape__") == "(4, 3)" and w.attr("nope") is None
    with pytest.raises(ValueError, match="double underscores"):
        mx.sym.Variable("v", foo=1)


def test_attr_scope_and_attr_argument():
    d = mx.sym.var("data")
    with mx.AttrScope(ctx_group="dev1"):
        e = mx.sym.exp(d, attr={"lr_mult": "3"}, name="e")
        v = mx.sym.var("v")
    assert e.list_attr() == {"__ctx_group__": "dev1", "ctx_group": "dev1", "__lr_mult__": "3",
                             "lr_mult": "3"}
    assert v.attr("ctx_group") == "dev1"
    assert mx.sym.exp(d).list_attr() == {}
    assert set(e.attr_dict()) == {"e"}
    e._set_attr(mirror_stage="1")
    assert e.attr("__mirror_stage__") == "1"
    with pytest.raises(mx.MXNetError):
        mx.AttrScope(x=1)


def test_compose_by_name_and_position_copies_the_graph():
    net = mx.sym.dot(mx.sym.var("x"), mx.sym.var("w"), name="mm")
    d = mx.sym.var("data")
    by_name = net(x=d)
    assert by_name.list_arguments() == ["data", "w"] and net.list_arguments() == ["x", "w"]
    by_pos = net(mx.sym.var("p"), mx.sym.var("q"))
    assert by_pos.list_arguments() == ["p", "q"]
    with pytest.raises(mx.MXNetError, match="either positionally or by name"):
        net(d, w=d)
    with pytest.raises(mx.MXNetError, match="single-output"):
        net(x=mx.sym.SliceChannel(d, num_outputs=2))


def test_copy_deepcopy_and_pickle_keep_the_graph():
    net = mx.sym.exp(mx.sym.var("a") * 2, name="e")
    for other in (copy.copy(net), copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert other.tojson() == net.tojson()
        assert other is not net


def test_operator_errors_name_op_and_argument():
    d = mx.sym.var("data")
    with pytest.raises(mx.MXNetError, match="Reshape: unknown argument 'bogus'"):
        mx.sym.Reshape(d, shape=(2,), bogus=1)
    with pytest.raises(mx.MXNetError, match="dot: unknown input 'third'"):
        mx.sym.dot(d, d, third=d)
    with pytest.raises(mx.MXNetError, match="inputs given"):
        mx.sym.exp(d, d)
    with pytest.raises(TypeError):
        d + "x"
    with pytest.raises(NotImplementedForSymbol, match="bool"):
        bool(d)


def test_fluent_methods_and_creation_helpers():
    d = mx.sym.var("data")
    assert d.sum(axis=1).name == "sum0"
    assert d.reshape((2, -1)).list_arguments() == ["data"]
    z = mx.sym.zeros((2, 3))
    assert z.name == "_zeros0" and z.list_attr() == {"dtype": "float32", "shape": "(2, 3)"}
    assert mx.sym.maximum(d, 0.5).name == "_maximumscalar0"
    assert mx.sym.pow(2, d).name == "_rpowerscalar0"
    assert mx.sym.arange(0, 4).infer_shape()[1] == [(4,)]


@pytest.mark.parametrize("method", ["asnumpy", "asscalar", "as_in_context", "backward", "detach", "wait_to_read"])
def test_ndarray_only_methods_raise_not_implemented_for_symbol(method):
    with pytest.raises(mx.base.NotImplementedForSymbol, match=f"Function {method} is not implemented for Symbol"):
        getattr(mx.sym.var("x"), method)()


def test_symbol_split_v2_matches_numpy_split():
    x = np.arange(12.0).reshape(3, 4)
    for sym in (mx.sym.split_v2(mx.sym.var("x"), (1, 3), axis=1), mx.sym.var("x").split_v2((1, 3), axis=1)):
        outs = sym.eval(x=mx.nd.array(x))
        for out, ref in zip(outs, np.split(x, (1, 3), axis=1)):
            np.testing.assert_array_equal(out.asnumpy(), ref)
    halves = mx.sym.split_v2(mx.sym.var("x"), 2, axis=1, squeeze_axis=False).eval(x=mx.nd.array(x))
    assert [h.shape for h in halves] == [(3, 2), (3, 2)]


def test_backend_and_np_methods_say_what_is_missing():
    s = mx.sym.var("x")
    assert s.as_nd_ndarray() is s
    for call, match in ((lambda: s.as_np_ndarray(), "mx.np"), (lambda: s.optimize_for("TensorRT"), "TensorRT"),
                        (lambda: s.get_backend_symbol("MKLDNN"), "MKLDNN"), (lambda: s.gradient(["x"]), "Executor")):
        with pytest.raises(mx.MXNetError, match=match):
            call()


def test_tojson_and_save_drop_amp_casts_unless_asked(tmp_path):
    x = mx.sym.var("x")
    cast = mx.sym.amp_cast(x, dtype="float16")
    a, b = mx.sym.amp_multicast(cast, mx.sym.var("y"), num_outputs=2)
    out = mx.sym.broadcast_add(a, b, name="sum")
    plain = mx.sym.broadcast_add(x, mx.sym.var("y"), name="sum")
    assert out.tojson() == plain.tojson()
    kept = [n["op"] for n in json.loads(out.tojson(remove_amp_cast=False))["nodes"]]
    assert kept.count("amp_cast") == 1 and kept.count("amp_multicast") == 1
    out.save(str(tmp_path / "a.json"))
    assert (tmp_path / "a.json").read_text() == plain.tojson()
    out.save(str(tmp_path / "b.json"), remove_amp_cast=False)
    assert "amp_multicast" in (tmp_path / "b.json").read_text()


def test_group_create_fn_astype_keywords_and_custom_signature():
    made = []
    g = mx.sym.Group([mx.sym.var("a"), mx.sym.var("b")], create_fn=lambda outs: made.append(outs) or "made")
    assert g == "made" and len(made[0]) == 2
    cast = mx.sym.var("a").astype(dtype="float16")
    assert cast.infer_type(a="float32")[1] == [np.float16]
    params = inspect.signature(mx.sym.Custom).parameters
    assert next(iter(params.values())).kind is inspect.Parameter.VAR_POSITIONAL
    with pytest.raises(mx.MXNetError, match="C handles"):
        mx.sym.Symbol(handle=1)


def test_get_children_lists_each_node_once():
    # MXNet 1.9.1's test_symbol_children
    sliced = mx.sym.SliceChannel(mx.sym.var("data"), num_outputs=3, name="slice")
    assert mx.sym.Concat(*list(sliced)).get_children().list_outputs() == \
        ["slice_output0", "slice_output1", "slice_output2"]
    assert sliced.get_children().list_outputs() == ["data"]
    assert mx.sym.var("x").get_children() is None


def test_gen_atomic_symbol():
    rnn = mx.sym.RNN(mx.sym.var("data"), mx.sym.var("p"), mx.sym.var("h0"), mx.sym.var("h1"), state_size=10,
                     num_layers=2, bidirectional=True, state_outputs=True, mode="lstm", name="rnn")
    atomic = rnn._gen_atomic_symbol()
    assert atomic.list_arguments() == ["data", "parameters", "state", "state_cell"]
    assert atomic.list_outputs() == rnn.list_outputs() and atomic[0].attr("mode") == "lstm"
    with pytest.raises(mx.MXNetError, match="variable"):
        mx.sym.var("x")._gen_atomic_symbol()
    with pytest.raises(mx.MXNetError, match="2 nodes"):
        mx.sym.Group([mx.sym.var("x") + 1, mx.sym.var("y") + 1])._gen_atomic_symbol()
