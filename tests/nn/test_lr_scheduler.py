"""Learning-rate schedulers, epoch by epoch, against their published formulas (PyTorch's docs),
written here apart from the code: the closed forms, not the recursions the chainable ones use."""

import math
import pickle
import re
import warnings
from bisect import bisect_right

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn, optim
from tinygrad_lab.optim import lr_scheduler

base_lr_lists = st.lists(st.floats(1e-4, 1.0), min_size=1, max_size=3)
gammas = st.floats(0.05, 2.0)


def optimizer_with(base_lrs, kind="sgd"):
    """One param group a learning rate, each with a parameter of its own."""
    groups = [{"params": [nn.Parameter(np.ones(2))], "lr": lr} for lr in base_lrs]
    return optim.SGD(groups, lr=0.1, momentum=0.9) if kind == "sgd" else optim.Adam(groups)


def lrs_by_epoch(optimizer, scheduler, epochs):
    """Each group's lr at epochs 0..epochs: the scheduler steps once an epoch, after the
    optimizer, as PyTorch's docs say; ``get_last_lr()`` is what the groups hold."""
    seen = [scheduler.get_last_lr()]
    for epoch in range(1, epochs + 1):
        optimizer.step()
        scheduler.step()
        assert scheduler.last_epoch == epoch
        seen.append(scheduler.get_last_lr())
        assert seen[-1] == [group["lr"] for group in optimizer.param_groups]
    return np.array(seen)


def expected(formula, base_lrs, epochs):
    return np.array([[formula(base, t) for base in base_lrs] for t in range(epochs + 1)])


# ------------------------------------------------------------------------- the formulas
@given(
    base_lrs=base_lr_lists, step_size=st.integers(1, 10), gamma=gammas, epochs=st.integers(0, 40)
)
def test_step_lr_is_base_times_gamma_to_the_floor_of_epoch_over_step_size(
    base_lrs, step_size, gamma, epochs
):
    optimizer = optimizer_with(base_lrs)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    got = lrs_by_epoch(optimizer, scheduler, epochs)
    want = expected(lambda base, t: base * gamma ** (t // step_size), base_lrs, epochs)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@given(
    base_lrs=base_lr_lists,
    milestones=st.lists(st.integers(0, 30), max_size=5),
    gamma=gammas,
    epochs=st.integers(0, 35),
)
def test_multi_step_lr_multiplies_by_gamma_once_for_each_milestone_reached(
    base_lrs, milestones, gamma, epochs
):
    """lr = base · gamma^(number of milestones <= epoch); a milestone given twice counts
    twice, in any order, as PyTorch's Counter does."""
    optimizer = optimizer_with(base_lrs)
    scheduler = lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=gamma)
    got = lrs_by_epoch(optimizer, scheduler, epochs)
    reached = sorted(milestones)
    want = expected(lambda base, t: base * gamma ** bisect_right(reached, t), base_lrs, epochs)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@given(base_lrs=base_lr_lists, gamma=st.floats(0.5, 1.1), epochs=st.integers(0, 40))
def test_exponential_lr_is_base_times_gamma_to_the_epoch(base_lrs, gamma, epochs):
    optimizer = optimizer_with(base_lrs)
    scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=gamma)
    got = lrs_by_epoch(optimizer, scheduler, epochs)
    np.testing.assert_allclose(
        got, expected(lambda b, t: b * gamma**t, base_lrs, epochs), rtol=1e-12
    )


@given(
    base_lrs=base_lr_lists,
    T_max=st.integers(1, 20),
    eta_min=st.sampled_from([0.0, 1e-4, 0.05]),
    periods=st.floats(0, 3),
)
def test_cosine_annealing_lr_follows_the_closed_form_down_and_back_up(
    base_lrs, T_max, eta_min, periods
):
    """lr = eta_min + (base − eta_min)(1 + cos(π · epoch / T_max)) / 2, also past T_max (the
    cosine goes on, as PyTorch's). PyTorch's recursion reaches it through one multiplication
    an epoch, each rounded: the tolerance is that rounding, 1e-15 an epoch of the largest lr
    involved (near the bottom, lr − eta_min is itself that small)."""
    epochs = int(periods * T_max)
    optimizer = optimizer_with(base_lrs)
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=T_max, eta_min=eta_min)
    got = lrs_by_epoch(optimizer, scheduler, epochs)

    def closed_form(base, t):
        return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2

    rounding = 1e-15 * (epochs + 1) * max(*base_lrs, eta_min)
    np.testing.assert_allclose(got, expected(closed_form, base_lrs, epochs), rtol=0, atol=rounding)
    if epochs >= T_max:
        np.testing.assert_allclose(got[T_max], eta_min, rtol=0, atol=rounding)


@given(base_lrs=base_lr_lists, decay=st.floats(0, 1), epochs=st.integers(0, 30), one=st.booleans())
def test_lambda_lr_is_base_times_the_function_of_the_epoch(base_lrs, decay, epochs, one):
    """One function for every group, or a list of one a group."""
    optimizer = optimizer_with(base_lrs)
    functions = [lambda t, k=k: 1 / (1 + decay * t) + k for k in range(len(base_lrs))]
    scheduler = lr_scheduler.LambdaLR(optimizer, functions[0] if one else functions)
    got = lrs_by_epoch(optimizer, scheduler, epochs)
    want = np.array(
        [
            [
                base * (functions[0] if one else f)(t)
                for base, f in zip(base_lrs, functions, strict=True)
            ]
            for t in range(epochs + 1)
        ]
    )
    np.testing.assert_allclose(got, want, rtol=1e-15)


def one_cycle(step, total, pct_start, three_phase, cos, top, div, final_div, high, low):
    """The 1cycle policy as PyTorch's docs define it: (lr, momentum) at ``step``. The lr goes
    through knots at steps 0, pct_start·total − 1 (and 2·pct_start·total − 2 with three
    phases), total − 1: initial = top/div, top, (initial,) initial/final_div; the momentum the
    other way, high, low, (high,) high. Between knots: half a cosine, or a line."""
    initial = top / div
    knots = [0, pct_start * total - 1, total - 1]
    lrs, momenta = [initial, top, initial / final_div], [high, low, high]
    if three_phase:
        knots = [0, pct_start * total - 1, 2 * pct_start * total - 2, total - 1]
        lrs, momenta = [initial, top, initial, initial / final_div], [high, low, high, high]
    k = next((k for k in range(len(knots) - 2) if step <= knots[k + 1]), len(knots) - 2)
    fraction = min((step - knots[k]) / (knots[k + 1] - knots[k]), 1.0)

    def between(a, b):
        if cos:
            return b + (a - b) * (1 + math.cos(math.pi * fraction)) / 2
        return a + (b - a) * fraction

    return between(lrs[k], lrs[k + 1]), between(momenta[k], momenta[k + 1])


@given(
    tops=base_lr_lists,
    total=st.integers(2, 60),
    pct_start=st.floats(0.05, 0.95),
    three_phase=st.booleans(),
    cos=st.booleans(),
    div=st.sampled_from([25.0, 10.0]),
    final_div=st.sampled_from([1e4, 100.0]),
    kind=st.sampled_from(["sgd", "adam"]),
    by_epochs=st.booleans(),
)
def test_one_cycle_lr_and_momentum_follow_the_1cycle_policy_step_by_step(
    tops, total, pct_start, three_phase, cos, div, final_div, kind, by_epochs
):
    assume(pct_start * total != 1)  # a phase of no steps: an error (tested below)
    optimizer = optimizer_with([0.5] * len(tops), kind)
    size = {"total_steps": total} if not by_epochs else {"epochs": 1, "steps_per_epoch": total}
    scheduler = lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=tops,
        pct_start=pct_start,
        anneal_strategy="cos" if cos else "linear",
        three_phase=three_phase,
        div_factor=div,
        final_div_factor=final_div,
        base_momentum=0.8,
        max_momentum=0.9,
        **size,
    )
    for step in range(total + 1):  # the usual loop's last scheduler.step() is step `total`
        for group, top in zip(optimizer.param_groups, tops, strict=True):
            lr, momentum = one_cycle(
                step, total, pct_start, three_phase, cos, top, div, final_div, 0.9, 0.8
            )
            assert group["lr"] == pytest.approx(lr, rel=1e-12, abs=1e-15)
            got = group["momentum"] if kind == "sgd" else group["betas"][0]
            assert got == pytest.approx(momentum, rel=1e-12)
            if kind == "adam":
                assert group["betas"][1] == 0.999
        optimizer.step()
        if step < total:
            scheduler.step()
    last = [group["lr"] for group in optimizer.param_groups]
    with pytest.raises(
        ValueError, match=f"step {total + 1} is past the cycle's total_steps={total}"
    ):
        scheduler.step()
    assert scheduler.last_epoch == total and [g["lr"] for g in optimizer.param_groups] == last


def test_one_cycle_lr_without_cycle_momentum_leaves_the_momentum_alone():
    optimizer = optimizer_with([0.1])
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10, cycle_momentum=False)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["momentum"] == 0.9


def plateau(metrics, lrs, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps):
    """ReduceLROnPlateau as PyTorch's docs define it: each group's lr after each metric."""
    best, bad, cool, out = (math.inf if mode == "min" else -math.inf), 0, 0, []
    for x in metrics:
        if mode == "min":
            better = x < (best * (1 - threshold) if threshold_mode == "rel" else best - threshold)
        else:
            better = x > (best * (1 + threshold) if threshold_mode == "rel" else best + threshold)
        best, bad = (x, 0) if better else (best, bad + 1)
        if cool > 0:  # in the cooldown after a reduction, bad epochs do not count
            cool, bad = cool - 1, 0
        if bad > patience:
            lrs = [
                max(lr * factor, min_lr) if lr - max(lr * factor, min_lr) > eps else lr
                for lr in lrs
            ]
            cool, bad = cooldown, 0
        out.append(list(lrs))
    return out


@given(
    base_lrs=base_lr_lists,
    levels=st.lists(st.integers(0, 6), min_size=1, max_size=40),
    mode=st.sampled_from(["min", "max"]),
    factor=st.sampled_from([0.1, 0.5]),
    patience=st.integers(0, 4),
    threshold=st.sampled_from([0.0, 1e-4, 0.2]),
    threshold_mode=st.sampled_from(["rel", "abs"]),
    cooldown=st.integers(0, 3),
    min_lr=st.sampled_from([0.0, 1e-3]),
    as_tensor=st.booleans(),
)
def test_reduce_lr_on_plateau_cuts_the_lr_when_the_metric_stops_improving(
    base_lrs, levels, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, as_tensor
):
    metrics = [float(level) - 2.5 for level in levels]  # repeats and plateaus, both signs
    optimizer = optimizer_with(base_lrs)
    scheduler = lr_scheduler.ReduceLROnPlateau(
        optimizer, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr
    )
    want = plateau(
        metrics, base_lrs, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, 1e-8
    )
    for epoch, (metric, lrs) in enumerate(zip(metrics, want, strict=True), 1):
        optimizer.step()
        scheduler.step(Tensor(metric) if as_tensor else metric)
        assert scheduler.get_last_lr() == pytest.approx(lrs, rel=1e-15)
        assert scheduler.last_epoch == epoch


def test_reduce_lr_on_plateau_refuses_a_nan_metric_and_changes_nothing():
    optimizer = optimizer_with([0.1])
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0)
    scheduler.step(1.0)
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match="metrics is NaN .*; nothing was changed"):
        scheduler.step(float("nan"))
    assert scheduler.state_dict() == before
    for bad in (np.ones(2), "0.5", None, True):
        with pytest.raises(TypeError, match="metrics must be a number or a one-element Tensor"):
            scheduler.step(bad)
    scheduler.step(np.array([0.5]))  # one element, of any shape
    assert scheduler.best == 0.5


# ------------------------------------------------------------------------- chaining
@given(
    base_lrs=base_lr_lists,
    step_size=st.integers(1, 5),
    g1=gammas,
    g2=st.floats(0.5, 1.0),
    epochs=st.integers(0, 20),
)
def test_two_chainable_schedulers_on_one_optimizer_multiply(base_lrs, step_size, g1, g2, epochs):
    """As in PyTorch: StepLR and ExponentialLR together give base · g1^⌊t/s⌋ · g2^t."""
    optimizer = optimizer_with(base_lrs)
    schedulers = [
        lr_scheduler.StepLR(optimizer, step_size, g1),
        lr_scheduler.ExponentialLR(optimizer, g2),
    ]
    for t in range(epochs + 1):
        want = [base * g1 ** (t // step_size) * g2**t for base in base_lrs]
        np.testing.assert_allclose([g["lr"] for g in optimizer.param_groups], want, rtol=1e-12)
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()


def test_a_chainable_scheduler_carries_on_from_an_lr_set_by_hand():
    optimizer = optimizer_with([1.0])
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    optimizer.param_groups[0]["lr"] = 0.3  # epoch 3
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr() == [pytest.approx(0.3 * 0.5 * 0.5)]  # epochs 4 and 6


# ------------------------------------------------------------------------- saving, resuming
SCHEDULERS = {
    "StepLR": lambda o: lr_scheduler.StepLR(o, 3, 0.5),
    "MultiStepLR": lambda o: lr_scheduler.MultiStepLR(o, [2, 5, 5], 0.3),
    "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, 7, 1e-3),
    "LambdaLR": lambda o: lr_scheduler.LambdaLR(o, lambda t: 0.95**t),
    "OneCycleLR": lambda o: lr_scheduler.OneCycleLR(o, [1.0, 0.5], total_steps=30),
    "ReduceLROnPlateau": lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=1, cooldown=1),
}


def advance(optimizer, scheduler, epochs, metrics):
    for epoch in range(epochs):
        optimizer.step()
        if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
            scheduler.step(metrics[epoch])
        else:
            scheduler.step()


@given(
    name=st.sampled_from(list(SCHEDULERS)),
    before=st.integers(0, 12),
    after=st.integers(1, 12),
    levels=st.lists(st.integers(0, 3), min_size=24, max_size=24),
)
def test_a_resumed_scheduler_goes_on_exactly_as_the_one_it_was_saved_from(
    name, before, after, levels
):
    """Save the optimizer's and the scheduler's state dicts (through pickle), make both anew,
    load them: the lrs (and OneCycle's momenta) from then on are the uninterrupted run's."""
    metrics = [float(level) for level in levels]
    optimizer = optimizer_with([0.1, 0.2])
    scheduler = SCHEDULERS[name](optimizer)
    advance(optimizer, scheduler, before, metrics)
    saved = pickle.loads(pickle.dumps((optimizer.state_dict(), scheduler.state_dict())))
    resumed_optimizer = optimizer_with([0.7, 0.7])
    resumed = SCHEDULERS[name](resumed_optimizer)
    resumed_optimizer.load_state_dict(saved[0])
    resumed.load_state_dict(saved[1])
    assert resumed.get_last_lr() == scheduler.get_last_lr()
    assert resumed.last_epoch == scheduler.last_epoch
    for epoch in range(before, before + after):
        advance(optimizer, scheduler, 1, metrics[epoch:])
        advance(resumed_optimizer, resumed, 1, metrics[epoch:])
        assert resumed.get_last_lr() == scheduler.get_last_lr()
        for ours, theirs in zip(
            resumed_optimizer.param_groups, optimizer.param_groups, strict=True
        ):
            assert (ours["lr"], ours["momentum"]) == (theirs["lr"], theirs["momentum"])


def test_state_dict_is_everything_but_the_optimizer_and_a_copy():
    optimizer = optimizer_with([0.1])
    scheduler = lr_scheduler.MultiStepLR(optimizer, [1, 2])
    saved = scheduler.state_dict()
    assert "optimizer" not in saved
    assert saved["last_epoch"] == 0 and saved["base_lrs"] == [0.1] and saved["gamma"] == 0.1
    saved["milestones"][5] = 1
    assert 5 not in scheduler.milestones


def test_a_state_dict_of_another_scheduler_is_an_error_that_changes_nothing():
    optimizer = optimizer_with([0.1])
    scheduler = lr_scheduler.StepLR(optimizer, 3)
    before = scheduler.state_dict()
    other = lr_scheduler.CosineAnnealingLR(optimizer_with([0.1]), 5).state_dict()
    with pytest.raises(ValueError, match=r"lacks \['gamma', 'step_size'\] and has \['T_max', 'et"):
        scheduler.load_state_dict(other)
    with pytest.raises(TypeError, match="expected a dict from state_dict"):
        scheduler.load_state_dict([1])
    assert scheduler.state_dict() == before


class Decay:
    """A callable object: its attributes go into LambdaLR's state dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate**epoch


def test_lambda_lr_saves_a_callable_objects_state_but_not_a_function():
    optimizer = optimizer_with([0.1, 0.2])
    scheduler = lr_scheduler.LambdaLR(optimizer, [lambda t: 1.0, Decay(0.5)])
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [None, {"rate": 0.5}]
    fresh = lr_scheduler.LambdaLR(optimizer_with([0.1, 0.2]), [lambda t: 1.0, Decay(0.9)])
    fresh.load_state_dict(saved)
    assert fresh.lr_lambdas[1].rate == 0.5 and fresh.lr_lambdas[0](3) == 1.0


def test_last_epoch_resumes_from_initial_lr_as_pytorch_and_needs_it():
    optimizer = optimizer_with([0.3])
    with pytest.raises(KeyError, match=r"last_epoch=4 resumes a schedule, but param_groups\[0\]"):
        lr_scheduler.LambdaLR(optimizer, lambda t: 1 / (1 + t), last_epoch=4)
    assert "initial_lr" not in optimizer.param_groups[0]
    optimizer.param_groups[0]["initial_lr"] = 1.0
    scheduler = lr_scheduler.LambdaLR(optimizer, lambda t: 1 / (1 + t), last_epoch=4)
    assert scheduler.base_lrs == [1.0] and scheduler.last_epoch == 5  # it took epoch 5's step
    assert scheduler.get_last_lr() == [1.0 / 6]


# ------------------------------------------------------------------------- order, errors
def test_a_scheduler_stepped_before_the_optimizer_warns_as_pytorch():
    optimizer = optimizer_with([0.1])
    scheduler = lr_scheduler.StepLR(optimizer, 1)
    with pytest.warns(UserWarning, match=r"StepLR.step\(\) was called before optimizer.step\(\)"):
        scheduler.step()
    optimizer = optimizer_with([0.1])
    scheduler = lr_scheduler.StepLR(optimizer, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.step()
        scheduler.step()
        scheduler.step()


def test_a_step_that_fails_changes_nothing():
    optimizer = optimizer_with([0.1])
    scheduler = lr_scheduler.LambdaLR(optimizer, lambda t: 1 - t / 2)  # negative from t = 3
    for _ in range(2):
        optimizer.step()
        scheduler.step()
    message = re.escape("LambdaLR at epoch 3: the lr of param_groups[0] must be a number >= 0, got")
    with pytest.raises(ValueError, match=message):
        scheduler.step()
    assert scheduler.last_epoch == 2 and optimizer.param_groups[0]["lr"] == pytest.approx(0.0)
    with pytest.raises(TypeError, match=r"StepLR.step\(\) takes no epoch"):
        lr_scheduler.StepLR(optimizer, 2).step(5)
    fresh = optimizer_with([0.1])
    with pytest.raises(ZeroDivisionError):
        lr_scheduler.LambdaLR(fresh, lambda t: 1 / t)  # fails at epoch 0: nothing is left behind
    assert "initial_lr" not in fresh.param_groups[0] and fresh.param_groups[0]["lr"] == 0.1


def test_a_param_group_added_after_the_scheduler_is_an_error_at_its_next_step():
    optimizer = optimizer_with([0.1])
    scheduler = lr_scheduler.ExponentialLR(optimizer, 0.5)
    optimizer.add_param_group({"params": [nn.Parameter(np.ones(1))]})
    optimizer.step()
    with pytest.raises(ValueError, match="the optimizer has 2 param groups, 1 when the scheduler"):
        scheduler.step()


class Plain(optim.Optimizer):
    """An optimizer with no momentum or betas (OneCycleLR has none to cycle)."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})


BAD = [
    (
        lambda o: lr_scheduler.StepLR(optim.SGD, 2),
        TypeError,
        "StepLR: optimizer is the class SGD, not an optimizer; make one first",
    ),
    (
        lambda o: lr_scheduler.StepLR([o], 2),
        TypeError,
        "StepLR: optimizer must be an optim.Optimizer",
    ),
    (
        lambda o: lr_scheduler.StepLR(o, 0),
        ValueError,
        "StepLR: step_size must be an int >= 1, got int 0",
    ),
    (
        lambda o: lr_scheduler.StepLR(o, 2.5),
        ValueError,
        "step_size must be an int >= 1, got float 2.5",
    ),
    (
        lambda o: lr_scheduler.StepLR(o, 2, gamma=-0.1),
        ValueError,
        "StepLR: gamma must be a number > 0",
    ),
    (
        lambda o: lr_scheduler.StepLR(o, 2, last_epoch=-2),
        ValueError,
        "last_epoch must be an int >= -1",
    ),
    (
        lambda o: lr_scheduler.MultiStepLR(o, 5),
        TypeError,
        "milestones must be a list of epochs, got int 5",
    ),
    (
        lambda o: lr_scheduler.MultiStepLR(o, [3, -1]),
        ValueError,
        r"milestones\[1\] must be an int >= 0",
    ),
    (
        lambda o: lr_scheduler.ExponentialLR(o, 0.0),
        ValueError,
        "ExponentialLR: gamma must be a number > 0",
    ),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, 0), ValueError, "T_max must be an int >= 1"),
    (
        lambda o: lr_scheduler.CosineAnnealingLR(o, 5, eta_min=-1),
        ValueError,
        "eta_min must be a number >= 0",
    ),
    (
        lambda o: lr_scheduler.LambdaLR(o, [lambda t: 1, lambda t: 1]),
        ValueError,
        "lr_lambda has 2 values, the optimizer 1 param groups",
    ),
    (
        lambda o: lr_scheduler.LambdaLR(o, 0.5),
        TypeError,
        r"lr_lambda\[0\] must be a function of the epoch",
    ),
    (
        lambda o: lr_scheduler.OneCycleLR(o, 1.0),
        ValueError,
        "give total_steps, or epochs and steps_per_epoch",
    ),
    (
        lambda o: lr_scheduler.OneCycleLR(o, 1.0, epochs=2),
        ValueError,
        "give total_steps, or epochs and",
    ),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, 0), ValueError, "total_steps must be an int >= 1"),
    (
        lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, pct_start=1.5),
        ValueError,
        r"pct_start must be in \[0, 1\]",
    ),
    (
        lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, pct_start=0.1),
        ValueError,
        "phase 1 of the cycle has no steps",
    ),
    (
        lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, pct_start=1.0),
        ValueError,
        "phase 2 of the cycle has no steps",
    ),
    (
        lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"),
        ValueError,
        "anneal_strategy must be 'cos' or 'linear'",
    ),
    (
        lambda o: lr_scheduler.OneCycleLR(o, [1.0, 2.0], 10),
        ValueError,
        "max_lr has 2 values, the optimizer 1",
    ),
    (
        lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, max_momentum=1.0),
        ValueError,
        r"max_momentum of param_groups\[0\] must be in \[0, 1\)",
    ),
    (
        lambda o: lr_scheduler.OneCycleLR(Plain(o.param_groups[0]["params"]), 1.0, 10),
        ValueError,
        "Plain has no momentum or betas to cycle; pass cycle_momentum=False",
    ),
    (
        lambda o: lr_scheduler.ReduceLROnPlateau(o, "minimum"),
        ValueError,
        "mode must be 'min' or 'max'",
    ),
    (
        lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0),
        ValueError,
        r"factor must be in \(0, 1\), got 1.0",
    ),
    (
        lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1),
        ValueError,
        "patience must be an int >= 0",
    ),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0, 0]), ValueError, "min_lr has 2 values"),
]


@pytest.mark.parametrize(("make", "error", "message"), BAD)
def test_a_bad_argument_names_itself_and_changes_nothing(make, error, message):
    optimizer = optimizer_with([0.1])
    before = optimizer.state_dict()
    with pytest.raises(error, match=message):
        make(optimizer)
    assert optimizer.state_dict() == before


class Halving(lr_scheduler.LRScheduler):
    """A new scheduler, as a student writes one: base · 2^-t."""

    def get_lr(self):
        return [base * 0.5**self.last_epoch for base in self.base_lrs]


def test_a_new_scheduler_writes_get_lr_and_get_last_lr_is_a_new_list_each_time():
    optimizer = optimizer_with([0.1, 0.3])
    scheduler = Halving(optimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # get_lr() outside step(): no warning
        assert scheduler.get_lr() == [0.1, 0.3]
    got = lrs_by_epoch(optimizer, scheduler, 4)
    np.testing.assert_array_equal(got, expected(lambda b, t: b * 0.5**t, [0.1, 0.3], 4))
    assert scheduler.get_last_lr() is not scheduler.get_last_lr()


def test_one_cycle_takes_an_int_pct_start():
    lrs = []
    for pct_start in (0, 0.0):
        optimizer = optimizer_with([0.1])
        scheduler = lr_scheduler.OneCycleLR(optimizer, 1.0, 8, pct_start=pct_start)
        lrs.append(lrs_by_epoch(optimizer, scheduler, 8))
    np.testing.assert_array_equal(*lrs)
