"""mx.rnn: MXNet 1.9.1's symbolic recurrent-network API (cells that build mx.sym graphs, the bucketing sentence
iterator, checkpoints with unpacked weights)."""
from . import rnn_cell, fused_cell, conv_cell, rnn, io
from .rnn_cell import *  # noqa: F401,F403
from .fused_cell import *  # noqa: F401,F403
from .conv_cell import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .io import *  # noqa: F401,F403
