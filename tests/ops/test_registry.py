"""The registry itself: parameter parsing from Python values and MXNet's JSON strings, generated
functions, that every registered operator has a test spec in tests/ops or tests/ndarray, and that only invoke
reads autograd's state."""
import ast
import inspect
import pathlib

import numpy as np
import pytest

import mxcy as mx
from mxcy.ops import registry
from mxcy.ops.registry import Param
from tests.ops.opspec import collect_specs


@pytest.mark.parametrize("kind,text,value", [
    ("int", "3", 3), ("int", 4, 4), ("float", "2.5", 2.5), ("float", "-inf", float("-inf")),
    ("bool", "True", True), ("bool", "false", False), ("bool", "1", True), ("shape", "(3, 3)", (3, 3)),
    ("shape", "[2,1]", (2, 1)), ("shape", 5, (5,)), ("axis", "(0, 1)", (0, 1)), ("axis", "None", None),
    ("axis", "-1", -1), ("dtype", "float16", "float16"), ("dtype", np.int32, "int32"),
    ("str", "max", "max"),
])
def test_param_parsing(kind, text, value):
    assert Param("p", kind, None if kind == "axis" else 0).parse(text, "op") == value


def test_param_errors_name_op_and_argument():
    with pytest.raises(mx.MXNetError, match=r"Conv: invalid value 'x' for argument 'kernel'"):
        Param("kernel", "shape").parse("x", "Conv")
    with pytest.raises(mx.MXNetError, match="expected one of"):
        Param("mode", "str", "a", choices=("a", "b")).parse("c", "Op")
    with pytest.raises(mx.MXNetError, match="required argument 'scalar'"):
        registry.OpDef("T", params=(Param("scalar", "float"),), infer_shape=None,
                       compute={}).parse_attrs({})


def test_attr_strings_are_mxnet_json_spellings():
    op = registry.get("Reshape")
    assert op.attr_strings(op.parse_attrs({"shape": (2, -1)})) == {"shape": "(2, -1)"}
    assert op.attr_strings(op.parse_attrs({"shape": "(4,)", "reverse": "True"})) == \
        {"shape": "(4,)", "reverse": "True"}


def test_generated_function_signature_and_doc():
    sig = inspect.signature(mx.nd.Reshape)
    assert list(sig.parameters)[:3] == ["data", "shape", "reverse"]
    assert "shape" in mx.nd.Reshape.__doc__ and mx.nd.reshape is not None
    assert mx.nd._internal._plus_scalar(mx.nd.ones((1,)), scalar=2).asscalar() == 3


def test_duplicate_registration_is_refused():
    exp = registry.get("exp")
    with pytest.raises(mx.MXNetError, match="registered twice"):
        registry.register(exp)
    assert exp.module == "mxcy.ops.unary"  # the refused call changed nothing


NO_SPEC = {"Custom": "runs the user's Python operator; tested in tests/symbol/test_custom.py, "
                     "tests/test_symbol_checks.py and tests/test_autograd.py"}


def test_every_registered_op_has_a_spec():
    spec_list, exempt = collect_specs()
    specs = {s.name: s for s in spec_list}
    missing = [op.name for op in registry.all_ops() if op.name not in specs and op.name not in exempt]
    assert not missing, f"operators without an OpSpec in tests/ops: {missing}"
    untested_grad = [s.name for s in specs.values() if not s.grad and not s.why]
    assert not untested_grad, f"specs skipping the gradient without a reason: {untested_grad}"


def test_only_invoke_imports_autograd():
    """Computes and gradient rules get the training flag as attrs["__is_train__"] (invoke sets it for train-aware
    ops, the backward's flag for a backward op), never by reading autograd themselves."""
    importers = []
    for path in sorted(pathlib.Path(registry.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            if "autograd" in module or any("autograd" in n for n in names):
                importers.append(path.name)
    assert importers == ["invoke.py"], importers
