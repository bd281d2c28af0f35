"""mx.gluon.data.vision: vision datasets read from local files, and transforms."""
from .datasets import *  # noqa: F401,F403
from . import datasets, transforms  # noqa: F401
