"""mx.error: MXNet's error registry, InternalError, and the built-in-compatible error classes.

Where MXNet raises a Python built-in (IndexError, ValueError, ...) through its error registry,
mxcy raises the matching class below: a subclass of both MXNetError and the built-in, so that
`except IndexError` and `except mx.MXNetError` both catch it.
"""
from .base import MXNetError, error_types, register_error

__all__ = ["MXNetError", "register", "InternalError", "MXNetValueError", "MXNetTypeError", "MXNetAttributeError",
           "MXNetIndexError", "MXNetNotImplementedError", "compatible"]

register = register_error


@register_error
class InternalError(MXNetError):
    """An error inside mxcy itself (a bug), not in how it was called."""
    def __init__(self, msg):
        if "MXNet hint:" not in msg:
            msg += ("\nMXNet hint: You hit an internal error. Please open an issue in "
                    "https://github.com/apache/incubator-mxnet/issues/new/choose to report it.")
        super().__init__(msg)


class MXNetValueError(MXNetError, ValueError):
    """An invalid value (MXNet raises ValueError)."""


class MXNetTypeError(MXNetError, TypeError):
    """An argument of the wrong type (MXNet raises TypeError)."""


class MXNetAttributeError(MXNetError, AttributeError):
    """A missing attribute (MXNet raises AttributeError)."""


class MXNetIndexError(MXNetError, IndexError):
    """An index out of range (MXNet raises IndexError)."""


class MXNetNotImplementedError(MXNetError, NotImplementedError):
    """A feature not implemented for these inputs (MXNet raises NotImplementedError)."""


for _builtin, _cls in ((ValueError, MXNetValueError), (TypeError, MXNetTypeError),
                       (AttributeError, MXNetAttributeError), (IndexError, MXNetIndexError),
                       (NotImplementedError, MXNetNotImplementedError)):
    register_error(_builtin.__name__, _cls)


def compatible(exc):
    """The MXNetError class to re-raise `exc` as: the built-in-compatible class for a registered
    built-in error type (or a subclass of one), MXNetError otherwise."""
    for klass in type(exc).__mro__:
        candidate = error_types.get(klass.__name__)
        if candidate is not None and klass.__module__ == "builtins" and issubclass(candidate, klass):
            return candidate
    return MXNetError
