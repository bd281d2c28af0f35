"""mx.gluon.contrib: contributed layers."""
from . import nn  # noqa: F401
