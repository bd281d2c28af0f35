"""mx.image: image decoding, resizing, cropping and normalisation (MXNet 1.9.1's mxnet.image)."""
from .image import (imread, imdecode, imresize, scale_down, copyMakeBorder, resize_short, fixed_crop,
                    random_crop, center_crop, color_normalize, random_size_crop)

__all__ = ["imread", "imdecode", "imresize", "scale_down", "copyMakeBorder", "resize_short", "fixed_crop",
           "random_crop", "center_crop", "color_normalize", "random_size_crop"]
