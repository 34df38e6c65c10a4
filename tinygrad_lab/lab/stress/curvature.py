"""Does the learning rate overshoot? The loss's sharpest curvature against 2 / learning rate.

Near trained weights θ the loss is, to second order, a quadratic with Hessian H (with respect to
every parameter of the network, flattened into one vector). A gradient-descent step multiplies
the error along an eigenvector of H with eigenvalue λ by ``1 − lr·λ``: it shrinks when
``0 < λ < 2 / lr`` and grows, flipping sign at every step (an overshoot), when ``λ > 2 / lr``.
So gradient descent is stable along every direction exactly when the largest eigenvalue
``λmax < 2 / lr``; a negative eigenvalue (a saddle's downhill direction) is a direction the
step descends, not one it overshoots.

λmax is found without the Hessian, by power iteration on Hessian-vector products: ``H v`` is
the gradient of ``∇L(θ)·v`` (Pearlmutter's trick), one backward through the recorded gradient
(`tl.autograd.grad` twice). Power iteration converges to the eigenvalue of largest *magnitude*
μ. When μ ≥ 0 it is λmax. When μ < 0 (negative curvature dominates) the iteration is run again
on ``H − μ I``, whose eigenvalues ``λ − μ`` are all ≥ 0, so its largest is ``λmax − μ``: the
shift turns the most positive eigenvalue into the largest in magnitude. Both are reported.

The check: the lab network has few parameters (hundreds), so the full Hessian is computed too
(`tl.func.hessian` on the flattened parameters) and its eigenvalues (`np.linalg.eigvalsh`)
must agree with the power iteration's to `AGREEMENT` (relative).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinygrad_lab import autograd, func, nn, ops
from tinygrad_lab.tensor import Tensor

TOLERANCE = 1e-7  # power iteration stops when ‖Hv − μv‖ ≤ TOLERANCE·|μ| (μ then to ~1e-14)
MAX_ITERATIONS = 3000  # hvps one power iteration may take before it is reported unconverged
AGREEMENT = 1e-8  # the power iteration against the full Hessian's eigenvalues, relative

LossOfParameters = Callable[[Tensor], Tensor]


def loss_of_parameters(
    model: nn.Sequential, X: np.ndarray, y: np.ndarray
) -> tuple[LossOfParameters, np.ndarray]:
    """The lab's loss ``mean((model(X) − y)²)`` as a function of every parameter flattened into
    one vector θ (each Linear's weight, then its bias, in layer order), and θ now. The function
    runs the model's own ops (`Affine`, its activation layers, `MSE`) on slices of θ."""
    shapes = [(layer.weight.shape, layer.bias.shape) for layer in model if _is_linear(layer)]
    theta = np.concatenate([p.data.ravel() for p in model.parameters()])
    inputs, targets = Tensor(X), Tensor(y)

    def loss(theta: Tensor) -> Tensor:
        x, start, linear = inputs, 0, iter(shapes)
        for layer in model:
            if not _is_linear(layer):
                x = layer.forward(x)  # an activation; not __call__: no hook sees it
                continue
            pieces = []
            for shape in next(linear):
                size = math.prod(shape)
                pieces.append(theta[start : start + size].reshape(*shape))
                start += size
            x = ops.Affine.apply(x, *pieces)
        return nn.functional.mse_loss(x, targets)

    return loss, theta


def _is_linear(layer: nn.Module) -> bool:
    if isinstance(layer, nn.Linear):
        if layer.bias is None:
            raise ValueError("curvature: every Linear layer of the lab network has a bias")
        return True
    if list(layer.parameters()):
        raise TypeError(
            f"curvature: {type(layer).__name__} has parameters; expected Linear layers and "
            "parameter-free activations (the lab network)"
        )
    return False


def hessian_vector_product(loss: LossOfParameters, theta: np.ndarray) -> Callable:
    """``v ↦ H v`` at ``theta``: the gradient ∇L(θ) is recorded once (``create_graph``), and
    each product is one backward of ``∇L(θ)·v`` through it (Pearlmutter's trick)."""
    point = Tensor(theta, requires_grad=True)
    (gradient,) = autograd.grad(loss(point), [point], create_graph=True)

    def product(v: np.ndarray) -> np.ndarray:
        (hv,) = autograd.grad((gradient * Tensor(v)).sum(), [point], retain_graph=True)
        return hv.data

    return product


@dataclass(frozen=True)
class PowerIteration:
    """The Rayleigh quotient ``vᵀHv`` a power iteration settled on, and how it got there."""

    eigenvalue: float
    iterations: int  # Hessian-vector products taken
    residual: float  # ‖Hv − μv‖ / |μ| at the end
    converged: bool  # residual ≤ TOLERANCE within MAX_ITERATIONS


def power_iteration(
    product: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    shift: float = 0.0,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> PowerIteration:
    """The eigenvalue of largest magnitude of ``H − shift·I`` (``product`` is ``v ↦ Hv``),
    from ``start``: ``v ← (H − shift)v / ‖…‖`` until the residual ``‖(H − shift)v − μv‖`` is
    within ``tolerance·|μ|`` (for a symmetric H, μ is then off by about residual² / gap)."""
    v = start / np.linalg.norm(start)
    mu, residual = 0.0, math.inf
    for iteration in range(1, max_iterations + 1):
        w = product(v) - shift * v
        mu = float(v @ w)
        norm = float(np.linalg.norm(w))
        residual = float(np.linalg.norm(w - mu * v)) / abs(mu) if mu else math.inf
        if norm == 0 or residual <= tolerance:  # H v = 0: v is in the null space, μ = 0
            return PowerIteration(mu, iteration, residual if mu else 0.0, True)
        v = w / norm
    return PowerIteration(mu, max_iterations, residual, False)


@dataclass(frozen=True)
class LargestEigenvalue:
    """λmax by power iteration, with the largest-magnitude eigenvalue μ it started from."""

    lambda_max: float
    largest_magnitude: float
    shifted: bool  # μ < 0, so λmax came from a second iteration on H − μI
    iterations: int  # Hessian-vector products in all
    converged: bool


def largest_eigenvalue(
    product: Callable[[np.ndarray], np.ndarray], size: int, rng: np.random.Generator
) -> LargestEigenvalue:
    """The most positive eigenvalue of the symmetric H behind ``product``, from a start vector
    drawn from ``rng`` (standard normal: almost surely not orthogonal to any eigenvector)."""
    first = power_iteration(product, rng.standard_normal(size))
    if first.eigenvalue >= 0:
        return LargestEigenvalue(
            first.eigenvalue, first.eigenvalue, False, first.iterations, first.converged
        )
    second = power_iteration(product, rng.standard_normal(size), shift=first.eigenvalue)
    return LargestEigenvalue(
        second.eigenvalue + first.eigenvalue,
        first.eigenvalue,
        True,
        first.iterations + second.iterations,
        first.converged and second.converged,
    )


@dataclass(frozen=True)
class HessianCheck:
    """The full Hessian's eigenvalues (`tl.func.hessian`, `np.linalg.eigvalsh`) against the
    power iteration's."""

    lambda_max: float  # the largest eigenvalue
    lambda_min: float  # the smallest (negative: the loss curves down along some direction)
    largest_magnitude: float
    relative_difference: float  # |λmax(power) − λmax(eigvalsh)| / |λmax(eigvalsh)|
    asymmetry: float  # max |H − Hᵀ| / max |H|: the computed Hessian is symmetric to rounding

    @property
    def agrees(self) -> bool:
        return self.relative_difference <= AGREEMENT


def full_hessian(loss: LossOfParameters, theta: np.ndarray) -> np.ndarray:
    """The Hessian of ``loss`` at ``theta``, every entry: one backward a parameter."""
    return func.hessian(loss)(Tensor(theta)).data


def check_against_hessian(hessian: np.ndarray, power: LargestEigenvalue) -> HessianCheck:
    eigenvalues = np.linalg.eigvalsh((hessian + hessian.T) / 2)
    top = float(eigenvalues[-1])
    return HessianCheck(
        lambda_max=top,
        lambda_min=float(eigenvalues[0]),
        largest_magnitude=float(eigenvalues[np.argmax(np.abs(eigenvalues))]),
        relative_difference=abs(power.lambda_max - top) / abs(top) if top else math.inf,
        asymmetry=float(np.abs(hessian - hessian.T).max() / np.abs(hessian).max()),
    )


@dataclass(frozen=True)
class Curvature:
    """A run's λmax against 2 / lr, at its trained weights; ``absent_reason`` when there are
    none (training diverged)."""

    learning_rate: float
    parameters: int
    power: LargestEigenvalue | None
    check: HessianCheck | None  # None when the full Hessian was not computed
    absent_reason: str | None = None

    @property
    def stability_limit(self) -> float:
        """2 / lr: the largest eigenvalue gradient descent with this rate is stable along."""
        return 2 / self.learning_rate

    @property
    def lambda_max(self) -> float | None:
        return None if self.power is None else self.power.lambda_max

    @property
    def stable(self) -> bool | None:
        """λmax < 2 / lr: no direction in which a step overshoots."""
        return None if self.power is None else self.power.lambda_max < self.stability_limit

    @property
    def headroom(self) -> float | None:
        """(2 / lr) / λmax: how many times larger the rate could be before it overshoots."""
        lam = self.lambda_max
        return None if lam is None or lam <= 0 else self.stability_limit / lam


def measure_curvature(
    model: nn.Sequential,
    X: np.ndarray,
    y: np.ndarray,
    learning_rate: float,
    seed: int,
    check: bool = True,
) -> Curvature:
    """λmax of the lab loss's Hessian at ``model``'s weights by power iteration from a start
    vector drawn from ``np.random.default_rng(seed)``, and (``check``) the full Hessian's
    eigenvalues beside it."""
    loss, theta = loss_of_parameters(model, X, y)
    power = largest_eigenvalue(
        hessian_vector_product(loss, theta), theta.size, np.random.default_rng(seed)
    )
    verified = check_against_hessian(full_hessian(loss, theta), power) if check else None
    return Curvature(learning_rate, theta.size, power, verified)


def absent(learning_rate: float, parameters: int, reason: str) -> Curvature:
    return Curvature(learning_rate, parameters, None, None, reason)
