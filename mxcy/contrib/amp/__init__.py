"""mx.contrib.amp: automatic mixed precision in float16 (MXNet 1.9.1's python/mxnet/contrib/amp)."""
from . import amp, lists, loss_scaler  # noqa: F401
from .amp import *  # noqa: F401,F403
