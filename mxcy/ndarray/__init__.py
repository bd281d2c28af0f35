"""mx.nd: NDArray, creation and file functions, and every registered operator as a function."""
import sys

from .. import ops  # noqa: F401  (registers every operator)
from . import _internal, contrib, image, linalg, op, random, sparse
from .dlpack import from_dlpack, to_dlpack_for_read, to_dlpack_for_write
from .ndarray import NDArray, waitall
from .register import populate
from .mxnet_tables import (_DTYPE_MX_TO_NP, _DTYPE_NP_TO_MX, _GRAD_REQ_MAP, get_indexing_dispatch_code,  # noqa: F401
                           get_oshape_of_gather_nd_op, indexing_key_expand_implicit_axes)
from ..ops.frontend import alias_generated_modules
from .utils import (arange, array, concatenate, empty, eye, from_numpy, full, histogram, linspace, load,
                    load_frombuffer, moveaxis, onehot_encode, ones, save, split_v2, zeros)

populate({"_internal": vars(_internal), "op": vars(op), "contrib": vars(contrib),
          "linalg": vars(linalg), "image": vars(image), "random": vars(random),
          "sparse": vars(sparse)})
alias_generated_modules(sys.modules[__name__], {"_internal": _internal, "op": op, "contrib": contrib,
                                                "linalg": linalg, "image": image, "sparse": sparse})
globals().update({k: v for k, v in vars(op).items() if not k.startswith("__")})
from .sparse import cast_storage  # noqa: E402,F401
from .arith import *  # noqa: E402,F401,F403  (mx.nd.add, maximum, greater, ... over NDArray or scalar)
from .methods import attach_methods  # noqa: E402

attach_methods(NDArray, vars(op))
