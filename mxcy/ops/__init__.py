"""Operator records, one module per family; importing this package registers them all."""
from . import registry  # noqa: F401
from . import binary, unary, reshape, index, init  # noqa: F401
from . import random, sparse  # noqa: F401
from . import reduce, sort, matrix  # noqa: F401
from . import shape, join, gather  # noqa: F401
from . import nn_conv, nn_norm, nn_pool, nn_activation, nn_loss  # noqa: F401
from . import nn_ctc  # noqa: F401
from . import nn_contrib  # noqa: F401
from . import nn_deformable  # noqa: F401
from . import nn_spatial  # noqa: F401
from . import optimizer_ops  # noqa: F401
from . import sequence, rnn  # noqa: F401
from . import linalg  # noqa: F401
from . import misc_ops  # noqa: F401
from . import misc_tensor  # noqa: F401
from . import misc_legacy  # noqa: F401
from . import nn_im2col  # noqa: F401
from . import random_pdf  # noqa: F401
from . import contrib_box  # noqa: F401
from . import contrib_misc  # noqa: F401
from . import contrib_multibox  # noqa: F401
from . import contrib_proposal, contrib_roi  # noqa: F401
from . import image  # noqa: F401
from . import control_flow  # noqa: F401
from . import sparse_storage  # noqa: F401
from . import contrib_dgl  # noqa: F401
from . import contrib_dynamic  # noqa: F401
from . import subgraph  # noqa: F401
