"""Which operators AMP runs in float16, which in float32, and which follow their inputs (mxcy's own
classification of the registered operators, by the same rules as MXNet 1.9.1's lists): matrix products gain
from float16; exponentials, reductions, normalisations over many values and losses need float32's range; ops
mixing several inputs run in the widest input type; everything else is exact in either type."""
from ....ops import registry

# Matrix products: the work float16 speeds up.
FP16_FUNCS = ["Convolution", "Deconvolution", "FullyConnected", "RNN"]

# Ops whose range or accumulation float16 cannot hold.
FP32_FUNCS = [
    "exp", "expm1", "log", "log10", "log2", "log1p", "gamma", "gammaln", "erfinv", "rsqrt", "rcbrt", "reciprocal",
    "arccos", "arcsin", "cosh", "sinh", "tan", "arccosh", "arcsinh", "arctanh", "square", "sqrt", "cbrt",
    "sum", "mean", "prod", "nansum", "nanprod", "norm", "moments", "cumsum",
    "softmax", "log_softmax", "softmin", "SoftmaxActivation", "softmax_cross_entropy", "smooth_l1", "CTCLoss",
    "LRN", "InstanceNorm", "LayerNorm", "GroupNorm", "L2Normalization",
    "linalg_gemm", "linalg_gemm2", "linalg_potrf", "linalg_potri", "linalg_trmm", "linalg_trsm", "linalg_syrk",
    "linalg_gelqf", "linalg_inverse", "linalg_det", "linalg_slogdet", "linalg_sumlogdiag",
    "linalg_extractdiag", "linalg_makediag", "linalg_extracttrian", "linalg_maketrian",
    "topk", "sort", "argsort",
    "SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput", "MakeLoss",
]

# (op, parameter, values): float32 only when the parameter takes one of these values.
CONDITIONAL_FP32_FUNCS = [
    ("Activation", "act_type", ["softrelu"]),
    ("LeakyReLU", "act_type", ["elu", "selu"]),
]

# Ops combining several float inputs: all are cast to the widest of their types.
WIDEST_TYPE_CASTS = [
    "elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div",
    "broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_div", "broadcast_mod", "broadcast_power",
    "broadcast_maximum", "broadcast_minimum", "broadcast_hypot", "broadcast_equal", "broadcast_not_equal",
    "broadcast_greater", "broadcast_greater_equal", "broadcast_lesser", "broadcast_lesser_equal",
    "Concat", "stack", "add_n", "where", "dot", "batch_dot", "khatri_rao",
]

# Loss outputs: their gradient is scaled by the loss scale in imperative (mx.nd) use.
LOSS_OUTPUT_FUNCTIONS = ["SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
                         "MAERegressionOutput"]

_LISTED = set(FP16_FUNCS) | set(FP32_FUNCS) | {name for name, _, _ in CONDITIONAL_FP32_FUNCS} | \
    set(WIDEST_TYPE_CASTS)

# Every other public operator runs in whatever type its inputs have.
FP16_FP32_FUNCS = sorted(name for name in registry.names() if not name.startswith("_") and name not in _LISTED)

# Ops that compute in float16 but keep some parameters in float32 (none here).
FP16_USE_FP32_PARAMS = []
