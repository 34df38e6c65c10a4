"""``tinygrad-lab digits``: a small CNN written with the framework learns real handwritten digits.

The training (see `tinygrad_lab.lab.digits`): `train_digits` gives a `DigitsResult`, figures
only, plus the trained weights."""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tinygrad_lab import nn, no_grad, optim
from tinygrad_lab.data import DataLoader
from tinygrad_lab.lab.digits.data import CLASSES, SPLIT_SEED, TEST_SIZE, DigitsData, load_data
from tinygrad_lab.lab.digits.model import DEFAULT, DigitsConfig, build_model, generators
from tinygrad_lab.lab.stress.part_a import gradient_ratio_index

TARGET_ACCURACY = 0.97


def percent(value: float) -> str:
    """An accuracy as ``97.56%``."""
    return f"{100 * value:.2f}%"


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    train_loss: float  # mean over the epoch's batches, as they were trained (dropout on)
    train_accuracy: float
    test_loss: float  # after the epoch, in evaluation mode
    test_accuracy: float
    seconds: float  # wall-clock time of the epoch's training (not in the JSON)


@dataclass
class DigitsResult:
    """Everything a run reports; plain figures and arrays (and the trained weights)."""

    config: DigitsConfig
    model_summary: list[str]  # one line a layer
    parameters: int
    examples: tuple[int, int]  # (train, test)
    epochs: list[EpochResult]
    steps_per_epoch: int
    confusion: np.ndarray  # (10, 10) counts: row the true digit, column the prediction
    misclassified: list[tuple[int, int, int]]  # (test index, true, predicted)
    misclassified_images: np.ndarray  # (k, 8, 8)
    grad_norms: dict[str, dict[str, list[float]]]  # layer -> quantity -> value at each step
    records: list[tuple] = field(repr=False)  # every GradientRecorder record
    state_dict: dict[str, np.ndarray] = field(repr=False)

    @property
    def test_accuracy(self) -> float:
        return self.epochs[-1].test_accuracy

    @property
    def test_loss(self) -> float:
        return self.epochs[-1].test_loss

    def weight_layers(self) -> list[str]:
        """Labels of the layers with a weight, first to last ("0:Conv2d", ..., "7:Linear")."""
        return [label for label, q in self.grad_norms.items() if "weight_grad_norm" in q]

    def epoch_means(self, layer: str, quantity: str) -> list[float]:
        """A recorded quantity of one layer, averaged over the steps of each epoch."""
        values = np.asarray(self.grad_norms[layer][quantity])
        return [float(v.mean()) for v in np.split(values, len(self.epochs))]

    def gri_by_epoch(self) -> list[float | None]:
        """The lab's GRI, ‖∇W_first‖ / ‖∇W_last‖, from each epoch's mean norms."""
        first, *_, last = self.weight_layers()
        firsts = self.epoch_means(first, "weight_grad_norm")
        lasts = self.epoch_means(last, "weight_grad_norm")
        return [gradient_ratio_index(a, b)[0] for a, b in zip(firsts, lasts, strict=True)]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: the same on every run with the same seed."""
        return {
            "config": {**asdict(self.config), "channels": list(self.config.channels)},
            "split": {
                "test_size": TEST_SIZE,
                "seed": SPLIT_SEED,
                "train": self.examples[0],
                "test": self.examples[1],
            },
            "model": {"layers": self.model_summary, "parameters": self.parameters},
            "test_accuracy": self.test_accuracy,
            "test_loss": self.test_loss,
            "epochs": [{k: v for k, v in asdict(e).items() if k != "seconds"} for e in self.epochs],
            "confusion_matrix": self.confusion.tolist(),
            "misclassified": [
                {"index": i, "true": t, "predicted": p} for i, t, p in self.misclassified
            ],
            "grad_norms_by_epoch": {
                layer: {q: self.epoch_means(layer, q) for q in quantities}
                for layer, quantities in self.grad_norms.items()
            },
            "gri_by_epoch": self.gri_by_epoch(),
        }


# ---------------------------------------------------------------------------------- training
def _progress(loader: DataLoader, epoch: int, epochs: int, enabled: bool) -> Any:
    """The epoch's batches, behind a tqdm bar on stderr when enabled (and tqdm installed)."""
    if not enabled:
        return loader
    try:
        from tqdm import tqdm
    except ImportError:
        return loader
    return tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=True)


def train_epoch(model: nn.Module, optimizer: optim.Optimizer, batches: Any) -> tuple[float, float]:
    """One pass over the training batches: (mean loss, accuracy) as they were trained."""
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    total_loss, correct, seen = 0.0, 0, 0
    for images, labels in batches:
        logits = model(images)
        loss = loss_fn(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
        correct += int((logits.data.argmax(axis=1) == labels).sum())
        seen += len(labels)
        if hasattr(batches, "set_postfix"):  # a progress bar
            batches.set_postfix(
                loss=f"{total_loss / seen:.4f}", accuracy=f"{correct / seen:.3f}", refresh=False
            )
    return total_loss / seen, correct / seen


def evaluate(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """(mean cross-entropy, predicted classes) in evaluation mode, without a graph."""
    model.eval()
    with no_grad():
        logits = model(images)
        loss = nn.CrossEntropyLoss()(logits, labels.astype(np.float32))
    return loss.item(), logits.data.argmax(axis=1)


def _check_batch_size(config: DigitsConfig, data: DigitsData) -> None:
    """A batch larger than the training set would make epochs of no step (drop_last)."""
    if config.batch_size > len(data.y_train):
        raise ValueError(
            f"digits: a batch of {config.batch_size} is more than the "
            f"{len(data.y_train)} training images"
        )


def _one_blas_thread() -> Any:
    """Train on one BLAS thread (threadpoolctl comes with scikit-learn): the network's matrix
    products are small (a batch of 32), so more threads mostly wait on each other (4× slower
    measured on 2 busy cores), and the thread count cannot change a result's bits."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def train_digits(
    config: DigitsConfig = DEFAULT, data: DigitsData | None = None, progress: bool = False
) -> DigitsResult:
    """Train the CNN on the fixed split and gather every figure of the report."""
    data = load_data() if data is None else data
    rngs = generators(config.seed)
    model = build_model(config, rngs)
    # labels as float32 for the loss (class numbers are exact): nothing in the graph is float64
    loader = DataLoader(
        data.x_train,
        data.y_train.astype(np.float32),
        batch_size=config.batch_size,
        shuffle=True,
        seed=rngs.shuffle,
        drop_last=True,  # every step a full batch; the few left over sit that epoch out
    )
    _check_batch_size(config, data)
    optimizer = optim.Adam(model.parameters(), lr=config.learning_rate)
    history = []
    with _one_blas_thread(), nn.GradientRecorder(model) as recorder:
        for epoch in range(1, config.epochs + 1):
            start = time.perf_counter()
            bar = _progress(loader, epoch, config.epochs, progress)
            train_loss, train_accuracy = train_epoch(model, optimizer, bar)
            seconds = time.perf_counter() - start
            test_loss, predicted = evaluate(model, data.x_test, data.y_test)
            accuracy = float((predicted == data.y_test).mean())
            history.append(
                EpochResult(epoch, train_loss, train_accuracy, test_loss, accuracy, seconds)
            )
    return _result(config, model, data, history, predicted, recorder, len(loader))


def _result(
    config: DigitsConfig,
    model: nn.Sequential,
    data: DigitsData,
    history: list[EpochResult],
    predicted: np.ndarray,
    recorder: nn.GradientRecorder,
    steps_per_epoch: int,
) -> DigitsResult:
    confusion = np.zeros((CLASSES, CLASSES), dtype=np.int64)
    np.add.at(confusion, (data.y_test, predicted), 1)
    wrong = np.flatnonzero(predicted != data.y_test)
    grad_norms: dict[str, dict[str, list[float]]] = {}
    by_position = sorted(recorder.records, key=lambda r: (r.layer.position, r.step))
    for record in by_position:  # layers first to last, each quantity step by step
        if record.quantity.endswith("grad_norm"):
            series = grad_norms.setdefault(str(record.layer), {})
            series.setdefault(record.quantity, []).append(record.value)
    return DigitsResult(
        config=config,
        model_summary=[f"{k}: {layer!r}" for k, layer in enumerate(model)],
        parameters=model.num_parameters(),
        examples=(len(data.y_train), len(data.y_test)),
        epochs=history,
        steps_per_epoch=steps_per_epoch,
        confusion=confusion,
        misclassified=[(int(i), int(data.y_test[i]), int(predicted[i])) for i in wrong],
        misclassified_images=data.x_test[wrong, 0],
        grad_norms=grad_norms,
        records=[tuple(r) for r in recorder.records],
        state_dict=dict(model.state_dict()),
    )
