"""mx.registry on a throwaway base class: registration, aliases, overriding, and every form `create` accepts."""
import pytest

import mxcy as mx


class Shape:
    def __init__(self, size=1, color="red"):
        self.size, self.color = size, color


@pytest.fixture
def funcs():
    register = mx.registry.get_register_func(Shape, "shape")
    alias = mx.registry.get_alias_func(Shape, "shape")
    create = mx.registry.get_create_func(Shape, "shape")
    yield register, alias, create
    mx.registry._REGISTRY.pop(Shape)


def test_register_alias_and_create(funcs):
    register, alias, create = funcs

    @register
    @alias("box", "Cube")
    class Square(Shape):
        pass

    assert sorted(mx.registry.get_registry(Shape)) == ["box", "cube", "square"]
    made = create("SQUARE", 3, color="blue")
    assert type(made) is Square and (made.size, made.color) == (3, "blue")
    assert create("cube").size == 1
    assert create(shape="box", size=2).size == 2
    assert create({"shape": "square", "size": 4}).size == 4
    assert create('["box", {"size": 5}]').size == 5
    assert create('{"shape": "square", "color": "green"}').color == "green"
    assert create(made) is made


def test_get_registry_is_a_copy(funcs):
    register, _, _ = funcs
    register(type("Dot", (Shape,), {}))
    mx.registry.get_registry(Shape).clear()
    assert list(mx.registry.get_registry(Shape)) == ["dot"]


def test_overriding_a_name_warns(funcs):
    register, _, create = funcs
    register(type("Dot", (Shape,), {}))
    second = type("Dot", (Shape,), {})
    with pytest.warns(UserWarning, match="name dot is overriding"):
        register(second)
    assert type(create("dot")) is second


@pytest.mark.parametrize("args, kwargs, message", [
    (("circle",), {}, r"shape 'circle' is not registered \(registered: dot\)"),
    ((), {}, "no shape given"), ((3,), {}, "got int"), (("[1, 2, 3]",), {}, r"\[name, \{arguments\}\]"),
    (("[broken",), {}, "invalid JSON"), (('["dot", {}]',), {"size": 2}, "takes no extra arguments")])
def test_create_errors(funcs, args, kwargs, message):
    register, _, create = funcs
    register(type("Dot", (Shape,), {}))
    with pytest.raises(mx.MXNetError, match=message):
        create(*args, **kwargs)


def test_register_only_subclasses(funcs):
    register, _, create = funcs
    with pytest.raises(mx.MXNetError, match="subclass of Shape"):
        register(int)
    instance = type("Dot", (Shape,), {})()
    with pytest.raises(mx.MXNetError, match="already an instance"):
        create(instance, 1)
