"""npx.image: mx.nd.image's operators (to_tensor, normalize, resize, crop, flips, colour jitter) on mx.np arrays."""
from .. import ndarray as nd
from ._op import np_alias

__all__ = [name for name in dir(nd.image) if not name.startswith("_")]

globals().update({name: np_alias(name, f"image.{name}") for name in __all__})
