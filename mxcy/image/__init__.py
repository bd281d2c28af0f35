"""mx.image: image decoding, resizing, cropping, normalisation and augmenters (MXNet 1.9.1's mxnet.image)."""
from .image import (imread, imdecode, imresize, scale_down, copyMakeBorder, resize_short, fixed_crop,
                    random_crop, center_crop, color_normalize, random_size_crop)
from .augmenter import (Augmenter, SequentialAug, RandomOrderAug, ResizeAug, ForceResizeAug, RandomCropAug,
                        CenterCropAug, RandomSizedCropAug, BrightnessJitterAug, ContrastJitterAug,
                        SaturationJitterAug, HueJitterAug, ColorJitterAug, LightingAug, ColorNormalizeAug,
                        RandomGrayAug, HorizontalFlipAug, CastAug, CreateAugmenter)
from .rotate import imrotate, random_rotate
from .image_iter import ImageIter
from . import detection
from . import detection as det
from .detection import (DetAugmenter, DetBorrowAug, DetRandomSelectAug, DetHorizontalFlipAug, DetRandomCropAug,
                        DetRandomPadAug, CreateMultiRandCropAugmenter, CreateDetAugmenter, ImageDetIter)

__all__ = ["imread", "imdecode", "imresize", "scale_down", "copyMakeBorder", "resize_short", "fixed_crop",
           "random_crop", "center_crop", "color_normalize", "random_size_crop",
           "Augmenter", "SequentialAug", "RandomOrderAug", "ResizeAug", "ForceResizeAug", "RandomCropAug",
           "CenterCropAug", "RandomSizedCropAug", "BrightnessJitterAug", "ContrastJitterAug", "SaturationJitterAug",
           "HueJitterAug", "ColorJitterAug", "LightingAug", "ColorNormalizeAug", "RandomGrayAug",
           "HorizontalFlipAug", "CastAug", "CreateAugmenter", "imrotate", "random_rotate", "ImageIter"] + detection.__all__
