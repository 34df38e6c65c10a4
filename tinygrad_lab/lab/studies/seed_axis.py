"""Many seeds of one network at once: the lab's training with a leading seed axis.

Training seeds one after another pays the interpreter's price of every NumPy call on tiny
(400 × 12) arrays once per seed. Here every weight (S, in, out), bias (S, 1, out) and batch
(S, N, d) has a leading seed axis, so each op is one NumPy call for all the seeds of a setting
(a stacked matmul is one BLAS product per seed).

The training is the engine's own; no derivative is written here. The weights and biases are
tensors; a layer is `ops.Affine` on the stacked arrays, then the activation's own layer from the
registry (its op, with the layer's settings); the loss is `ops.MSE` with ``batched=True`` (one
mean a seed); `Tensor.backward` runs each op's backward, and `optim.SGD` steps. A stacked matmul
gives each seed the bits of its own 2-D product, the batched loss and the bias gradient add each
seed's numbers in the order the 2-D ops add them, and the other ops work element by element, so
each seed's figures are those of training it alone through `nn.Sequential` and
`part_a.train`: to the bit on this machine, tested to 1e-12 relative over settings and seeds.
The bits matter: at a large learning rate gradient descent is chaotic, and one ulp grows to a
different run in 400 epochs.

A seed whose loss stops being finite leaves the batch at that epoch, as `part_a.train` stops.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lab import nn, ops, optim
from tinygrad_lab.display import norm
from tinygrad_lab.lab.rules import EPOCHS, LabConfig
from tinygrad_lab.lab.stress.part_a import gradient_ratio_index, make_data
from tinygrad_lab.tensor import Tensor

Initializer = Callable[[Tensor, Any], Tensor]


# ------------------------------------------------------------------------------ settings
def _gain(activation: str) -> float:
    """PyTorch's gain for a registered activation, with its layer's negative slope where it
    has one (1 for an activation PyTorch does not know)."""
    slope = getattr(nn.get_activation(activation).make(), "negative_slope", None)
    try:
        return nn.init.calculate_gain(activation, slope)
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


# ------------------------------------------------------------------------------ training
class _SeedBatch:
    """The seeds of one setting still training, as the engine's tensors with a leading seed
    axis: ``X`` (S, N, 3) and ``y`` (S, N, 1), every layer's weight (S, in, out) and bias
    (S, 1, out), the parameters of one `optim.SGD`."""

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        weights: list[np.ndarray],
        biases: list[np.ndarray],
        positions: Sequence[int] | np.ndarray,
        activation: str,
        lr: float,
    ) -> None:
        self.X, self.y = Tensor(X), Tensor(y)
        self.weights = [Tensor(w, requires_grad=True) for w in weights]
        self.biases = [Tensor(b, requires_grad=True) for b in biases]
        self.positions = np.asarray(positions)  # each seed's index in the setting's seed list
        self.activation, self.lr = activation, lr
        self.layer = nn.get_activation(activation).make()  # its op, with the layer's settings
        self.optimizer = optim.SGD(self.weights + self.biases, lr=lr)
        # backward's start: each seed's loss is its own scalar, so its gradient is 1
        self.ones = np.ones(len(self.positions))
        self.hidden: list[np.ndarray] = []  # each hidden layer's output, this epoch
        self.loss: Tensor | None = None

    def __len__(self) -> int:
        return len(self.positions)

    def keep(self, mask: np.ndarray) -> _SeedBatch:
        """The batch of the seeds where ``mask`` is True (new arrays; the state is copied)."""
        return _SeedBatch(
            self.X.data[mask],
            self.y.data[mask],
            [w.data[mask] for w in self.weights],
            [b.data[mask] for b in self.biases],
            self.positions[mask],
            self.activation,
            self.lr,
        )

    def state(self, k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Seed ``k``'s weights and biases (copies), as its training left them."""
        return [w.data[k].copy() for w in self.weights], [b.data[k].copy() for b in self.biases]

    def forward(self) -> np.ndarray:
        """Every seed's loss (`ops.MSE`, one mean a seed); keeps the graph and the activations."""
        A, self.hidden = self.X, []
        for W, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            A = self.layer(ops.Affine.apply(A, W, b))
            self.hidden.append(A.data)
        prediction = ops.Affine.apply(A, self.weights[-1], self.biases[-1])
        self.loss = ops.MSE.apply(prediction, self.y, batched=True)
        return self.loss.data

    def dead_layers(self) -> np.ndarray:
        """Per seed, the hidden activation layers none of whose units is positive for any
        example (the recorder's dead fraction 1), for activations that can die."""
        if not nn.get_activation(self.activation).dead_below_zero:
            return np.zeros(len(self), dtype=int)
        return sum(~(A > 0).any(axis=1).any(axis=1) for A in self.hidden)

    def step(self, record: bool = False) -> list[tuple[float, float]]:
        """The engine's backward from this epoch's forward, then the SGD step; with
        ``record``, every seed's ‖∇W_first‖ and ‖∇W_last‖ (the matrix feeding the last hidden
        layer)."""
        self.optimizer.zero_grad()
        self.loss.backward(self.ones)
        # let the graph go now, not when the next forward replaces it: its arrays, alive
        # through the next forward too, would double the memory an epoch sweeps through
        self.loss, self.hidden = None, []
        norms = []
        if record:
            first, last = self.weights[0].grad, self.weights[-2].grad
            norms = [(norm(f), norm(g)) for f, g in zip(first, last, strict=True)]
        self.optimizer.step()
        return norms


@dataclass
class _Trained:
    """What one run left, per seed: the losses (NaN after a divergence), the epoch it diverged
    at, the last epoch's gradient norms and dead layers, and the weights and biases."""

    history: np.ndarray  # (epochs, seeds)
    diverged_at: list[int | None]
    norms: list[tuple[float, float] | None]
    dead: list[int | None]
    states: list[Any]


def _train(batch: _SeedBatch, epochs: int) -> _Trained:
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
        norms = batch.step(record=epoch == epochs)
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


def _batch(X: np.ndarray, y: np.ndarray, states: list[Any], config: LabConfig) -> _SeedBatch:
    """A batch from each seed's (weights, biases), stacked layer by layer."""
    weights = [np.stack(layer) for layer in zip(*(w for w, _ in states), strict=True)]
    biases = [np.stack(layer) for layer in zip(*(b for _, b in states), strict=True)]
    positions = range(len(states))
    return _SeedBatch(X, y, weights, biases, positions, config.activation, config.learning_rate)


def _zero_biases(weights: list[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros((1, w.shape[1])) for w in weights]


def _insert_layers(setting: Setting, state: Any, rng: Any) -> Any:
    """The structural break for one seed: the added layers drawn from its generator, in
    insertion order, and put just before the output layer (trained weights kept)."""
    config, (weights, biases) = setting.config, state
    width = config.hidden_width
    added = setting.draw_weights([width] * (config.added_layers + 1), rng)
    return weights[:-1] + added + weights[-1:], biases[:-1] + _zero_biases(added) + biases[-1:]


def _draw(
    setting: Setting, seeds: Sequence[int], weights_first: bool = False
) -> tuple[list[Any], Any, Any, list[Any]]:
    """Each seed's generator, the stacked data and each seed's initial (weights, biases): its
    ``RandomState(seed)`` draws X, then the weights in layer order, as the stress test does
    (with ``weights_first``, the weights and then X: the weights cell run first)."""
    config = setting.config
    rngs = [np.random.RandomState(seed) for seed in seeds]
    if not weights_first:
        data = [make_data(rng, config.n_samples) for rng in rngs]  # X first, as the notebook
    states = []
    for rng in rngs:
        weights = setting.draw_weights(config.layer_sizes, rng)
        states.append((weights, _zero_biases(weights)))
    if weights_first:
        data = [make_data(rng, config.n_samples) for rng in rngs]
    X, y = np.stack([x for x, _ in data]), np.stack([t for _, t in data])
    return rngs, X, y, states


def first_losses(
    setting: Setting, seeds: Sequence[int], *, weights_first: bool = False
) -> np.ndarray:
    """Every seed's epoch-1 loss, from one forward pass of all of them: the loss each seed's
    stress test records first (``weights_first``: with the weights drawn before the data)."""
    _, X, y, states = _draw(setting, seeds, weights_first)
    with np.errstate(over="ignore", invalid="ignore"):
        return _batch(X, y, states, setting.config).forward()


def train_seeds(
    setting: Setting, seeds: Sequence[int], *, weights_first: bool = False
) -> list[SeedFigures]:
    """Train ``setting`` for every seed at once; each seed's figures are those of training it
    alone (its ``RandomState(seed)`` draws X, then the weights in layer order, then at the
    break the inserted layers, as the lab's stress test does; ``weights_first``: the weights
    before X)."""
    config = setting.config
    rngs, X, y, states = _draw(setting, seeds, weights_first)
    mean_losses = [float(np.mean((t - t.mean()) ** 2)) for t in y]
    runs, depth = [], config.hidden_layers
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for run in range(1 + setting.structural_break + setting.run3):
            if run == 1:
                states = [_insert_layers(setting, s, r) for s, r in zip(states, rngs, strict=True)]
                depth += config.added_layers
            trained = _train(_batch(X, y, states, config), setting.epochs)
            runs.append([_figures(trained, k, depth, m) for k, m in enumerate(mean_losses)])
            states = trained.states
    return [SeedFigures(int(s), *figures) for s, *figures in zip(seeds, *runs, strict=True)]
