"""mx.gluon: Parameters, Blocks (imperative and hybridized), layers, losses."""
from .parameter import *  # noqa: F401,F403
from .block import *  # noqa: F401,F403
from .trainer import *  # noqa: F401,F403
from . import nn, loss, utils, contrib  # noqa: F401
from . import rnn  # noqa: F401
from . import model_zoo  # noqa: F401
from . import data  # noqa: F401
