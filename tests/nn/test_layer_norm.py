"""LayerNorm against its formula written here in NumPy, and its gradients (input, weight, bias)
against central finite differences, over random shapes and normalized shapes; with and without
the affine parameters; float32; errors naming the layer."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import check

import tinygrad_lab.nn.functional as F
from tinygrad_lab import Tensor, nn


def layer_norm(x, shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / √(var + eps) · weight + bias over the last len(shape) axes, var biased."""
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


@st.composite
def cases(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    k = draw(st.integers(1, len(shape)))
    return shape, shape[len(shape) - k :]


@given(case=cases(), seed=st.integers(0, 2**32 - 1), eps=st.sampled_from([1e-5, 0.1]))
def test_layer_norm_matches_its_formula_and_finite_differences(case, seed, eps):
    shape, normalized = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * 2 + 1
    weight, bias = rng.normal(size=normalized), rng.normal(size=normalized)
    check(
        lambda a, w, b: F.layer_norm(a, normalized, w, b, eps),
        lambda a, w, b: layer_norm(a, normalized, w, b, eps),
        x,
        weight,
        bias,
        seed=seed,
    )
    check(
        lambda a: F.layer_norm(a, normalized, eps=eps),
        lambda a: layer_norm(a, normalized, eps=eps),
        x,
        seed=seed,
    )


@given(case=cases(), seed=st.integers(0, 2**32 - 1))
def test_the_layer_is_the_function_with_its_parameters(case, seed):
    shape, normalized = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    layer = nn.LayerNorm(normalized)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(layer.weight.data, np.ones(normalized))
    np.testing.assert_array_equal(layer.bias.data, np.zeros(normalized))
    layer.weight.data[...] = rng.normal(size=normalized)
    layer.bias.data[...] = rng.normal(size=normalized)
    expected = layer_norm(x, normalized, layer.weight.data, layer.bias.data)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-10, atol=1e-12)
    layer.eval()  # no running statistics: the same in evaluation
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-10, atol=1e-12)


def test_an_int_normalized_shape_is_the_last_axis_and_affine_options_leave_parameters_out():
    x = np.random.default_rng(0).normal(size=(2, 3, 5))
    np.testing.assert_allclose(nn.LayerNorm(5)(x).data, layer_norm(x, (5,)), rtol=1e-12)
    assert list(nn.LayerNorm(5, elementwise_affine=False).parameters()) == []
    no_bias = nn.LayerNorm(5, bias=False)
    assert [name for name, _ in no_bias.named_parameters()] == ["weight"]
    assert list(no_bias.state_dict()) == ["weight"]


def test_float32_stays_float32():
    layer = nn.LayerNorm(4, dtype=np.float32)
    x = Tensor(np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32), requires_grad=True)
    out = layer(x)
    assert out.dtype == np.float32
    out.backward(np.ones((3, 4), np.float32))
    assert x.grad.dtype == np.float32 and layer.weight.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("make", "shape", "message"),
    [
        (lambda: nn.LayerNorm(4), (3, 5), r"LayerNorm\(\(4,\)\) expects input \(\.\.\., 4\)"),
        (lambda: nn.LayerNorm((2, 4)), (4,), r"expects input \(\.\.\., 2, 4\), got \(4,\)"),
    ],
)
def test_an_input_that_does_not_end_in_normalized_shape_is_an_error(make, shape, message):
    with pytest.raises(ValueError, match=message):
        make()(np.ones(shape))


def test_bad_settings_are_errors_naming_them():
    with pytest.raises(ValueError, match="normalized_shape must be sizes >= 1"):
        nn.LayerNorm(0)
    with pytest.raises(TypeError, match="normalized_shape must be an int or a tuple of ints"):
        nn.LayerNorm(2.5)
    with pytest.raises(ValueError, match="eps must be positive"):
        nn.LayerNorm(3, eps=0)
    with pytest.raises(ValueError, match=r"LayerNorm: weight \(3,\) must be \(4,\)"):
        F.layer_norm(np.ones((2, 4)), 4, np.ones(3))
