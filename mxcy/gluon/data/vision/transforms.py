"""mx.gluon.data.vision.transforms: image transforms as Gluon blocks over the mx.nd.image / mx.sym.image
operators (HybridBlocks where MXNet 1.9.1 has them). Crop boxes of CenterCrop and RandomResizedCrop are
chosen on the host from the image's shape, as mx.image does."""
import math
import random

import numpy as np

from ...block import Block, HybridBlock
from ...nn import HybridSequential, Sequential
from .... import image
from .... import ndarray as nd
from ....base import numeric_types

__all__ = ["Compose", "Cast", "ToTensor", "Normalize", "RandomResizedCrop", "CropResize", "CenterCrop", "Resize",
           "RandomFlipLeftRight", "RandomFlipTopBottom", "RandomBrightness", "RandomContrast", "RandomSaturation",
           "RandomHue", "RandomColorJitter", "RandomLighting", "RandomApply", "Rotate", "RandomRotation", "Block", "HybridBlock",
           "Sequential", "HybridSequential"]


class Compose(Sequential):
    """Applies `transforms` in order; each run of consecutive HybridBlocks becomes one hybridized
    HybridSequential (a lone HybridBlock is added as it is)."""
    def __init__(self, transforms):
        super().__init__()
        run = []
        for t in list(transforms) + [None]:
            if isinstance(t, HybridBlock):
                run.append(t)
                continue
            if len(run) == 1:
                self.add(run[0])
            elif run:
                chain = HybridSequential()
                chain.add(*run)
                chain.hybridize()
                self.add(chain)
            run = []
            if t is not None:
                self.add(t)


class Cast(HybridBlock):
    """Casts the input to `dtype`."""
    def __init__(self, dtype="float32"):
        super().__init__()
        self._dtype = dtype

    def hybrid_forward(self, F, x):
        return F.cast(x, self._dtype)


class ToTensor(HybridBlock):
    """(H, W, C) or (N, H, W, C) image -> (C, H, W) or (N, C, H, W) float32 in [0, 1)."""
    def hybrid_forward(self, F, x):
        return F.image.to_tensor(x)


class Normalize(HybridBlock):
    """(x - mean[c]) / std[c] over a (C, H, W) or (N, C, H, W) tensor; one number serves every channel."""
    def __init__(self, mean=0.0, std=1.0):
        super().__init__()
        self._mean, self._std = mean, std

    def hybrid_forward(self, F, x):
        return F.image.normalize(x, self._mean, self._std)


class Resize(HybridBlock):
    """Resizes to `size` (int or (W, H)); with keep_ratio and one int, the short side becomes `size`."""
    def __init__(self, size, keep_ratio=False, interpolation=1):
        super().__init__()
        self._size, self._keep, self._interpolation = size, keep_ratio, interpolation

    def hybrid_forward(self, F, x):
        return F.image.resize(x, self._size, self._keep, self._interpolation)


class CropResize(HybridBlock):
    """Crops the box (x, y, width, height), then resizes it to `size` (W, H) when given."""
    def __init__(self, x, y, width, height, size=None, interpolation=None):
        super().__init__()
        self._box = (x, y, width, height)
        self._size, self._interpolation = size, interpolation

    def hybrid_forward(self, F, x):
        out = F.image.crop(x, *self._box)
        if self._size:
            out = F.image.resize(out, self._size, False, 1 if self._interpolation is None else self._interpolation)
        return out


def _pair(size):
    return (size, size) if isinstance(size, numeric_types) else tuple(size)


def _crop_to(x, box, size, interpolation):
    """The box (x0, y0, w, h) of an (H, W, C) image, resized to size (W, H) when it differs."""
    out = nd.image.crop(x, *box)
    if (box[2], box[3]) != tuple(size):
        out = nd.image.resize(out, size=tuple(size), interp=interpolation)
    return out


def _center_box(height, width, size):
    """mx.image.center_crop's box: the centred (W, H) window, scaled down to fit inside the image."""
    target_w, target_h = size
    if height < target_h:
        target_w, target_h = target_w * height / target_h, height
    if width < target_w:
        target_w, target_h = width, target_h * width / target_w
    target_w, target_h = int(target_w), int(target_h)
    return (width - target_w) // 2, (height - target_h) // 2, target_w, target_h


class CenterCrop(Block):
    """Crops the centre (W, H) window of an (H, W, C) image (scaled down to fit, then resized to `size`)."""
    def __init__(self, size, interpolation=1):
        super().__init__()
        self._size, self._interpolation = _pair(size), interpolation

    def forward(self, x):
        return _crop_to(x, _center_box(x.shape[0], x.shape[1], self._size), self._size, self._interpolation)


class RandomResizedCrop(Block):
    """Crops a random box of `scale` times the image's area and aspect ratio (log-uniform) in `ratio`, and
    resizes it to `size`; after 10 boxes that do not fit, the centre crop. Draws from Python's `random`,
    as mx.image.random_size_crop does."""
    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=1):
        super().__init__()
        self._size, self._scale, self._ratio, self._interpolation = _pair(size), scale, ratio, interpolation

    def forward(self, x):
        height, width = x.shape[0], x.shape[1]
        scale = (self._scale, 1.0) if isinstance(self._scale, numeric_types) else self._scale
        for _ in range(10):
            area = random.uniform(*scale) * height * width
            aspect = math.exp(random.uniform(math.log(self._ratio[0]), math.log(self._ratio[1])))
            box_w, box_h = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if 0 < box_w <= width and 0 < box_h <= height:
                box = (random.randint(0, width - box_w), random.randint(0, height - box_h), box_w, box_h)
                return _crop_to(x, box, self._size, self._interpolation)
        return _crop_to(x, _center_box(height, width, self._size), self._size, self._interpolation)


def _float32_image(x, block):
    if x.dtype != np.float32:
        raise TypeError(f"{block} only supports float32 images, got {np.dtype(x.dtype).name}; "
                        "consider calling it after ToTensor")
    return x


class Rotate(Block):
    """Rotates a float32 (C, H, W) image or (N, C, H, W) batch by `rotation_degrees` (mx.image.imrotate);
    zoom_in / zoom_out as there."""
    def __init__(self, rotation_degrees, zoom_in=False, zoom_out=False):
        super().__init__()
        self._args = (rotation_degrees, zoom_in, zoom_out)

    def forward(self, x):
        return image.imrotate(_float32_image(x, "Rotate"), *self._args)


class RandomRotation(Block):
    """With probability `rotate_with_proba`, rotates a float32 (C, H, W) image or (N, C, H, W) batch by an
    angle drawn from `angle_limits` (mx.image.random_rotate); draws come from NumPy's global generator."""
    def __init__(self, angle_limits, zoom_in=False, zoom_out=False, rotate_with_proba=1.0):
        super().__init__()
        lower, upper = angle_limits
        if lower >= upper:
            raise ValueError(f"RandomRotation: angle_limits must be an ordered pair, got {angle_limits}")
        if not 0 <= rotate_with_proba <= 1:
            raise ValueError(f"RandomRotation: rotate_with_proba must lie in [0, 1], got {rotate_with_proba}")
        self._args = (angle_limits, zoom_in, zoom_out)
        self._rotate_with_proba = rotate_with_proba

    def forward(self, x):
        if np.random.random() > self._rotate_with_proba:
            return x
        return image.random_rotate(_float32_image(x, "RandomRotation"), *self._args)


class RandomFlipLeftRight(HybridBlock):
    """Flips an (H, W, C) image left-right with probability 1/2."""
    def hybrid_forward(self, F, x):
        return F.image.random_flip_left_right(x)


class RandomFlipTopBottom(HybridBlock):
    """Flips an (H, W, C) image top-bottom with probability 1/2."""
    def hybrid_forward(self, F, x):
        return F.image.random_flip_top_bottom(x)


class _Enhance(HybridBlock):
    """Scales a property of an (H, W, C) image by a factor drawn from [max(0, 1 - jitter), 1 + jitter]
    with the operator `_OP`."""
    _OP = None

    def __init__(self, jitter):
        super().__init__()
        self._args = (max(0, 1 - jitter), 1 + jitter)

    def hybrid_forward(self, F, x):
        return getattr(F.image, self._OP)(x, *self._args)


class RandomBrightness(_Enhance):
    """Scales the brightness by a factor drawn from [max(0, 1 - brightness), 1 + brightness]."""
    _OP = "random_brightness"

    def __init__(self, brightness):
        super().__init__(brightness)


class RandomContrast(_Enhance):
    """Scales the contrast by a factor drawn from [max(0, 1 - contrast), 1 + contrast]."""
    _OP = "random_contrast"

    def __init__(self, contrast):
        super().__init__(contrast)


class RandomSaturation(_Enhance):
    """Scales the saturation by a factor drawn from [max(0, 1 - saturation), 1 + saturation]."""
    _OP = "random_saturation"

    def __init__(self, saturation):
        super().__init__(saturation)


class RandomHue(_Enhance):
    """Shifts the hue by (a factor drawn from [max(0, 1 - hue), 1 + hue]) * 360 degrees, as MXNet 1.9.1."""
    _OP = "random_hue"

    def __init__(self, hue):
        super().__init__(hue)


class RandomColorJitter(HybridBlock):
    """Jitters brightness, contrast, saturation and hue in a random order (0 leaves one alone)."""
    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self._args = (brightness, contrast, saturation, hue)

    def hybrid_forward(self, F, x):
        return F.image.random_color_jitter(x, *self._args)


class RandomLighting(HybridBlock):
    """Adds AlexNet's PCA lighting noise with alphas drawn from N(0, alpha^2)."""
    def __init__(self, alpha):
        super().__init__()
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        return F.image.random_lighting(x, self._alpha)


class RandomApply(Sequential):
    """Applies `transforms` with probability `p` (drawn from Python's `random`), else passes x through."""
    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, x):
        if self.p < random.random():
            return x
        return self.transforms(x)
