"""mx.gluon.data.vision: vision datasets read from local files."""
from .datasets import *  # noqa: F401,F403
from . import datasets  # noqa: F401
