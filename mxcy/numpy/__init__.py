"""mx.np, MXNet's NumPy-compatible interface: mx.np.ndarray (NumPy semantics over the registered operators), the
creation functions, array functions and mx.np.random. What exists is listed in docs/architecture.md."""
from . import linalg, random
from .multiarray import ndarray
from .creation import *  # noqa: F401,F403
from ._op import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
from ._derived import *  # noqa: F401,F403
from ._statistics import *  # noqa: F401,F403
from ._editing import *  # noqa: F401,F403
from .arrayprint import *  # noqa: F401,F403
from .function_base import *  # noqa: F401,F403
from .io import *  # noqa: F401,F403
from .stride_tricks import *  # noqa: F401,F403
