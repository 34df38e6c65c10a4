"""The constructors: NumPy's values, PyTorch's ways of giving a shape, dtype= and
requires_grad=, leaves of the graph; the random ones reproducible from their generator."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lab as tl
from tinygrad_lab import Tensor, creation, nn

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
float_dtypes = st.sampled_from([np.float32, np.float64])

FILLED = {  # name: (constructor over a shape, NumPy's)
    "zeros": (tl.zeros, np.zeros),
    "ones": (tl.ones, np.ones),
    "full": (
        lambda shape, **kw: tl.full(shape, 2.5, **kw),
        lambda shape, dtype: np.full(shape, 2.5, dtype),
    ),
}


@pytest.mark.parametrize("name", FILLED)
@given(shape=shapes, dtype=float_dtypes, requires_grad=st.booleans())
def test_filled_constructors_give_numpys_values_as_a_leaf(name, shape, dtype, requires_grad):
    make, numpy_make = FILLED[name]
    t = make(shape, dtype=dtype, requires_grad=requires_grad)
    assert isinstance(t, Tensor) and t.is_leaf and t.requires_grad == requires_grad
    assert t.shape == shape and t.dtype == dtype
    np.testing.assert_array_equal(t.data, numpy_make(shape, dtype=dtype))


@pytest.mark.parametrize("make", [tl.zeros, tl.ones, tl.rand, tl.randn])
def test_a_shape_is_given_as_pytorch_or_as_numpy_takes_it(make):
    assert make(2, 3).shape == make((2, 3)).shape == make([2, 3]).shape == (2, 3)
    assert make(4).shape == (4,) and make().shape == ()
    assert make(np.int64(2), 1).shape == (2, 1)


@pytest.mark.parametrize("bad", [(-1,), (2.5,), ("ab",), ((2, None),), (True,)])
def test_a_bad_shape_is_a_type_error_naming_the_constructor(bad):
    with pytest.raises(TypeError, match=r"zeros: a shape is whole numbers >= 0"):
        tl.zeros(*bad)


def test_defaults_are_float64_without_grad_and_bool_fills_give_bool():
    for t in (tl.zeros(2), tl.ones(2), tl.full((2,), 1), tl.eye(2), tl.arange(3), tl.rand(2)):
        assert t.dtype == np.float64 and not t.requires_grad
    assert tl.full((2,), True).dtype == np.bool_
    assert tl.zeros(2, dtype=bool).dtype == np.bool_


def test_requires_grad_of_a_bool_tensor_is_an_error():
    with pytest.raises(TypeError, match="only float32 and float64 tensors can require grad"):
        tl.ones(2, dtype=bool, requires_grad=True)
    with pytest.raises(TypeError, match="dtype must be float32, float64 or bool, got int64"):
        tl.zeros(2, dtype=np.int64)


@given(n=st.integers(0, 5), m=st.none() | st.integers(0, 5), dtype=float_dtypes)
def test_eye_is_numpys_identity(n, m, dtype):
    t = tl.eye(n, m, dtype=dtype)
    np.testing.assert_array_equal(t.data, np.eye(n, m, dtype=dtype))
    assert t.dtype == dtype


ARANGES = [((5,), [0.0, 1, 2, 3, 4]), ((2, 5), [2.0, 3, 4]), ((1, 2, 0.25), [1, 1.25, 1.5, 1.75])]
ARANGES += [((3, 0, -1), [3.0, 2, 1]), ((0,), [])]


@pytest.mark.parametrize(("args", "expected"), ARANGES)
def test_arange_counts_from_start_up_to_but_not_including_end(args, expected):
    np.testing.assert_array_equal(tl.arange(*args).data, expected)
    assert tl.arange(*args, dtype=np.float32).dtype == np.float32


def test_arange_with_a_zero_step_is_an_error():
    with pytest.raises(ValueError, match="arange: step must not be 0"):
        tl.arange(0, 3, 0)


def test_a_constructed_tensor_that_requires_grad_receives_gradients():
    w = tl.ones(3, requires_grad=True)
    (w * tl.arange(3)).sum().backward()
    np.testing.assert_array_equal(w.grad, [0.0, 1.0, 2.0])


# ------------------------------------------------------------------------- random
@pytest.mark.parametrize(("make", "draw"), [(tl.rand, "random"), (tl.randn, "standard_normal")])
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), dtype=float_dtypes)
def test_random_constructors_draw_from_the_given_generator(make, draw, shape, seed, dtype):
    for rng, again in (
        (np.random.default_rng(seed), np.random.default_rng(seed)),
        (np.random.RandomState(seed), np.random.RandomState(seed)),
    ):
        t = make(shape, rng=rng, dtype=dtype)
        assert t.shape == shape and t.dtype == dtype and t.is_leaf
        np.testing.assert_array_equal(t.data, getattr(again, draw)(shape).astype(dtype))
    np.testing.assert_array_equal(make(shape, rng=seed).data, make(shape, rng=seed).data)


def test_rand_is_in_the_half_open_unit_interval_even_in_float32(monkeypatch):
    t = tl.rand(1000, rng=np.random.default_rng(0))
    assert np.all((t.data >= 0) & (t.data < 1))

    class NearlyOne:  # every draw just below 1: in float32 it would round to 1.0
        def random(self, shape):
            return np.full(shape, 1 - 2**-30)

    monkeypatch.setattr(creation, "generator", lambda rng: NearlyOne())
    assert np.all(tl.rand(3).data < 1) and np.all(tl.rand(3, dtype=np.float32).data < 1)


def test_without_rng_the_package_default_generator_reseeded_by_manual_seed_is_used(monkeypatch):
    monkeypatch.setattr(nn.init, "_default", nn.init._default)  # put back afterwards
    nn.init.manual_seed(7)
    first = tl.randn(5).data
    nn.init.manual_seed(7)
    np.testing.assert_array_equal(tl.randn(5).data, first)
    np.testing.assert_array_equal(first, np.random.default_rng(7).standard_normal(5))


def test_random_constructors_are_float_only():
    with pytest.raises(TypeError, match="randn: random values are float32 or float64, not bool"):
        tl.randn(2, dtype=bool)


# ------------------------------------------------------------------------- *_like
LIKE = {
    "zeros_like": (tl.zeros_like, np.zeros_like),
    "ones_like": (tl.ones_like, np.ones_like),
    "full_like": (lambda t, **kw: tl.full_like(t, -3.0, **kw), lambda a: np.full_like(a, -3.0)),
}


@pytest.mark.parametrize("name", LIKE)
@given(shape=shapes, dtype=float_dtypes)
def test_like_constructors_take_the_shape_and_dtype_of_a_tensor_or_array(name, shape, dtype):
    make, numpy_make = LIKE[name]
    source = np.ones(shape, dtype=dtype)
    for like in (Tensor(source, requires_grad=dtype == np.float64), source):
        t = make(like)
        assert t.shape == shape and t.dtype == dtype and not t.requires_grad
        np.testing.assert_array_equal(t.data, numpy_make(source))
    assert make(source, dtype=np.float32, requires_grad=True).dtype == np.float32


@pytest.mark.parametrize(("make", "draw"), [(tl.rand_like, tl.rand), (tl.randn_like, tl.randn)])
def test_random_like_constructors_draw_as_their_constructor(make, draw):
    like = tl.zeros(2, 3, dtype=np.float32)
    t = make(like, rng=3, requires_grad=True)
    assert t.shape == (2, 3) and t.dtype == np.float32 and t.requires_grad
    np.testing.assert_array_equal(t.data, draw(2, 3, rng=3, dtype=np.float32).data)
