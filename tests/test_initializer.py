"""mx.init against formulas and against MXNet 1.9.1's own output (tests/fixtures/make_initializer_fixtures.py):
name dispatch, __init__ precedence, constant fills, moments of the random ones, Xavier/MSRA scales, orthogonality,
Bilinear and FusedRNN layouts, Mixed, Load, dumps/create, registration and seeding."""
import json
import logging
import os
import zlib

import numpy as np
import pytest

import mxcy as mx

with open(os.path.join(os.path.dirname(__file__), "fixtures", "initializer_reference.json")) as _f:
    REF = json.load(_f)


def run(init, name, shape, attrs=None, ctx=None, dtype="float32"):
    arr = mx.nd.full(shape, -99.0, ctx=ctx or mx.cpu(), dtype=dtype)
    init(mx.init.InitDesc(name, attrs), arr)
    return arr.asnumpy()


# --- name dispatch and the parameter's own __init__ ---------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [("fc1_bias", 0.0), ("bn_gamma", 1.0), ("bn_beta", 0.0),
                                            ("q_min", 0.0), ("q_max", 1.0), ("fc1_bias_quantize", 0.0)])
def test_name_suffix_picks_the_fill(name, expected):
    np.testing.assert_array_equal(run(mx.init.Uniform(), name, (3, 4)), np.full((3, 4), expected))


def test_weight_suffix_goes_to_init_weight():
    assert np.all(run(mx.init.Constant(4.0), "conv0_weight", (2, 3)) == 4.0)


def test_unknown_pattern_is_a_value_error_naming_the_parameter():
    with pytest.raises(ValueError, match="bn_moving_mean"):
        run(mx.init.Uniform(), "bn_moving_mean", (3,))


@pytest.mark.parametrize("own, value", [(mx.init.One().dumps(), 1.0), ("ones", 1.0), (mx.init.Constant(3.0), 3.0),
                                        (mx.init.Constant(3.0).dumps(), 3.0)])
def test_parameter_init_attr_takes_precedence_over_the_name(own, value):
    np.testing.assert_array_equal(run(mx.init.Zero(), "fc_bias", (2, 2), {"__init__": own}), np.full((2, 2), value))


@pytest.mark.parametrize("empty", ["", None])
def test_empty_init_attr_falls_back_to_the_name(empty):
    np.testing.assert_array_equal(run(mx.init.One(), "x_gamma", (2,), {"__init__": empty}), [1.0, 1.0])


def test_call_sets_global_init_to_the_caller():
    init, desc = mx.init.Zero(), mx.init.InitDesc("w_weight")
    init(desc, mx.nd.ones((2,)))
    assert desc.global_init is init and desc == "w_weight" and desc.attrs == {}


def test_quantized_weight_is_int8_in_range():
    mx.random.seed(3)
    values = run(mx.init.Xavier(), "conv_weight_quantize", (40, 50), dtype="int8")
    assert values.min() >= -127 and values.max() < 127 and len(np.unique(values)) > 100


@pytest.mark.parametrize("name, expected", [("bn_moving_var", np.ones(6)), ("bn_moving_mean", np.zeros(6)),
                                            ("bn_moving_inv_var", np.zeros(6)), ("x_moving_avg", np.zeros(6)),
                                            ("stn_loc_bias", [1.0, 0, 0, 0, 1.0, 0]), ("fc_bias", np.zeros(6)),
                                            ("stn_loc_weight", np.zeros(6)), ("fc_weight", np.full(6, 2.0))])
def test_legacy_string_names_warn_and_follow_the_old_rules(name, expected):
    arr = mx.nd.full((6,), -99.0)
    with pytest.warns(DeprecationWarning):
        mx.init.Constant(2.0)(name, arr)
    np.testing.assert_array_equal(arr.asnumpy(), expected)


def test_legacy_upsampling_name_gets_the_bilinear_kernel():
    arr = mx.nd.zeros((1, 1, 4, 4))
    with pytest.warns(DeprecationWarning):
        mx.init.Zero()("upsampling0_weight", arr)
    one_d = np.array([0.25, 0.75, 0.75, 0.25])
    np.testing.assert_array_equal(arr.asnumpy()[0, 0], np.outer(one_d, one_d))


def test_legacy_type_errors():
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="NDArray"):
        mx.init.Zero()("fc_weight", np.zeros(3))


# --- constants ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("init, expected", [
    (mx.init.Zero(), np.zeros((2, 3))), (mx.init.One(), np.ones((2, 3))),
    (mx.init.Constant(-1.5), np.full((2, 3), -1.5)),
    (mx.init.Constant(np.arange(6.0).reshape(2, 3)), np.arange(6.0).reshape(2, 3)),
    (mx.init.Constant(mx.nd.array([[1, 2, 3]])), np.array([[1, 2, 3]] * 2)),
    (mx.init.Constant([[7, 8, 9], [1, 2, 3]]), np.array([[7, 8, 9], [1, 2, 3]]))])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_constant_fills_exactly(init, expected, dtype):
    values = run(init, "fc_weight", (2, 3), dtype=dtype)
    assert values.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(values, expected.astype(dtype))


def test_constant_dumps_arrays_as_lists_like_mxnet():
    for value in (mx.nd.ones((2, 3)), np.ones((2, 3))):
        init = mx.init.Constant(value)
        assert init.dumps() == json.dumps(["constant", init._kwargs])
        assert json.loads(init.dumps())[1]["value"] == [[1.0] * 3] * 2
    assert mx.init.Constant(1).dumps() == '["constant", {"value": 1}]'


def test_numpy_scalar_arguments_dump_as_numbers():
    assert mx.init.Constant(np.float32(0.5)).dumps() == '["constant", {"value": 0.5}]'
    assert mx.init.create(mx.init.Uniform(np.float64(0.25)).dumps()) == mx.init.Uniform(0.25)


def test_constant_from_dumps_fills_the_array_it_described():
    init = mx.init.create(mx.init.Constant(np.array([[1.0, 2.0]])).dumps())
    np.testing.assert_array_equal(run(init, "w_weight", (3, 2)), [[1, 2]] * 3)


def test_lstm_bias_sets_the_second_quarter():
    values = run(mx.init.LSTMBias(forget_bias=2.5), "lstm_i2h_bias", (20,), attrs={"__init__": mx.init.LSTMBias(2.5)})
    np.testing.assert_array_equal(values, np.r_[np.zeros(5), np.full(5, 2.5), np.zeros(10)])


# --- random draws: moments and bounds ------------------------------------------------------------------------------
SHAPE = (200, 250)  # 50 000 draws: the standard error of a variance estimate is below 1%


def check_uniform(values, bound):
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.999 * bound
    assert abs(values.mean()) < 0.02 * bound
    assert values.var() == pytest.approx(bound ** 2 / 3, rel=0.04)


def check_normal(values, sigma):
    assert abs(values.mean()) < 0.02 * sigma
    assert values.std() == pytest.approx(sigma, rel=0.03)
    # the fourth moment separates a normal (3 sigma^4) from a uniform (1.8 sigma^4)
    assert np.mean(values.astype(np.float64) ** 4) == pytest.approx(3 * sigma ** 4, rel=0.1)


@pytest.mark.parametrize("scale", [0.07, 2.0])
def test_uniform_moments_and_bounds(scale):
    mx.random.seed(11)
    check_uniform(run(mx.init.Uniform(scale), "fc_weight", SHAPE), scale)


def test_uniform_default_scale():
    mx.random.seed(12)
    check_uniform(run(mx.init.Uniform(), "fc_weight", SHAPE), 0.07)


@pytest.mark.parametrize("sigma", [0.01, 3.0])
def test_normal_moments(sigma):
    mx.random.seed(13)
    check_normal(run(mx.init.Normal(sigma), "fc_weight", SHAPE), sigma)


XAVIER_SHAPES = [(250, 200), (40, 30, 3, 3), (60, 20, 5), (4, 6, 3, 5, 5)]


def xavier_scale(shape, factor_type, magnitude):
    receptive = np.prod(shape[2:]) if len(shape) > 2 else 1
    fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
    factor = {"avg": (fan_in + fan_out) / 2, "in": fan_in, "out": fan_out}[factor_type]
    return np.sqrt(magnitude / factor)


@pytest.mark.parametrize("shape", XAVIER_SHAPES)
@pytest.mark.parametrize("factor_type", ["avg", "in", "out"])
@pytest.mark.parametrize("rnd_type, magnitude", [("uniform", 3), ("gaussian", 2.34)])
def test_xavier_scale_from_fans(shape, factor_type, rnd_type, magnitude):
    mx.random.seed(21)
    values = run(mx.init.Xavier(rnd_type, factor_type, magnitude), "conv_weight", shape)
    scale = xavier_scale(shape, factor_type, magnitude)
    if rnd_type == "uniform":
        assert np.abs(values).max() <= scale * (1 + 1e-6)
        assert values.var() == pytest.approx(scale ** 2 / 3, rel=0.08)
    else:
        assert values.std() == pytest.approx(scale, rel=0.08)


@pytest.mark.parametrize("factor_type", ["avg", "in", "out"])
@pytest.mark.parametrize("slope", [0.25, 0.0, 1.0])
def test_msra_prelu_is_gaussian_with_magnitude_from_slope(factor_type, slope):
    mx.random.seed(22)
    shape = (40, 30, 3, 3)
    values = run(mx.init.MSRAPrelu(factor_type, slope), "conv_weight", shape)
    check_normal(values, xavier_scale(shape, factor_type, 2.0 / (1 + slope ** 2)))


def test_msra_prelu_defaults_and_kwargs():
    init = mx.init.MSRAPrelu()
    assert init.rnd_type == "gaussian" and init.factor_type == "avg" and init.magnitude == pytest.approx(2 / 1.0625)
    assert init._kwargs == {"factor_type": "avg", "slope": 0.25}


@pytest.mark.parametrize("init, message", [(mx.init.Xavier(), "vector"), (mx.init.Xavier(factor_type="fan"), "fan"),
                                           (mx.init.Xavier(rnd_type="cauchy"), "cauchy")])
def test_xavier_errors(init, message):
    shape = (5,) if message == "vector" else (3, 4)
    with pytest.raises(ValueError, match=message):
        run(init, "fc_weight", shape)


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 2, 3, 3), (5, 5)])
@pytest.mark.parametrize("rand_type", ["uniform", "normal"])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, rand_type):
    mx.random.seed(31)
    w = run(mx.init.Orthogonal(scale=1.5, rand_type=rand_type), "fc_weight", shape).reshape(shape[0], -1)
    w = w.astype(np.float64)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(gram, 1.5 ** 2 * np.eye(min(w.shape)), atol=1e-5)


def test_orthogonal_default_scale_and_bad_rand_type():
    mx.random.seed(32)
    w = run(mx.init.Orthogonal(), "fc_weight", (3, 8)).astype(np.float64)
    np.testing.assert_allclose(w @ w.T, 1.414 ** 2 * np.eye(3), atol=1e-5)
    with pytest.raises(ValueError, match="poisson"):
        run(mx.init.Orthogonal(rand_type="poisson"), "fc_weight", (3, 8))


@pytest.mark.parametrize("init", [mx.init.Uniform(0.3), mx.init.Normal(2.0), mx.init.Xavier("gaussian"),
                                  mx.init.Orthogonal(), mx.init.MSRAPrelu()])
def test_random_initializers_repeat_under_the_same_seed(init):
    mx.random.seed(5)
    first = run(init, "fc_weight", (6, 7))
    mx.random.seed(5)
    again = run(init, "fc_weight", (6, 7))
    mx.random.seed(6)
    other = run(init, "fc_weight", (6, 7))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


# --- Bilinear and FusedRNN against MXNet 1.9.1 ---------------------------------------------------------------------
@pytest.mark.parametrize("case", REF["bilinear"], ids=lambda c: str(c["shape"]))
def test_bilinear_matches_mxnet(case):
    np.testing.assert_array_equal(run(mx.init.Bilinear(), "up_weight", tuple(case["shape"])),
                                  np.array(case["value"], dtype=np.float32))


def test_bilinear_formula_on_a_4x4_kernel():
    arr = mx.nd.empty((1, 1, 4, 4))
    mx.init.Bilinear()._init_weight(None, arr)
    one_d = np.array([1 / 4, 3 / 4, 3 / 4, 1 / 4])
    np.testing.assert_array_equal(arr.asnumpy()[0, 0], np.outer(one_d, one_d))


def test_bilinear_needs_4d():
    with pytest.raises(mx.MXNetError, match=r"4-D.*\(3, 3\)"):
        run(mx.init.Bilinear(), "up_weight", (3, 3))


class NameCoded(mx.init.Initializer):
    """Each piece holds a code of its name plus its element index / 1000 (negated for biases)."""

    @staticmethod
    def fill(name, arr, sign):
        code = zlib.crc32(str(name).encode()) % 997
        arr[:] = sign * (code + np.arange(arr.size) / 1000.0).reshape(arr.shape)

    def _init_weight(self, name, arr):
        self.fill(name, arr, 1)

    def _init_bias(self, name, arr):
        self.fill(name, arr, -1)


@pytest.mark.parametrize("case", REF["fused_rnn"], ids=lambda c: f"{c['mode']}-{c['num_layers']}-{c['init']}")
@pytest.mark.parametrize("ctx", [mx.cpu(), mx.gpu(0)], ids=["cpu", "gpu"])
def test_fused_rnn_layout_matches_mxnet(case, ctx):
    expected = np.array(case["value"], dtype=np.float32)
    arr = mx.nd.zeros(expected.shape, ctx=ctx)
    if case["init"] == "own":
        fused = mx.init.FusedRNN(NameCoded(), case["num_hidden"], case["num_layers"], case["mode"],
                                 case["bidirectional"], forget_bias=0.5)
        fused._init_weight(mx.init.InitDesc("parameters"), arr)
    else:
        fused = mx.init.FusedRNN(None, case["num_hidden"], case["num_layers"], case["mode"], case["bidirectional"],
                                 forget_bias=0.5)
        NameCoded()(mx.init.InitDesc("rnn_parameters", {"__init__": fused}), arr)
    assert arr.context == ctx
    np.testing.assert_allclose(arr.asnumpy(), expected, rtol=1e-6)


def test_fused_rnn_layout_names_and_shapes():
    pieces = mx.init.fused_rnn_layout("gru", 2, True, 3, 2 * 3 * 3 * (4 + 3 + 2) + 2 * 3 * 3 * (6 + 3 + 2))
    names = [name for name, _, _ in pieces]
    assert names[:6] == ["l0_i2h_r_weight", "l0_i2h_z_weight", "l0_i2h_o_weight",
                         "l0_h2h_r_weight", "l0_h2h_z_weight", "l0_h2h_o_weight"]
    assert names[6] == "r0_i2h_r_weight" and names[-1] == "r1_h2h_o_bias"
    shapes = dict((name, shape) for name, _, shape in pieces)
    assert shapes["l0_i2h_r_weight"] == (3, 4) and shapes["r1_i2h_z_weight"] == (3, 6)
    assert shapes["l1_h2h_o_weight"] == (3, 3) and shapes["l0_i2h_r_bias"] == (3,)
    ends = [offset + int(np.prod(shape)) for _, offset, shape in pieces]
    assert [offset for _, offset, _ in pieces[1:]] == ends[:-1]


@pytest.mark.parametrize("args, size, message", [(("lstm", 1, False, 4), 37, "37 parameters"),
                                                 (("lstm", 1, False, 4), 4 * 4 * 6, "parameters do not fit"),
                                                 (("conv", 1, False, 4), 100, "unknown mode")])
def test_fused_rnn_layout_errors(args, size, message):
    with pytest.raises(mx.MXNetError, match=message):
        mx.init.fused_rnn_layout(*args, size)


def test_fused_rnn_without_any_initializer_is_an_error():
    with pytest.raises(mx.MXNetError, match="no initializer"):
        mx.init.FusedRNN(None, 2, 1, "gru")._init_weight("parameters", mx.nd.zeros((3 * 2 * 6,)))


def test_fused_rnn_dumps_like_mxnet_and_round_trips():
    fused = mx.init.FusedRNN(mx.init.Uniform(0.1), 4, 2, "lstm", True)
    assert json.loads(fused.dumps()) == json.loads(REF["dumps"]["fusedrnn"])
    again = mx.init.create(fused.dumps())
    assert again == fused and again._init == mx.init.Uniform(0.1)


# --- Mixed and Load ------------------------------------------------------------------------------------------------
def test_mixed_uses_the_first_matching_pattern():
    mixed = mx.init.Mixed(["fc1_.*", "fc.*", ".*"],
                          [mx.init.Constant(1.0), mx.init.Constant(2.0), mx.init.Constant(3.0)])
    # patterns match at the start of the name (re.match); the chosen initializer still dispatches by suffix
    for name, expected in [("fc1_weight", 1.0), ("fc10_weight", 2.0), ("bn_fc1_weight", 3.0),
                           ("fc1_bias", 0.0), ("x_gamma", 1.0)]:
        arr = mx.nd.full((2,), -9.0)
        mixed(mx.init.InitDesc(name), arr)
        np.testing.assert_array_equal(arr.asnumpy(), [expected] * 2)


def test_mixed_errors():
    with pytest.raises(ValueError, match="fc_weight did not match.*bias"):
        mx.init.Mixed(["bias"], [mx.init.Zero()])(mx.init.InitDesc("fc_weight"), mx.nd.zeros((2,)))
    with pytest.raises(mx.MXNetError, match="2 patterns but 1"):
        mx.init.Mixed(["a", "b"], [mx.init.Zero()])


@pytest.fixture
def saved_params(tmp_path):
    path = str(tmp_path / "net.params")
    mx.nd.save(path, {"arg:fc_weight": mx.nd.array([[1, 2], [3, 4]]), "aux:bn_moving_var": mx.nd.array([5, 6]),
                      "plain_bias": mx.nd.array([7.0])})
    return path


def test_load_from_file_drops_prefixes_and_defaults_the_rest(saved_params, caplog):
    loader = mx.init.Load(saved_params, default_init=mx.init.Constant(9.0), verbose=True)
    assert sorted(loader.param) == ["bn_moving_var", "fc_weight", "plain_bias"]
    expected = {"fc_weight": [[1, 2], [3, 4]], "bn_moving_var": [5, 6], "plain_bias": [7], "other_weight": [9, 9, 9]}
    with caplog.at_level(logging.INFO):
        for name, value in expected.items():
            arr = mx.nd.zeros(np.shape(value))
            loader(mx.init.InitDesc(name), arr)
            np.testing.assert_array_equal(arr.asnumpy(), value)
    assert "Initialized fc_weight by loading" in caplog.text and "Initialized other_weight by default" in caplog.text


def test_load_errors(saved_params):
    loader = mx.init.Load(mx.nd.load(saved_params))
    with pytest.raises(mx.MXNetError, match=r"fc_weight.*\(2, 3\) vs loaded \(2, 2\)"):
        loader(mx.init.InitDesc("fc_weight"), mx.nd.zeros((2, 3)))
    with pytest.raises(mx.MXNetError, match="missing_weight.*no default_init"):
        loader(mx.init.InitDesc("missing_weight"), mx.nd.zeros((2,)))
    with pytest.raises(mx.MXNetError, match="list"):
        mx.init.Load([mx.nd.zeros((1,))])


# --- dumps / create / register -------------------------------------------------------------------------------------
INITS = {"zero": mx.init.Zero(), "one": mx.init.One(), "constant": mx.init.Constant(2.5),
         "uniform": mx.init.Uniform(), "normal": mx.init.Normal(0.5), "orthogonal": mx.init.Orthogonal(),
         "xavier": mx.init.Xavier(factor_type="in", magnitude=2.34), "msraprelu": mx.init.MSRAPrelu("out", 0.1),
         "bilinear": mx.init.Bilinear(), "lstmbias": mx.init.LSTMBias(0.7)}


@pytest.mark.parametrize("name", sorted(INITS))
def test_dumps_matches_mxnet_and_create_reads_it_back(name):
    init = INITS[name]
    assert json.loads(init.dumps()) == json.loads(REF["dumps"][name])
    again = mx.init.create(init.dumps())
    assert type(again) is type(init) and again == init


@pytest.mark.parametrize("spec, kwargs, expected", [
    ("zeros", {}, mx.init.Zero()), ("ONES", {}, mx.init.One()), ("Xavier", {}, mx.init.Xavier()),
    ("uniform", {"scale": 0.2}, mx.init.Uniform(0.2)),
    ({"initializer": "normal", "sigma": 2.0}, {}, mx.init.Normal(2.0)),
    ('{"initializer": "msraprelu", "slope": 0.5}', {}, mx.init.MSRAPrelu(slope=0.5))])
def test_create_from_names_dicts_and_json(spec, kwargs, expected):
    assert mx.init.create(spec, **kwargs) == expected
    assert mx.initializer.create(initializer=spec, **kwargs) == expected


def test_create_returns_an_instance_unchanged():
    init = mx.init.Normal(3.0)
    assert mx.init.create(init) is init
    with pytest.raises(mx.MXNetError, match="already an instance"):
        mx.init.create(init, sigma=1.0)


def test_unknown_name_error_lists_the_registered_ones():
    with pytest.raises(mx.MXNetError, match=r"'nosuch' is not registered.*xavier.*zeros"):
        mx.init.create("nosuch")
    with pytest.raises(mx.MXNetError, match="Load"):
        mx.init.create(mx.init.Load({}))


@pytest.fixture
def unregister():
    table = mx.registry._REGISTRY[mx.init.Initializer]
    before = dict(table)
    yield
    table.clear()
    table.update(before)


def test_register_a_custom_initializer(unregister):
    @mx.init.register
    @mx.init.alias("tenth")
    class PointOne(mx.init.Initializer):
        def _init_weight(self, _, arr):
            arr[:] = 0.1

        def _init_bias(self, _, arr):
            arr[:] = 1.0

    assert "pointone" in mx.registry.get_registry(mx.init.Initializer)
    for spec in ("PointOne", "tenth", '["pointone", {}]'):
        np.testing.assert_allclose(run(mx.init.create(spec), "fc_weight", (2,)), [0.1, 0.1])
        np.testing.assert_array_equal(run(mx.init.create(spec), "fc_bias", (2,)), [1.0, 1.0])
    np.testing.assert_allclose(run(mx.init.Zero(), "fc_bias", (2,), {"__init__": "tenth"}), [0.1, 0.1])
    with pytest.warns(UserWarning, match="overriding"):
        mx.init.register(type("Zeros", (mx.init.Initializer,), {}))


def test_register_rejects_a_non_initializer():
    with pytest.raises(mx.MXNetError, match="subclass of Initializer"):
        mx.init.register(dict)


def test_verbose_logs_the_root_mean_square(caplog):
    init = mx.init.Constant(3.0).set_verbosity(True)
    with caplog.at_level(logging.INFO):
        run(init, "fc_weight", (4, 4))
        run(init, "fc_bias", (4,), {"__init__": "zeros"})
    assert "Initialized fc_weight as weight: 3.0" in caplog.text and "Initialized fc_bias as zeros: 0.0" in caplog.text
    custom = mx.init.One().set_verbosity(True, print_func=lambda arr: f"sum={arr.sum().asscalar()}")
    with caplog.at_level(logging.INFO):
        run(custom, "z_gamma", (5,))
    assert "Initialized z_gamma as gamma: sum=5.0" in caplog.text


def test_module_names():
    assert mx.init is mx.initializer and {"init", "initializer", "registry"} <= set(mx.__all__)
    assert mx.init.NDArray is mx.nd.NDArray and mx.init.load is mx.nd.load


# --- other contexts ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("init", [mx.init.Uniform(0.5), mx.init.Xavier("gaussian"), mx.init.Orthogonal(),
                                  mx.init.Constant(np.ones((4, 6)))])
def test_initializers_write_on_the_arrays_context(init):
    mx.random.seed(41)
    values = run(init, "fc_weight", (4, 6), ctx=mx.gpu(0))
    assert np.isfinite(values).all() and not np.any(values == -99.0)


def test_fused_rnn_needs_a_vector():
    with pytest.raises(mx.MXNetError, match=r"vector.*\(6, 6\)"):
        mx.init.FusedRNN(mx.init.Zero(), 2, 1, "gru")._init_weight("parameters", mx.nd.zeros((6, 6)))


# --- the attributes symbols give their variables (what Module.init_params passes) ----------------------------------
@pytest.mark.parametrize("sym, shapes, expected", [
    (mx.sym.BatchNorm(mx.sym.Variable("data"), name="bn"), {"data": (2, 3, 4)},
     {"bn_gamma": 1.0, "bn_beta": 0.0, "bn_moving_mean": 0.0, "bn_moving_var": 1.0}),
    (mx.sym.LeakyReLU(mx.sym.Variable("data"), act_type="prelu", name="lr"), {"data": (2, 3)}, {"lr_gamma": 0.25}),
    (mx.sym.LeakyReLU(mx.sym.Variable("data"), gamma=mx.sym.Variable("g", init=mx.init.One()), act_type="prelu"),
     {"data": (2, 3)}, {"g": 1.0})])
def test_symbol_variable_attributes_drive_the_initializer(sym, shapes, expected):
    arg_shapes, _, aux_shapes = sym.infer_shape(**shapes)
    names = sym.list_arguments() + sym.list_auxiliary_states()
    attrs = sym.attr_dict()
    for name, shape in zip(names, arg_shapes + aux_shapes):
        if name in expected:
            arr = mx.nd.full(shape, -9.0)
            mx.init.Uniform()(mx.init.InitDesc(name, attrs.get(name, {})), arr)
            np.testing.assert_array_equal(arr.asnumpy(), np.full(shape, expected[name]), err_msg=name)
