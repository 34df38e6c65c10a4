"""W8: second order on the lab network. A Hessian-vector product of the lab loss (Pearlmutter's
trick) and the full Hessian of every parameter, each against one gradient's time, for
tinygrad_lab (``tl.func.hvp``, ``tl.func.hessian``) and PyTorch (``torch.autograd.functional.hvp``,
``torch.func.hessian``), float64.

Both take the loss as a function of the parameters flattened into one vector θ, sliced into
each Linear's weight and bias (`tinygrad_lab.lab.stress.curvature.loss_of_parameters`, and the same
slices in torch), at the weights the lab draws (roll 102303346, ``RandomState(1)``) trained 20
epochs. A gradient is ``autograd.grad`` of that function: the unit every time is divided by.
Each repeat times every contender's gradient, hvp and Hessian in turn (the order rotating), so
a burst of load on the machine falls on all of them alike; the medians over repeats are kept.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_lab as tl
from tinygrad_lab.lab.rules import lab_config
from tinygrad_lab.lab.stress.curvature import loss_of_parameters
from tinygrad_lab.lab.stress.network import build_network
from tinygrad_lab.lab.stress.part_a import train

from .common import optional_torch
from .mlp import WEIGHT_SEED, lab_data

ROLL, QUICK_ROLL = "102303346", "100"  # 3 → 12×5 → 1 (685 parameters); 3 → 6×4 → 1 (157)
MAX_HVP_GRADIENTS = 5.0  # the target: an hvp costs at most this many gradients' time
TRAINED_EPOCHS = 20
TOLERANCE = 1e-9  # relative agreement of the contenders' hvp and Hessian


@dataclasses.dataclass
class SecondOrderWorkload:
    key: str
    title: str
    repeats_per_round: int  # gradients and hvps timed per round (the Hessian once)
    contenders: dict[str, Callable[[], dict[str, Callable[[], np.ndarray]]] | None]
    notes: dict[str, str]


def _problem(quick: bool) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    config = lab_config(QUICK_ROLL if quick else ROLL)
    X, y = lab_data(40 if quick else config.n_samples)
    model = build_network(config, np.random.RandomState(WEIGHT_SEED))
    train(model, tl.Tensor(X), tl.Tensor(y), config.learning_rate, TRAINED_EPOCHS)
    loss, theta = loss_of_parameters(model, X, y)
    v = np.random.default_rng(0).standard_normal(theta.size)
    return model, X, y, theta, v


def _tinygrad(loss: Any, theta: np.ndarray, v: np.ndarray) -> dict[str, Callable]:
    point, tangent = tl.Tensor(theta), tl.Tensor(v)

    def gradient() -> np.ndarray:
        leaf = tl.Tensor(theta, requires_grad=True)
        (g,) = tl.autograd.grad(loss(leaf), [leaf])
        return g.data

    return {
        "gradient": gradient,
        "hvp": lambda: tl.func.hvp(loss, (point,), (tangent,))[1][0].data,
        "hessian": lambda: tl.func.hessian(loss)(point).data,
    }


def _torch(torch: Any, model: Any, X: np.ndarray, y: np.ndarray, theta: np.ndarray, v: np.ndarray):
    shapes = [(layer.weight.shape, layer.bias.shape) for layer in model if hasattr(layer, "weight")]
    activation = {"ReLU": torch.relu, "Tanh": torch.tanh, "Sigmoid": torch.sigmoid}
    acts = [activation[type(layer).__name__] for layer in model if not hasattr(layer, "weight")]
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)
    point, tangent = torch.from_numpy(theta.copy()), torch.from_numpy(v.copy())

    def loss(theta: Any) -> Any:
        x, start = inputs, 0
        for i, (w_shape, b_shape) in enumerate(shapes):
            w = theta[start : start + w_shape[0] * w_shape[1]].reshape(w_shape)
            start += w_shape[0] * w_shape[1]
            b = theta[start : start + b_shape[0]]
            start += b_shape[0]
            x = x @ w + b
            if i < len(acts):
                x = acts[i](x)
        return torch.nn.functional.mse_loss(x, targets)

    def gradient() -> np.ndarray:
        leaf = point.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(loss(leaf), leaf)
        return g.numpy()

    return {
        "gradient": gradient,
        "hvp": lambda: torch.autograd.functional.hvp(loss, point, tangent)[1].numpy(),
        "hessian": lambda: torch.func.hessian(loss)(point).numpy(),
    }


def w8(quick: bool, threads: int) -> SecondOrderWorkload:
    model, X, y, theta, v = _problem(quick)
    loss, _ = loss_of_parameters(model, X, y)
    torch, why = optional_torch(threads)
    sizes = "→".join(
        str(s) for s in [3] + [layer.weight.shape[1] for layer in model if hasattr(layer, "weight")]
    )
    return SecondOrderWorkload(
        key="W8",
        title=f"second order on the lab network {sizes} ({theta.size} parameters), N={len(X)}: "
        "an hvp and the full Hessian, in gradients' time",
        repeats_per_round=5 if quick else 20,
        contenders={
            "tinygrad_lab": lambda: _tinygrad(loss, theta, v),
            "torch": torch and (lambda: _torch(torch, model, X, y, theta, v)),
        },
        notes={"torch": why or "torch.autograd.functional.hvp, torch.func.hessian; CPU, float64"},
    )


def run_second_order(workload: SecondOrderWorkload, repeats: int, log: Any) -> dict[str, Any]:
    """Per contender: the median time of a gradient, an hvp and the Hessian; their ratios to
    the gradient; and the results' agreement with tinygrad_lab's."""
    runners = {name: make() for name, make in workload.contenders.items() if make is not None}
    outputs = {name: {k: f() for k, f in fns.items()} for name, fns in runners.items()}  # warm-up
    times: dict[str, dict[str, list[float]]] = {
        n: {k: [] for k in ("gradient", "hvp", "hessian")} for n in runners
    }
    names = list(runners)
    for repeat in range(repeats):
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            for kind, fn in runners[name].items():
                count = 1 if kind == "hessian" else workload.repeats_per_round
                start = time.perf_counter()
                for _ in range(count):
                    fn()
                times[name][kind].append((time.perf_counter() - start) / count)
        log(f"  {workload.key} repeat {repeat + 1}/{repeats} done")
    ours = outputs["tinygrad_lab"]
    results: dict[str, Any] = {}
    for name in workload.contenders:
        if name not in runners:
            results[name] = {"skipped": True, "note": workload.notes.get(name, "")}
            continue
        median = {kind: statistics.median(t) for kind, t in times[name].items()}
        difference = {
            kind: float(np.abs(outputs[name][kind] - ours[kind]).max() / np.abs(ours[kind]).max())
            for kind in ("hvp", "hessian")
        }
        results[name] = {
            "skipped": False,
            "note": workload.notes.get(name, ""),
            "seconds": median,
            "hvp_gradients": median["hvp"] / median["gradient"],
            "hessian_gradients": median["hessian"] / median["gradient"],
            "relative_difference": difference,
            "agrees": all(d <= TOLERANCE for d in difference.values()),
        }
    return results


def second_order_targets(key: str, results: dict[str, Any]) -> list[dict[str, Any]]:
    ratio = results["tinygrad_lab"]["hvp_gradients"]
    what = f"tinygrad_lab: an hvp ≤ {MAX_HVP_GRADIENTS:g} gradients' time"
    return [{"workload": key, "what": what, "ratio": ratio, "met": ratio <= MAX_HVP_GRADIENTS}]
