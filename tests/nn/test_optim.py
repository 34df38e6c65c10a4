"""Optimizers against their hand-written definitions (PyTorch's), updating in place."""

import copy
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn, no_grad, optim

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


def parameters_with_grads(rng, shapes_, dtype=np.float64):
    params = [nn.Parameter(rng.standard_normal(shape), dtype=dtype) for shape in shapes_]
    for p in params:
        p.grad = rng.standard_normal(p.shape).astype(dtype)
    return params


@given(
    seed=seeds,
    shape_list=st.lists(shapes, min_size=1, max_size=3),
    lr=st.floats(1e-4, 1.0),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_plain_sgd_is_p_minus_lr_g_bit_for_bit_and_in_place(seed, shape_list, lr, dtype):
    rng = np.random.default_rng(seed)
    params = parameters_with_grads(rng, shape_list, dtype)
    arrays = [p.data for p in params]
    expected = [p.data - lr * p.grad for p in params]  # the notebook's W -= lr * dW
    optim.SGD(params, lr=lr).step()
    for p, array, want in zip(params, arrays, expected, strict=True):
        assert p.data is array  # updated in place
        assert p.dtype == dtype
        np.testing.assert_array_equal(p.data, want)


@given(
    seed=seeds,
    shape=shapes,
    momentum=st.floats(0.0, 0.99),
    weight_decay=st.floats(0.0, 0.1),
    steps=st.integers(1, 5),
)
def test_sgd_momentum_and_weight_decay_follow_pytorch_definitions(
    seed, shape, momentum, weight_decay, steps
):
    """PyTorch: g ← g + wd·p; b ← g on the first step, then b ← μ·b + g; p ← p − lr·b."""
    rng = np.random.default_rng(seed)
    lr = 0.05
    p = nn.Parameter(rng.standard_normal(shape))
    optimizer = optim.SGD([p], lr=lr, momentum=momentum, weight_decay=weight_decay)
    array, want, buffer = p.data, p.data.copy(), None
    for _ in range(steps):
        grad = rng.standard_normal(shape)
        p.grad = grad
        g = grad + weight_decay * want
        buffer = g.copy() if buffer is None else momentum * buffer + g
        want = want - lr * (buffer if momentum else g)
        optimizer.step()
        np.testing.assert_allclose(p.data, want, rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(p.grad, grad)  # the gradient itself is not touched
    assert p.data is array


@given(
    seed=seeds,
    shape=shapes,
    steps=st.integers(1, 8),
    weight_decay=st.sampled_from([0, 0.01]),
    lr=st.sampled_from([1e-3, 0.1]),
)
def test_adam_matches_a_hand_written_numpy_adam(seed, shape, steps, weight_decay, lr):
    rng = np.random.default_rng(seed)
    b1, b2, eps = 0.9, 0.999, 1e-8
    p = nn.Parameter(rng.standard_normal(shape))
    optimizer = optim.Adam([p], lr=lr, weight_decay=weight_decay)
    array, want = p.data, p.data.copy()
    m, v = np.zeros(shape), np.zeros(shape)
    for t in range(1, steps + 1):
        grad = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3)
        p.grad = grad
        g = grad + weight_decay * want
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        want = want - lr * m_hat / (np.sqrt(v_hat) + eps)
        optimizer.step()
        np.testing.assert_allclose(p.data, want, rtol=1e-12, atol=1e-15)
    assert p.data is array


def test_adam_counts_steps_per_parameter_as_pytorch_does():
    """A parameter first given a gradient at step 3 gets the bias correction of its step 1."""
    rng = np.random.default_rng(3)
    early, late = nn.Parameter(rng.standard_normal(4)), nn.Parameter(rng.standard_normal(4))
    alone = nn.Parameter(late.data.copy())
    optimizer, reference_optimizer = optim.Adam([early, late], lr=0.1), optim.Adam([alone], lr=0.1)
    for step in range(5):
        early.grad = rng.standard_normal(4)
        late.grad = alone.grad = rng.standard_normal(4) if step >= 2 else None
        optimizer.step()
        reference_optimizer.step()
        np.testing.assert_array_equal(late.data, alone.data)


def test_parameters_without_gradient_are_left_alone():
    rng = np.random.default_rng(0)
    for make in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps)):
        still, moving = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(3))
        moving.grad = rng.standard_normal(3)
        make([still, moving]).step()
        np.testing.assert_array_equal(still.data, np.ones(3))
        assert not np.array_equal(moving.data, np.ones(3))


def test_zero_grad_clears_the_gradients_of_its_parameters():
    params = parameters_with_grads(np.random.default_rng(1), [(2,), (3, 1)])
    optim.SGD(params, lr=0.1).zero_grad()
    assert all(p.grad is None for p in params)


def test_sgd_trains_a_linear_model_to_the_least_squares_solution():
    rng = np.random.default_rng(2)
    x, true_w = rng.standard_normal((50, 3)), rng.standard_normal((3, 1))
    y = x @ true_w + 0.5
    model = nn.Linear(3, 1, rng=rng)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for _ in range(300):
        optimizer.zero_grad()
        nn.MSELoss()(model(Tensor(x)), Tensor(y)).backward()
        optimizer.step()
    np.testing.assert_allclose(model.weight.data, true_w, atol=1e-6)
    np.testing.assert_allclose(model.bias.data, [0.5], atol=1e-6)


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_optimizer_argument_errors(make):
    with pytest.raises(ValueError, match=f"{make.__name__}: got an empty parameter list"):
        make([], lr=0.1)
    with pytest.raises(ValueError, match=f"{make.__name__}: got an empty parameter list"):
        make(iter(()), lr=0.1)
    for lr in (0.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="lr must be positive"):
            make([nn.Parameter(np.ones(1))], lr=lr)
    with pytest.raises(TypeError, match="every parameter must be a Tensor that requires grad"):
        make([Tensor(np.ones(1))], lr=0.1)


def test_bad_hyperparameters_are_value_errors():
    p = [nn.Parameter(np.ones(1))]
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD(p, lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(p, betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="eps"):
        optim.Adam(p, eps=0.0)


@given(
    seed=seeds,
    shape=shapes,
    momentum=st.floats(0.01, 0.99),
    dampening=st.sampled_from([0.0, 0.1, 0.5]),
    nesterov=st.booleans(),
    weight_decay=st.sampled_from([0.0, 0.01]),
    steps=st.integers(1, 6),
)
def test_sgd_nesterov_and_dampening_follow_pytorchs_update_step_by_step(
    seed, shape, momentum, dampening, nesterov, weight_decay, steps
):
    """PyTorch: g ← g + wd·p; b ← g on the first step, then b ← μ·b + (1 − dampening)·g;
    g ← g + μ·b with Nesterov, else g ← b; p ← p − lr·g."""
    dampening = 0.0 if nesterov else dampening
    rng = np.random.default_rng(seed)
    lr = 0.05
    p = nn.Parameter(rng.standard_normal(shape))
    optimizer = optim.SGD([p], lr, momentum, weight_decay, dampening=dampening, nesterov=nesterov)
    want, buffer = p.data.copy(), None
    for _ in range(steps):
        p.grad = rng.standard_normal(shape)
        g = p.grad + weight_decay * want
        buffer = g.copy() if buffer is None else momentum * buffer + (1 - dampening) * g
        want = want - lr * (g + momentum * buffer if nesterov else buffer)
        optimizer.step()
        np.testing.assert_allclose(p.data, want, rtol=1e-13, atol=1e-15)


def test_nesterov_needs_momentum_and_no_dampening():
    p = [nn.Parameter(np.ones(1))]
    with pytest.raises(ValueError, match="SGD: Nesterov momentum needs momentum > 0 and damp"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="got momentum=0.9 and dampening=0.1"):
        optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


@given(
    seed=seeds,
    shape=shapes,
    alpha=st.sampled_from([0.99, 0.9]),
    momentum=st.sampled_from([0.0, 0.9]),
    centered=st.booleans(),
    weight_decay=st.sampled_from([0.0, 0.01]),
    steps=st.integers(1, 6),
)
def test_rmsprop_follows_pytorchs_update_step_by_step(
    seed, shape, alpha, momentum, centered, weight_decay, steps
):
    """PyTorch: g ← g + wd·p; s ← α·s + (1 − α)·g²; with centered, m ← α·m + (1 − α)·g and
    s̃ = s − m², else s̃ = s; d = √s̃ + eps; with momentum b ← μ·b + g/d, p ← p − lr·b; else
    p ← p − lr·g/d."""
    rng = np.random.default_rng(seed)
    lr, eps = 0.01, 1e-8
    p = nn.Parameter(rng.standard_normal(shape))
    optimizer = optim.RMSprop(
        [p], lr=lr, alpha=alpha, momentum=momentum, centered=centered, weight_decay=weight_decay
    )
    array, want = p.data, p.data.copy()
    s, m, b = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for _ in range(steps):
        p.grad = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3)
        g = p.grad + weight_decay * want
        s = alpha * s + (1 - alpha) * g * g
        m = alpha * m + (1 - alpha) * g
        d = np.sqrt(s - m * m if centered else s) + eps
        b = momentum * b + g / d
        want = want - lr * (b if momentum else g / d)
        optimizer.step()
        np.testing.assert_allclose(p.data, want, rtol=1e-12, atol=1e-15)
    assert p.data is array


def test_rmsprop_has_pytorchs_defaults_and_keeps_float32():
    p = nn.Parameter(np.ones(3), dtype=np.float32)
    optimizer = optim.RMSprop([p])
    assert (optimizer.lr, optimizer.alpha, optimizer.eps) == (1e-2, 0.99, 1e-8)
    assert (optimizer.weight_decay, optimizer.momentum, optimizer.centered) == (0.0, 0.0, False)
    p.grad = np.full(3, 2.0, dtype=np.float32)
    optimizer.step()
    assert p.dtype == np.float32
    # s = 0.01·4, so the first step is lr·2/(0.2 + eps) = 0.1: RMSprop's first step is lr/√(1-α)
    np.testing.assert_allclose(p.data, 1 - 0.1, rtol=1e-6)


def test_rmsprop_leaves_a_parameter_without_gradient_and_its_averages_alone():
    rng = np.random.default_rng(5)
    still, moving = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    alone = nn.Parameter(np.ones(2))
    optimizer, reference_optimizer = optim.RMSprop([still, moving]), optim.RMSprop([alone])
    for step in range(4):
        grad = rng.standard_normal(2)
        moving.grad, still.grad = grad, (grad.copy() if step >= 2 else None)
        alone.grad = grad.copy() if step >= 2 else None
        optimizer.step()
        reference_optimizer.step()
    np.testing.assert_array_equal(still.data, alone.data)  # its averages began at step 2


def test_rmsprop_bad_hyperparameters_are_value_errors():
    p = [nn.Parameter(np.ones(1))]
    for bad in ({"alpha": 1.5}, {"eps": 0.0}, {"momentum": -0.1}, {"weight_decay": -1.0}):
        with pytest.raises(ValueError, match="RMSprop: need 0 <= alpha <= 1, eps > 0"):
            optim.RMSprop(p, **bad)
    with pytest.raises(ValueError, match="RMSprop: got an empty parameter list"):
        optim.RMSprop([])


# ------------------------------------------------------------------------- all or nothing
OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "SGD dampening": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5, dampening=0.5),
    "SGD Nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "RMSprop": lambda ps: optim.RMSprop(ps),
    "RMSprop centered": lambda ps: optim.RMSprop(
        ps, momentum=0.9, centered=True, weight_decay=0.01
    ),
    "Adam": lambda ps: optim.Adam(ps, lr=0.1),
    "Adam weight decay": lambda ps: optim.Adam(ps, weight_decay=0.01),
}
# A grad stops fitting its parameter when the parameter's data is replaced by another shape
# after the grad was set (``p.data = ...``): the new shape, from the old one.
RESHAPED = {
    "grows a leading axis": lambda shape: (2, *shape),  # the old grad broadcasts to it
    "loses its axes": lambda shape: () if shape else (1,),
    "a dim longer": lambda shape: (*shape[:-1], shape[-1] + 1) if shape else (2,),
}
# What the grad setter refuses, written past it (``p._grad``): the optimizer checks anyway.
NOT_AN_ARRAY_GRAD = {
    "int": lambda good: good.astype(np.int64),
    "bool": lambda good: good > 0,
    "complex": lambda good: good.astype(np.complex128),
    "list": lambda good: good.tolist(),
    "Tensor": Tensor,
    "float": lambda good: 0.5,
}


def spoil_grad(p, kind, rng):
    """Make ``p``'s grad wrong for it, as ``kind`` says."""
    if kind in RESHAPED:
        with no_grad():
            p.data = rng.standard_normal(RESHAPED[kind](p.shape)).astype(p.dtype)
    else:
        p._grad = NOT_AN_ARRAY_GRAD[kind](rng.standard_normal(p.shape).astype(p.dtype))


def state_of(optimizer):
    """Every attribute but the parameters, copied: buffers, step counts, settings."""
    return copy.deepcopy({k: v for k, v in vars(optimizer).items() if k != "params"})


def assert_identical(before, after):
    """Equal to the bit (arrays: dtype, shape and bytes), through lists, tuples and dicts."""
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray)
        assert (before.dtype, before.shape) == (after.dtype, after.shape)
        assert before.tobytes() == after.tobytes()
    elif isinstance(before, (list, tuple)):
        assert type(before) is type(after) and len(before) == len(after)
        for b, a in zip(before, after, strict=True):
            assert_identical(b, a)
    elif isinstance(before, dict):
        assert before.keys() == after.keys()
        for key in before:
            assert_identical(before[key], after[key])
    else:
        assert type(before) is type(after) and before == after


@given(
    seed=seeds,
    shape_list=st.lists(shapes, min_size=2, max_size=4),
    dtype=st.sampled_from([np.float32, np.float64]),
    name=st.sampled_from(list(OPTIMIZERS)),
    kind=st.sampled_from([*RESHAPED, *NOT_AN_ARRAY_GRAD]),
    warmup=st.integers(0, 2),
    data=st.data(),
)
def test_a_bad_grad_on_a_later_parameter_raises_and_changes_nothing(
    seed, shape_list, dtype, name, kind, warmup, data
):
    """Every parameter's grad is checked before any parameter, buffer or step count is
    written: a step that raises leaves all of them bit-identical."""
    rng = np.random.default_rng(seed)
    params = parameters_with_grads(rng, shape_list, dtype)
    optimizer = OPTIMIZERS[name](params)
    for _ in range(warmup):  # momentum buffers and step counts that are not the initial ones
        optimizer.step()
    bad = data.draw(st.integers(1, len(params) - 1), label="bad parameter")
    spoil_grad(params[bad], kind, rng)
    arrays, versions = [p.data for p in params], [p.version for p in params]
    values, state = [p.data.copy() for p in params], state_of(optimizer)
    where = f"{type(optimizer).__name__}.step: parameter {bad} (shape {params[bad].shape}, "
    with pytest.raises((TypeError, ValueError), match=re.escape(where)) as error:
        optimizer.step()
    assert "expected" in str(error.value) and "Nothing was updated" in str(error.value)
    for p, array, version, value in zip(params, arrays, versions, values, strict=True):
        assert p.data is array and p.version == version
        assert_identical(value, p.data)
    assert_identical(state, state_of(optimizer))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_grad_that_only_broadcasts_is_an_error_naming_the_parameter_and_both_shapes(name):
    first, second = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    first.grad = second.grad = np.ones(2)
    optimizer = OPTIMIZERS[name]([first, second])
    with no_grad():
        second.data = np.ones((3, 2))  # the grad, (2,), broadcasts to (3, 2)
    message = (
        f"{type(optimizer).__name__}.step: parameter 1 (shape (3, 2), float64) has a grad of "
        "shape (2,); expected exactly (3, 2)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        optimizer.step()
    np.testing.assert_array_equal(first.data, np.ones(2))
    np.testing.assert_array_equal(second.data, np.ones((3, 2)))


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "SGD"])
def test_a_parameter_whose_data_changed_shape_does_not_meet_its_old_state(name):
    """Its buffers were made for the old shape: they would broadcast into a wrong update."""
    first, second = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(3))
    optimizer = OPTIMIZERS[name]([first, second])
    first.grad = second.grad = np.ones(3)
    optimizer.step()
    with no_grad():
        second.data = np.ones((2, 3))
    first.grad, second.grad = np.ones(3), np.ones((2, 3))
    before, state = first.data.copy(), state_of(optimizer)
    with pytest.raises(ValueError, match=r"parameter 1 now has shape \(2, 3\), but its optimizer"):
        optimizer.step()
    np.testing.assert_array_equal(first.data, before)
    assert_identical(state, state_of(optimizer))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_parameter_whose_values_cannot_be_written_stops_the_step_before_any_write(name):
    first, second = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    first.grad = second.grad = np.ones(2)
    optimizer = OPTIMIZERS[name]([first, second])
    second.data.flags.writeable = False  # e.g. a view of a read-only (memory-mapped) file
    state = state_of(optimizer)
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(2,\), float64\): its values mu"):
        optimizer.step()
    np.testing.assert_array_equal(first.data, np.ones(2))
    assert_identical(state, state_of(optimizer))
