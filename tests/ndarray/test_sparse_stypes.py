"""The storage-type rules (ndarray/sparse_stypes.py) against the storage types MXNet 1.9.1 printed
(fixtures/sparse_stypes_reference.json, made by fixtures/make_sparse_stype_fixtures.py): the rule itself, the
imperative result (mx.nd) and the values, which must equal the dense computation."""
import json
import os

import numpy as np
import pytest

import mxcy as mx
from mxcy.ndarray.sparse_stypes import grad_storage_types, storage_types
from mxcy.ops import registry

with open(os.path.join(os.path.dirname(__file__), "fixtures", "sparse_stypes_reference.json")) as _f:
    REFERENCE = json.load(_f)
# MXNet raises for clip(sparse) with a range excluding 0; mxcy computes it densely (a dense result).
CASES = [c for c in REFERENCE["imperative"] if c["out"] != "error"]


def _array(stype):
    dense = np.array([[0, 1.5, 0], [0, 0, 0], [2.0, 0, -1.0]], np.float32)
    return mx.nd.array(dense).tostype(stype)


def _function(name):
    if name.startswith("_contrib_"):
        return getattr(mx.nd.contrib, name[len("_contrib_"):])
    return getattr(mx.nd._internal, name)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['op']}{c['attrs'] or ''}{c['in']}")
def test_result_storage_as_mxnet(case):
    op = registry.get(case["op"])
    assert storage_types(op, op.parse_attrs(case["attrs"]), case["in"]) == [case["out"]]
    inputs = [_array(s) for s in case["in"]]
    got = _function(case["op"])(*inputs, **case["attrs"])
    assert got.stype == case["out"]
    dense = _function(case["op"])(*[x.tostype("default") for x in inputs], **case["attrs"])
    if case["op"] == "_scatter_elemwise_div" and case["in"][0] == "row_sparse":  # stored rows only
        rows = inputs[0].indices.asnumpy()
        np.testing.assert_allclose(got.asnumpy()[rows], dense.asnumpy()[rows], rtol=1e-6)
        assert set(got.indices.asnumpy()) == set(rows)
    elif case["op"] in ("_scatter_plus_scalar", "_scatter_minus_scalar") and case["in"][0] != "default":
        stored = inputs[0].asnumpy() != 0  # the fixture's arrays store exactly their non-zeros (csr) / rows
        if case["in"][0] == "row_sparse":
            stored[:] = stored.any(axis=1, keepdims=True)
        np.testing.assert_allclose(got.asnumpy()[stored], dense.asnumpy()[stored], rtol=1e-6)
        assert not np.any(got.asnumpy()[~stored])
    else:
        np.testing.assert_allclose(got.asnumpy(), dense.asnumpy(), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("case", [c for c in REFERENCE["executor"] if "grad" in c], ids=lambda c: c["op"])
def test_gradient_storage_as_mxnet(case):
    op = registry.get(case["op"])
    assert grad_storage_types(op, op.parse_attrs(case["attrs"]), ["default", "default"])[1] == case["grad"]["weight"]


def test_batch_norm_refuses_fix_gamma_on_sparse_inputs_as_mxnet():
    """MXNet 1.9.1: "fix_gamma=True is not supported for sparse ndarrays"; with fix_gamma=False the storage
    fallback computes it."""
    data = mx.nd.array(np.random.default_rng(0).normal(size=(2, 3))).tostype("row_sparse")
    params = [mx.nd.ones(3).tostype("row_sparse"), mx.nd.ones(3), mx.nd.zeros(3), mx.nd.ones(3)]
    with pytest.raises(mx.MXNetError, match="fix_gamma=True is not supported for sparse"):
        mx.nd.BatchNorm(data, *params, fix_gamma=True)
    sym = mx.sym.BatchNorm(mx.sym.var("data", stype="row_sparse"), fix_gamma=True, name="bn")
    with pytest.raises(mx.MXNetError, match="fix_gamma=True is not supported for sparse"):
        sym.bind(mx.cpu(), {"data": data, "bn_gamma": params[0], "bn_beta": params[1]},
                 aux_states=params[2:])
    got = mx.nd.BatchNorm(data, *params, fix_gamma=False, use_global_stats=True)
    want = mx.nd.BatchNorm(data.tostype("default"), *[p.tostype("default") for p in params], fix_gamma=False,
                           use_global_stats=True)
    assert got.stype == "default"
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-6)
