"""MaxPool2d and AvgPool2d against a plain loop over output pixels and against central finite
differences (float64), over random shapes, windows, strides and paddings; ties, float32, and
the errors of a window that does not tile its input."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, gradcheck, nn, ops

seeds = st.integers(0, 2**32 - 1)


def loop_pool(x, kernel, stride, padding, reduce, fill):
    """The textbook definition, one output pixel at a time (written independently of the op)."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), fill)
    xp[:, :, ph : ph + h, pw : pw + w] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(n):
        for f in range(c):
            for r in range(oh):
                for s in range(ow):
                    out[i, f, r, s] = reduce(xp[i, f, r * sh : r * sh + kh, s * sw : s * sw + kw])
    return out


@st.composite
def pool_cases(draw):
    """A window, stride and padding, and an input they tile exactly: N = (O - 1)·S + F - 2P."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    outputs = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = tuple(
        (o - 1) * s + k - 2 * p for o, s, k, p in zip(outputs, stride, kernel, padding, strict=True)
    )
    assume(min(size) >= 1)  # a 2-wide window padded by 1 on both sides of nothing: no image
    return {
        "shape": (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size),
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "outputs": outputs,
        "seed": draw(seeds),
    }


def distinct_values(rng, shape):
    """float64 entries at least 0.1 apart: no window has a tie, even after a 1e-6 nudge."""
    size = int(np.prod(shape))
    return ((rng.permutation(size) - size / 2) * 0.3 + rng.uniform(-0.1, 0.1, size)).reshape(shape)


@given(case=pool_cases())
def test_max_pool_matches_a_loop_and_finite_differences(case):
    layer = nn.MaxPool2d(case["kernel"], stride=case["stride"], padding=case["padding"])
    x = Tensor(distinct_values(np.random.default_rng(case["seed"]), case["shape"]), True)
    args = case["kernel"], case["stride"], case["padding"]
    expected = loop_pool(x.data, *args, np.max, -np.inf)
    out = layer(x)
    assert out.shape[2:] == case["outputs"] == layer.output_size(*case["shape"][2:])
    np.testing.assert_array_equal(out.data, expected)
    assert gradcheck(layer, [x])


@given(case=pool_cases())
def test_avg_pool_matches_a_loop_and_finite_differences(case):
    layer = nn.AvgPool2d(case["kernel"], stride=case["stride"], padding=case["padding"])
    x = Tensor(np.random.default_rng(case["seed"]).uniform(-2, 2, case["shape"]), True)
    args = case["kernel"], case["stride"], case["padding"]
    expected = loop_pool(x.data, *args, np.mean, 0.0)  # padding counts as zeros in the mean
    out = layer(x)
    assert out.shape[2:] == case["outputs"] == layer.output_size(*case["shape"][2:])
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(layer, [x])


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


@pytest.mark.parametrize(
    ("layer", "size", "named"),
    [
        (nn.MaxPool2d(2), (7, 8), r"MaxPool2d: the input's height 7 .*N=7, F=2, S=2, P=0"),
        (nn.MaxPool2d(3, stride=2, padding=1), (7, 6), r"width 6 .*N=6, F=3, S=2, P=1"),
        (nn.AvgPool2d((2, 3)), (4, 4), r"AvgPool2d: the input's width 4 .*N=4, F=3, S=3, P=0"),
    ],
)
def test_a_window_that_does_not_tile_the_input_names_the_side_and_n_f_s_p(layer, size, named):
    with pytest.raises(ops.OutputSizeError, match=named):
        layer(Tensor(np.zeros((1, 2, *size))))
    with pytest.raises(ops.OutputSizeError, match=named.split(" .*")[1]):
        layer.output_size(*size)


def test_a_window_larger_than_the_padded_input_is_a_value_error():
    with pytest.raises(ValueError, match=r"MaxPool2d: window \(3, 3\) does not fit .*height 2"):
        nn.MaxPool2d(3)(Tensor(np.zeros((1, 1, 2, 6))))


def test_pooling_input_must_be_nchw_and_not_empty():
    with pytest.raises(ValueError, match=r"MaxPool2d expects input \(N, C, H, W\), got \(4, 4\)"):
        nn.MaxPool2d(2)(Tensor(np.zeros((4, 4))))
    with pytest.raises(ValueError, match=r"MaxPool2d: the input's height is 0"):
        nn.MaxPool2d(2, padding=1)(Tensor(np.zeros((1, 1, 0, 2))))


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"kernel_size": 2, "stride": 0}, "stride"),
        ({"kernel_size": 2, "padding": -1}, "padding"),
        ({"kernel_size": 2, "padding": 2}, r"padding \(2, 2\) must be at most half"),
        ({"kernel_size": (2, 2, 2)}, "kernel_size"),
        ({"kernel_size": 1.5}, "kernel_size"),
    ],
)
def test_pooling_rejects_bad_hyperparameters_naming_them(kwargs, named):
    with pytest.raises(ValueError, match=named):
        nn.MaxPool2d(**kwargs)
