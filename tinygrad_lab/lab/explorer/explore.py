"""The lab's network in the backprop explorer: one epoch's forward and backward of a roll
number's run 1, 2 or 3, stepped through in the browser (``tinygrad-lab explore``).

The network and data come from ``RandomState(seed)`` exactly as `tinygrad_lab.lab.stress.part_a`
draws them (data first, then the weights in layer order, then the layers inserted at the
structural break), and each run before the chosen one trains its full epochs, as the lab does.
Epoch 1 of a run is its first forward and backward, before any update; epoch ``e`` is the pass
after ``e - 1`` epochs of that run's training.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from tinygrad_lab import __version__, nn
from tinygrad_lab.grad_mode import record_sites
from tinygrad_lab.lab.options import is_whole_number
from tinygrad_lab.lab.rules import LabConfig, LabRun, lab_config
from tinygrad_lab.lab.stress.network import insert_hidden_layers
from tinygrad_lab.lab.stress.part_a import BREAK_BEFORE, RUNS, draw_lab, train
from tinygrad_lab.tensor import Tensor
from tinygrad_lab.viz.explore import ExplorerPage, explore, html_path

MAX_SEED = 2**32 - 1  # what np.random.RandomState accepts


def lab_explorer(
    roll: str, seed: int = 0, epoch: int = 1, run: int = 1, depth: int | None = None
) -> ExplorerPage:
    """The explorer page of epoch ``epoch`` of ``roll``'s run ``run`` (1, or 2 and 3: the
    deeper network after the structural break). ``depth`` sets run 1's hidden layers in place
    of the roll's (runs 2 and 3 add the roll's layers to it at the break)."""
    config = _checked(roll, seed, epoch, run, depth)
    X, y, model, rng = draw_lab(LabRun(config, seed))
    inputs, target = Tensor(X), Tensor(y)
    inputs.name, target.name = "X", "y"
    for number, name in enumerate(RUNS[:run], start=1):
        if name == BREAK_BEFORE:
            insert_hidden_layers(model, config, rng)
        epochs = epoch - 1 if number == run else config.epochs  # earlier runs train in full
        _, diverged = train(model, inputs, target, config.learning_rate, epochs)
        if diverged is not None:
            raise ValueError(_diverged(number, diverged, run, epoch))
    with record_sites():  # ops remember their layer: the page draws one cluster a layer
        loss = nn.MSELoss()(model(inputs), target)
    loss.name = "loss"
    made = f"roll {config.roll} · run {run} ({_network(config, run)}) · seed {seed} · epoch {epoch}"
    command = (
        f"tinygrad-lab explore --roll {config.roll} --run {run} --depth {config.hidden_layers} "
        f"--epoch {epoch} --seed {seed}"
    )
    return explore(
        loss,
        model=model,
        title=f"{made} · loss {loss.item():.4g}",
        made_at=f"{made} · made by tinygrad_lab {__version__}: {command}",
    )


def explore_command(
    roll: str,
    seed: int = 0,
    epoch: int = 1,
    *,
    out: str | os.PathLike,
    run: int = 1,
    depth: int | None = None,
) -> Path:
    """``tinygrad-lab explore --roll R --run N --depth D --seed S --epoch E --out page.html``:
    write the explorer page of the lab's network to ``out``. Every argument is checked before
    any work, each with a one-line error naming it (ValueError, or OSError for an ``out`` that
    cannot be written); the page is written atomically. Returns the path written."""
    _checked(roll, seed, epoch, run, depth)
    path = html_path(out, "--out")
    return lab_explorer(roll, seed=seed, epoch=epoch, run=run, depth=depth).save(path)


def _checked(roll: str, seed: object, epoch: object, run: object, depth: object) -> LabConfig:
    """``roll``'s configuration with ``depth`` applied, once every argument is checked."""
    config = lab_config(roll)  # RollNumberError (a ValueError) naming the roll rule
    if not is_whole_number(seed) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"--seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    if not is_whole_number(run) or run not in range(1, len(RUNS) + 1):
        raise ValueError(
            f"--run must be 1 (before the structural break), 2 (after it: "
            f"{config.added_layers} hidden layers added) or 3 (run 2's network trained on), "
            f"got {run!r}"
        )
    if depth is not None:
        if not is_whole_number(depth) or depth < 1:
            raise ValueError(
                f"--depth must be a whole number >= 1 (run 1's hidden layers; roll "
                f"{config.roll}'s is {config.hidden_layers}), got {depth!r}"
            )
        config = dataclasses.replace(config, hidden_layers=int(depth))
    if not is_whole_number(epoch) or not 1 <= epoch <= config.epochs:
        raise ValueError(
            f"--epoch must be a whole number from 1 (the first forward and backward, before any "
            f"update) to {config.epochs} (run {run}'s last epoch), got {epoch!r}"
        )
    return config


def _network(config: LabConfig, run: int) -> str:
    """``8 hidden layers of 12, relu: 5 before the break + 3 added at it``: the network of run
    ``run``, and where its depth comes from when that is not plain run 1 of the roll."""
    roll_depth = lab_config(config.roll).hidden_layers
    added = config.added_layers if run > 1 else 0
    text = f"{config.hidden_layers + added} hidden layers of {config.hidden_width}, "
    text += config.activation
    why = [f"{config.hidden_layers} before the break + {added} added at it"] if added else []
    if config.hidden_layers != roll_depth:
        why.append(f"--depth {config.hidden_layers}, the roll's is {roll_depth}")
    return text + (": " + "; ".join(why) if why else "")


def _diverged(number: int, at: int, run: int, epoch: int) -> str:
    if number == run:
        return (
            f"epoch {epoch}: training diverged at epoch {at} of run {run} (the loss stopped "
            "being finite), so there is no finite pass to explore; choose an earlier --epoch"
        )
    return (
        f"run {run}: run {number} diverged at its epoch {at} (the loss stopped being finite), "
        f"so there is no finite network for run {run}; explore run {number} before epoch {at}"
    )
