"""Engine integrity: nothing done to a tensor silently corrupts a gradient. In-place writes are
versioned and checked at backward, `.grad` arrays own their memory, gradients and forward
results are validated as they are produced, and every failure leaves the state unchanged."""

import inspect
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lab as tl
from tinygrad_lab import Function, Tensor, detect_anomaly, nn, no_grad, optim

THIS_FILE = os.path.basename(__file__)
seeds = st.integers(0, 2**32 - 1)


def leaf(shape=(3,), seed=0) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def _next_line() -> int:
    return inspect.currentframe().f_back.f_lineno + 1


# ------------------------------------------------------------------------- version counters
def test_an_optimizer_step_between_forward_and_a_second_backward_is_caught():
    """The issue's case: the second x.grad was off by 0.196 with no error."""
    layer = nn.Linear(3, 2, rng=np.random.default_rng(0))
    x = Tensor(np.ones((5, 3)), requires_grad=True)
    loss = (layer(x) ** 2).sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    optim.SGD(layer.parameters(), lr=0.1).step()
    with pytest.raises(RuntimeError) as error:
        loss.backward()
    message = str(error.value)
    assert "Affine" in message and "input 1 of shape (3, 2)" in message
    # version 1 after the initialisation (a write, as in PyTorch), 2 after the step
    assert "at version 1" in message and "version 2 now" in message
    np.testing.assert_array_equal(x.grad, first)  # nothing changed


def test_the_error_names_the_site_that_created_the_op_in_anomaly_mode():
    x, w = leaf(), leaf(seed=1)
    with detect_anomaly():
        line = _next_line()
        y = (x * w).sum()
        with no_grad():
            w.add_(1.0)
        with pytest.raises(RuntimeError, match=f"Mul \\(created at {THIS_FILE}:{line}\\)"):
            y.backward()


@pytest.mark.parametrize(
    "write",
    [
        lambda w: w.add_(1.0),
        lambda w: w.sub_(1.0),
        lambda w: w.mul_(2.0),
        lambda w: w.div_(2.0),
        lambda w: w.zero_(),
        lambda w: w.fill_(3.0),
        lambda w: w.copy_(np.ones(3)),
        lambda w: w.__setitem__(0, 5.0),
        lambda w: w.__isub__(1.0),
    ],
    ids=["add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "setitem", "-="],
)
def test_every_in_place_write_through_the_framework_is_caught(write):
    x, w = leaf(), leaf(seed=1)
    y = (x * w).sum()
    version = w.version
    with no_grad():
        write(w)
    assert w.version == version + 1
    with pytest.raises(RuntimeError, match="changed in place since"):
        y.backward()
    assert x.grad is None and w.grad is None


def test_assigning_new_data_raises_the_version_but_leaves_what_backward_saved():
    x, w = leaf(), leaf(seed=1)
    used = w.data.copy()
    y = (x * w).sum()
    w.data = np.zeros(3)  # a new array: the one Mul saved is untouched
    assert w.version == 1
    y.backward()
    np.testing.assert_array_equal(x.grad, used)  # the gradient of what forward computed


def test_augmented_assignment_to_data_is_an_in_place_write_too():
    x, w = leaf(), leaf(seed=1)
    y = (x * w).sum()
    w.data *= 2  # through the .data property: tracked
    with pytest.raises(RuntimeError, match="changed in place since"):
        y.backward()


def test_a_saved_output_changed_in_place_is_caught():
    x = leaf()
    y = x.exp()  # Exp saves its output
    z = y.sum()  # Sum saves nothing
    with no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="Exp .* saved its output"):
        z.backward()


def test_a_write_through_a_view_of_a_saved_input_is_caught():
    x = leaf((2, 3))
    row = x[0]  # a view of x's array
    w = leaf(seed=1)
    y = (row * w).sum()  # Mul saves row's array
    with no_grad():
        x.mul_(2.0)  # writes row's memory through x
    with pytest.raises(RuntimeError, match="through a tensor that shares its memory"):
        y.backward()


def test_writes_to_what_backward_does_not_read_are_allowed_and_give_true_gradients():
    x, w = leaf(), leaf(seed=1)
    y = (x + w).sum()  # Add saves nothing
    with no_grad():
        w.add_(1.0)
    y.backward()
    np.testing.assert_array_equal(x.grad, np.ones(3))


def test_training_loops_with_writes_after_backward_are_unaffected():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 1, rng=1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    X, y = Tensor(np.ones((5, 3))), Tensor(np.zeros((5, 1)))
    for _ in range(3):
        loss = nn.MSELoss()(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


# The ops of a random graph, with what each one's backward reads (saves): an independent
# statement of the ops' contracts, which the property below holds the engine to.
UNARY = {"exp": ("output",), "tanh": ("output",), "relu": ("input",), "neg": (), "sum": ()}
BINARY = {"add": (), "sub": (), "mul": ("left", "right")}


def _apply(op, *args):
    if op in ("add", "sub", "mul"):
        a, b = args
        return {"add": a + b, "sub": a - b, "mul": a * b}[op]
    (a,) = args
    return {
        "exp": a.exp(),
        "tanh": a.tanh(),
        "relu": a.relu(),
        "neg": -a,
        "sum": a.sum(keepdims=True) * np.ones(a.shape),
    }[op]


@st.composite
def programs(draw):
    steps = []
    for k in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            op = draw(st.sampled_from(sorted(BINARY)))
            steps.append((op, draw(st.integers(0, k + 1)), draw(st.integers(0, k + 1))))
        else:
            steps.append((draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, k + 1))))
    return steps


def _reads(program: list, n_leaves: int) -> set[int]:
    """Positions of the tensors that the backward of the last tensor reads, from the table."""
    made_by = {n_leaves + k: step for k, step in enumerate(program)}
    needed, stack = set(), [n_leaves + len(program) - 1]
    while stack:  # the tensors the last one depends on
        i = stack.pop()
        if i not in needed:
            needed.add(i)
            stack.extend(made_by[i][1:] if i in made_by else [])
    reads = set()
    for out, (op, *inputs) in made_by.items():
        if out not in needed:
            continue  # an op off the path to the root: its backward never runs
        saved = UNARY.get(op, BINARY.get(op))
        roles = ("input",) if len(inputs) == 1 else ("left", "right")
        reads |= {i for role, i in zip(roles, inputs, strict=True) if role in saved}
        if "output" in saved:
            reads.add(out)
    return reads


@given(program=programs(), target=st.integers(0, 100), seed=seeds)
def test_backward_raises_iff_an_in_place_write_touched_what_backward_reads(program, target, seed):
    rng = np.random.default_rng(seed)
    tensors = [leaf((4,), seed), leaf((4,), seed + 1)]
    for op, *inputs in program:
        tensors.append(_apply(op, *[tensors[i] for i in inputs]))
    root = tensors[-1].sum()
    written = target % len(tensors)
    with no_grad():
        tensors[written].add_(rng.uniform(0.5, 1.0))
    if written in _reads(program, 2):
        with pytest.raises(RuntimeError, match="changed in place since"):
            root.backward()
        assert all(t.grad is None for t in tensors[:2])
    else:
        root.backward()  # no false alarm


# ------------------------------------------------------------------------- anomaly checksums
def test_raw_numpy_writes_are_caught_under_detect_anomaly():
    source = np.array([1.0, 2.0, 3.0])
    w = Tensor(source, requires_grad=True)
    x = leaf()
    with detect_anomaly():
        y = (x * w).sum()
        source[...] = 0.0  # into the ndarray the Tensor was made from
        with pytest.raises(RuntimeError, match="does not track"):
            y.backward()
        y2 = (x * w).sum()
        w.data[...] = 5.0  # into .data's array: no version bump
        with pytest.raises(RuntimeError, match="saved array 1 .shape \\(3,\\). of Mul"):
            y2.backward()
    assert x.grad is None


def test_raw_numpy_writes_outside_anomaly_mode_are_documented_as_untracked():
    x, w = leaf(), leaf(seed=1)
    y = (x * w).sum()
    w.data[...] = 0.0  # neither a version bump nor a checksum: the README says so
    y.backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))


# ------------------------------------------------------------------------- in-place operators
def test_the_hand_written_update_keeps_the_parameter_registered_and_training():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(0))
    weight = layer.weight
    opt = optim.SGD(layer.parameters(), lr=0.1)
    (layer(Tensor(np.ones((4, 3)))) ** 2).sum().backward()
    expected = weight.data - 0.1 * weight.grad
    with no_grad():
        layer.weight -= 0.1 * layer.weight.grad
    assert layer.weight is weight and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(weight.data, expected)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == ["weight", "bias"]
    before = weight.data.copy()
    opt.step()  # the optimizer still holds the same object, so it still trains it
    assert not np.array_equal(weight.data, before)


def test_assigning_a_plain_tensor_to_a_parameter_is_a_type_error_naming_both():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"Linear\.weight is a parameter: cannot assign a Tensor"):
        layer.weight = Tensor(np.ones((3, 2)))
    with pytest.raises(TypeError, match="cannot assign a Tensor"):
        layer.weight = layer.weight - 1.0
    assert isinstance(layer.weight, nn.Parameter)
    layer.weight = nn.Parameter(np.zeros((3, 2)))  # a Parameter is fine
    assert np.all(layer.weight.data == 0)


def test_in_place_on_a_leaf_that_requires_grad_outside_no_grad_is_an_error():
    w = leaf()
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w -= 1.0
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1.0)
    assert w.version == 0


def test_augmented_assignment_in_the_graph_makes_a_new_tensor_with_true_gradients():
    x = leaf()
    h = x * 2.0
    h += x  # on a tensor of the graph: h = h + x
    h.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(3, 3.0))
    c = Tensor(np.ones(3))
    c *= x  # a constant times a tensor that requires grad: c = c * x, gradients kept
    assert c.requires_grad


def test_in_place_writes_keep_the_shape_and_name_it():
    t = Tensor(np.zeros(3))
    with pytest.raises(ValueError, match=r"add_: a value of shape \(2, 3\).*shape \(3,\)"):
        t.add_(np.ones((2, 3)))
    assert t.version == 0


# ------------------------------------------------------------------------- .grad ownership
def test_leaf_gradients_never_share_memory():
    a, b, c = leaf(seed=0), leaf(seed=1), leaf(seed=2)
    ((a + b) * c).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a.grad *= 0.5
    b.grad *= 0.5
    np.testing.assert_allclose(a.grad, 0.5 * c.data)
    np.testing.assert_allclose(b.grad, 0.5 * c.data)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds)
def test_no_grad_shares_memory_with_another_or_with_the_seed(shape, seed):
    x, y = leaf(shape, seed), leaf(shape, seed + 1)
    z = x.reshape(-1) + y.reshape(-1)  # Add hands one array to both, reshape views it
    seed_grad = np.random.default_rng(seed).standard_normal(z.shape)
    z.retain_grad().backward(seed_grad)
    arrays = [x.grad, y.grad, z.grad, seed_grad]
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            assert not np.shares_memory(arrays[i], arrays[j])
    np.testing.assert_array_equal(x.grad, seed_grad.reshape(shape))


# ------------------------------------------------------------------------- bool masks
def test_a_bool_mask_in_a_tensor_selects_entries():
    x = Tensor(np.arange(5.0), requires_grad=True)
    mask = Tensor(np.array([1, 0, 1, 0, 1], bool))
    np.testing.assert_array_equal(x[mask].data, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(x[x > 1.5].data, [2.0, 3.0, 4.0])


@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
    seed=seeds,
)
def test_gradients_through_bool_and_integer_tensor_indices_pass_gradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    mask = Tensor(rng.random(shape) > 0.5)
    assert mask.dtype == np.bool_
    assert tl.gradcheck(lambda t: t[mask] * 3.0, [x])
    rows = Tensor(rng.integers(0, shape[0], size=5).astype(float))  # repeats accumulate
    assert tl.gradcheck(lambda t: t[rows] ** 2, [x])


# ------------------------------------------------------------------------- all or nothing
class BadBackward(Function):
    """Identity forward; a backward that returns whatever the test asks for."""

    @staticmethod
    def forward(ctx, x, bad=None):
        ctx.bad = bad
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return ctx.bad(grad)


@pytest.mark.parametrize(
    ("bad", "error", "named"),
    [
        (lambda g: Tensor(g), TypeError, "returned a Tensor as the gradient of input 0"),
        (lambda g: 1.5, TypeError, "returned a float as the gradient of input 0"),
        (lambda g: list(g), TypeError, "returned a list as the gradient of input 0"),
        (lambda g: np.ones(7), RuntimeError, r"returned a gradient of shape \(7,\) for input 0"),
        (lambda g: g.astype(complex), TypeError, "returned a complex128 array as the gradient"),
    ],
    ids=["tensor", "float", "list", "shape", "complex"],
)
def test_a_bad_custom_gradient_names_the_op_and_changes_no_grad(bad, error, named):
    x, w = leaf(), leaf(seed=1)
    out = (BadBackward.apply(x, bad=bad) + w).sum()  # backward reaches w before x
    with pytest.raises(error, match=f"BadBackward.backward {named}"):
        out.backward()
    assert x.grad is None and w.grad is None


def test_a_grad_of_the_wrong_shape_or_kind_is_refused_when_assigned():
    """(It used to be accepted and to fail later, in backward.)"""
    x = leaf()
    with pytest.raises(ValueError, match=r"grad: a gradient of shape \(5,\) for a tensor of shape"):
        x.grad = np.ones(5)
    with pytest.raises(TypeError, match=r"grad: expected None or a numeric ndarray .* <U1 array"):
        x.grad = np.array(["a", "b", "c"])
    with pytest.raises(TypeError, match="got a list"):
        x.grad = [1.0, 2.0, 3.0]
    assert x.grad is None


def test_an_assigned_grad_takes_the_tensors_dtype_and_accumulates():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    x.grad = np.arange(3)  # ints: a float32 gradient
    assert x.grad.dtype == np.float32
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.arange(3) + 2)
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("value", "named"),
    [(True, "bool"), (None, "NoneType"), ("text", "str"), (Tensor([1.0]), "Tensor")],
)
def test_a_forward_returning_a_non_array_is_an_error_naming_the_function(value, named):
    class Returns(Function):
        @staticmethod
        def forward(ctx, x):
            return value

    with pytest.raises(TypeError, match=f"Returns.forward returned {named}; it must return"):
        Returns.apply(leaf())


def test_a_value_error_in_a_custom_forward_keeps_the_users_line_in_the_traceback():
    class Fails(Function):
        @staticmethod
        def forward(ctx, x):
            raise ValueError("my own check failed")

    with pytest.raises(ValueError, match="Fails: inputs of shapes \\(3,\\): my own check") as error:
        Fails.apply(leaf())
    cause = error.value.__cause__
    assert isinstance(cause, ValueError)
    frames = [frame.name for frame in __import__("traceback").extract_tb(cause.__traceback__)]
    assert "forward" in frames


# ------------------------------------------------------------------------- smaller items
def test_no_grad_on_a_generator_function_records_no_graph_inside():
    w = leaf()

    @no_grad
    def batches(n):
        for k in range(n):
            assert not tl.is_grad_enabled()
            yield w * float(k)

    outputs = list(batches(3))
    assert all(not out.requires_grad for out in outputs)
    assert tl.is_grad_enabled()


def test_negative_powers_of_zero_raise_as_division_by_zero_does():
    x = Tensor([0.0, 2.0], requires_grad=True)
    with pytest.raises(ZeroDivisionError, match="Pow: x \\*\\* -1.0 divides by x"):
        _ = x**-1
    with pytest.raises(ZeroDivisionError, match="Div"):
        _ = 1.0 / x
    with pytest.raises(ZeroDivisionError, match="TensorPow"):
        _ = x ** Tensor([-1.0, 1.0])
    np.testing.assert_array_equal((Tensor([0.0]) ** 2).data, [0.0])


def test_reduction_axis_of_the_wrong_type_is_a_clear_type_error():
    with pytest.raises(
        TypeError, match=r"Sum: axis must be an int, a tuple of ints or None, got 1\.0"
    ):
        leaf((2, 3)).sum(axis=1.0)


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_over_an_empty_axis_gives_an_empty_result(op):
    x = Tensor(np.zeros((3, 0)), requires_grad=True)
    out = getattr(x, op)(axis=1)
    expected = (3,) if op == "logsumexp" else (3, 0)
    assert out.shape == expected
    out.sum().backward()
    assert x.grad.shape == (3, 0)


def test_an_op_that_returns_integers_gives_a_float64_constant():
    """Tensors hold floats or bools: the sum of a mask is a count, as a float."""
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    count = (x > 0).sum()
    assert count.dtype == np.float64 and count.item() == 2.0 and not count.requires_grad
