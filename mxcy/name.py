"""Automatic names of symbols: NameManager gives `<hint><n>` per hint; Prefix prepends a string."""
import threading

__all__ = ["NameManager", "Prefix"]

_local = threading.local()


class _CurrentMeta(type):
    """`NameManager.current`: this thread's active manager (a fresh default one per thread)."""

    @property
    def current(cls):
        manager = getattr(_local, "manager", None)
        if manager is None:
            manager = _local.manager = NameManager()
        return manager


class NameManager(metaclass=_CurrentMeta):
    """Names new symbols; `with NameManager():` starts a fresh set of counters."""

    def __init__(self):
        self._counter = {}
        self._old_manager = None

    def get(self, name, hint):
        """`name` if given, else `hint` followed by how many names this manager has made from it."""
        if name:
            return name
        n = self._counter.get(hint, 0)
        self._counter[hint] = n + 1
        return f"{hint}{n}"

    def __enter__(self):
        self._old_manager = NameManager.current
        _local.manager = self
        return self

    def __exit__(self, *exc):
        _local.manager = self._old_manager


class Prefix(NameManager):
    """Every name, automatic or given, gets `prefix` in front."""

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        return self._prefix + super().get(name, hint)
