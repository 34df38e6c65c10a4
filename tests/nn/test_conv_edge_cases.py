"""Conv2d at the edge of its shapes: an empty batch goes forward and backward as any other, its
gradients the sums over no images (zero), as in PyTorch."""

import warnings

import numpy as np
from conv_helpers import conv_cases, loop_conv2d
from hypothesis import given

from tinygrad_lab import Tensor, nn, ops


@given(case=conv_cases())
def test_conv2d_of_an_empty_batch_is_empty_with_zero_weight_and_bias_gradients(case):
    rng = np.random.default_rng(case["seed"])
    x = Tensor(np.zeros((0, case["in_channels"], *case["size"])), requires_grad=True)
    shape = (case["out_channels"], case["in_channels"] // case["groups"], *case["kernel"])
    w = Tensor(rng.standard_normal(shape), requires_grad=True)
    b = Tensor(rng.standard_normal(case["out_channels"]), requires_grad=True)
    params = [w, b] if case["bias"] else [w]
    settings = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ops.Conv2d.apply(x, *params, **settings)
        out.sum().backward()
    expected = loop_conv2d(x.data, w.data, b.data if case["bias"] else None, **settings)
    assert out.shape == expected.shape and out.shape[0] == 0
    assert x.grad.shape == x.shape
    for p in params:  # Σ over no images and positions: 0
        np.testing.assert_array_equal(p.grad, np.zeros(p.shape))


def test_an_empty_batch_goes_through_a_conv_layer_as_in_pytorch():
    layer = nn.Conv2d(2, 3, 3, padding=1, rng=0)
    x = Tensor(np.zeros((0, 2, 5, 5)), requires_grad=True)
    out = nn.functional.conv2d(x, layer.weight, layer.bias, padding=1)
    out.sum().backward()
    assert out.shape == (0, 3, 5, 5) and x.grad.shape == (0, 2, 5, 5)  # torch: the same
    np.testing.assert_array_equal(layer.weight.grad, np.zeros((3, 2, 3, 3)))
    np.testing.assert_array_equal(layer.bias.grad, np.zeros(3))
