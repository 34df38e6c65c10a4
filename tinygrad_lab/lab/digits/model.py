"""The digits CNN (see `tinygrad_lab.lab.digits`): what a run trains, and its random streams."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from tinygrad_lab import nn
from tinygrad_lab.lab.digits.data import CLASSES


@dataclass(frozen=True)
class DigitsConfig:
    """What a run trains: the seed, the schedule and the network's width."""

    seed: int = 0
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 2e-3
    channels: tuple[int, int] = (16, 32)  # of the two convolutions
    dropout: float = 0.25


DEFAULT = DigitsConfig()
FAST = DigitsConfig(epochs=4, channels=(8, 16))  # the test suite's: 94% (seed 0) in four epochs


class Generators(NamedTuple):
    """One random stream a purpose, all from the run's seed: changing one (say the dropout
    rate) leaves the draws of the others as they were."""

    init: np.random.Generator
    shuffle: np.random.Generator
    dropout: np.random.Generator


def generators(seed: int) -> Generators:
    streams = np.random.SeedSequence(seed).spawn(3)
    return Generators(*(np.random.default_rng(s) for s in streams))


def build_model(config: DigitsConfig, rngs: Generators) -> nn.Sequential:
    """The CNN of this module's docstring, float32, its weights drawn from ``rngs.init``."""
    c1, c2 = config.channels
    f32 = np.float32
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, rng=rngs.init, dtype=f32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, rng=rngs.init, dtype=f32),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(config.dropout, rng=rngs.dropout),
        nn.Linear(c2 * 4 * 4, CLASSES, rng=rngs.init, dtype=f32),
    )
