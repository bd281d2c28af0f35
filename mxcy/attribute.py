"""AttrScope: string attributes (ctx_group, lr_mult, ...) given to every symbol made inside the scope."""
import threading
from collections import defaultdict

from .base import MXNetError
from .scope import ThreadScope

__all__ = ["AttrScope"]


class AttrScope(ThreadScope):
    """`with AttrScope(ctx_group='dev1'):` tags the symbols created inside; values must be strings."""
    _local = threading.local()
    _subgraph_names = defaultdict(int)  # control flow's subgraph name -> how many were made (MXNet's counter)

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise MXNetError(f"AttrScope: attribute {key!r} must be a string, got {value!r}")
        self._attr = kwargs

    def get(self, attr):
        """The scope's attributes updated with `attr` (a dict or None)."""
        if not self._attr:
            return dict(attr) if attr else {}
        merged = dict(self._attr)
        if attr:
            merged.update(attr)
        return merged

    def __enter__(self):
        self._attr = {**AttrScope.current._attr, **self._attr}  # nested scopes add to the outer ones
        return super().__enter__()
