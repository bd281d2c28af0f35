"""mx.contrib: MXNet 1.9.1's experimental corner. `symbol`/`sym` and `ndarray`/`nd` are the contrib operators
(mx.sym.contrib, mx.nd.contrib), `autograd` MXNet's first autograd API, `io` DataLoaderIter, `tensorboard`
LogMetricsCallback, `text` vocabularies and token embeddings; amp, svrg_optimization and quantization (INT8,
not implemented yet: its functions raise) are imported on use, as in MXNet."""
from . import autograd, io, tensorboard, text  # noqa: F401
from ..ndarray import contrib as ndarray  # noqa: F401
from ..ndarray import contrib as nd  # noqa: F401
from ..symbol import contrib as symbol  # noqa: F401
from ..symbol import contrib as sym  # noqa: F401
