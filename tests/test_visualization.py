"""mx.viz against MXNet 1.9.1's own output for the same graphs (fixtures made by
tests/symbol/fixtures/make_fixtures.py): the summary table text and the graphviz source."""
import contextlib
import io
import os
import sys

import pytest

import mxcy as mx

FIXTURES = os.path.join(os.path.dirname(__file__), "symbol", "fixtures")
SHAPES = {"lenet_bn": (3, 1, 16, 16), "resnet18_v1": (1, 3, 32, 32)}


def _read(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("model", sorted(SHAPES))
def test_print_summary_matches_mxnet(model):
    sym = mx.sym.load(os.path.join(FIXTURES, f"{model}-symbol.json"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        mx.viz.print_summary(sym, shape={"data": SHAPES[model]})
    assert out.getvalue() == _read(f"{model}-summary.txt")


@pytest.mark.parametrize("model", sorted(SHAPES))
def test_plot_network_matches_mxnet(model):
    pytest.importorskip("graphviz")
    sym = mx.sym.load(os.path.join(FIXTURES, f"{model}-symbol.json"))
    dot = mx.viz.plot_network(sym, title=model, shape={"data": SHAPES[model]})
    # MXNet pins graphviz < 0.9, whose source lacks the final newline
    assert dot.source.rstrip("\n") == _read(f"{model}-plot.gv").rstrip("\n")


def test_bad_input():
    with pytest.raises(TypeError):
        mx.viz.print_summary("not a symbol")
    with pytest.raises(ValueError, match="incomplete"):
        mx.viz.print_summary(mx.sym.dot(mx.sym.var("a"), mx.sym.var("b")), shape={"a": (2, 3)})


def test_plot_network_without_graphviz_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="requires graphviz"):
        mx.viz.plot_network(mx.sym.var("a"))


def test_plot_network_warns_about_repeated_names_as_mxnet():
    pytest.importorskip("graphviz")
    net = mx.sym.FullyConnected(mx.sym.var("data"), name="fc", num_hidden=8)
    net = mx.sym.FullyConnected(mx.sym.Activation(net, act_type="relu"), name="fc", num_hidden=2)
    with pytest.warns(RuntimeWarning, match="multiple variables with the same name.*Repeated names: fc,fc_bias,fc_weight"):
        mx.viz.plot_network(net, shape={"data": (4, 3)})
