"""``x[index] = value`` on a tensor of the graph is recorded as PyTorch records ``index_put_``:
the written entries' gradient goes to the value (to the write that landed, for a repeated
index), the others' to the old x; ops that used x before the write still reach x as it was;
and the version rules hold: a write into what backward needs, into a leaf that requires grad,
or into a view is refused."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import check, draw_values

import tinygrad_lab as tl
from tinygrad_lab import Tensor, no_grad

seeds = st.integers(0, 2**32 - 1)


@st.composite
def shape_and_index(draw):
    """A shape and an index into it: basic ones, integer arrays with repeats, boolean masks."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    rng = np.random.default_rng(draw(seeds))
    kind = draw(st.sampled_from(["basic", "int array", "int arrays", "mask", "mixed"]))
    if kind == "basic":
        return shape, draw(hnp.basic_indices(shape, allow_ellipsis=True))
    if kind == "int array":  # repeats are the rule, negatives too
        return shape, rng.integers(-shape[0], shape[0], size=draw(st.integers(1, 2 * shape[0])))
    if kind == "int arrays":
        picks = draw(st.integers(1, 5))
        return shape, tuple(rng.integers(0, side, size=picks) for side in shape)
    if kind == "mask":
        return shape, rng.random(shape) < 0.5
    return shape, (slice(None), rng.integers(0, shape[1], size=3)) if len(shape) > 1 else [0, 0]


@given(shape_index=shape_and_index(), seed=seeds, scalar=st.booleans())
def test_a_write_into_a_graph_tensor_matches_numpys_assignment_and_finite_differences(
    shape_index, seed, scalar
):
    shape, index = shape_index
    rng = np.random.default_rng(seed)
    x = draw_values(rng, shape)
    region = x[np.asarray(index) if isinstance(index, list) else index].shape
    value = draw_values(rng, () if scalar else region)

    def written(t, v):
        y = t * 1.5  # a tensor of the graph
        y[index] = v
        return y * y  # both the written and the kept entries go on

    def ref(a, v):
        y = a * 1.5
        y[np.asarray(index) if isinstance(index, list) else index] = v  # NumPy: the last lands
        return y * y

    check(written, ref, x, value, seed=seed)


def test_a_repeated_index_gives_the_gradient_to_the_write_that_landed():
    x = Tensor(np.zeros(3), requires_grad=True)
    v = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    y[[0, 2, 0]] = v  # position 0 is written twice: v[2] lands there
    np.testing.assert_array_equal(y.data, [3.0, 0.0, 2.0])
    (y * Tensor([10.0, 20.0, 30.0])).sum().backward()
    np.testing.assert_array_equal(v.grad, [0.0, 30.0, 10.0])
    np.testing.assert_array_equal(x.grad, [0.0, 20.0, 0.0])


def test_the_written_tensor_becomes_the_output_of_an_index_put_node():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2.0
    version = b.version
    b[0] = 0.0
    assert b.grad_fn.name == "IndexPut" and not b.is_leaf and b.requires_grad
    assert b.version == version + 1
    np.testing.assert_array_equal(b.data, [0.0, 4.0, 6.0])


def test_ops_that_used_the_tensor_before_the_write_reach_it_as_it_was():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    k1, k2 = np.array([1.0, 10.0, 100.0]), np.array([3.0, 5.0, 7.0])
    b = a * 2.0
    c = b + 1.0  # Add saves nothing: the write does not change what its backward needs
    b[0] = 0.0
    loss = (c * Tensor(k1)).sum() + (b * Tensor(k2)).sum()
    loss.backward()
    # c = 2a + 1 everywhere (made before the write); b = 2a except b[0] = 0
    np.testing.assert_array_equal(a.grad, 2 * k1 + 2 * k2 * np.array([0.0, 1.0, 1.0]))


def test_a_write_into_what_an_earlier_op_saved_still_fails_at_backward():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2.0
    c = b * b  # Mul saves b
    b[1] = 5.0
    with pytest.raises(RuntimeError, match="Mul .* saved its input 0 .* changed in place since"):
        c.sum().backward()
    assert a.grad is None


def test_a_leaf_that_requires_grad_refuses_the_write_as_pytorch():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in"):
        w[0] = 5.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    with no_grad():
        w[0] = 5.0  # an update, as an optimizer's: allowed
    assert w.is_leaf and w.grad_fn is None and w.data[0] == 5.0


def test_a_value_that_requires_grad_written_into_a_constant_makes_it_part_of_the_graph():
    w = Tensor(3.0, requires_grad=True)
    b = tl.zeros(4)
    b[1] = w
    assert b.requires_grad and b.grad_fn.name == "IndexPut"
    (b * Tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert w.grad == 2.0


def test_a_write_with_no_gradient_involved_records_nothing():
    b = tl.zeros(3)
    b[[0, 2]] = Tensor([1.0, 2.0])
    assert b.is_leaf and b.grad_fn is None and b.version == 1
    np.testing.assert_array_equal(b.data, [1.0, 0.0, 2.0])


@pytest.mark.parametrize(
    "view",
    [lambda b: b[0], lambda b: b.reshape(6), lambda b: b.T, lambda b: b.transpose(0, 1)],
    ids=["getitem", "reshape", "T", "transpose"],
)
def test_a_write_through_a_view_of_a_graph_tensor_is_refused_naming_clone(view):
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    v = view(a * 2.0)
    before = v.data.copy()
    with pytest.raises(RuntimeError, match=r"view .* clone\(\)"):
        v[0] = 0.0
    np.testing.assert_array_equal(v.data, before)  # refused before any change
    c = view(a * 2.0).clone()
    c[0] = 0.0  # a clone is a tensor of its own
    c.sum().backward()
    assert c.grad_fn.name == "IndexPut"
    assert a.grad.sum() == 2.0 * (c.numel() - c[0].numel())  # the written entries give none


def test_a_view_taken_before_the_write_is_refused_at_backward():
    a = Tensor(np.arange(4.0), requires_grad=True)
    b = a * 2.0
    r = b[1:3]  # shares b's memory: the write changes it too
    b[1] = 0.0
    assert r.data[0] == 0.0
    with pytest.raises(RuntimeError, match="shares memory with a tensor written into"):
        r.sum().backward()


def test_an_expanded_constant_is_read_only_with_our_error():
    e = Tensor([1.0, 2.0]).expand(3, 2)
    with pytest.raises(ValueError, match=r"read-only view \(made by expand.*clone\(\)"):
        e[0] = 5.0
    with pytest.raises(ValueError, match="read-only view"), no_grad():
        e.add_(1.0)


def test_a_value_that_requires_grad_into_a_bool_tensor_is_refused():
    mask = Tensor(np.zeros(3, dtype=bool))
    with pytest.raises(TypeError, match="only float tensors carry gradients"):
        mask[0] = Tensor(1.0, requires_grad=True)


def test_an_index_that_does_not_fit_is_an_error_naming_the_op_and_changes_nothing():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = a * 1.0
    with pytest.raises(IndexError, match=r"IndexPut: index 5 does not fit shape \(2,\)"):
        b[5] = 0.0
    assert b.grad_fn.name == "Mul" and b.version == 0
