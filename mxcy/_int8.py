"""MXNet 1.9.1's INT8 quantization operators, which mxcy does not compute yet: their mx.nd.contrib and
mx.sym.contrib names exist and raise an error saying so, so that code that only names them still loads."""
from .base import MXNetError

__all__ = ["QUANTIZATION_OPS", "not_yet", "not_yet_functions"]

QUANTIZATION_OPS = (
    "quantize", "quantize_asym", "quantize_v2", "requantize", "dequantize", "calibrate_entropy",
    "quantized_act", "quantized_batch_norm", "quantized_concat", "quantized_conv", "quantized_elemwise_add",
    "quantized_elemwise_mul", "quantized_embedding", "quantized_flatten", "quantized_fully_connected",
    "quantized_pooling", "quantized_rnn")


def not_yet(qualified_name):
    """A function that raises MXNetError: `qualified_name` (INT8 quantization) is not implemented yet."""
    def refuse(*args, **kwargs):
        raise MXNetError(f"{qualified_name}: INT8 quantization is not implemented in mxcy yet (MXNet 1.9.1 runs "
                         "it on oneDNN or cuDNN); run the float32 model")
    refuse.__name__ = refuse.__qualname__ = qualified_name.rsplit(".", 1)[-1]
    refuse.__doc__ = f"{qualified_name}: not implemented in mxcy yet; calling it raises MXNetError."
    return refuse


def not_yet_functions(namespace):
    """{name: refusing function} for every quantization operator of mx.<namespace>.contrib."""
    return {name: not_yet(f"mx.{namespace}.contrib.{name}") for name in QUANTIZATION_OPS}
