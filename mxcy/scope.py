"""Thread-local `with` scopes: `Cls.current` is this thread's innermost instance, a default one per
thread until a `with` block replaces it. NameManager and AttrScope are such scopes."""
__all__ = ["ThreadScope"]


def _root(cls):
    """The class of the family that owns the thread-local slot."""
    return next(c for c in cls.__mro__ if "_local" in c.__dict__)


class _Current(type):
    @property
    def current(cls):
        root = _root(cls)
        scope = getattr(root._local, "value", None)
        if scope is None:
            scope = root._local.value = root()
        return scope

    @current.setter
    def current(cls, scope):
        """MXNet's `AttrScope.current = ...`: this thread's scope from now on."""
        _root(cls)._local.value = scope


class ThreadScope(metaclass=_Current):
    """Base of a scope family: the subclass that defines `_local = threading.local()` is its root, whose
    plain instance is every thread's default; its subclasses share the same current slot."""

    def __enter__(self):
        self._previous = type(self).current
        _root(type(self))._local.value = self
        return self

    def __exit__(self, *exc):
        _root(type(self))._local.value = self._previous
