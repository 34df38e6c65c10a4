"""Optimizers against their hand-written definitions (PyTorch's), updating in place."""

import copy
import pickle
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


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop])
def test_optimizer_argument_errors(make):
    with pytest.raises(ValueError, match=f"{make.__name__}: got an empty parameter list"):
        make([], lr=0.1)
    with pytest.raises(ValueError, match=f"{make.__name__}: got an empty parameter list"):
        make(iter(()), lr=0.1)
    for lr in (-0.1, -1e-12, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=f"{make.__name__}: lr must be a number >= 0, got"):
            make([nn.Parameter(np.ones(1))], lr=lr)
    with pytest.raises(TypeError, match="lr must be a number >= 0, got str '0.1'"):
        make([nn.Parameter(np.ones(1))], lr="0.1")
    with pytest.raises(TypeError, match=r"parameter 1 is ndarray array\(\[1.\]\); expected a Ten"):
        make([nn.Parameter(np.ones(1)), np.ones(1)], lr=0.1)


def test_lr_zero_is_accepted_and_leaves_the_parameters_as_pytorch_does():
    p = nn.Parameter(np.ones(3))
    p.grad = np.ones(3)
    optim.SGD([p], lr=0.0).step()
    np.testing.assert_array_equal(p.data, np.ones(3))


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
    optimizer = optim.SGD([p], lr, momentum, dampening, weight_decay, nesterov)  # PyTorch's order
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
    group = optimizer.param_groups[0]
    assert optimizer.defaults == {key: v for key, v in group.items() if key != "params"}
    assert (group["lr"], group["alpha"], group["eps"]) == (1e-2, 0.99, 1e-8)
    assert (group["weight_decay"], group["momentum"], group["centered"]) == (0.0, 0.0, False)
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


def test_rmsprop_bad_hyperparameters_are_errors_naming_each():
    p = [nn.Parameter(np.ones(1))]
    bad = {
        "alpha": (1.5, "in [0, 1]"),
        "eps": (0.0, "a number > 0"),
        "momentum": (-0.1, "a number >= 0"),
        "weight_decay": (-1.0, "a number >= 0"),
    }
    for key, (value, expected) in bad.items():
        with pytest.raises(ValueError, match=re.escape(f"RMSprop: {key} must be {expected}, got")):
            optim.RMSprop(p, **{key: value})
    with pytest.raises(TypeError, match="RMSprop: centered must be True or False, got int 1"):
        optim.RMSprop(p, centered=1)
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
    """Its buffers, step counts and settings (copies) and how many steps it has taken."""
    return optimizer.state_dict(), optimizer._step_count


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


# ------------------------------------------------------------------------- AdamW, amsgrad, maximize
@given(
    seed=seeds,
    shape=shapes,
    steps=st.integers(1, 8),
    lr=st.sampled_from([1e-3, 0.1]),
    weight_decay=st.sampled_from([0.0, 0.01, 0.3]),
    amsgrad=st.booleans(),
    maximize=st.booleans(),
    decoupled=st.booleans(),
    betas=st.sampled_from([(0.9, 0.999), (0.5, 0.9), (0.0, 0.0)]),
)
def test_adam_and_adamw_follow_pytorchs_update_step_by_step(
    seed, shape, steps, lr, weight_decay, amsgrad, maximize, decoupled, betas
):
    """PyTorch: g ← −g with maximize; AdamW: p ← p·(1 − lr·wd), else g ← g + wd·p;
    m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; with amsgrad v̄ ← max(v̄, v), else v̄ = v;
    p ← p − lr/(1 − β₁ᵗ) · m / (√v̄/√(1 − β₂ᵗ) + eps)."""
    rng = np.random.default_rng(seed)
    (b1, b2), eps = betas, 1e-8
    p = nn.Parameter(rng.standard_normal(shape))
    make = optim.AdamW if decoupled else optim.Adam
    optimizer = make(
        [p], lr=lr, betas=betas, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
    )
    array, want = p.data, p.data.copy()
    m, v, v_max = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for t in range(1, steps + 1):
        p.grad = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3)
        g = -p.grad if maximize else p.grad
        if decoupled:
            want = want * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * want
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        denominator = np.sqrt(v_max if amsgrad else v) / np.sqrt(1 - b2**t) + eps
        want = want - lr / (1 - b1**t) * m / denominator
        version = p.version
        optimizer.step()
        np.testing.assert_allclose(p.data, want, rtol=1e-12, atol=1e-15)
        assert p.version == version + 1  # one in-place write a step, the decay included
    assert p.data is array


def test_adamw_has_pytorchs_defaults():
    optimizer = optim.AdamW([nn.Parameter(np.ones(2))])
    assert optimizer.defaults == {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 1e-2,
        "amsgrad": False,
        "maximize": False,
        "decoupled_weight_decay": True,
    }
    assert optim.Adam([nn.Parameter(np.ones(2))]).defaults["decoupled_weight_decay"] is False
    assert optim.SGD([nn.Parameter(np.ones(2))]).defaults["lr"] == 1e-3


@given(seed=seeds, shape=shapes, name=st.sampled_from(["SGD momentum", "RMSprop", "Adam"]))
def test_maximize_is_the_step_on_the_negated_gradient(seed, shape, name):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(shape)
    up, down = nn.Parameter(start.copy()), nn.Parameter(start.copy())
    options = {"SGD momentum": {"momentum": 0.9}, "RMSprop": {}, "Adam": {}}[name]
    kind = getattr(optim, name.split()[0])
    ascending = kind([up], lr=0.1, maximize=True, **options)
    descending = kind([down], lr=0.1, **options)
    for _ in range(3):
        grad = rng.standard_normal(shape)
        up.grad, down.grad = grad, -grad
        ascending.step()
        descending.step()
        np.testing.assert_array_equal(up.data, down.data)


# ------------------------------------------------------------------------- parameter groups
MAKERS = {
    "SGD": (optim.SGD, [{"lr": 0.1}, {"lr": 0.02, "momentum": 0.9, "nesterov": True}]),
    "RMSprop": (optim.RMSprop, [{"alpha": 0.9}, {"lr": 0.001, "centered": True}]),
    "Adam": (optim.Adam, [{"betas": (0.5, 0.9)}, {"lr": 0.01, "amsgrad": True}]),
    "AdamW": (optim.AdamW, [{"weight_decay": 0.1}, {"lr": 0.01, "eps": 1e-6}]),
}


@given(
    seed=seeds,
    shape_lists=st.lists(st.lists(shapes, min_size=1, max_size=3), min_size=2, max_size=2),
    name=st.sampled_from(list(MAKERS)),
    steps=st.integers(1, 4),
)
def test_each_param_group_steps_as_its_own_optimizer_with_its_options(
    seed, shape_lists, name, steps
):
    """One optimizer over groups with options of their own is, to the bit, one optimizer a
    group, each made with the defaults overridden by its group's options."""
    rng = np.random.default_rng(seed)
    make, options = MAKERS[name]
    groups = [parameters_with_grads(rng, shape_list) for shape_list in shape_lists]
    alone = [[nn.Parameter(p.data.copy()) for p in group] for group in groups]
    together = make(
        [{"params": group, **opts} for group, opts in zip(groups, options, strict=True)], lr=0.05
    )
    separate = [
        make(params, **({"lr": 0.05} | opts)) for params, opts in zip(alone, options, strict=True)
    ]
    for _ in range(steps):
        for group, copies in zip(groups, alone, strict=True):
            for p, q in zip(group, copies, strict=True):
                p.grad = q.grad = rng.standard_normal(p.shape)
        together.step()
        for optimizer in separate:
            optimizer.step()
        for group, copies in zip(groups, alone, strict=True):
            for p, q in zip(group, copies, strict=True):
                np.testing.assert_array_equal(p.data, q.data)
    assert [g["lr"] for g in together.param_groups] == [o.defaults["lr"] for o in separate]


def test_a_group_takes_the_defaults_it_does_not_give():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    optimizer = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "name": "head"}], lr=0.1)
    first, second = optimizer.param_groups
    assert first == {"params": [a]} | optimizer.defaults
    assert second["params"] == [b] and second["lr"] == 0.5 and second["name"] == "head"
    assert {k: v for k, v in second.items() if k not in ("params", "lr", "name")} == {
        k: v for k, v in optimizer.defaults.items() if k != "lr"
    }


def test_add_param_group_trains_new_parameters_with_their_own_options():
    """Fine-tuning: a head first, the body added later with a smaller lr."""
    head, body = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    optimizer = optim.SGD([head], lr=0.1)
    head.grad, body.grad = np.ones(2), np.ones(3)
    optimizer.step()
    np.testing.assert_array_equal(body.data, np.ones(3))
    optimizer.add_param_group({"params": [body], "lr": 0.01})
    optimizer.step()
    np.testing.assert_allclose(head.data, 1 - 0.1 - 0.1)
    np.testing.assert_allclose(body.data, 1 - 0.01)
    assert optimizer.param_groups[1]["momentum"] == 0.0  # the defaults fill the rest


def test_add_param_group_errors_name_the_problem_and_add_nothing():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    optimizer = optim.Adam([a])
    cases = [
        ([b], TypeError, "Adam.add_param_group: expected a dict with a 'params' key"),
        ({"lr": 0.1}, TypeError, r"got a dict with keys \['lr'\]"),
        (
            {"params": [b, a]},
            ValueError,
            r"param_groups\[1\]: parameter 1 \(shape \(2,\)\) is "
            r"already parameter 0, in param_groups\[0\]",
        ),
        ({"params": [b, b]}, ValueError, r"Adam: parameter 2 \(shape \(3,\)\) is parameter 1 ag"),
        ({"params": [b], "lr": -1}, ValueError, r"Adam: param_groups\[1\]: lr must be a number"),
        ({"params": [b], "betas": 0.9}, TypeError, r"betas must be a pair \(beta1, beta2\)"),
        ({"params": {b}}, TypeError, "'params' is a set, whose order changes between runs"),
        ({"params": [("w", b)]}, ValueError, "every param group must give names"),
    ]
    for group, error, message in cases:
        with pytest.raises(error, match=message):
            optimizer.add_param_group(group)
        assert len(optimizer.param_groups) == 1 and optimizer.param_groups[0]["params"] == [a]


def test_named_parameters_are_kept_as_param_names():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    optimizer = optim.SGD(model.named_parameters(), lr=0.1)
    names = [name for name, _ in model.named_parameters()]
    assert optimizer.param_groups[0]["param_names"] == names
    assert optimizer.param_groups[0]["params"] == list(model.parameters())
    assert optimizer.state_dict()["param_groups"][0]["param_names"] == names
    with pytest.raises(ValueError, match="give every parameter a name, as"):
        optim.SGD([("w", model[0].weight), model[0].bias], lr=0.1)


def test_repr_lists_each_group_and_its_options():
    optimizer = optim.SGD([{"params": [nn.Parameter(np.ones(1))], "lr": 0.5}], lr=0.1)
    text = repr(optimizer)
    assert text.startswith("SGD (\nParameter Group 0\n") and text.endswith(")")
    assert "    lr: 0.5\n" in text and "    momentum: 0.0\n" in text and "params" not in text


# ------------------------------------------------------------------------- frozen, no grad
def test_a_frozen_parameter_is_accepted_and_never_stepped():
    """Fine-tuning: freeze a layer, make the optimizer over all parameters, train; unfreeze."""
    rng = np.random.default_rng(7)
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU(), nn.Linear(4, 1, rng=rng))
    for p in model[0].parameters():
        p.requires_grad_(False)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    frozen = [p.data.copy() for p in model[0].parameters()]
    x, y = Tensor(rng.standard_normal((8, 3))), Tensor(rng.standard_normal((8, 1)))
    for _ in range(3):
        optimizer.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        optimizer.step()
    for p, before in zip(model[0].parameters(), frozen, strict=True):
        np.testing.assert_array_equal(p.data, before)
        assert p not in optimizer.state
    model[0].weight.grad = np.ones(
        model[0].weight.shape
    )  # a grad on a frozen parameter is not used either
    optimizer.step()
    np.testing.assert_array_equal(model[0].weight.data, frozen[0])
    for p in model[0].parameters():
        p.requires_grad_(True)
    optimizer.zero_grad()
    nn.MSELoss()(model(x), y).backward()
    optimizer.step()
    assert not np.array_equal(model[0].weight.data, frozen[0])


def test_a_non_leaf_tensor_is_refused_naming_the_op_that_made_it():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(2,\)\) is not a leaf: Mul made"):
        optim.SGD([p, p * 2], lr=0.1)


# ------------------------------------------------------------------------- zero_grad
def test_zero_grad_sets_none_by_default_and_new_zeros_with_set_to_none_false():
    rng = np.random.default_rng(4)
    params = parameters_with_grads(rng, [(2,), (3, 1)], np.float32)
    params.append(nn.Parameter(np.ones(2)))  # no grad: stays None
    optimizer = optim.SGD(params, lr=0.1)
    kept = params[0].grad
    values = kept.copy()
    optimizer.zero_grad(set_to_none=False)
    for p in params[:2]:
        assert p.grad is not kept and p.grad.dtype == np.float32 and p.grad.shape == p.shape
        np.testing.assert_array_equal(p.grad, np.zeros(p.shape))
    assert params[2].grad is None
    np.testing.assert_array_equal(kept, values)  # an array kept elsewhere keeps its values
    optimizer.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_with_a_closure_returns_its_loss_and_steps_on_the_grads_it_made():
    rng = np.random.default_rng(8)
    model = nn.Linear(2, 1, rng=rng)
    x, y = Tensor(rng.standard_normal((5, 2))), Tensor(rng.standard_normal((5, 1)))
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = nn.MSELoss()(model(x), y)
        loss.backward()
        return loss

    before = model.weight.data.copy()
    loss = optimizer.step(closure)
    assert isinstance(loss, Tensor)
    np.testing.assert_allclose(model.weight.data, before - 0.1 * model.weight.grad)
    assert optimizer.step() is None


# ------------------------------------------------------------------------- wrong calls
def test_wrong_params_get_an_error_that_says_what_to_pass():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    p = nn.Parameter(np.ones(2))
    cases = [
        (
            model.parameters,
            "SGD: params is the method Sequential.parameters itself, not what it "
            r"returns; call it: model.parameters\(\)",
        ),
        (model.named_parameters, r"call it: model.named_parameters\(\)"),
        (model, r"params is a Sequential module; pass its parameters: model.parameters\(\)"),
        (p, r"params is one Tensor of shape \(2,\); pass an iterable of them, e.g. \[tensor\]"),
        (5, "params is int 5, which is not iterable"),
        ({p}, "params is a set, whose order changes between runs; pass a list"),
        ({"params": [p]}, "params is a dict; pass a list of Tensors, or of param-group dicts"),
    ]
    for params, message in cases:
        with pytest.raises(TypeError, match=message):
            optim.SGD(params, lr=0.1)
    with pytest.raises(TypeError, match=r"mixes param-group dicts \(item 1\) with other items"):
        optim.SGD([p, {"params": [nn.Parameter(np.ones(1))]}], lr=0.1)


BAD_OPTIONS = [
    (optim.SGD, {"momentum": -0.5}, ValueError, "SGD: momentum must be a number >= 0, got -0.5"),
    (optim.SGD, {"dampening": 2.0}, ValueError, "SGD: dampening must be in [0, 1], got 2.0"),
    (optim.SGD, {"weight_decay": -1}, ValueError, "SGD: weight_decay must be a number >= 0"),
    (optim.SGD, {"nesterov": 0.9}, TypeError, "SGD: nesterov must be True or False, got float"),
    (optim.SGD, {"maximize": "yes"}, TypeError, "SGD: maximize must be True or False, got str"),
    (optim.Adam, {"betas": (1.0, 0.999)}, ValueError, "Adam: betas[0] must be in [0, 1), got 1.0"),
    (optim.Adam, {"betas": (0.9, -0.1)}, ValueError, "Adam: betas[1] must be in [0, 1), got -0.1"),
    (optim.Adam, {"betas": (0.9,)}, TypeError, "Adam: betas must be a pair (beta1, beta2)"),
    (optim.Adam, {"eps": 0.0}, ValueError, "Adam: eps must be a number > 0, got 0.0"),
    (optim.AdamW, {"weight_decay": -0.01}, ValueError, "AdamW: weight_decay must be a number >="),
    (optim.AdamW, {"amsgrad": None}, TypeError, "AdamW: amsgrad must be True or False, got None"),
    (optim.RMSprop, {"alpha": -0.1}, ValueError, "RMSprop: alpha must be in [0, 1], got -0.1"),
]


@pytest.mark.parametrize(("make", "options", "error", "message"), BAD_OPTIONS)
def test_a_bad_option_names_itself_what_it_got_and_what_is_expected(make, options, error, message):
    p = nn.Parameter(np.ones(1))
    with pytest.raises(error, match=re.escape(message)):
        make([p], **options)
    with pytest.raises(error, match=re.escape(message.replace(": ", ": param_groups[1]: ", 1))):
        make([{"params": [nn.Parameter(np.ones(1))]}, {"params": [p], **options}])


# ------------------------------------------------------------------------- state_dict
KINDS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: optim.SGD(
        [{"params": ps[:1], "lr": 0.2}, {"params": ps[1:]}], lr=0.1, momentum=0.9
    ),
    "RMSprop": lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True),
    "Adam": lambda ps: optim.Adam([{"params": ps[1:]}, {"params": ps[:1], "amsgrad": True}]),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01),
}
STATE_KEYS = {  # PyTorch's names for what each keeps a parameter
    "SGD": set(),
    "SGD momentum": {"momentum_buffer"},
    "RMSprop": {"step", "square_avg", "grad_avg", "momentum_buffer"},
    "Adam": {"step", "exp_avg", "exp_avg_sq"},  # and max_exp_avg_sq with amsgrad
    "AdamW": {"step", "exp_avg", "exp_avg_sq"},
}


def set_grads(rng, *param_lists):
    """The same fresh gradients on each list's parameters (lists of the same shapes)."""
    for group in zip(*param_lists, strict=True):
        grad = rng.standard_normal(group[0].shape)
        for p in group:
            p.grad = grad.copy()


@given(
    seed=seeds,
    shape_list=st.lists(shapes, min_size=2, max_size=4),
    name=st.sampled_from(list(KINDS)),
    before=st.integers(0, 3),
    after=st.integers(1, 3),
    through_pickle=st.booleans(),
)
def test_a_loaded_state_dict_continues_exactly_as_the_optimizer_it_came_from(
    seed, shape_list, name, before, after, through_pickle
):
    rng = np.random.default_rng(seed)
    params = parameters_with_grads(rng, shape_list)
    optimizer = KINDS[name](params)
    for _ in range(before):
        set_grads(rng, params)
        optimizer.step()
    saved = optimizer.state_dict()
    if through_pickle:
        saved = pickle.loads(pickle.dumps(saved))
    resumed_params = [nn.Parameter(p.data.copy()) for p in params]
    resumed = KINDS[name](resumed_params)
    resumed.load_state_dict(saved)
    assert_identical(saved, resumed.state_dict())
    for _ in range(after):
        set_grads(rng, params, resumed_params)
        optimizer.step()
        resumed.step()
        for p, q in zip(params, resumed_params, strict=True):
            np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_has_pytorchs_layout_and_is_a_copy():
    rng = np.random.default_rng(2)
    for name, make in KINDS.items():
        params = parameters_with_grads(rng, [(2,), (3, 1), (1,)])
        optimizer = make(params)
        optimizer.step()
        saved = optimizer.state_dict()
        assert set(saved) == {"state", "param_groups"}
        indices = [k for group in saved["param_groups"] for k in group["params"]]
        assert sorted(indices) == [0, 1, 2]  # counted through the groups in order
        by_index = dict(zip(indices, optimizer._parameters(), strict=True))
        for group, live in zip(saved["param_groups"], optimizer.param_groups, strict=True):
            assert group == {k: v for k, v in live.items() if k != "params"} | {
                "params": group["params"]
            }
        assert set(saved["state"]) == (set() if name == "SGD" else {0, 1, 2})
        for k, kept in saved["state"].items():
            assert STATE_KEYS[name] <= set(kept) <= set(type(optimizer)._state_keys)
            for key, value in kept.items():
                if isinstance(value, np.ndarray):
                    assert value.shape == by_index[k].shape
                    assert value is not optimizer.state[by_index[k]][key]  # a copy
        snapshot = copy.deepcopy(saved)
        set_grads(rng, params)
        optimizer.step()
        saved["param_groups"][0]["lr"] = 123.0
        assert optimizer.param_groups[0]["lr"] != 123.0
        saved["param_groups"][0]["lr"] = snapshot["param_groups"][0]["lr"]
        assert_identical(snapshot, saved)  # the step changed nothing in it


def test_load_state_dict_casts_state_to_the_parameters_dtype():
    source = parameters_with_grads(np.random.default_rng(3), [(2,), (3,)])
    optimizer = optim.Adam(source)
    optimizer.step()
    target = [
        nn.Parameter(np.ones(2), dtype=np.float32),
        nn.Parameter(np.ones(3), dtype=np.float32),
    ]
    loaded = optim.Adam(target)
    loaded.load_state_dict(optimizer.state_dict())
    for p in target:
        assert loaded.state[p]["exp_avg"].dtype == np.float32
        assert type(loaded.state[p]["step"]) is int and loaded.state[p]["step"] == 1


def mismatches(params):
    """State dicts that do not fit an Adam over ``params`` (two groups: [p0], [p1, p2])."""
    other = optim.Adam([{"params": params[:1]}, {"params": params[1:]}])
    set_grads(np.random.default_rng(0), params)
    other.step()
    good = other.state_dict()

    def changed(edit):
        saved = copy.deepcopy(good)
        edit(saved)
        return saved

    return [
        (
            nn.Linear(2, 2).state_dict(),
            r"expected an optimizer's state_dict\(\), a dict of 'state'",
        ),
        ([1, 2], "expected an optimizer's state_dict"),
        (changed(lambda s: s["param_groups"].pop()), "the state dict has 1 param groups, this op"),
        (changed(lambda s: s["param_groups"][1]["params"].pop()), r"param_groups\[1\] has 1 par"),
        (changed(lambda s: s["state"].update({7: {}})), "state has an entry for parameter 7, whic"),
        (changed(lambda s: s["state"][1].update(exp_avg=np.ones(9))), r"is shape \(9,\); expe"),
        (changed(lambda s: s["state"][0].update(momentum_buffer=None)), "which Adam does not k"),
        (changed(lambda s: s["state"][0].update(step=-1)), r"\['step'\] must be an int >= 0"),
        (changed(lambda s: s["param_groups"][0].pop("betas")), r"has no \['betas'\]: is it an"),
        (changed(lambda s: s["param_groups"][0].update(lr=-1.0)), r"param_groups\[0\]: lr must"),
        (optim.SGD(params, lr=0.1).state_dict(), "the state dict has 1 param groups"),
    ]


def test_a_state_dict_that_does_not_fit_is_an_error_that_changes_nothing():
    rng = np.random.default_rng(5)
    params = parameters_with_grads(rng, [(2,), (3,), (1, 2)])
    optimizer = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}])
    optimizer.step()
    for saved, message in mismatches([nn.Parameter(p.data.copy()) for p in params]):
        before = state_of(optimizer)
        with pytest.raises((TypeError, ValueError), match=message):
            optimizer.load_state_dict(saved)
        assert_identical(before, state_of(optimizer))
    sgd = optim.SGD(params, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"has no \['momentum', 'dampening', 'nesterov'\]: is it "):
        sgd.load_state_dict(optim.Adam(params).state_dict())


def test_a_buffer_an_option_turned_on_later_needs_starts_at_zero():
    """Momentum (RMSprop), centered and amsgrad switched on in a group after some steps (as
    OneCycleLR does with momentum): the new buffer starts at zero (PyTorch: a KeyError)."""
    rng = np.random.default_rng(6)
    p, q = nn.Parameter(rng.standard_normal(3)), nn.Parameter(rng.standard_normal(3))
    rms, adam = optim.RMSprop([p], lr=0.01), optim.Adam([q], lr=0.01)
    p.grad, q.grad = rng.standard_normal(3), rng.standard_normal(3)
    rms.step()
    adam.step()
    rms.param_groups[0].update(momentum=0.9, centered=True)
    adam.param_groups[0]["amsgrad"] = True
    s = rms.state[p]["square_avg"].copy()
    want = p.data.copy()
    p.grad = g = rng.standard_normal(3)
    s = 0.99 * s + 0.01 * g * g
    mean = 0.01 * g  # the running mean starts at 0 now
    want -= 0.01 * (0.9 * 0 + g / (np.sqrt(s - mean * mean) + 1e-8))
    rms.step()
    np.testing.assert_allclose(p.data, want, rtol=1e-12)
    v = adam.state[q]["exp_avg_sq"].copy()
    adam.step()  # amsgrad's max starts at 0: the max is this step's v
    np.testing.assert_allclose(
        adam.state[q]["max_exp_avg_sq"], 0.999 * v + 0.001 * q.grad**2, rtol=1e-14
    )


def test_options_are_numbers_not_tensors():
    with pytest.raises(TypeError, match="SGD: lr must be a number >= 0, got Tensor"):
        optim.SGD([nn.Parameter(np.ones(1))], lr=Tensor(0.1))


def test_add_param_group_keeps_a_new_dict_and_leaves_the_one_given_as_it_was():
    optimizer = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    p = nn.Parameter(np.ones(2))
    given_group = {"params": (t for t in [p]), "lr": 0.5}
    keys = set(given_group)
    optimizer.add_param_group(given_group)
    assert optimizer.param_groups[1] is not given_group and set(given_group) == keys
    assert optimizer.param_groups[1]["params"] == [p]


class SignSGD(optim.Optimizer):
    """A new optimizer, as a student writes one: p -= lr · sign(g)."""

    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        for group, stepped in self._ready():
            for p, grad in stepped:
                p.data -= group["lr"] * np.sign(grad)


def test_a_new_optimizer_written_over_ready_gets_groups_checks_and_frozen_parameters_skipped():
    a, b, frozen = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros(1))
    frozen.requires_grad_(False)
    optimizer = SignSGD([{"params": [a, frozen]}, {"params": [b], "lr": 0.5}])
    a.grad, b.grad, frozen.grad = np.array([2.0, -3.0]), np.ones(3), np.ones(1)
    optimizer.step()
    np.testing.assert_array_equal(a.data, [-0.01, 0.01])
    np.testing.assert_array_equal(b.data, np.full(3, -0.5))
    np.testing.assert_array_equal(frozen.data, [0.0])
    b._grad = np.ones(2)  # past the grad setter's check: the step checks it too
    with pytest.raises(ValueError, match=r"SignSGD.step: parameter 2 \(shape \(3,\), float64\) h"):
        optimizer.step()
    np.testing.assert_array_equal(a.data, [-0.01, 0.01])  # nothing was updated
