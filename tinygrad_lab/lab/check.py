"""``tinygrad-lab check``: train the lab's network and, at every epoch, compare autograd's
gradients with the notebook's matrix-form reference computed from the same current weights (so
rounding cannot pile up), and the final loss of each when each trains on its own."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab import optim
from tinygrad_lab.lab.network import build_network, insert_hidden_layers
from tinygrad_lab.lab.part_a import make_data
from tinygrad_lab.lab.rules import lab_config
from tinygrad_lab.reference import matrix_form as reference
from tinygrad_lab.reference.selfcheck import gradients, mlp_structure, reference_gradients

GRADIENT_TOLERANCE = 1e-10  # per-epoch gradients, relative to the largest entry of each
LOSS_TOLERANCE = 1e-9  # final losses of the two trainings, relative
QUANTITIES = ("dZ", "dW", "db")  # in the order backward computes them


def _relative(ours: np.ndarray, theirs: np.ndarray) -> float:
    worst = float(np.max(np.abs(ours - theirs)))
    scale = float(np.max(np.abs(theirs)))
    return worst / scale if scale > 0 else worst


def check_lab(
    roll: str,
    seed: int = 0,
    epochs: int | None = None,
    activation: str | None = None,
    added_layers: int | None = None,
) -> dict[str, Any]:
    """Both runs of Part A with a gradient comparison at every epoch. Returns a JSON-ready dict
    with the worst relative difference per run, layer and quantity, the first disagreement
    (closest to the output, at the earliest epoch) and the final losses."""
    config = lab_config(roll, activation=activation, added_layers=added_layers)
    epochs = config.epochs if epochs is None else int(epochs)
    rng = np.random.RandomState(seed)
    X, y = make_data(rng, config.n_samples)
    model = build_network(config, rng)
    linear, _ = mlp_structure(model)
    own_weights = [model[i].weight.data.copy() for i in linear]  # the reference trains these
    own_biases = [model[i].bias.data.reshape(1, -1).copy() for i in linear]

    runs: dict[str, Any] = {}
    first_failure = None
    for run in ("run1", "run2"):
        if run == "run2":
            insert_hidden_layers(model, config, rng)
            linear, _ = mlp_structure(model)
            for index in linear[len(own_weights) - 1 : -1]:  # the inserted layers, in order
                own_weights.insert(-1, model[index].weight.data.copy())
                own_biases.insert(-1, model[index].bias.data.reshape(1, -1).copy())
        _, activations = mlp_structure(model)
        worst = {f"{i}:Linear": dict.fromkeys(QUANTITIES, 0.0) for i in linear}
        optimizer = optim.SGD(model.parameters(), lr=config.learning_rate)
        for epoch in range(1, epochs + 1):
            loss, *ours = gradients(model, X, y, restore=False)
            _, *theirs = reference_gradients(model, X, y)
            ours, theirs = (dict(zip(("dW", "db", "dZ"), g, strict=True)) for g in (ours, theirs))
            for k in reversed(range(len(linear))):  # output layer first, as backward runs
                label = f"{linear[k]}:Linear"
                for name in QUANTITIES:
                    value = _relative(ours[name][k], theirs[name][k])
                    worst[label][name] = max(worst[label][name], value)
                    if value > GRADIENT_TOLERANCE and first_failure is None:
                        first_failure = {
                            "run": run,
                            "epoch": epoch,
                            "layer": label,
                            "quantity": name,
                            "relative_difference": value,
                        }
            optimizer.step()
        own_losses, _, _ = reference.train(
            X, y, own_weights, own_biases, config.learning_rate, epochs, activations
        )
        loss_difference = abs(loss - own_losses[-1]) / max(abs(own_losses[-1]), 1e-300)
        if loss_difference > LOSS_TOLERANCE and first_failure is None:
            first_failure = {
                "run": run,
                "epoch": epochs,
                "layer": "loss",
                "quantity": "loss",
                "relative_difference": loss_difference,
            }
        runs[run] = {
            "worst_relative": worst,
            "final_loss_autograd": loss,
            "final_loss_reference": own_losses[-1],
            "final_loss_relative_difference": loss_difference,
        }
    return {
        "roll": config.roll,
        "seed": int(seed),
        "epochs": epochs,
        "gradient_tolerance": GRADIENT_TOLERANCE,
        "loss_tolerance": LOSS_TOLERANCE,
        "runs": runs,
        "first_failure": first_failure,
        "passed": first_failure is None,
    }


def format_check(result: dict[str, Any]) -> str:
    lines = [
        f"self-check, roll {result['roll']}, seed {result['seed']}, {result['epochs']} "
        f"epochs a run: autograd against the notebook's matrix-form backprop",
        "",
        f"worst difference over all epochs, relative to the largest entry of each gradient "
        f"(tolerance {result['gradient_tolerance']:g}):",
    ]
    for run, figures in result["runs"].items():
        lines += ["", f"{run}: {'layer':<10} {'dW':>10} {'db':>10} {'dZ':>10}"]
        for label, worst in figures["worst_relative"].items():
            lines.append(f"{'':6}{label:<10} " + " ".join(f"{worst[q]:>10.2e}" for q in QUANTITIES))
        lines.append(
            f"{'':6}final loss: autograd {figures['final_loss_autograd']:.17g}, "
            f"reference {figures['final_loss_reference']:.17g} (relative difference "
            f"{figures['final_loss_relative_difference']:.2e}, tolerance "
            f"{result['loss_tolerance']:g})"
        )
    failure = result["first_failure"]
    lines.append("")
    if failure is None:
        lines.append("PASS: autograd agrees with the matrix-form reference everywhere.")
    else:
        lines.append(
            f"FAIL: {failure['run']}, epoch {failure['epoch']}, layer "
            f"{failure['layer']}: {failure['quantity']} differs by "
            f"{failure['relative_difference']:.3g} (relative)"
        )
    return "\n".join(lines)
