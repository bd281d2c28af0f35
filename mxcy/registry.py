"""mx.registry: name -> class tables for serializable objects (initializers, ...), as MXNet 1.9.1 has them.

A class is found by its lower-cased name or alias; `create` also accepts an instance, a dict of
constructor arguments, or the JSON that the objects' `dumps()` writes (`'["name", {kwargs}]'`).
"""
import json
import warnings

from .base import MXNetError

__all__ = ["get_registry", "get_register_func", "get_alias_func", "get_create_func"]

_REGISTRY = {}


def _table(base_class):
    return _REGISTRY.setdefault(base_class, {})


def get_registry(base_class):
    """A copy of the {name: class} table of `base_class`."""
    return _table(base_class).copy()


def get_register_func(base_class, nickname):
    """A function `register(klass, name=None)` filing a subclass of `base_class` under its lower-cased name."""
    table = _table(base_class)

    def register(klass, name=None):
        if not (isinstance(klass, type) and issubclass(klass, base_class)):
            raise MXNetError(f"{nickname}.register: can only register a subclass of {base_class.__name__}, "
                             f"got {klass!r}")
        name = (klass.__name__ if name is None else name).lower()
        if name in table:
            old = table[name]
            warnings.warn(f"New {nickname} {klass.__module__}.{klass.__name__} registered with name {name} "
                          f"is overriding existing {nickname} {old.__module__}.{old.__name__}",
                          UserWarning, stacklevel=2)
        table[name] = klass
        return klass

    register.__doc__ = f"Register a {nickname} class under its lower-cased class name (or `name`)."
    return register


def get_alias_func(base_class, nickname):
    """A decorator factory `alias(*names)` registering a class under extra names."""
    register = get_register_func(base_class, nickname)

    def alias(*aliases):
        def reg(klass):
            for name in aliases:
                register(klass, name)
            return klass
        return reg
    return alias


def get_create_func(base_class, nickname):
    """A function `create(spec, *args, **kwargs)` making a `base_class` instance from a name, JSON, dict or instance."""
    table = _table(base_class)

    def create(*args, **kwargs):
        if args:
            spec, args = args[0], args[1:]
        elif nickname in kwargs:
            spec = kwargs.pop(nickname)
        else:
            raise MXNetError(f"{nickname}.create: no {nickname} given")
        if isinstance(spec, base_class):
            if args or kwargs:
                raise MXNetError(f"{nickname}.create: {spec!r} is already an instance; extra arguments "
                                 f"{args} {kwargs} are invalid")
            return spec
        if isinstance(spec, dict):
            return create(**spec)
        if not isinstance(spec, str):
            raise MXNetError(f"{nickname}.create: expected a name, JSON string, dict or {base_class.__name__}, "
                             f"got {type(spec).__name__}")
        if spec.startswith(("[", "{")):
            if args or kwargs:
                raise MXNetError(f"{nickname}.create: a JSON {nickname} takes no extra arguments")
            try:
                config = json.loads(spec)
            except json.JSONDecodeError as err:
                raise MXNetError(f"{nickname}.create: invalid JSON {spec!r}: {err}") from err
            if isinstance(config, dict):
                return create(**config)
            if not (isinstance(config, list) and len(config) == 2 and isinstance(config[1], dict)):
                raise MXNetError(f"{nickname}.create: JSON must be [name, {{arguments}}], got {spec!r}")
            return create(config[0], **config[1])
        name = spec.lower()
        if name not in table:
            raise MXNetError(f"{nickname} {name!r} is not registered (registered: {', '.join(sorted(table))}); "
                             f"register it with {nickname}.register first")
        return table[name](*args, **kwargs)

    create.__doc__ = (f"Create a {nickname}: `spec` is a registered name, the JSON its dumps() wrote, a dict "
                      f"holding '{nickname}' and arguments, or a {base_class.__name__} (returned as is).")
    return create
