"""The lab's network in the backprop explorer: one epoch's forward and backward of a roll
number's run-1 network, stepped through in the browser (``tinygrad-lab explore``).

The network and data come from ``RandomState(seed)`` exactly as `tinygrad_lab.lab.graph` draws
them (data first, then the weights in layer order). Epoch 1 is the first forward and backward,
before any update; epoch ``e`` is the pass after ``e - 1`` epochs of Part A's training.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from tinygrad_lab import nn
from tinygrad_lab.grad_mode import record_sites
from tinygrad_lab.lab.network import build_network
from tinygrad_lab.lab.part_a import make_data, train
from tinygrad_lab.lab.rules import lab_config
from tinygrad_lab.tensor import Tensor
from tinygrad_lab.viz.explore import ExplorerPage, explore, html_path

MAX_SEED = 2**32 - 1  # what np.random.RandomState accepts


def lab_explorer(
    roll: str, seed: int = 0, epoch: int = 1, hidden_layers: int | None = None
) -> ExplorerPage:
    """The explorer page of epoch ``epoch`` of ``roll``'s run-1 network (``hidden_layers``
    overrides the roll's depth, e.g. 20 for a deep version of the lab network)."""
    config = lab_config(roll)
    _check_seed(seed)
    _check_epoch(epoch, config.epochs)
    if hidden_layers is not None:
        if not _whole(hidden_layers) or hidden_layers < 1:
            raise ValueError(f"hidden_layers must be a whole number >= 1, got {hidden_layers!r}")
        config = dataclasses.replace(config, hidden_layers=int(hidden_layers))
    rng = np.random.RandomState(seed)
    X, y = make_data(rng, config.n_samples)
    model = build_network(config, rng)
    inputs, target = Tensor(X), Tensor(y)
    inputs.name, target.name = "X", "y"
    _, diverged = train(model, inputs, target, config.learning_rate, epoch - 1)
    if diverged is not None:
        raise ValueError(
            f"epoch {epoch}: training diverged at epoch {diverged} (the loss stopped being "
            "finite), so there is no finite pass to explore; choose an earlier --epoch"
        )
    with record_sites():  # ops remember their layer: the page draws one cluster a layer
        loss = nn.MSELoss()(model(inputs), target)
    loss.name = "loss"
    title = (
        f"roll {config.roll} · run 1 ({config.hidden_layers} hidden layers of "
        f"{config.hidden_width}, {config.activation}) · seed {seed} · epoch {epoch} · "
        f"loss {loss.item():.4g}"
    )
    return explore(loss, model=model, title=title)


def explore_command(roll: str, seed: int = 0, epoch: int = 1, *, out: str | os.PathLike) -> Path:
    """``tinygrad-lab explore --roll R --seed S --epoch E --out page.html``: write the explorer
    page of the lab's network to ``out``. Every argument is checked before any work, each with
    a one-line error naming it (ValueError, or OSError for an ``out`` that cannot be written);
    the page is written atomically. Returns the path written."""
    config = lab_config(roll)  # RollNumberError (a ValueError) naming the roll rule
    _check_seed(seed)
    _check_epoch(epoch, config.epochs)
    path = html_path(out, "--out")
    return lab_explorer(roll, seed=seed, epoch=epoch).save(path)


def _whole(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_seed(seed: object) -> None:
    if not _whole(seed) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"--seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")


def _check_epoch(epoch: object, epochs: int) -> None:
    if not _whole(epoch) or not 1 <= epoch <= epochs:
        raise ValueError(
            f"--epoch must be a whole number from 1 (the first forward and backward, before any "
            f"update) to {epochs} (run 1's last epoch), got {epoch!r}"
        )
