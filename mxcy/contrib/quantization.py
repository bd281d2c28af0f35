"""mx.contrib.quantization: MXNet 1.9.1's INT8 model quantization. Not implemented in mxcy yet: each function
raises an MXNetError saying so (the names MXNet's module hands out besides are here too)."""
from .._int8 import not_yet
from ..context import Context, cpu  # noqa: F401 - MXNet's module hands these out
from ..io import DataBatch, DataDesc, DataIter  # noqa: F401
from ..module import Module  # noqa: F401
from ..ndarray import NDArray  # noqa: F401
from ..ndarray import load as nd_load, save as nd_save  # noqa: F401
from ..symbol import Symbol, load as sym_load  # noqa: F401

globals().update({name: not_yet(f"mx.contrib.quantization.{name}") for name in (
    "quantize_model", "quantize_model_mkldnn", "quantize_graph", "quantize_net", "quantize_net_v2", "calib_graph",
    "combine_histogram")})
