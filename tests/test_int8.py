"""INT8 quantization is named but not computed yet: every name MXNet 1.9.1 has exists and raises an MXNetError
that says so, in mx.nd.contrib, mx.sym.contrib and mx.contrib.quantization."""
import pytest

import mxcy as mx
from mxcy._int8 import QUANTIZATION_OPS
from mxcy.contrib import quantization


@pytest.mark.parametrize("name", QUANTIZATION_OPS)
@pytest.mark.parametrize("namespace", [mx.nd.contrib, mx.sym.contrib], ids=["nd", "sym"])
def test_quantization_ops_say_they_are_not_implemented(namespace, name):
    with pytest.raises(mx.MXNetError, match=rf"contrib\.{name}: INT8 quantization is not implemented"):
        getattr(namespace, name)(mx.nd.ones(2), min_range=0.0)


@pytest.mark.parametrize("name", ["quantize_model", "quantize_model_mkldnn", "quantize_graph", "quantize_net",
                                  "quantize_net_v2", "calib_graph", "combine_histogram"])
def test_quantization_module_functions_say_they_are_not_implemented(name):
    with pytest.raises(mx.MXNetError, match=f"quantization.{name}: INT8"):
        getattr(quantization, name)(None)
    assert quantization.nd_load is mx.nd.load and quantization.Module is mx.mod.Module
