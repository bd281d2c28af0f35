"""mx.contrib.svrg_optimization: SVRGModule, a Module trained by stochastic variance-reduced gradients, and the
optimizers it installs (MXNet 1.9.1's python/mxnet/contrib/svrg_optimization)."""
from . import svrg_module, svrg_optimizer  # noqa: F401
