"""Layers against NumPy and finite differences: Linear, activations, Conv2d and Conv1d (sizes
against PyTorch's formula), Flatten, losses, and nn.init."""

import math

import numpy as np
import pytest
from conv_helpers import conv_cases, loop_conv1d, loop_conv2d, pytorch_side, too_small_sides
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, autograd, gradcheck, gradgradcheck, nn, ops

seeds = st.integers(0, 2**32 - 1)


# ------------------------------------------------------------------------------- Linear
@given(
    batch=st.integers(1, 6),
    fan_in=st.integers(1, 6),
    fan_out=st.integers(1, 6),
    bias=st.booleans(),
    seed=seeds,
)
def test_linear_computes_x_at_w_plus_b_and_its_gradients(batch, fan_in, fan_out, bias, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Linear(fan_in, fan_out, bias=bias, rng=rng)
    assert layer.weight.shape == (fan_in, fan_out)  # the notebook's layout, not PyTorch's
    assert (layer.bias is None) == (not bias)
    x = Tensor(rng.standard_normal((batch, fan_in)), requires_grad=True)
    expected = x.data @ layer.weight.data + (layer.bias.data if bias else 0)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12, atol=1e-14)
    params = [layer.weight] + ([layer.bias] if bias else [])
    gradcheck(lambda x, *ps: layer(x), [x, *params])


def test_linear_accepts_leading_batch_axes():
    rng = np.random.default_rng(0)
    layer = nn.Linear(3, 2, rng=rng)
    x = Tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    np.testing.assert_allclose(layer(x).data, x.data @ layer.weight.data + layer.bias.data)
    gradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])


@given(seed=st.integers(0, 2**31 - 1), fan_in=st.integers(1, 8), fan_out=st.integers(1, 8))
def test_linear_init_option_draws_exactly_what_the_notebook_draws(seed, fan_in, fan_out):
    r = 1 / 7
    layer = nn.Linear(fan_in, fan_out, init=nn.init.uniform(-r, r), rng=np.random.RandomState(seed))
    expected = np.random.RandomState(seed).uniform(-r, r, (fan_in, fan_out))
    np.testing.assert_array_equal(layer.weight.data, expected)
    np.testing.assert_array_equal(layer.bias.data, np.zeros(fan_out))  # biases draw nothing
    again = nn.Linear(fan_in, fan_out, init=nn.init.uniform(-r, r), rng=np.random.RandomState(seed))
    np.testing.assert_array_equal(again.weight.data, layer.weight.data)


def test_linear_default_init_is_reproducible_and_bounded_by_one_over_sqrt_fan_in():
    a = nn.Linear(50, 40, rng=np.random.default_rng(3))
    b = nn.Linear(50, 40, rng=np.random.default_rng(3))
    c = nn.Linear(50, 40, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    bound = 1 / math.sqrt(50)
    assert np.abs(a.weight.data).max() <= bound and np.abs(a.weight.data).max() > 0.9 * bound
    assert np.abs(a.bias.data).max() <= bound


def test_linear_in_float32_stays_float32():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(5), dtype=np.float32)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    out = layer(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32


def test_linear_names_itself_and_the_shapes_on_wrong_input():
    layer = nn.Linear(3, 12)
    with pytest.raises(ValueError) as err:
        layer(Tensor(np.zeros((400, 5))))
    assert str(err.value) == "Linear(3 → 12) expects input (..., 3), got (400, 5)"
    with pytest.raises(ValueError, match=r"Linear\(3 → 12\) expects input \(\.\.\., 3\), got \(\)"):
        layer(Tensor(1.0))


def test_linear_rejects_non_positive_features():
    with pytest.raises(ValueError, match="features must be positive, got 0 → 4"):
        nn.Linear(0, 4)


# ------------------------------------------------------------------------------- activations
ACTIVATIONS = {
    "ReLU": (nn.ReLU, lambda z: np.maximum(z, 0)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), lambda z: np.where(z > 0, z, 0.1 * z)),
    "Sigmoid": (nn.Sigmoid, lambda z: 1 / (1 + np.exp(-z))),
    "Tanh": (nn.Tanh, np.tanh),
    "Identity": (nn.Identity, lambda z: z),
}
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@given(name=st.sampled_from(sorted(ACTIVATIONS)), shape=shapes, seed=seeds)
def test_activation_forward_and_gradient_against_finite_differences(name, shape, seed):
    make, numpy_fn = ACTIVATIONS[name]
    rng = np.random.default_rng(seed)
    values = rng.uniform(-3, 3, shape)
    values[np.abs(values) < 1e-3] = 0.5  # keep away from the kink at 0, where ReLU has no slope
    x = Tensor(values, requires_grad=True)
    layer = make()
    np.testing.assert_allclose(layer(x).data, numpy_fn(values), rtol=1e-12)
    gradcheck(layer, [x])


def test_relu_slope_at_zero_is_zero_as_in_the_notebook():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    nn.ReLU()(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


def test_sigmoid_is_stable_for_large_inputs():
    x = Tensor(np.array([-800.0, 800.0]), requires_grad=True)
    out = nn.Sigmoid()(x)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [0.0, 1.0])
    assert np.all(np.isfinite(x.grad))


# ------------------------------------------------------------------------------- Conv2d
@given(case=conv_cases())
def test_conv2d_op_matches_a_direct_loop_convolution_and_finite_differences(case):
    """Strides, paddings and dilations of any (height, width), groups, floored sides."""
    rng = np.random.default_rng(case["seed"])
    x = Tensor(rng.standard_normal((case["batch"], case["in_channels"], *case["size"])))
    x.requires_grad = True
    shape = (case["out_channels"], case["in_channels"] // case["groups"], *case["kernel"])
    w = Tensor(rng.standard_normal(shape), requires_grad=True)
    b = Tensor(rng.standard_normal(case["out_channels"]), requires_grad=True)
    params = [w, b] if case["bias"] else [w]
    settings = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    expected = loop_conv2d(x.data, w.data, b.data if case["bias"] else None, **settings)
    out = ops.Conv2d.apply(x, *params, **settings)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, *ps: ops.Conv2d.apply(x, *ps, **settings), [x, *params])
    assert gradgradcheck(lambda x, *ps: ops.Conv2d.apply(x, *ps, **settings), [x, *params])


@given(case=conv_cases())
def test_conv2d_backward_ops_are_themselves_twice_differentiable(case):
    """The gradients at x (a transposed convolution) and at w (a correlation) for an upstream
    v, recorded, checked to second order: through their backward (a convolution and each
    other) and those backward's own."""
    rng = np.random.default_rng(case["seed"])
    x = Tensor(rng.standard_normal((case["batch"], case["in_channels"], *case["size"])), True)
    shape = (case["out_channels"], case["in_channels"] // case["groups"], *case["kernel"])
    w = Tensor(rng.standard_normal(shape), requires_grad=True)
    settings = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    v = Tensor(rng.standard_normal(ops.Conv2d.apply(x, w, **settings).shape), True)
    for wrt in (0, 1):  # the input's gradient, then the weights'

        def gradient(x, w, v, wrt=wrt):
            out = ops.Conv2d.apply(x, w, **settings)
            return autograd.grad(out, [x, w], v, create_graph=True)[wrt]

        assert gradgradcheck(gradient, [x, w, v])


def unread(n, k, s, p, d, out):
    """The input positions along one side that no window reads."""
    read = {o * s + i * d - p for o in range(out) for i in range(k)}
    return [m for m in range(n) if m not in read]


@given(case=conv_cases())
def test_conv2d_layer_floors_as_pytorch_matches_a_loop_and_gives_zero_where_no_window_reads(case):
    rng = np.random.default_rng(case["seed"])
    settings = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    layer = nn.Conv2d(
        case["in_channels"],
        case["out_channels"],
        case["kernel"],
        **settings,
        bias=case["bias"],
        rng=rng,
    )
    x = Tensor(rng.standard_normal((case["batch"], case["in_channels"], *case["size"])), True)
    keys = ("size", "kernel", "stride", "padding", "dilation")
    sides = list(zip(*(case[key] for key in keys), strict=True))
    expected_size = tuple(pytorch_side(*side) for side in sides)
    out = layer(x)
    assert out.shape[2:] == expected_size == layer.output_size(*case["size"])
    bias = layer.bias.data if case["bias"] else None
    np.testing.assert_allclose(
        out.data, loop_conv2d(x.data, layer.weight.data, bias, **settings), rtol=1e-12, atol=1e-12
    )
    out.backward(rng.standard_normal(out.shape))
    rows, cols = (unread(*side, o) for side, o in zip(sides, expected_size, strict=True))
    assert not x.grad[:, :, rows].any() and not x.grad[:, :, :, cols].any()


@given(side=too_small_sides(), layer_kind=st.sampled_from(["Conv1d", "Conv2d"]))
def test_a_kernel_that_does_not_fit_names_the_size_kernel_stride_padding_and_output(
    side, layer_kind
):
    n, k, s, p, d = (side[key] for key in ("size", "kernel", "stride", "padding", "dilation"))
    dims = 1 if layer_kind == "Conv1d" else 2
    layer = getattr(nn, layer_kind)(2, 3, k, stride=s, padding=p, dilation=d)
    sizes = (n,) if dims == 1 else (n + 2 * d * k, n)  # the height fits: the width does not
    dilated = f", dilation {d}" if d != 1 else ""
    named = (
        rf"{layer_kind}: the input's {'length' if dims == 1 else 'width'} \(shape \(4, 2, "
        rf".*: input size {n} is too small for kernel {k}{dilated}, stride {s}, padding {p}: "
        rf"the output size floor\(.*\) \+ 1 = {pytorch_side(n, k, s, p, d)} is less than 1"
    )
    with pytest.raises(ops.OutputSizeError, match=named):
        layer(Tensor(np.zeros((4, 2, *sizes))))
    with pytest.raises(ops.OutputSizeError, match=named.replace("4, 2", "1, 2")):
        layer.output_size(*sizes)


@given(case=conv_cases())
def test_conv1d_floors_as_pytorch_and_matches_a_loop_and_finite_differences(case):
    """The width of a 2-D case as the length: strides, paddings, dilations and groups."""
    rng = np.random.default_rng(case["seed"])
    k, s, p, d = (case[key][1] for key in ("kernel", "stride", "padding", "dilation"))
    layer = nn.Conv1d(
        case["in_channels"], case["out_channels"], k, s, p, d, case["groups"], case["bias"],
        rng=rng,
    )  # fmt: skip
    length = case["size"][1]
    x = Tensor(rng.standard_normal((case["batch"], case["in_channels"], length)), True)
    out = layer(x)
    assert layer.weight.shape == (case["out_channels"], case["in_channels"] // case["groups"], k)
    assert out.shape[2:] == (pytorch_side(length, k, s, p, d),) == layer.output_size(length)
    bias = layer.bias.data if case["bias"] else None
    expected = loop_conv1d(x.data, layer.weight.data, bias, s, p, d, case["groups"])
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, *params: layer(x), [x, *layer.parameters()])
    assert gradgradcheck(lambda x, *params: layer(x), [x, *layer.parameters()])


def test_conv1d_input_must_be_n_c_l():
    with pytest.raises(
        ValueError, match=r"Conv1d\(3 → 8\) expects input \(N, 3, L\), got \(2, 3, 5, 5\)"
    ):
        nn.Conv1d(3, 8, 3)(Tensor(np.zeros((2, 3, 5, 5))))
    with pytest.raises(ValueError, match=r"got \(3, 5\)"):  # PyTorch takes (C, L) too
        nn.Conv1d(3, 8, 3)(Tensor(np.zeros((3, 5))))
    with pytest.raises(
        ValueError, match=r"Conv1d: kernel_size must be an integer or a 1-tuple of one"
    ):
        nn.Conv1d(3, 8, (3, 3))


def test_conv2d_parameters_are_laid_out_as_in_pytorch():
    layer = nn.Conv2d(3, 14, 4, rng=np.random.default_rng(0))
    assert layer.weight.shape == (14, 3, 4, 4)
    assert layer.bias.shape == (14,)
    assert layer.num_parameters() == 4 * 4 * 3 * 14 + 14
    assert nn.Conv2d(1, 2, (2, 3), bias=False).weight.shape == (2, 1, 2, 3)
    assert [name for name, _ in nn.Conv2d(1, 2, 3, bias=False).named_parameters()] == ["weight"]


def test_conv2d_output_size_follows_the_course_formula():
    # Part B of the lab: N=30, F=3, S=1, P=1 gives 30
    layer = nn.Conv2d(1, 1, 3, stride=1, padding=1, rng=np.random.default_rng(0))
    assert layer.output_size(30, 30) == (30, 30)
    assert layer(Tensor(np.zeros((1, 1, 30, 30)))).shape == (1, 1, 30, 30)


def test_conv2d_kernel_that_does_not_fit_the_padded_input_is_a_value_error():
    layer = nn.Conv2d(1, 1, 5, padding=1)
    with pytest.raises(ValueError, match=r"height \(shape \(1, 1, 2, 6\)\): input size 2 is too"):
        layer(Tensor(np.zeros((1, 1, 2, 6))))


def test_conv2d_wrong_channel_count_names_the_layer():
    layer = nn.Conv2d(3, 8, 3)
    with pytest.raises(
        ValueError,
        match=r"Conv2d\(3 → 8\) expects input \(N, 3, H, W\), got "
        r"\(2, 4, 5, 5\)",
    ):
        layer(Tensor(np.zeros((2, 4, 5, 5))))
    with pytest.raises(ValueError, match=r"got \(3, 5, 5\)"):
        layer(Tensor(np.zeros((3, 5, 5))))


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"stride": 0}, "stride"),
        ({"padding": -1}, "padding"),
        ({"kernel_size": 0}, "kernel"),
        ({"dilation": 0}, "dilation"),
        ({"padding": "same"}, r"Conv2d: padding must be an integer or a pair of them, got 'same'"),
        ({"padding": "valid"}, r"padding must be an integer or a pair of them, got 'valid'"),
    ],
)
def test_conv2d_rejects_bad_hyperparameters(kwargs, named):
    arguments = {"in_channels": 1, "out_channels": 1, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=named):
        nn.Conv2d(**arguments)


def test_a_small_cnn_passes_gradcheck_end_to_end():
    rng = np.random.default_rng(2)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=rng),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(3 * 3 * 3, 2, rng=rng),
    )
    x = Tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    assert model(x).shape == (2, 2)
    gradcheck(lambda x, *params: model(x), [x, *model.parameters()])


# ------------------------------------------------------------------------------- Flatten
def test_flatten_keeps_the_batch_axis_and_passes_gradients_back():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((2, 3, 4, 5)), requires_grad=True)
    out = nn.Flatten()(x)
    np.testing.assert_array_equal(out.data, x.data.reshape(2, 60))
    gradcheck(nn.Flatten(), [x])
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 20)


# ------------------------------------------------------------------------------- losses
@given(shape=shapes, seed=seeds)
def test_mse_loss_is_the_mean_squared_error(shape, seed):
    rng = np.random.default_rng(seed)
    prediction = Tensor(rng.standard_normal(shape), requires_grad=True)
    target = Tensor(rng.standard_normal(shape), requires_grad=True)
    loss = nn.MSELoss()(prediction, target)
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), np.mean((prediction.data - target.data) ** 2))
    gradcheck(nn.MSELoss(), [prediction, target])


def test_mse_loss_refuses_shapes_that_would_broadcast():
    with pytest.raises(ValueError, match=r"prediction shape \(4,\) and target shape \(4, 1\)"):
        nn.MSELoss()(Tensor(np.zeros(4)), Tensor(np.zeros((4, 1))))


def numpy_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_softmax[np.arange(len(labels)), labels].mean()


@given(
    batch=st.integers(1, 5),
    classes=st.integers(1, 5),
    scale=st.sampled_from([1.0, 10.0, 1e3]),
    seed=seeds,
)
def test_cross_entropy_from_logits_matches_numpy_log_softmax(batch, classes, scale, seed):
    rng = np.random.default_rng(seed)
    logits = Tensor(scale * rng.standard_normal((batch, classes)), requires_grad=True)
    labels = rng.integers(0, classes, batch)
    loss = nn.CrossEntropyLoss()(logits, labels)
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(
        loss.item(), numpy_cross_entropy(logits.data, labels), rtol=1e-12, atol=1e-12
    )
    loss.backward()
    assert np.all(np.isfinite(logits.grad))
    if scale == 1.0:
        gradcheck(lambda z: nn.CrossEntropyLoss()(z, labels), [logits])


def test_cross_entropy_is_stable_for_huge_logits():
    logits = Tensor(np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 0.0]]), requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, np.array([0, 1]))
    np.testing.assert_allclose(loss.item(), np.log(2) / 2, rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad, [[0, 0, 0], [0.25, -0.25, 0]], atol=1e-12)


def test_cross_entropy_rejects_bad_targets():
    logits = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="target 3 at position 1 is not a class index in 0..2"):
        nn.CrossEntropyLoss()(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"input must be \(N, C\) and target \(N,\)"):
        nn.CrossEntropyLoss()(logits, np.array([0, 1, 2]))


# ------------------------------------------------------------------------------- nn.init
@given(seed=seeds, rows=st.integers(1, 30), cols=st.integers(1, 30))
def test_init_functions_respect_their_bounds_and_are_reproducible(seed, rows, cols):
    fan_in, fan_out = rows, cols  # (in, out), the layout of Linear here
    expected_bounds = {
        nn.init.xavier_uniform_: math.sqrt(6 / (fan_in + fan_out)),
        nn.init.kaiming_uniform_: math.sqrt(6 / fan_in),
        lambda t, rng: nn.init.uniform_(t, -0.3, 0.3, rng=rng): 0.3,
    }
    for fill, bound in expected_bounds.items():
        a = Tensor(np.full((rows, cols), 7.0))
        b = Tensor(np.full((rows, cols), 7.0))
        assert fill(a, rng=np.random.default_rng(seed)) is a
        fill(b, rng=np.random.default_rng(seed))
        np.testing.assert_array_equal(a.data, b.data)
        assert np.abs(a.data).max() <= bound
        # one uniform draw of the whole shape from the generator, nothing else
        np.testing.assert_array_equal(
            a.data, np.random.default_rng(seed).uniform(-bound, bound, (rows, cols))
        )
    zeros = Tensor(np.ones((rows, cols)))
    nn.init.zeros_(zeros)
    np.testing.assert_array_equal(zeros.data, 0.0)


def test_uniform_init_fills_the_requested_interval():
    t = Tensor(np.empty(2000))
    nn.init.uniform_(t, 2.0, 3.0, rng=np.random.RandomState(0))
    assert 2.0 <= t.data.min() < 2.01 and 2.99 < t.data.max() <= 3.0
    with pytest.raises(ValueError, match="lower bound 3.0 is above upper bound 2.0"):
        nn.init.uniform_(t, 3.0, 2.0, rng=np.random.default_rng(0))


def test_init_fans_of_a_conv_weight_and_errors():
    t = Tensor(np.empty((8, 3, 2, 2)))  # (out, in, kH, kW): fan_in 12, fan_out 32
    nn.init.kaiming_uniform_(t, a=1.0, rng=np.random.default_rng(0))
    assert np.abs(t.data).max() <= math.sqrt(6 / (2 * 12))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(Tensor(np.empty(3)), rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        nn.init.uniform_(t, rng="seed")


def test_a_conv_input_with_an_empty_side_is_an_error_as_in_pytorch_though_padding_would_fit():
    with pytest.raises(
        ValueError, match=r"Conv2d: the input's height is 0, in shape \(1, 1, 0, 4\)"
    ):
        nn.Conv2d(1, 1, 1, padding=1)(Tensor(np.zeros((1, 1, 0, 4))))


@pytest.mark.parametrize(
    ("layer", "fan_in"),
    [(nn.Conv2d(4, 8, 3, groups=2, rng=0), 2 * 3 * 3), (nn.Conv1d(6, 4, 5, rng=1), 6 * 5)],
)
def test_conv_default_init_is_pytorchs_uniform_within_one_over_root_fan_in(layer, fan_in):
    bound = 1 / math.sqrt(fan_in)  # PyTorch: fan_in = in_channels / groups · kernel's size
    for values in (layer.weight.data, layer.bias.data):
        assert np.abs(values).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound  # the whole range, not a narrower one
