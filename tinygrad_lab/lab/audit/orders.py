"""Seeds drawn in an honest order other than the notebook's: the weights cell run before the
data cell, so that each seed's generator draws the weight matrices first, then X (then, at the
break, the inserted layers). The seed search tries it when the notebook's order reproduces
nothing. (Part B first needs nothing: Part B draws no random number.)

The training is the seed axis's own (`seed_axis.train_seeds` with ``weights_first``): only the
order of the draws differs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinygrad_lab.lab.studies import seed_axis
from tinygrad_lab.lab.studies.seed_axis import SeedFigures, Setting

ORDERS = {
    "notebook": "with the notebook's cells run in order",
    "weights_first": "with the weights drawn before the data (the weights cell run first)",
}


def first_losses(setting: Setting, seeds: Sequence[int], order: str) -> np.ndarray:
    """Every seed's epoch-1 loss with its draws in ``order``."""
    return seed_axis.first_losses(setting, seeds, weights_first=order == "weights_first")


def train_seeds(setting: Setting, seeds: Sequence[int], order: str) -> list[SeedFigures]:
    """`seed_axis.train_seeds`, with the draws in ``order``."""
    return seed_axis.train_seeds(setting, seeds, weights_first=order == "weights_first")
