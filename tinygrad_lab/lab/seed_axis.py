"""Many seeds of one network at once: the lab's training with a leading seed axis.

Training seeds one after another pays the interpreter's price of every NumPy call on tiny
(400 × 12) arrays once per seed. Here every weight, bias and batch has a leading seed axis, so
each step is one NumPy call for all the seeds of a setting (a stacked matmul is one BLAS product
per seed), and every array is a buffer reused from epoch to epoch.

Every operation is the engine's own, in the engine's order: `ops.Affine` (``x @ W`` then
``+= b``; ``dW = xᵀ g``, ``db`` the rows added in order, ``dx = g Wᵀ``), `ops.MSE` (the loss
``Σ error² / N``, its gradient ``2·error / N``), each activation op's forward and backward (from
the op's output, as the op saves it) and SGD's ``p -= lr·g``. A stacked matmul gives each seed
the bits of its own 2-D product, and each reduction adds in the engine's order, so every seed's
figures are those of training it alone through `nn.Sequential` and `part_a.train`: to the bit
on this machine, tested to 1e-12 relative over settings and seeds. The bits matter: at a large
learning rate gradient descent is chaotic, and one ulp grows to a different run in 400 epochs.

A seed whose loss stops being finite leaves the batch at that epoch, as `part_a.train` stops.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lab import nn
from tinygrad_lab.display import norm
from tinygrad_lab.lab.part_a import gradient_ratio_index, make_data
from tinygrad_lab.lab.rules import EPOCHS, LabConfig
from tinygrad_lab.tensor import Tensor

LEAKY_SLOPE = nn.LeakyReLU().negative_slope

Initializer = Callable[[Tensor, Any], Tensor]


# ------------------------------------------------------------------------------ settings
def _gain(activation: str) -> float:
    """PyTorch's gain for a registered activation (1 for one PyTorch does not know)."""
    try:
        return nn.init.calculate_gain(activation, nn.LeakyReLU().negative_slope)
    except ValueError:
        return 1.0


# Each initializer of the init study, from the setting's activation; "lab" is the rules' own
# U(-r, r). The others scale with the layer's fans and the activation's gain, as PyTorch's.
INITS: dict[str, Callable[[LabConfig], Initializer]] = {
    "lab": lambda c: nn.init.uniform(-c.init_range, c.init_range),
    "xavier_uniform": lambda c: nn.init.xavier_uniform(_gain(c.activation)),
    "xavier_normal": lambda c: nn.init.xavier_normal(_gain(c.activation)),
    "kaiming_uniform": lambda c: nn.init.kaiming_uniform(gain=_gain(c.activation)),
    "kaiming_normal": lambda c: nn.init.kaiming_normal(gain=_gain(c.activation)),
}
INIT_NAMES = {
    "lab": "the lab's U(−r, r)",
    "xavier_uniform": "Xavier/Glorot uniform",
    "xavier_normal": "Xavier/Glorot normal",
    "kaiming_uniform": "Kaiming/He uniform",
    "kaiming_normal": "Kaiming/He normal",
}


@dataclass(frozen=True)
class Setting:
    """One network to train over many seeds: a roll's configuration with this setting's depth
    (``hidden_layers``), activation and learning rate; its init; with ``structural_break``,
    the lab's break (``added_layers`` inserted before the output layer) and run 2 after it;
    with ``run3`` too, run 3: the epochs again on the deeper network (the notebook's last
    cell)."""

    config: LabConfig
    init: str = "lab"
    epochs: int = EPOCHS
    structural_break: bool = False
    run3: bool = False

    def __post_init__(self) -> None:
        if self.run3 and not self.structural_break:
            raise ValueError("run 3 trains on after run 2: it needs structural_break=True")
        if self.init not in INITS:
            raise ValueError(f"unknown init {self.init!r}; expected one of {sorted(INITS)}")
        nn.get_activation(self.config.activation)  # a ValueError naming the known ones

    def initializer(self) -> Initializer:
        return INITS[self.init](self.config)

    def draw_weights(self, sizes: Sequence[int], rng: Any) -> list[np.ndarray]:
        """Weight matrices ``sizes[k] → sizes[k+1]``, drawn from ``rng`` in that order by
        `nn.Linear` itself (biases draw nothing), as the lab's network draws them."""
        init = self.initializer()
        return [
            nn.Linear(fan_in, fan_out, init=init, rng=rng).weight.data
            for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True)
        ]


@dataclass(frozen=True)
class RunFigures:
    """One seed's figures of one run; after a divergence, only the losses until then."""

    hidden_layers: int
    loss_history: list[float]  # every epoch's loss, before its update (finite ones only)
    grad_norm_first: float  # ‖∇W‖ of the first weight matrix, last epoch (NaN: diverged)
    grad_norm_last: float  # ‖∇W‖ of the matrix feeding the last hidden layer (grads_W[-2])
    gri: float | None
    gri_undefined_reason: str | None
    r2: float | None  # 1 - final loss / the mean predictor's loss (None: diverged)
    dead_layers: int | None  # hidden activation layers that output 0 for every example
    diverged_at: int | None = None  # the first epoch whose loss was not finite

    @property
    def final_loss(self) -> float | None:
        """The last epoch's loss; None when training diverged before it."""
        return None if self.diverged_at is not None else self.loss_history[-1]


@dataclass(frozen=True)
class SeedFigures:
    """Everything one seed of a setting gave: run 1, run 2 after a structural break, run 3."""

    seed: int
    run1: RunFigures
    run2: RunFigures | None = None
    run3: RunFigures | None = None


# ------------------------------------------------------------------------------ activations
class _Kernel:
    """An activation on a seed batch, in place: the engine op's forward and its backward from
    the forward's output ``A`` (what the op saves), with the op's operations in its order."""

    def forward(self, Z: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dA: np.ndarray, A: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class _ReLU(_Kernel):
    def forward(self, Z, scratch):
        return np.maximum(Z, 0, out=Z)

    def backward(self, dA, A, scratch):
        return np.multiply(dA, A > 0, out=dA)  # A > 0 exactly where the input was


class _LeakyReLU(_Kernel):
    # The op's np.where costs ten times its arithmetic on data of mixed signs (a branch an
    # element); these branch-free forms give its values: max(x, slope·x) is x or slope·x, and
    # (1 - slope) + slope is exactly 1.
    def forward(self, Z, scratch):
        return np.maximum(Z, np.multiply(Z, LEAKY_SLOPE, out=scratch), out=Z)

    def backward(self, dA, A, scratch):
        factor = np.multiply(A > 0, 1 - LEAKY_SLOPE, out=scratch)  # 1 or slope, as the op's
        factor += LEAKY_SLOPE
        return np.multiply(dA, factor, out=dA)


class _Tanh(_Kernel):
    def forward(self, Z, scratch):
        return np.tanh(Z, out=Z)

    def backward(self, dA, A, scratch):
        np.multiply(A, A, out=scratch)
        return np.multiply(dA, np.subtract(1, scratch, out=scratch), out=dA)  # 1 - tanh²


class _Sigmoid(_Kernel):
    # The op's stable form, 1/(1+e) where x >= 0 and e/(1+e) elsewhere (e = exp(-|x|)), as
    # one division of max(e, [x >= 0]) by 1 + e: e <= 1 where x >= 0, so the numerator is 1
    # there and e elsewhere (without np.where's branch an element).
    def forward(self, Z, scratch):
        e = np.exp(np.negative(np.abs(Z, out=scratch), out=scratch), out=scratch)
        numerator = np.maximum(e, Z >= 0)
        return np.divide(numerator, np.add(1, e, out=scratch), out=Z)

    def backward(self, dA, A, scratch):
        np.multiply(dA, A, out=dA)
        return np.multiply(dA, np.subtract(1, A, out=scratch), out=dA)  # σ(1-σ)


class _Identity(_Kernel):
    def forward(self, Z, scratch):
        return Z

    def backward(self, dA, A, scratch):
        return dA


class _Engine(_Kernel):
    """Any other registered activation: its own layer, run by the engine on the whole batch
    (so its arithmetic is the engine's by construction)."""

    def __init__(self, name: str) -> None:
        self.layer, self.nodes = nn.get_activation(name).make(), {}

    def forward(self, Z, scratch):
        node = Tensor(Z, requires_grad=True)
        out = self.layer(node)
        self.nodes[id(out.data)] = node, out
        return out.data

    def backward(self, dA, A, scratch):
        node, out = self.nodes.pop(id(A))
        out.backward(dA)
        return node.grad


KERNELS: dict[str, Callable[[], _Kernel]] = {
    "relu": _ReLU,
    "leaky_relu": _LeakyReLU,
    "tanh": _Tanh,
    "sigmoid": _Sigmoid,
    "identity": _Identity,
}


def kernel(activation: str) -> _Kernel:
    return KERNELS[activation]() if activation in KERNELS else _Engine(activation)


# ------------------------------------------------------------------------------ training
class _SeedBatch:
    """The seeds of one setting still training, each array with a leading seed axis: ``X``
    (S, N, 3), ``y`` (S, N, 1), every layer's weight (S, in, out) and bias (S, 1, out)."""

    def __init__(self, X, y, weights, biases, positions, activation: str) -> None:
        self.X, self.y, self.weights, self.biases = X, y, weights, biases
        self.positions = np.asarray(positions)  # each seed's index in the setting's seed list
        self.activation = activation
        self.kernel = kernel(activation)
        seeds, n = X.shape[:2]
        width = weights[0].shape[2]
        # rows of Z added to the bias k at a time (k divides N): a broadcast over one row of
        # ``width`` numbers is an inner loop too short for NumPy to be quick
        self.rows = max(k for k in range(1, 33) if n % k == 0)
        self.Z = [np.empty((seeds, n, w.shape[2])) for w in weights[:-1]]
        self.A: list[np.ndarray] = []  # each hidden layer's output (Z's buffer, in place)
        self.error = np.empty((seeds, n, weights[-1].shape[2]))
        self.square = np.empty_like(self.error)
        self.dA = [np.empty((seeds, n, width)), np.empty((seeds, n, width))]
        self.dW = [np.empty_like(w) for w in weights]
        self.scratch = np.empty((seeds, n, width))

    def __len__(self) -> int:
        return len(self.positions)

    def keep(self, mask: np.ndarray) -> _SeedBatch:
        """The batch of the seeds where ``mask`` is True (new buffers; the state is copied)."""
        return _SeedBatch(
            self.X[mask],
            self.y[mask],
            [w[mask] for w in self.weights],
            [b[mask] for b in self.biases],
            self.positions[mask],
            self.activation,
        )

    def state(self, k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Seed ``k``'s weights and biases (copies), as its training left them."""
        return [w[k].copy() for w in self.weights], [b[k].copy() for b in self.biases]

    def forward(self) -> np.ndarray:
        """Every seed's loss, ``Σ error² / N`` as `ops.MSE` adds it; keeps the activations."""
        A, self.A = self.X, []
        for W, b, Z in zip(self.weights[:-1], self.biases[:-1], self.Z, strict=True):
            np.matmul(A, W, out=Z)
            self._add_bias(Z, b)
            A = self.kernel.forward(Z, self.scratch)
            self.A.append(A)
        error = np.matmul(A, self.weights[-1], out=self.error)
        error += self.biases[-1]
        error -= self.y
        square = np.multiply(error, error, out=self.square)  # error**2, the same bits
        return np.add.reduce(square.reshape(len(self), -1), axis=1) / error[0].size

    def _add_bias(self, Z: np.ndarray, b: np.ndarray) -> None:
        """``Z += b`` (the same additions), ``self.rows`` rows of Z to one inner loop."""
        seeds, n, width = Z.shape
        wide = Z.reshape(seeds, n // self.rows, self.rows * width)
        wide += np.tile(b, (1, 1, self.rows))

    def dead_layers(self) -> np.ndarray:
        """Per seed, the hidden activation layers none of whose units is positive for any
        example (the recorder's dead fraction 1), for activations that can die."""
        if not nn.get_activation(self.activation).dead_below_zero:
            return np.zeros(len(self), dtype=int)
        return sum(~(A > 0).any(axis=1).any(axis=1) for A in self.A)

    def step(self, learning_rate: float, record: bool = False) -> list[tuple[float, float]]:
        """Backward from this epoch's forward, then SGD; with ``record``, every seed's
        ‖∇W_first‖ and ‖∇W_last‖ (the matrix feeding the last hidden layer)."""
        grad = np.multiply(self.error, 2.0, out=self.error)  # (2·grad)·error / N, as ops.MSE
        grad /= self.error[0].size
        layers, norms = len(self.weights), {}
        for k in reversed(range(layers)):
            below = self.X if k == 0 else self.A[k - 1]
            dW = np.matmul(np.swapaxes(below, 1, 2), grad, out=self.dW[k])
            # ops.Affine's db: one output adds its rows pairwise, wider ones row after row
            db = np.add.reduce(grad, axis=1) if grad.shape[2] == 1 else np.einsum("snj->sj", grad)
            if k:
                dA = np.matmul(grad, np.swapaxes(self.weights[k], 1, 2), out=self.dA[k % 2])
                grad_below = self.kernel.backward(dA, below, self.scratch)
            if record and k in (0, layers - 2):
                norms[k] = [norm(g) for g in dW]
            self.weights[k] -= np.multiply(dW, learning_rate, out=dW)
            db *= learning_rate
            self.biases[k] -= db[:, None, :]
            if k:
                grad = grad_below
        return list(zip(norms[0], norms[layers - 2], strict=True)) if record else []


@dataclass
class _Trained:
    """What one run left, per seed: the losses (NaN after a divergence), the epoch it diverged
    at, the last epoch's gradient norms and dead layers, and the weights and biases."""

    history: np.ndarray  # (epochs, seeds)
    diverged_at: list[int | None]
    norms: list[tuple[float, float] | None]
    dead: list[int | None]
    states: list[Any]


def _train(batch: _SeedBatch, learning_rate: float, epochs: int) -> _Trained:
    """`part_a.train` for every seed of ``batch``: full-batch gradient descent, each epoch's
    loss before its update; a seed stops at its first non-finite loss."""
    count = len(batch)
    out = _Trained(np.full((epochs, count), np.nan), *([None] * count for _ in range(4)))
    norms, dead = [], np.zeros(0, dtype=int)
    for epoch in range(1, epochs + 1):
        losses = batch.forward()
        finite = np.isfinite(losses)
        if not finite.all():
            for k in np.flatnonzero(~finite):
                out.diverged_at[batch.positions[k]] = epoch
                out.states[batch.positions[k]] = batch.state(k)
            batch = batch.keep(finite)
            if not len(batch):
                return out
            losses = batch.forward()  # the same bits again, in the smaller batch
        out.history[epoch - 1, batch.positions] = losses
        if epoch == epochs:
            dead = batch.dead_layers()
        norms = batch.step(learning_rate, record=epoch == epochs)
    for k, position in enumerate(batch.positions):
        out.norms[position], out.dead[position] = norms[k], int(dead[k])
        out.states[position] = batch.state(k)
    return out


def _figures(trained: _Trained, k: int, hidden_layers: int, mean_loss: float) -> RunFigures:
    """Seed ``k``'s figures of a run, as `part_a` summarises one (GRI by its own rule)."""
    diverged = trained.diverged_at[k]
    epochs = len(trained.history) if diverged is None else diverged - 1
    history = trained.history[:epochs, k].tolist()
    first, last = trained.norms[k] if diverged is None else (math.nan, math.nan)
    gri, reason = gradient_ratio_index(first, last)
    r2 = 1 - history[-1] / mean_loss if diverged is None else None
    return RunFigures(
        hidden_layers, history, first, last, gri, reason, r2, trained.dead[k], diverged
    )


def _batch(X, y, states: list[Any], activation: str) -> _SeedBatch:
    """A batch from each seed's (weights, biases), stacked layer by layer."""
    weights = [np.stack(layer) for layer in zip(*(w for w, _ in states), strict=True)]
    biases = [np.stack(layer) for layer in zip(*(b for _, b in states), strict=True)]
    return _SeedBatch(X, y, weights, biases, range(len(states)), activation)


def _zero_biases(weights: list[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros((1, w.shape[1])) for w in weights]


def _insert_layers(setting: Setting, state: Any, rng: Any) -> Any:
    """The structural break for one seed: the added layers drawn from its generator, in
    insertion order, and put just before the output layer (trained weights kept)."""
    config, (weights, biases) = setting.config, state
    width = config.hidden_width
    added = setting.draw_weights([width] * (config.added_layers + 1), rng)
    return weights[:-1] + added + weights[-1:], biases[:-1] + _zero_biases(added) + biases[-1:]


def _draw(setting: Setting, seeds: Sequence[int]) -> tuple[list[Any], Any, Any, list[Any]]:
    """Each seed's generator, the stacked data and each seed's initial (weights, biases): its
    ``RandomState(seed)`` draws X, then the weights in layer order, as the stress test does."""
    config = setting.config
    rngs = [np.random.RandomState(seed) for seed in seeds]
    data = [make_data(rng, config.n_samples) for rng in rngs]  # X first, as the notebook
    states = []
    for rng in rngs:
        weights = setting.draw_weights(config.layer_sizes, rng)
        states.append((weights, _zero_biases(weights)))
    X, y = np.stack([x for x, _ in data]), np.stack([t for _, t in data])
    return rngs, X, y, states


def first_losses(setting: Setting, seeds: Sequence[int]) -> np.ndarray:
    """Every seed's epoch-1 loss, from one forward pass of all of them: the loss each seed's
    stress test records first."""
    _, X, y, states = _draw(setting, seeds)
    with np.errstate(over="ignore", invalid="ignore"):
        return _batch(X, y, states, setting.config.activation).forward()


def train_seeds(setting: Setting, seeds: Sequence[int]) -> list[SeedFigures]:
    """Train ``setting`` for every seed at once; each seed's figures are those of training it
    alone (its ``RandomState(seed)`` draws X, then the weights in layer order, then at the
    break the inserted layers, as the lab's stress test does)."""
    config = setting.config
    rngs, X, y, states = _draw(setting, seeds)
    mean_losses = [float(np.mean((t - t.mean()) ** 2)) for t in y]
    runs, depth = [], config.hidden_layers
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for run in range(1 + setting.structural_break + setting.run3):
            if run == 1:
                states = [_insert_layers(setting, s, r) for s, r in zip(states, rngs, strict=True)]
                depth += config.added_layers
            batch = _batch(X, y, states, config.activation)
            trained = _train(batch, config.learning_rate, setting.epochs)
            runs.append([_figures(trained, k, depth, m) for k, m in enumerate(mean_losses)])
            states = trained.states
    return [SeedFigures(int(s), *figures) for s, *figures in zip(seeds, *runs, strict=True)]
