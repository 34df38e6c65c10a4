"""MaxPool2d and AvgPool2d against PyTorch's output-size formula and a plain loop over output
pixels (both written here, independently of the ops), and against central finite differences
(float64), over random input sizes, windows, strides, paddings, dilations and ``ceil_mode``:
windows need not tile the input. Ties, float32, and the errors of a window that does not fit."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, autograd, gradcheck, gradgradcheck, nn, ops

seeds = st.integers(0, 2**32 - 1)


def pytorch_side(n, k, s, p, d=1, ceil_mode=False):
    """PyTorch's pooling output side: floor (or ceil) of (n + 2p - d(k - 1) - 1) / s, plus 1;
    with ceil_mode, one less if the last window would start in the right padding."""
    quotient = Fraction(n + 2 * p - d * (k - 1) - 1, s)
    out = (math.ceil(quotient) if ceil_mode else math.floor(quotient)) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def window_taps(r, q, case):
    """The (row, column) of the input each entry of output pixel (r, q)'s window reads; rows
    and columns outside [0, H) × [0, W) are padding (or beyond it, for a ceil_mode window)."""
    (kh, kw), (sh, sw), (ph, pw) = case["kernel"], case["stride"], case["padding"]
    dh, dw = case["dilation"]
    return [(r * sh + i * dh - ph, q * sw + j * dw - pw) for i in range(kh) for j in range(kw)]


def loop_pool(x, case, kind):
    """The textbook definition, one output pixel at a time (written independently of the op):
    the largest of the window's input entries (padding never wins), or their sum divided by
    the entries in the padded input (count_include_pad), in the input, or the override."""
    n, c, h, w = x.shape
    (ph, pw), sides = case["padding"], case["outputs"]
    out = np.zeros((n, c, *sides))
    for r in range(sides[0]):
        for q in range(sides[1]):
            taps = window_taps(r, q, case)
            inside = [(a, b) for a, b in taps if 0 <= a < h and 0 <= b < w]
            rows, cols = [a for a, _ in inside], [b for _, b in inside]
            if kind == "max":
                out[:, :, r, q] = x[:, :, rows, cols].max(axis=-1)
                continue
            padded = [(a, b) for a, b in taps if -ph <= a < h + ph and -pw <= b < w + pw]
            divisor = case["divisor_override"] or (
                len(padded) if case["count_include_pad"] else len(inside)
            )
            out[:, :, r, q] = x[:, :, rows, cols].sum(axis=-1) / divisor
    return out


def covered(case, shape):
    """True where some window reads the input pixel: the others must get a zero gradient."""
    mask = np.zeros(shape[2:], bool)
    for r in range(case["outputs"][0]):
        for q in range(case["outputs"][1]):
            for a, b in window_taps(r, q, case):
                if 0 <= a < shape[2] and 0 <= b < shape[3]:
                    mask[a, b] = True
    return mask


@st.composite
def pool_cases(draw, kind, fits=True):
    """A window, stride, padding (at most half the window, as PyTorch allows), dilation (max
    only), ceil_mode and an input of any size: with ``fits``, one with an output, else none."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if kind == "max" else (1, 1)
    case = {
        "kernel": kernel,
        "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "padding": tuple(draw(st.integers(0, k // 2)) for k in kernel),
        "dilation": dilation,
        "ceil_mode": draw(st.booleans()),
        "count_include_pad": draw(st.booleans()),
        "divisor_override": draw(st.sampled_from([None, None, 3, -2])),
        "seed": draw(seeds),
    }
    sides = list(zip(kernel, case["stride"], case["padding"], dilation, strict=True))
    size = [draw(st.integers(1, 8)), draw(st.integers(1, 8))]
    if not fits:  # one side too small for its window
        side = draw(st.integers(0, 1))
        small = [n for n in range(1, 9) if pytorch_side(n, *sides[side], case["ceil_mode"]) < 1]
        assume(small)
        size[side] = draw(st.sampled_from(small))
    case["outputs"] = tuple(
        pytorch_side(n, *side, case["ceil_mode"]) for n, side in zip(size, sides, strict=True)
    )
    assume((min(case["outputs"]) >= 1) == fits)
    case["shape"] = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size)
    return case


def make_layer(case, kind):
    common = {k: case[k] for k in ("stride", "padding", "ceil_mode")}
    if kind == "max":
        return nn.MaxPool2d(case["kernel"], dilation=case["dilation"], **common)
    extra = {k: case[k] for k in ("count_include_pad", "divisor_override")}
    return nn.AvgPool2d(case["kernel"], **common, **extra)


def distinct_values(rng, shape):
    """float64 entries at least 0.1 apart: no window has a tie, even after a 1e-6 nudge."""
    size = int(np.prod(shape))
    return ((rng.permutation(size) - size / 2) * 0.3 + rng.uniform(-0.1, 0.1, size)).reshape(shape)


def reads_padding_only(case):
    """Some window (only a dilated one can) reads no entry of the input."""
    h, w = case["shape"][2:]
    return any(
        not any(0 <= a < h and 0 <= b < w for a, b in window_taps(r, q, case))
        for r in range(case["outputs"][0])
        for q in range(case["outputs"][1])
    )


@given(case=pool_cases("max"))
def test_max_pool_has_pytorchs_size_matches_a_loop_and_finite_differences(case):
    layer = make_layer(case, "max")
    x = Tensor(distinct_values(np.random.default_rng(case["seed"]), case["shape"]), True)
    if reads_padding_only(case):  # PyTorch's -inf, refused here
        with pytest.raises(ValueError, match=r"MaxPool2d: along the input's .* padding only"):
            layer(x)
        return
    out = layer(x)
    assert out.shape[2:] == case["outputs"] == layer.output_size(*case["shape"][2:])
    np.testing.assert_array_equal(out.data, loop_pool(x.data, case, "max"))
    assert gradcheck(layer, [x])
    assert gradgradcheck(layer, [x])
    out.backward(np.random.default_rng(case["seed"]).standard_normal(out.shape))
    assert np.all(x.grad[:, :, ~covered(case, x.shape)] == 0)  # no window reads them


@given(case=pool_cases("avg"))
def test_avg_pool_has_pytorchs_size_matches_a_loop_and_finite_differences(case):
    layer = make_layer(case, "avg")
    x = Tensor(np.random.default_rng(case["seed"]).uniform(-2, 2, case["shape"]), True)
    out = layer(x)
    assert out.shape[2:] == case["outputs"] == layer.output_size(*case["shape"][2:])
    expected = loop_pool(x.data, case, "avg")
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(layer, [x])
    assert gradgradcheck(layer, [x])
    out.backward(np.random.default_rng(case["seed"]).standard_normal(out.shape))
    assert np.all(x.grad[:, :, ~covered(case, x.shape)] == 0)  # no window reads them


@given(
    kind_case=st.sampled_from(["max", "avg"]).flatmap(
        lambda kind: pool_cases(kind).map(lambda case: (kind, case))
    )
)
def test_a_poolings_backward_is_itself_twice_differentiable(kind_case):
    """The gradient at x for an upstream v (the scatter to the windows, recorded) checked to
    second order: through the scatter's backward (the gather) and the gather's (the scatter)."""
    kind, case = kind_case
    assume(not (kind == "max" and reads_padding_only(case)))
    layer = make_layer(case, kind)
    rng = np.random.default_rng(case["seed"])
    x = Tensor(distinct_values(rng, case["shape"]), True)
    v = Tensor(rng.standard_normal(layer(x).shape), requires_grad=True)

    def gradient(x, v):
        return autograd.grad(layer(x), [x], v, create_graph=True)[0]

    assert gradgradcheck(gradient, [x, v])


@given(
    kind_case=st.sampled_from(["max", "avg"]).flatmap(
        lambda kind: pool_cases(kind, fits=False).map(lambda case: (kind, case))
    )
)
def test_a_window_that_does_not_fit_names_the_size_kernel_stride_padding_and_output(kind_case):
    kind, case = kind_case
    layer = make_layer(case, kind)
    side = 0 if case["outputs"][0] < 1 else 1  # the first side with no output
    n = case["shape"][2 + side]
    k, s, p = (case[key][side] for key in ("kernel", "stride", "padding"))
    named = (
        rf"{type(layer).__name__}: the input's {('height', 'width')[side]} .*: input size {n} "
        rf"is too small for kernel {k}(, dilation \d)?, stride {s}, padding {p}: the output "
        rf"size .* = {case['outputs'][side]} is less than 1"
    )
    with pytest.raises(ops.OutputSizeError, match=named):
        layer(Tensor(np.zeros(case["shape"])))
    with pytest.raises(ops.OutputSizeError, match=named):
        layer.output_size(*case["shape"][2:])


def test_max_pool_of_7x7_by_2_floors_to_3x3_or_with_ceil_mode_covers_the_edge_in_4x4():
    x = Tensor(np.arange(49.0).reshape(1, 1, 7, 7), requires_grad=True)
    floored = nn.MaxPool2d(2)(x)
    np.testing.assert_array_equal(floored.data[0, 0], x.data[0, 0, 1:6:2, 1:6:2])
    floored.sum().backward()
    assert not x.grad[0, 0, 6].any() and not x.grad[0, 0, :, 6].any()  # no window reads them
    ceiled = nn.MaxPool2d(2, ceil_mode=True)(x)
    assert ceiled.shape == (1, 1, 4, 4)
    np.testing.assert_array_equal(ceiled.data[0, 0, 3], [43.0, 45.0, 47.0, 48.0])  # last row


def test_avg_pool_ceil_mode_window_divides_by_what_it_covers_of_the_padded_input():
    x = np.arange(6.0).reshape(1, 1, 1, 6)
    layer = nn.AvgPool2d((1, 3), stride=(1, 2), ceil_mode=True)  # last window: 4, 5 and beyond
    np.testing.assert_array_equal(layer(Tensor(x)).data, [[[[1.0, 3.0, 4.5]]]])
    padded = nn.AvgPool2d((1, 2), stride=(1, 2), padding=(0, 1), count_include_pad=True)
    np.testing.assert_array_equal(padded(Tensor(x)).data, [[[[0.0, 1.5, 3.5, 2.5]]]])
    without = nn.AvgPool2d((1, 2), stride=(1, 2), padding=(0, 1), count_include_pad=False)
    np.testing.assert_array_equal(without(Tensor(x)).data, [[[[0.0, 1.5, 3.5, 5.0]]]])


def test_max_pool_stride_defaults_to_the_window_so_windows_do_not_overlap():
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    out = nn.MaxPool2d(2)(x)
    np.testing.assert_array_equal(out.data, [[[[5.0, 7.0], [13.0, 15.0]]]])
    out.sum().backward()
    expected = np.zeros((4, 4))
    expected[1::2, 1::2] = 1  # each window's maximum, once
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_max_pool_ties_share_the_gradient_equally_as_max_does():
    x = Tensor(np.array([[[[1.0, 1.0], [1.0, 0.0]]]]), requires_grad=True)
    ops.MaxPool2d.apply(x, kernel_size=(2, 2)).backward(np.array([[[[6.0]]]]))
    np.testing.assert_array_equal(x.grad, [[[[2.0, 2.0], [2.0, 0.0]]]])


def test_overlapping_max_pool_windows_sum_their_gradients_at_a_shared_maximum():
    x = Tensor(np.array([[[[0.0, 9.0, 0.0]]]]), requires_grad=True)
    out = nn.MaxPool2d((1, 2), stride=1)(x)  # both windows hold the 9
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0.0, 2.0, 0.0]]]])


def test_padding_never_wins_a_max_pool_window():
    x = Tensor(-np.ones((1, 1, 2, 2)), requires_grad=True)
    out = nn.MaxPool2d(2, stride=2, padding=1)(x)  # every window is three pads and one -1
    np.testing.assert_array_equal(out.data, -np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.AvgPool2d(2)])
def test_pooling_keeps_float32_in_forward_and_backward(layer):
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32), True)
    out = layer(x)
    assert out.dtype == np.float32
    assert all(a.dtype == np.float32 for a in out.grad_fn.saved_tensors)
    returned = type(out.grad_fn).backward(out.grad_fn, np.ones(out.shape, np.float32))
    assert returned.dtype == np.float32  # the op's own gradient, before the engine casts
    out.backward(np.ones(out.shape, np.float32))
    assert x.grad.dtype == np.float32


def test_pooling_input_must_be_nchw_and_not_empty():
    with pytest.raises(ValueError, match=r"MaxPool2d expects input \(N, C, H, W\), got \(4, 4\)"):
        nn.MaxPool2d(2)(Tensor(np.zeros((4, 4))))
    with pytest.raises(
        ValueError, match=r"AvgPool2d expects input \(N, C, H, W\), got \(1, 4, 4\)"
    ):
        nn.AvgPool2d(2)(Tensor(np.zeros((1, 4, 4))))  # PyTorch takes (C, H, W) too
    with pytest.raises(ValueError, match=r"MaxPool2d: the input's height is 0"):
        nn.MaxPool2d(2, padding=1)(Tensor(np.zeros((1, 1, 0, 2))))


@pytest.mark.parametrize(
    ("layer", "kwargs", "named"),
    [
        (nn.MaxPool2d, {"kernel_size": 0}, "kernel_size"),
        (nn.MaxPool2d, {"kernel_size": 2, "stride": 0}, "stride"),
        (nn.MaxPool2d, {"kernel_size": 2, "padding": -1}, "padding"),
        (nn.MaxPool2d, {"kernel_size": 2, "padding": 2}, r"padding \(2, 2\) must be at most half"),
        (nn.MaxPool2d, {"kernel_size": 3, "padding": 2, "dilation": 2}, r"at most half"),
        (nn.MaxPool2d, {"kernel_size": 2, "dilation": 0}, "dilation"),
        (nn.MaxPool2d, {"kernel_size": (2, 2, 2)}, "kernel_size"),
        (nn.MaxPool2d, {"kernel_size": 1.5}, "kernel_size"),
        (nn.MaxPool2d, {"kernel_size": 2, "return_indices": True}, "return_indices=True is not"),
        (nn.AvgPool2d, {"kernel_size": 2, "divisor_override": 0}, "divisor_override"),
        (nn.AvgPool2d, {"kernel_size": 2, "divisor_override": 1.5}, "divisor_override"),
    ],
)
def test_pooling_rejects_bad_hyperparameters_naming_them(layer, kwargs, named):
    with pytest.raises(ValueError, match=named):
        layer(**kwargs)


@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.AvgPool2d(2, ceil_mode=True)])
def test_pooling_an_empty_batch_is_empty_forward_and_backward(layer):
    x = Tensor(np.zeros((0, 2, 5, 5)), requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.shape == (0, 2, *layer.output_size(5, 5)) and x.grad.shape == x.shape
