"""mx.kv / mx.kvstore: key-value stores for data-parallel training (MXNet 1.9.1's names)."""
from . import base, kvstore  # noqa: F401
from .base import KVStoreBase, create  # noqa: F401
from .kvstore import KVStore  # noqa: F401

__all__ = ["create", "KVStoreBase", "KVStore"]
