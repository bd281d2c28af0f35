"""mx.optimizer: MXNet 1.9.1's optimizers, Updater and get_updater; mx.optimizer.contrib's GroupAdaGrad."""
from ..ndarray import abs as NDabs  # noqa: F401  (MXNet's optimizer module exposes nd.abs under this name)
from .optimizer import Optimizer, register, create  # noqa: F401
from .optimizers import *  # noqa: F401,F403
from .optimizers import __all__ as _rules
from .updater import Updater, get_updater  # noqa: F401
from . import contrib  # noqa: F401,E402

__all__ = ["Optimizer", "register", "create", "Updater", "get_updater", "NDabs"] + _rules
