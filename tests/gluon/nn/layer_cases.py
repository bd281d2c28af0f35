"""The layers the Gluon nn tests run, as (id, build(nn, contrib_nn), input shape, input kind) rows shared by the
tests and by fixtures/make_layer_fixtures.py, which runs them under MXNet 1.9.1 (so this module imports nothing
of mxcy). Kinds: "float" (standard normal), "index" (integers in [0, 5)), "positive"."""
import collections

Case = collections.namedtuple("Case", "id build shape kind")

CASES = [
    Case("dense", lambda nn, cnn: nn.Dense(3), (2, 2, 2), "float"),
    Case("dense_relu_nobias", lambda nn, cnn: nn.Dense(3, activation="relu", use_bias=False, in_units=4), (2, 4),
         "float"),
    Case("dense_noflatten", lambda nn, cnn: nn.Dense(2, flatten=False, activation="tanh"), (2, 3, 4), "float"),
    Case("embedding", lambda nn, cnn: nn.Embedding(5, 3), (2, 3), "index"),
    Case("batchnorm", lambda nn, cnn: nn.BatchNorm(), (3, 2, 2), "float"),
    Case("batchnorm_axis_noscale", lambda nn, cnn: nn.BatchNorm(axis=-1, scale=False, epsilon=0.1), (2, 2, 3),
         "float"),
    Case("batchnormrelu", lambda nn, cnn: nn.BatchNormReLU(in_channels=2), (2, 2, 2, 2), "float"),
    Case("instancenorm", lambda nn, cnn: nn.InstanceNorm(scale=True), (2, 2, 3), "float"),
    Case("instancenorm_axis2", lambda nn, cnn: nn.InstanceNorm(axis=2, scale=True), (2, 3, 2), "float"),
    Case("layernorm", lambda nn, cnn: nn.LayerNorm(), (2, 3), "float"),
    Case("layernorm_axis1", lambda nn, cnn: nn.LayerNorm(axis=1, center=False), (2, 3, 2), "float"),
    Case("groupnorm", lambda nn, cnn: nn.GroupNorm(2), (2, 4, 2), "float"),
    Case("flatten", lambda nn, cnn: nn.Flatten(), (2, 2, 3), "float"),
    Case("conv1d", lambda nn, cnn: nn.Conv1D(2, 3, padding=1), (2, 2, 4), "float"),
    Case("conv2d", lambda nn, cnn: nn.Conv2D(4, (2, 3), strides=(2, 1), padding=1, dilation=(1, 2), groups=2,
                                             activation="sigmoid"), (1, 2, 4, 5), "float"),
    Case("conv2d_nhwc", lambda nn, cnn: nn.Conv2D(2, (3, 2), layout="NHWC", groups=2), (1, 4, 5, 4), "float"),
    Case("conv3d", lambda nn, cnn: nn.Conv3D(2, 2, use_bias=False), (1, 1, 3, 3, 3), "float"),
    Case("conv3d_ndhwc", lambda nn, cnn: nn.Conv3D(2, (1, 2, 1), layout="NDHWC", groups=2), (1, 2, 3, 2, 2),
         "float"),
    Case("conv1d_transpose", lambda nn, cnn: nn.Conv1DTranspose(2, 3, strides=2, output_padding=1), (1, 2, 3),
         "float"),
    Case("conv2d_transpose", lambda nn, cnn: nn.Conv2DTranspose(2, 2, strides=2, padding=1, groups=2, in_channels=2),
         (1, 2, 3, 2), "float"),
    Case("conv2d_transpose_nhwc", lambda nn, cnn: nn.Conv2DTranspose(3, (2, 1), layout="NHWC"), (1, 2, 3, 2),
         "float"),
    Case("conv3d_transpose", lambda nn, cnn: nn.Conv3DTranspose(1, 2, in_channels=2), (1, 2, 2, 2, 1), "float"),
    Case("maxpool1d", lambda nn, cnn: nn.MaxPool1D(3, 2, 1), (1, 2, 5), "float"),
    Case("maxpool1d_nwc", lambda nn, cnn: nn.MaxPool1D(layout="NWC"), (1, 4, 2), "float"),
    Case("maxpool2d_ceil", lambda nn, cnn: nn.MaxPool2D(2, ceil_mode=True), (1, 1, 3, 5), "float"),
    Case("maxpool3d", lambda nn, cnn: nn.MaxPool3D(), (1, 1, 2, 4, 2), "float"),
    Case("avgpool1d", lambda nn, cnn: nn.AvgPool1D(2, 1, 1, count_include_pad=False), (1, 2, 4), "float"),
    Case("avgpool2d", lambda nn, cnn: nn.AvgPool2D(3, 2, 1), (1, 1, 4, 5), "float"),
    Case("avgpool2d_nhwc", lambda nn, cnn: nn.AvgPool2D(layout="NHWC"), (1, 4, 2, 3), "float"),
    Case("avgpool3d_ceil", lambda nn, cnn: nn.AvgPool3D(2, ceil_mode=True), (1, 1, 3, 2, 3), "float"),
    Case("globalmaxpool1d", lambda nn, cnn: nn.GlobalMaxPool1D(), (2, 2, 3), "float"),
    Case("globalmaxpool2d_nhwc", lambda nn, cnn: nn.GlobalMaxPool2D(layout="NHWC"), (1, 2, 3, 2), "float"),
    Case("globalmaxpool3d", lambda nn, cnn: nn.GlobalMaxPool3D(), (1, 2, 2, 1, 2), "float"),
    Case("globalavgpool1d_nwc", lambda nn, cnn: nn.GlobalAvgPool1D(layout="NWC"), (2, 3, 2), "float"),
    Case("globalavgpool2d", lambda nn, cnn: nn.GlobalAvgPool2D(), (1, 2, 3, 2), "float"),
    Case("globalavgpool3d_ndhwc", lambda nn, cnn: nn.GlobalAvgPool3D(layout="NDHWC"), (1, 2, 1, 2, 2), "float"),
    Case("reflectionpad2d", lambda nn, cnn: nn.ReflectionPad2D(2), (1, 1, 3, 3), "float"),
    Case("activation_softrelu", lambda nn, cnn: nn.Activation("softrelu"), (2, 3), "float"),
    Case("leakyrelu", lambda nn, cnn: nn.LeakyReLU(0.1), (2, 3), "float"),
    Case("prelu", lambda nn, cnn: nn.PReLU(), (2, 3), "float"),
    Case("prelu_channels", lambda nn, cnn: nn.PReLU(in_channels=3), (2, 3, 2), "float"),
    Case("elu", lambda nn, cnn: nn.ELU(0.5), (2, 3), "float"),
    Case("selu", lambda nn, cnn: nn.SELU(), (2, 3), "float"),
    Case("swish", lambda nn, cnn: nn.Swish(1.5), (2, 3), "float"),
    Case("gelu", lambda nn, cnn: nn.GELU(), (2, 3), "float"),
    Case("identity", lambda nn, cnn: cnn.Identity(), (2, 3), "float"),
    Case("syncbatchnorm", lambda nn, cnn: cnn.SyncBatchNorm(num_devices=1), (3, 2, 2), "float"),
    Case("pixelshuffle1d", lambda nn, cnn: cnn.PixelShuffle1D(2), (1, 4, 3), "float"),
    Case("pixelshuffle2d", lambda nn, cnn: cnn.PixelShuffle2D((2, 3)), (1, 12, 2, 1), "float"),
    Case("pixelshuffle3d", lambda nn, cnn: cnn.PixelShuffle3D((1, 2, 2)), (1, 8, 1, 2, 1), "float"),
]


def stack_cases(nn, cnn):
    """Containers built from the rows above: (id, block, input shape)."""
    seq = nn.HybridSequential()
    with seq.name_scope():
        seq.add(nn.Dense(4, activation="relu"), nn.Dropout(0.5), nn.Dense(2))
    conc = cnn.HybridConcurrent(axis=1)
    with conc.name_scope():
        conc.add(nn.Dense(2), cnn.Identity(), nn.Activation("tanh"))
    return [("hybridsequential", seq, (2, 3)), ("hybridconcurrent", conc, (2, 3))]


def fixed_input(shape, kind):
    """The deterministic input the fixtures were made with."""
    import numpy as np
    n = int(np.prod(shape))
    if kind == "index":
        return (np.arange(n) * 3 % 5).reshape(shape).astype("float32")
    return (np.sin(np.arange(n) * 1.3) * 2).reshape(shape).astype("float32")


def fixed_param(name, shape):
    """Deterministic parameter values for the fixtures: positive for running variances."""
    import numpy as np
    values = np.cos(np.arange(int(np.prod(shape))) * 0.7 + len(name)).reshape(shape)
    return (np.abs(values) + 0.5 if name.endswith("running_var") else values).astype("float32")
