"""MXNet symbol JSON: files written by MXNet 1.9.1 (fixtures/, made by fixtures/make_fixtures.py) load,
list and infer as in MXNet and are written back byte for byte; symbols built here serialize exactly as
MXNet serializes the same construction; older layouts load; bad files fail clearly."""
import json
import os

import pytest

import mxcy as mx
from tests.symbol.fixtures import make_fixtures

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
MODELS = ("mlp", "lenet_bn", "misc", "resnet18_v1")
with open(os.path.join(FIXTURES, "meta.json")) as _f:
    META = json.load(_f)


def _path(model):
    return os.path.join(FIXTURES, f"{model}-symbol.json")


def _text(model):
    with open(_path(model), encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("model", MODELS)
def test_mxnet_file_round_trips_byte_for_byte(model):
    assert mx.sym.load(_path(model)).tojson() == _text(model)


@pytest.mark.parametrize("model", MODELS)
def test_mxnet_file_lists_and_infers_as_mxnet(model):
    sym, meta = mx.sym.load(_path(model)), META[model]
    assert sym.list_arguments() == meta["arguments"]
    assert sym.list_outputs() == meta["outputs"]
    assert sym.list_auxiliary_states() == meta["aux"]
    assert sym.get_internals().list_outputs() == meta["internals"]
    arg, out, aux = sym.infer_shape(**{k: tuple(v) for k, v in meta["shapes"].items()})
    assert [list(s) for s in arg] == meta["arg_shapes"]
    assert [list(s) for s in out] == meta["out_shapes"]
    assert [list(s) for s in aux] == meta["aux_shapes"]


@pytest.mark.parametrize("model", ("mlp", "lenet_bn", "misc"))
def test_symbol_built_here_serializes_as_mxnet_does(model):
    with mx.name.NameManager():
        sym = getattr(make_fixtures, model)(mx)
    assert sym.tojson() == _text(model)


def test_save_then_load(tmp_path):
    sym = mx.sym.load(_path("lenet_bn"))
    target = tmp_path / "net-symbol.json"
    sym.save(str(target))
    assert target.read_text() == _text("lenet_bn")
    assert mx.sym.load(str(target)).list_arguments() == sym.list_arguments()


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "net-symbol.json"
    target.write_text("previous")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(mx.MXNetError, match="disk full"):
        mx.sym.var("x").save(str(target))
    assert target.read_text() == "previous"
    assert os.listdir(tmp_path) == ["net-symbol.json"]


LEGACY = {
    "nodes": [
        {"op": "null", "param": {}, "name": "data", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "w", "inputs": [], "backward_source_id": -1,
         "attr": {"ctx_group": "stage1", "lr_mult": "0.2"}},
        {"op": "FullyConnected", "param": {"no_bias": "True", "num_hidden": "3"}, "name": "fc",
         "inputs": [[0, 0], [1, 0]], "backward_source_id": -1},
    ],
    "arg_nodes": [0, 1],
    "heads": [[2, 0]],
}


def test_legacy_param_attr_layout_loads():
    sym = mx.sym.load_json(json.dumps(LEGACY))
    assert sym.list_arguments() == ["data", "w"]
    assert sym.get_children()[1].list_attr() == {"__ctx_group__": "stage1", "ctx_group": "stage1",
                                                 "__lr_mult__": "0.2", "lr_mult": "0.2"}
    assert sym.infer_shape(data=(2, 5))[0] == [(2, 5), (3, 5)]


@pytest.mark.parametrize("text,match", [
    ("{not json", "not valid JSON"),
    ('{"nodes": []}', "expected an object"),
    ('{"nodes": [{"op": "NoSuchOp", "name": "x", "inputs": []}], "heads": [[0, 0, 0]]}',
     "operator 'NoSuchOp' is not supported"),
    ('{"nodes": [{"op": "exp", "name": "e", "inputs": [[0, 0, 0]]}], "heads": [[0, 0, 0]]}',
     "does not come before it"),
    ('{"nodes": [{"op": "null", "name": "x", "inputs": []}], "heads": [[0, 3, 0]]}', "output 3"),
    ('{"nodes": [{"op": "null", "name": "x", "inputs": []}, {"op": "exp", "name": "e", "attrs": '
     '{"bogus": "1"}, "inputs": [[0, 0, 0]]}], "heads": [[1, 0, 0]]}', "unknown argument 'bogus'"),
])
def test_bad_files_raise_clear_errors(text, match):
    with pytest.raises(mx.MXNetError, match=match):
        mx.sym.load_json(text)


def test_np_shape_graphs_say_so_and_legacy_files_read_under_np_shape_learn_minus_one():
    # MXNet 1.9.1 writes "is_np_shape": ["int", 1] among the graph attrs while np_shape is on, and reading a
    # document without it under np_shape turns a variable's unknown 0 dimensions into -1
    net = mx.sym.FullyConnected(mx.sym.var("data"), mx.sym.var("weight", shape=(4, 0)), num_hidden=4, name="fc")
    legacy = json.loads(net.tojson())
    with mx.util.np_shape():
        assert json.loads(net.tojson())["attrs"] == {"is_np_shape": ["int", 1], "mxnet_version": ["int", 10901]}
        loaded = mx.sym.load_json(json.dumps(legacy))
        args, outs, _ = loaded.infer_shape(data=(2, 3))
        assert args == [(2, 3), (4, 3), (4,)] and outs == [(2, 4)]
        assert mx.sym.load_json(net.tojson()).infer_shape_partial()[0][1] == (4, 0)
    assert "is_np_shape" not in legacy["attrs"]
