"""mx.mod / mx.module: the Module API (MXNet 1.9.1's python/mxnet/module)."""
from . import base_module, bucketing_module, executor_group, module, python_module, sequential_module  # noqa: F401
from .base_module import BaseModule  # noqa: F401
from .module import Module  # noqa: F401
from .bucketing_module import BucketingModule  # noqa: F401
from .sequential_module import SequentialModule  # noqa: F401
from .python_module import PythonModule, PythonLossModule  # noqa: F401
