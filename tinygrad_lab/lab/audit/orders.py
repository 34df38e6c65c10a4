"""Seeds drawn in an honest order other than the notebook's: the weights cell run before the
data cell, so that each seed's generator draws the weight matrices first, then X (then, at the
break, the inserted layers). The seed search tries it when the notebook's order reproduces
nothing. (Part B first needs nothing: Part B draws no random number.)

The training is the seed axis's own (`seed_axis`'s batch, training and figures); only the order
of the draws differs from `seed_axis.train_seeds`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_lab.lab import seed_axis
from tinygrad_lab.lab.part_a import make_data
from tinygrad_lab.lab.seed_axis import SeedFigures, Setting

ORDERS = {
    "notebook": "with the notebook's cells run in order",
    "weights_first": "with the weights drawn before the data (the weights cell run first)",
}


def _draw(setting: Setting, seeds: Sequence[int]) -> tuple[list[Any], Any, Any, list[Any]]:
    """As `seed_axis._draw`, the weights first."""
    config = setting.config
    rngs = [np.random.RandomState(seed) for seed in seeds]
    states = []
    for rng in rngs:
        weights = setting.draw_weights(config.layer_sizes, rng)
        states.append((weights, seed_axis._zero_biases(weights)))
    data = [make_data(rng, config.n_samples) for rng in rngs]
    X, y = np.stack([x for x, _ in data]), np.stack([t for _, t in data])
    return rngs, X, y, states


def first_losses(setting: Setting, seeds: Sequence[int], order: str) -> np.ndarray:
    """Every seed's epoch-1 loss with its draws in ``order``."""
    if order == "notebook":
        return seed_axis.first_losses(setting, seeds)
    _, X, y, states = _draw(setting, seeds)
    with np.errstate(over="ignore", invalid="ignore"):
        return seed_axis._batch(X, y, states, setting.config).forward()


def train_seeds(setting: Setting, seeds: Sequence[int], order: str) -> list[SeedFigures]:
    """`seed_axis.train_seeds`, with the draws in ``order``."""
    if order == "notebook":
        return seed_axis.train_seeds(setting, seeds)
    config = setting.config
    rngs, X, y, states = _draw(setting, seeds)
    mean_losses = [float(np.mean((t - t.mean()) ** 2)) for t in y]
    runs, depth = [], config.hidden_layers
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for run in range(1 + setting.structural_break + setting.run3):
            if run == 1:
                states = [
                    seed_axis._insert_layers(setting, s, r)
                    for s, r in zip(states, rngs, strict=True)
                ]
                depth += config.added_layers
            trained = seed_axis._train(seed_axis._batch(X, y, states, config), setting.epochs)
            runs.append(
                [seed_axis._figures(trained, k, depth, m) for k, m in enumerate(mean_losses)]
            )
            states = trained.states
    return [SeedFigures(int(s), *figures) for s, *figures in zip(seeds, *runs, strict=True)]
