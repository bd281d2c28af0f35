"""Named constructor functions (resnet18_v1, vgg11_bn, ...) as partial applications of the get_* builders."""


def constructor(name, doc, build, *args, **fixed):
    """A function `name(**kwargs)` returning build(*args, **kwargs, **fixed); `fixed` wins over kwargs
    (MXNet's vgg11_bn sets batch_norm=True whatever the caller passes)."""
    def make(**kwargs):
        return build(*args, **{**kwargs, **fixed})
    make.__name__ = make.__qualname__ = name
    make.__module__ = build.__module__
    make.__doc__ = doc
    return make
