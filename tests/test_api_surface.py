"""MXNet 1.9.1's public API, module by module: every name of a module declared complete exists in
mxcy and takes every parameter MXNet's takes (classes: every public method too), unless
docs/api_absent.txt lists it with a reason.

To declare a module complete, append its MXNet name to COMPLETE_MODULES (one line). A name that a
module re-exports from elsewhere (obj.__module__ is another module) is checked for presence only;
its signature is checked in its home module. The reference is tests/fixtures/mxnet-1.9.1-api.json.gz
(see make_api_fixture.py); the comparison follows ../shared/mxnet_api/check_api.py.
"""
import gzip
import importlib
import inspect
import json
import os

import pytest

COMPLETE_MODULES = [
    "mxnet.base",
    "mxnet.kvstore",
    "mxnet.error",
    "mxnet.util",
    "mxnet.log",
    "mxnet.registry",
    "mxnet.test_utils",
    "mxnet.profiler",
    "mxnet.metric",
    "mxnet.gluon.model_zoo",
    "mxnet.gluon.model_zoo.vision",
    "mxnet.gluon.block",
    "mxnet.gluon.parameter",
    "mxnet.gluon.nn",
    "mxnet.gluon.contrib.nn",
    "mxnet.gluon.loss",
    "mxnet.gluon.utils",
    "mxnet.initializer",
    "mxnet.ndarray.linalg",
    "mxnet.symbol.linalg",
    "mxnet.recordio",
    "mxnet.gluon.data.vision.datasets",
    "mxnet.gluon.contrib.data",
    "mxnet.gluon.contrib.estimator",
    "mxnet.rnn",
    "mxnet.io",
    "mxnet.image",
    "mxnet.ndarray.image",
    "mxnet.symbol.image",
    "mxnet.gluon.data",
    "mxnet.gluon.data.vision",
    "mxnet.gluon.data.vision.transforms",
    "mxnet.module",
    "mxnet.callback",
    "mxnet.model",
    "mxnet.monitor",
    "mxnet.contrib.amp",
    "mxnet.optimizer",
    "mxnet.lr_scheduler",
    "mxnet.gluon.trainer",
    "mxnet.gluon.contrib.cnn",
    "mxnet.ndarray.sparse",
    "mxnet.symbol.sparse",
    "mxnet.contrib.text",
    "mxnet.attribute",
    "mxnet.autograd",
    "mxnet.context",
    "mxnet.contrib.autograd",
    "mxnet.contrib.tensorboard",
    "mxnet.engine",
    "mxnet.gluon",
    "mxnet.gluon.contrib",
    "mxnet.gluon.contrib.rnn",
    "mxnet.gluon.rnn",
    "mxnet.name",
    "mxnet.ndarray.random",
    "mxnet.ndarray.utils",
    "mxnet.runtime",
    "mxnet.symbol.op",
    "mxnet.symbol.random",
    "mxnet.visualization",
    "mxnet.operator",
    "mxnet.random",
    "mxnet.executor",
    "mxnet.ndarray.op",
    "mxnet.ndarray",
    "mxnet.symbol",
    "mxnet.ndarray.contrib",
    "mxnet.symbol.contrib",
    "mxnet.numpy_extension",
    "mxnet.numpy",
]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with gzip.open(os.path.join(ROOT, "tests", "fixtures", "mxnet-1.9.1-api.json.gz")) as _f:
    REFERENCE = json.load(_f)["modules"]


def _absent():
    """{'mxnet.module:name': reason} from docs/api_absent.txt."""
    listed = {}
    with open(os.path.join(ROOT, "docs", "api_absent.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                key, _, reason = line.partition(" ")
                listed[key] = reason.strip()
    return listed


def _missing_parameters(obj, ref_sig):
    """The reference parameters that obj's signature does not take (none when it has **kwargs)."""
    if ref_sig is None:
        return []
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    kinds = {p.kind for p in sig.parameters.values()}
    missing = []
    for name, kind, _ in ref_sig:
        if kind == "VAR_POSITIONAL":
            ok = inspect.Parameter.VAR_POSITIONAL in kinds
        elif kind == "VAR_KEYWORD":
            ok = inspect.Parameter.VAR_KEYWORD in kinds
        else:
            ok = name in sig.parameters or inspect.Parameter.VAR_KEYWORD in kinds
        if not ok:
            missing.append(name)
    return missing


def _problems(module_name):
    """'name: what is wrong' for each reference name of module_name that mxcy lacks or takes too little of."""
    mod = importlib.import_module("mxcy" + module_name[len("mxnet"):])
    absent = _absent()
    problems = []
    for name, entry in sorted(REFERENCE[module_name].items()):
        if f"{module_name}:{name}" in absent:
            continue
        if not hasattr(mod, name):
            problems.append(f"{name}: missing")
            continue
        obj = getattr(mod, name)
        if getattr(obj, "__module__", mod.__name__) != mod.__name__ and entry["kind"] in ("function", "class"):
            continue  # a re-export: checked where it is defined
        if entry["kind"] in ("function", "class"):
            lacking = _missing_parameters(obj, entry.get("sig"))
            if lacking:
                problems.append(f"{name}: does not take {lacking}")
        if entry["kind"] == "class" and inspect.isclass(obj):
            for member, msig in entry.get("members", {}).items():
                if not hasattr(obj, member):
                    problems.append(f"{name}.{member}: missing")
                elif msig != "property" and _missing_parameters(getattr(obj, member), msig):
                    problems.append(f"{name}.{member}: does not take {_missing_parameters(getattr(obj, member), msig)}")
    return problems


@pytest.mark.parametrize("module_name", COMPLETE_MODULES)
def test_module_is_complete(module_name):
    assert module_name in REFERENCE, f"{module_name} is not a module of MXNet 1.9.1's API"
    problems = _problems(module_name)
    assert not problems, f"{module_name}: " + "; ".join(problems) + " (add them, or list each in docs/api_absent.txt " \
                                                                    "with the reason)"


def test_absent_entries_name_real_names_and_give_reasons():
    for key, reason in _absent().items():
        module_name, _, name = key.partition(":")
        assert name in REFERENCE.get(module_name, {}), f"docs/api_absent.txt: {key} is not a name of MXNet 1.9.1"
        assert reason, f"docs/api_absent.txt: {key} has no reason"


def test_the_parameter_check_catches_a_missing_parameter():
    ref_sig = [["a", "POSITIONAL_OR_KEYWORD", None], ["b", "POSITIONAL_OR_KEYWORD", "1"]]
    assert _missing_parameters(lambda a: None, ref_sig) == ["b"]
    assert _missing_parameters(lambda a, **kw: None, ref_sig) == []
    assert _missing_parameters(lambda a, b: None, ref_sig + [["args", "VAR_POSITIONAL", None]]) == ["args"]
