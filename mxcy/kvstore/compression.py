"""2-bit gradient compression of MXNet 1.9.1's 'device' stores: each source's gradient plus its residual
is quantized to {-threshold, 0, +threshold}, and what was cut off stays in the residual for the next push.

On one machine only the dequantized values matter, so the 2-bit packing itself is not materialised; the
quantization is composed of registered element-wise ops (in the source's dtype, as MXNet's float kernel), so
it runs on the engine on any device.
"""
import numpy as np

from .. import ndarray as nd
from ..base import MXNetError

__all__ = ["GradientCompression"]


class GradientCompression:
    """Parameters as MXNet parses them ({'type': '2bit', 'threshold': 0.5}; other keys are ignored) and
    the per-(key, source) residuals."""

    def __init__(self, params):
        if not isinstance(params, dict):
            raise MXNetError(f"set_gradient_compression: compression_params must be a dict, got "
                             f"{type(params).__name__}")
        if "type" not in params:
            raise MXNetError("set_gradient_compression: required parameter 'type' is missing "
                             "(e.g. {'type': '2bit', 'threshold': 0.5})")
        kind = str(params["type"])
        try:
            threshold = float(params.get("threshold", 0.5))
        except (TypeError, ValueError):
            raise MXNetError(f"set_gradient_compression: threshold must be a number, got "
                             f"{params['threshold']!r}") from None
        if not threshold > 0:
            raise MXNetError(f"set_gradient_compression: threshold must be greater than 0, got {threshold}")
        if kind != "2bit":
            raise MXNetError(f"set_gradient_compression: unknown type for gradient compression {kind!r}; "
                             "the supported type is '2bit'")
        # MXNet keeps the threshold as a float32; comparisons and the residual use that value
        self.type, self.threshold = kind, float(np.float32(threshold))
        self._residuals = {}

    def quantized(self, key, index, grad):
        """The dequantized 2-bit value of `grad` pushed as source `index` of `key`; updates the residual."""
        if grad.stype != "default":
            raise MXNetError(f"kvstore push: key {key!r}: 2bit gradient compression takes dense gradients, "
                             f"got a {grad.stype} array of shape {grad.shape}")
        residual = self._residuals.get((key, index))
        if residual is None or residual.shape != grad.shape or residual.context != grad.context:
            residual = self._residuals[(key, index)] = nd.zeros(grad.shape, grad.context, dtype=grad.dtype)
        total = residual + grad
        t = self.threshold
        value = (total >= t) * t - (total <= -t) * t
        residual[:] = total - value
        return value
