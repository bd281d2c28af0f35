"""mx.gluon.model_zoo: predefined vision architectures (`vision`) and the local store of their
pretrained weight files (`model_store`)."""
from . import model_store, vision  # noqa: F401
