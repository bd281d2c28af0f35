"""Automatic names of symbols: NameManager gives `<hint><n>` per hint; Prefix prepends a string."""
import threading

from .scope import ThreadScope

__all__ = ["NameManager", "Prefix"]


class NameManager(ThreadScope):
    """Names new symbols; `with NameManager():` starts a fresh set of counters."""
    _local = threading.local()

    def __init__(self):
        self._counter = {}

    def get(self, name, hint):
        """`name` if given, else `hint` followed by how many names this manager has made from it."""
        if name:
            return name
        n = self._counter.get(hint, 0)
        self._counter[hint] = n + 1
        return f"{hint}{n}"


class Prefix(NameManager):
    """Every name, automatic or given, gets `prefix` in front."""

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        return self._prefix + super().get(name, hint)
