"""The seed axis trains many seeds at once; each seed's figures must equal those of training it
alone through the ordinary path (nn.Sequential of nn.Linear layers, part_a.train, the gradient
recorder) to 1e-12 relative, for every setting: depth, activation, init, learning rate (up to
the rates that diverge), width, init range, the structural break."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_lab import nn
from tinygrad_lab.lab.rules import lab_config
from tinygrad_lab.lab.stress.part_a import make_data, train
from tinygrad_lab.lab.studies.seed_axis import (
    INITS,
    RunFigures,
    SeedFigures,
    Setting,
    first_losses,
    train_seeds,
)
from tinygrad_lab.tensor import Tensor

REL = 1e-12


# ------------------------------------------------------------------------------ the oracle
def _layers(setting: Setting, sizes: list[int], rng, activation: bool) -> list[nn.Module]:
    """Linear layers ``sizes[k] → sizes[k+1]`` drawn from ``rng`` by the setting's init, each
    followed by the activation (but the last, unless ``activation``)."""
    layers: list[nn.Module] = []
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    for k, (fan_in, fan_out) in enumerate(pairs):
        layers.append(nn.Linear(fan_in, fan_out, init=setting.initializer(), rng=rng))
        if activation or k < len(pairs) - 1:
            layers.append(nn.get_activation(setting.config.activation).make())
    return layers


def _run(model, X, y, setting, mean_loss) -> RunFigures:
    """Train ``model`` as the lab does and read its figures off the recorder's last step."""
    from tinygrad_lab.lab.stress.part_a import gradient_ratio_index

    with nn.GradientRecorder(model) as recorder, np.errstate(all="ignore"):  # overflow: counted
        history, diverged = train(
            model, Tensor(X), Tensor(y), setting.config.learning_rate, setting.epochs
        )
    hidden = sum(isinstance(layer, nn.Linear) for layer in model) - 1
    if diverged is not None:
        gri, reason = gradient_ratio_index(math.nan, math.nan)
        return RunFigures(hidden, history, math.nan, math.nan, gri, reason, None, None, diverged)
    last = recorder.at_step()
    linear = [label for label in last if label.type == "Linear"]
    first, final = (last[linear[k]]["weight_grad_norm"] for k in (0, -2))
    dead = sum(v.get("dead_fraction", 0.0) >= 1.0 for v in last.values())
    gri, reason = gradient_ratio_index(first, final)
    return RunFigures(hidden, history, first, final, gri, reason, 1 - history[-1] / mean_loss, dead)


def one_seed(setting: Setting, seed: int) -> SeedFigures:
    """The seed trained alone, as the lab's stress test trains: X, then the weights in layer
    order, from one RandomState; at the break the inserted layers, in insertion order."""
    config = setting.config
    rng = np.random.RandomState(seed)
    X, y = make_data(rng, config.n_samples)
    mean_loss = float(np.mean((y - y.mean()) ** 2))
    model = nn.Sequential(*_layers(setting, config.layer_sizes, rng, activation=False))
    run1 = _run(model, X, y, setting, mean_loss)
    if not setting.structural_break:
        return SeedFigures(seed, run1)
    width = config.hidden_width
    for layer in _layers(setting, [width] * (config.added_layers + 1), rng, activation=True):
        model.insert(-1, layer)
    run2 = _run(model, X, y, setting, mean_loss)
    if not setting.run3:
        return SeedFigures(seed, run1, run2)
    return SeedFigures(seed, run1, run2, _run(model, X, y, setting, mean_loss))  # trained on


def assert_same(fast: RunFigures, alone: RunFigures) -> None:
    """Equal to 1e-12 relative (NaN and None where the other has them)."""
    assert fast.hidden_layers == alone.hidden_layers
    assert fast.diverged_at == alone.diverged_at
    assert fast.dead_layers == alone.dead_layers
    assert fast.gri_undefined_reason == alone.gri_undefined_reason
    assert len(fast.loss_history) == len(alone.loss_history)
    np.testing.assert_allclose(fast.loss_history, alone.loss_history, rtol=REL, atol=0)
    for name in ("grad_norm_first", "grad_norm_last", "gri", "r2", "final_loss"):
        a, b = getattr(fast, name), getattr(alone, name)
        if a is None or b is None:
            assert a is b is None, name
        else:
            np.testing.assert_allclose(a, b, rtol=REL, atol=0, equal_nan=True, err_msg=name)


def assert_seeds_match(setting: Setting, seeds: list[int]) -> list[SeedFigures]:
    fast = train_seeds(setting, seeds)
    assert [f.seed for f in fast] == seeds
    for figures in fast:
        alone = one_seed(setting, figures.seed)
        assert_same(figures.run1, alone.run1)
        for run in ("run2", "run3"):
            mine, theirs = getattr(figures, run), getattr(alone, run)
            assert (mine is None) == (theirs is None), run
            if theirs is not None:
                assert_same(mine, theirs)
    return fast


# ------------------------------------------------------------------------------ properties
rolls = st.from_regex(r"10230[0-9]{4}", fullmatch=True)  # width 6-15, lr 0.002-0.02, r 1/(a+1)
activations = st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "identity"])


@st.composite
def study_settings(draw) -> Setting:
    config = lab_config(draw(rolls), added_layers=draw(st.integers(0, 3)))
    changes = {"hidden_layers": draw(st.integers(1, 5)), "activation": draw(activations)}
    if draw(st.booleans()):  # the roll's rate, or any up to those that diverge
        changes["learning_rate"] = draw(st.floats(1e-4, 2.0))
    from dataclasses import replace

    structural_break = draw(st.booleans())
    return Setting(
        replace(config, **changes),
        init=draw(st.sampled_from(sorted(INITS))),
        epochs=draw(st.integers(1, 30)),
        structural_break=structural_break,
        run3=structural_break and draw(st.booleans()),
    )


@given(
    setting=study_settings(),
    seeds=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3, unique=True),
)
def test_every_seed_of_the_batch_is_the_seed_trained_alone(setting, seeds):
    assert_seeds_match(setting, seeds)


@given(
    setting=study_settings(),
    seeds=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=5, unique=True),
)
def test_first_losses_are_each_seeds_epoch_1_loss_trained_alone(setting, seeds):
    losses = first_losses(setting, seeds)
    assert losses.shape == (len(seeds),)
    for seed, loss in zip(seeds, losses, strict=True):
        alone = one_seed(replace(setting, epochs=1, structural_break=False, run3=False), seed)
        history = alone.run1.loss_history
        assert (loss == history[0]) if history else not math.isfinite(loss)


def test_run_3_needs_the_break():
    with pytest.raises(ValueError, match="run 3 trains on after run 2"):
        Setting(lab_config("102303346"), run3=True)


@settings(max_examples=10)
@given(seeds=st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=4, unique=True))
def test_seeds_that_diverge_leave_the_batch_and_the_others_go_on(seeds):
    from dataclasses import replace

    config = replace(lab_config("102303346"), activation="identity", learning_rate=0.6)
    fast = assert_seeds_match(Setting(config, epochs=40, structural_break=True), seeds)
    for figures in fast:
        if figures.run1.diverged_at is not None:  # counted, with its losses until then
            assert len(figures.run1.loss_history) == figures.run1.diverged_at - 1
            assert figures.run1.final_loss is None and figures.run1.gri is None


def test_a_diverging_rate_is_tested_at_all():
    from dataclasses import replace

    config = replace(lab_config("102303346"), activation="identity", learning_rate=0.6)
    fast = train_seeds(Setting(config, epochs=40), list(range(8)))
    diverged = [f.run1.diverged_at for f in fast]
    assert any(d is not None for d in diverged) and any(d is None for d in diverged)


@pytest.fixture
def softsign():
    class Softsign(nn.Module):
        def forward(self, x):
            return x / (x.abs() + 1)

    entry = nn.register_activation(
        nn.Activation(
            "seed_axis_softsign",
            Softsign,
            lambda z: z / (1 + np.abs(z)),
            lambda z: 1 / (1 + np.abs(z)) ** 2,
        )
    )
    yield entry
    del nn.ACTIVATIONS[entry.name]


def test_any_registered_activation_is_run_by_its_own_layer(softsign):
    from dataclasses import replace

    config = replace(lab_config("102303349"), activation=softsign.name, hidden_layers=3)
    assert_seeds_match(
        Setting(config, init="xavier_normal", epochs=25, structural_break=True), [0, 7]
    )


def test_settings_name_what_they_cannot_train():
    config = lab_config("102303346")
    with pytest.raises(ValueError, match="unknown init 'orthogonal'"):
        Setting(config, init="orthogonal")
    from dataclasses import replace

    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        Setting(replace(config, activation="swish"))
