"""AttrScope: string attributes (ctx_group, lr_mult, ...) given to every symbol made inside the scope."""
import threading

from .base import MXNetError

__all__ = ["AttrScope"]

_local = threading.local()


class _CurrentMeta(type):
    @property
    def current(cls):
        scope = getattr(_local, "scope", None)
        if scope is None:
            scope = _local.scope = AttrScope()
        return scope


class AttrScope(metaclass=_CurrentMeta):
    """`with AttrScope(ctx_group='dev1'):` tags the symbols created inside; values must be strings."""

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise MXNetError(f"AttrScope: attribute {key!r} must be a string, got {value!r}")
        self._attr = kwargs
        self._old_scope = None

    def get(self, attr):
        """The scope's attributes updated with `attr` (a dict or None)."""
        if not self._attr:
            return dict(attr) if attr else {}
        merged = dict(self._attr)
        if attr:
            merged.update(attr)
        return merged

    def __enter__(self):
        self._old_scope = AttrScope.current
        merged = dict(self._old_scope._attr)
        merged.update(self._attr)
        self._attr = merged
        _local.scope = self
        return self

    def __exit__(self, *exc):
        _local.scope = self._old_scope
