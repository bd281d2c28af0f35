"""mx.gluon.model_zoo.vision: MXNet 1.9.1's image-classification architectures (AlexNet, DenseNet,
Inception v3, ResNet v1/v2, SqueezeNet, VGG, MobileNet v1/v2) and get_model(name) over them.

Constructors take pretrained=False, ctx=cpu(), root='$MXNET_HOME/models' and the class's keywords
(classes, thumbnail, ...). Inputs are N x 3 x H x W RGB images in [0, 1] normalized with mean
(0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225); pretrained weights expect H, W >= 224 (299 for
Inception v3)."""
from .alexnet import *  # noqa: F401,F403
from .densenet import *  # noqa: F401,F403
from .inception import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .mobilenet import *  # noqa: F401,F403

_models = {
    **{f"resnet{n}_v{v}": globals()[f"resnet{n}_v{v}"] for v in (1, 2) for n in (18, 34, 50, 101, 152)},
    **{f"vgg{n}{bn}": globals()[f"vgg{n}{bn}"] for bn in ("", "_bn") for n in (11, 13, 16, 19)},
    "alexnet": alexnet,
    **{f"densenet{n}": globals()[f"densenet{n}"] for n in (121, 161, 169, 201)},
    "squeezenet1.0": squeezenet1_0,
    "squeezenet1.1": squeezenet1_1,
    "inceptionv3": inception_v3,
    **{f"mobilenet{m}": globals()[f"mobilenet{m.replace('.', '_')}"] for m in ("1.0", "0.75", "0.5", "0.25")},
    **{f"mobilenetv2_{m}": globals()[f"mobilenet_v2_{m.replace('.', '_')}"] for m in ("1.0", "0.75", "0.5", "0.25")},
}


def get_model(name, **kwargs):
    """The model called `name` (case-insensitive: 'resnet50_v1', 'vgg16_bn', 'squeezenet1.1',
    'mobilenetv2_0.25', ...) built with `kwargs` (pretrained, classes, ctx, root, ...)."""
    name = name.lower()
    if name not in _models:
        raise ValueError("Model %s is not supported. Available options are\n\t%s"
                         % (name, "\n\t".join(sorted(_models))))
    return _models[name](**kwargs)
