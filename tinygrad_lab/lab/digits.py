"""``tinygrad-lab digits``: a small CNN written with the framework learns real handwritten digits.

The data is scikit-learn's ``load_digits`` (1,797 grey 8×8 images of the digits 0-9, shipped
inside scikit-learn: nothing is downloaded), split once, stratified, 25% for testing (seed 0,
whatever the run's seed). The network, in float32 end to end::

    Conv2d(1 → 16, 3×3, padding 1) → ReLU → MaxPool2d(2)     1×8×8 → 16×8×8 → 16×4×4
    Conv2d(16 → 32, 3×3, padding 1) → ReLU                   → 32×4×4
    Flatten → Dropout(0.25) → Linear(512 → 10)               → 10 logits

trained with Adam on mini-batches. Every random draw comes from a generator made from the run's
seed (one stream each for the weights, the batch order and the dropout masks), so a run with the
same seed is the same to the bit. The gradient recorder watches every step: the per-layer
gradient norms and the lab's GRI (‖∇W_first‖ / ‖∇W_last‖) of a network that learns.

`train_digits` gives a `DigitsResult` (figures only, plus the trained weights);
`write_digits_outputs` writes its report, JSON, CSV, weights and plots.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from tinygrad_lab import nn, no_grad, optim, serialization
from tinygrad_lab.data import DataLoader
from tinygrad_lab.display import cell, markdown_table
from tinygrad_lab.lab.output.files import OutputFiles
from tinygrad_lab.lab.stress.analysis import EXPLODING_GRI, VANISHING_GRI
from tinygrad_lab.lab.stress.part_a import gradient_ratio_index
from tinygrad_lab.lab.stress.plots import pyplot, save_png

EXTRA_HINT = "pip install -e '.[digits]' (or pip install 'tinygrad_lab[digits]')"
SPLIT_SEED, TEST_SIZE = 0, 0.25  # the fixed split of the issue: stratified, 25% test, seed 0
TARGET_ACCURACY = 0.97
CLASSES = 10


@dataclass(frozen=True)
class DigitsConfig:
    """What a run trains: the seed, the schedule and the network's width."""

    seed: int = 0
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 2e-3
    channels: tuple[int, int] = (16, 32)  # of the two convolutions
    dropout: float = 0.25


FAST = DigitsConfig(epochs=4, channels=(8, 16))  # the test suite's: 94% (seed 0) in four epochs


# ---------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class DigitsData:
    """The fixed split: images (N, 1, 8, 8) float32 in [0, 1] and labels (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_data() -> DigitsData:
    """scikit-learn's digits, scaled to [0, 1] (pixels are 0-16), split once and for all."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ImportError(f"the digits command needs scikit-learn: {EXTRA_HINT}") from None
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=TEST_SIZE, stratify=labels, random_state=SPLIT_SEED
    )
    return DigitsData(x_train, y_train, x_test, y_test)


# ---------------------------------------------------------------------------------- model
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


# ---------------------------------------------------------------------------------- result
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
    config: DigitsConfig = DigitsConfig(), data: DigitsData | None = None, progress: bool = False
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


# ---------------------------------------------------------------------------------- report
def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    return cell(value, digits)


def _percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def markdown_report(result: DigitsResult, plots: bool = True) -> str:
    """The report: the run, the accuracy, the curves' table, the confusion matrix, the
    mistakes and the per-layer gradient norms."""
    config, target = result.config, TARGET_ACCURACY
    met = "meets" if result.test_accuracy >= target else "**misses**"
    train, test = result.examples
    lines = [
        "# Handwritten digits: a CNN trained with tinygrad_lab",
        "",
        f"scikit-learn's `load_digits` (8×8 grey images, 10 classes): {train} training and "
        f"{test} test images (a stratified split, {TEST_SIZE:.0%} test, seed {SPLIT_SEED}). "
        f"Seed {config.seed}, {config.epochs} epochs of Adam (lr {config.learning_rate:g}) on "
        f"batches of {config.batch_size}, dropout {config.dropout:g}, float32.",
        "",
        f"**Test accuracy: {_percent(result.test_accuracy)}** ({met} the {target:.0%} target), "
        f"test loss {_fmt(result.test_loss)}; {len(result.misclassified)} of {test} test "
        "images misclassified.",
        "",
        "## Model",
        "",
        "```",
        *result.model_summary,
        f"{result.parameters:,} parameters",
        "```",
        "",
        *_epoch_table(result),
        *_confusion_table(result),
        *_gradient_section(result),
    ]
    if plots:
        lines += [f"![{title}]({name})" for name, title in PLOTS.items()] + [""]
    return "\n".join(lines)


def _epoch_table(result: DigitsResult) -> list[str]:
    header = ["epoch", "train loss", "train accuracy", "test loss", "test accuracy", "seconds"]
    rows = [
        [e.epoch, e.train_loss, _percent(e.train_accuracy), e.test_loss]
        + [_percent(e.test_accuracy), f"{e.seconds:.2f}"]
        for e in result.epochs
    ]
    note = (
        "Training loss and accuracy are the means over each epoch's batches as they were "
        "trained (dropout on); the test figures are measured after the epoch, in evaluation mode."
    )
    return ["## Training", "", note, "", markdown_table(header, rows, fmt=_fmt), ""]


def _confusion_table(result: DigitsResult) -> list[str]:
    header = ["true \\ predicted", *map(str, range(CLASSES))]
    rows = [[str(k), *row] for k, row in enumerate(result.confusion.tolist())]
    mistakes = ", ".join(f"{t}→{p}" for _, t, p in result.misclassified) or "none"
    return [
        "## Confusion matrix (test set)",
        "",
        markdown_table(header, rows),
        "",
        f"Misclassified (true→predicted): {mistakes}.",
        "",
    ]


def _gradient_section(result: DigitsResult) -> list[str]:
    final = len(result.epochs)
    header = ["layer", "‖∇W‖ epoch 1", f"‖∇W‖ epoch {final}", f"‖∂L/∂output‖ epoch {final}"]
    rows = []
    for layer in result.weight_layers():
        weights = result.epoch_means(layer, "weight_grad_norm")
        output = result.epoch_means(layer, "output_grad_norm")
        rows.append([layer, weights[0], weights[-1], output[-1]])
    gri = result.gri_by_epoch()
    first, *_, last = result.weight_layers()
    return [
        "## Gradients per layer (GradientRecorder)",
        "",
        "Each figure is the mean, over an epoch's steps, of the norm the recorder wrote down "
        "at every step (`gradients.csv` has every step).",
        "",
        markdown_table(header, rows, fmt=_fmt),
        "",
        f"The lab's GRI, ‖∇W_first‖ / ‖∇W_last‖ ({first} over {last}): {_fmt(gri[0])} in the "
        f"first epoch, {_fmt(gri[-1])} in the last. {_gri_reading(gri[-1])}",
        "",
    ]


def _gri_reading(gri: float | None) -> str:
    """What the last epoch's GRI says, by the lab's thresholds."""
    if gri is None:
        return "It is undefined: a weight gradient norm is 0 or not finite."
    if gri < VANISHING_GRI:
        return f"Below {VANISHING_GRI:g}: the gradient vanishes towards the first layer."
    if gri > EXPLODING_GRI:
        return f"Above {EXPLODING_GRI:g}: the gradient grows towards the first layer."
    return (
        f"Between {VANISHING_GRI:g} and {EXPLODING_GRI:g}, by the lab's thresholds: the "
        "gradient neither vanishes nor explodes on its way back to the first layer."
    )


# ---------------------------------------------------------------------------------- plots
PLOTS = {
    "curves.png": "loss and accuracy per epoch",
    "confusion.png": "confusion matrix of the test set",
    "misclassified.png": "the misclassified test digits",
    "grad_norms.png": "per-layer gradient norms over training",
}


def _pyplot() -> Any:
    return pyplot("the digits plots", EXTRA_HINT)


def _save(plt: Any, fig: Any, target: Any) -> Any:
    return save_png(plt, fig, target, dpi=120)


def plot_curves(result: DigitsResult, path: Path) -> Path:
    """Loss and accuracy per epoch, training and test side by side."""
    plt = _pyplot()
    epochs = [e.epoch for e in result.epochs]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    loss_ax.plot(epochs, [e.train_loss for e in result.epochs], "o-", label="training")
    loss_ax.plot(epochs, [e.test_loss for e in result.epochs], "s-", label="test")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log", title="Loss")
    acc_ax.plot(epochs, [100 * e.train_accuracy for e in result.epochs], "o-", label="training")
    acc_ax.plot(epochs, [100 * e.test_accuracy for e in result.epochs], "s-", label="test")
    acc_ax.axhline(
        100 * TARGET_ACCURACY, color="grey", linestyle="--", linewidth=1, label="97% target"
    )
    low = min(100 * min(e.train_accuracy for e in result.epochs), 90)
    acc_ax.set(
        xlabel="epoch",
        ylabel="accuracy (%)",
        ylim=(low - 1, 100.5),
        title=f"Accuracy (test: {_percent(result.test_accuracy)} at the end)",
    )
    for ax in (loss_ax, acc_ax):
        ax.legend()
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    return _save(plt, fig, path)


def plot_confusion(result: DigitsResult, path: Path) -> Path:
    """The confusion matrix as a heat map, every cell's count written in it."""
    plt = _pyplot()
    counts = result.confusion
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="test images")
    for (row, col), count in np.ndenumerate(counts):
        if count:
            dark = count > counts.max() / 2
            ax.text(
                col,
                row,
                str(count),
                ha="center",
                va="center",
                fontsize=9,
                color="white" if dark else ("black" if row == col else "crimson"),
            )
    ax.set_xticks(range(CLASSES))
    ax.set_yticks(range(CLASSES))
    ax.set(
        xlabel="predicted digit",
        ylabel="true digit",
        title=f"Confusion matrix, test set ({_percent(result.test_accuracy)} correct)",
    )
    return _save(plt, fig, path)


def plot_misclassified(result: DigitsResult, path: Path, limit: int = 32) -> Path:
    """The misclassified test images (up to ``limit``), each titled true → predicted."""
    plt = _pyplot()
    shown = min(len(result.misclassified), limit)
    columns = min(max(shown, 1), 8)
    rows = max(1, -(-shown // columns))
    fig, axes = plt.subplots(
        rows, columns, figsize=(1.5 * columns, 1.75 * rows + 0.6), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < shown:
            _, true, predicted = result.misclassified[k]
            ax.imshow(result.misclassified_images[k], cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"{true} → {predicted}", fontsize=11, color="crimson")
    total = len(result.misclassified)
    title = f"Misclassified test digits: {total} of {result.examples[1]} (true → predicted)"
    if total > shown:
        title += f", the first {shown}"
    if not total:
        title = "No test digit was misclassified"
    fig.suptitle(title, fontsize=11)
    return _save(plt, fig, path)


def plot_grad_norms(result: DigitsResult, path: Path) -> Path:
    """Each weighted layer's ‖∇W‖ at every step (faint) and its epoch mean (bold), and the
    lab's GRI per epoch below."""
    plt = _pyplot()
    fig, (norm_ax, gri_ax) = plt.subplots(
        2, 1, figsize=(9, 6.5), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    steps, epochs = result.steps_per_epoch, len(result.epochs)
    centres = np.arange(1, epochs + 1) - 0.5
    for k, layer in enumerate(result.weight_layers()):
        values = result.grad_norms[layer]["weight_grad_norm"]
        colour = f"C{k}"  # matplotlib's default cycle: dark enough on white
        norm_ax.plot(
            np.arange(1, len(values) + 1) / steps, values, color=colour, alpha=0.25, linewidth=0.8
        )
        norm_ax.plot(
            centres,
            result.epoch_means(layer, "weight_grad_norm"),
            "o-",
            color=colour,
            label=f"{layer} (epoch mean)",
        )
    norm_ax.set(
        yscale="log",
        ylabel="‖∇W‖ (Frobenius)",
        title="Per-layer weight-gradient norms at every step (GradientRecorder)",
    )
    norm_ax.legend(fontsize=9)
    gri = [np.nan if g is None else g for g in result.gri_by_epoch()]
    gri_ax.plot(centres, gri, "o-", color="black", label="GRI = ‖∇W_first‖ / ‖∇W_last‖")
    gri_ax.axhspan(
        VANISHING_GRI,
        EXPLODING_GRI,
        color="green",
        alpha=0.08,
        label=f"stable by the lab's rule ({VANISHING_GRI:g} to {EXPLODING_GRI:g})",
    )
    gri_ax.set(yscale="log", xlabel="epoch", ylabel="GRI", xlim=(0, epochs))
    gri_ax.xaxis.get_major_locator().set_params(integer=True)
    gri_ax.legend(fontsize=9)
    for ax in (norm_ax, gri_ax):
        ax.grid(alpha=0.3)
    return _save(plt, fig, path)


# ---------------------------------------------------------------------------------- outputs
def write_digits_outputs(out: Path, result: DigitsResult, plots: bool = True) -> list[Path]:
    """report.md, results.json, gradients.csv (every recorder record), model.npz (the trained
    weights, for ``model.load_state_dict(tl.load(path))``) and the plots, into ``out``.
    Every file is staged and renamed into place together, as every lab file is (`OutputFiles`).
    """
    with OutputFiles() as files:
        files.write(out / "report.md", markdown_report(result, plots=plots) + "\n")
        files.write(
            out / "results.json", json.dumps(result.to_json(), indent=1, allow_nan=False) + "\n"
        )
        files.write(out / "gradients.csv", _records_csv(result.records))
        files.write(out / "model.npz", partial(serialization.write, state_dict=result.state_dict))
        if plots:
            draw = (plot_curves, plot_confusion, plot_misclassified, plot_grad_norms)
            for fn, name in zip(draw, PLOTS, strict=True):
                files.write(out / name, partial(fn, result))  # fn(result, the file)
    return files.written


def _records_csv(records: list[tuple]) -> str:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(nn.Record._fields)
    writer.writerows(records)
    return text.getvalue()


def _number(kind: type, minimum: float, text: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= minimum or (kind is float and not math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be at least {minimum:g}, got {text}")
    return value


def add_digits_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``digits`` command's options (the CLI adds the subcommand, this its options)."""
    default = DigitsConfig()
    parser.add_argument(
        "--seed", type=partial(_number, int, 0), default=0, help="random seed (default 0)"
    )
    parser.add_argument(
        "--epochs", type=partial(_number, int, 1), help=f"epochs (default {default.epochs})"
    )
    parser.add_argument(
        "--batch-size",
        type=partial(_number, int, 1),
        help=f"examples a batch (default {default.batch_size})",
    )
    parser.add_argument(
        "--lr",
        type=partial(_number, float, 1e-12),
        help=f"Adam's learning rate (default {default.learning_rate:g})",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help=f"the test suite's smaller network ({FAST.channels[0]} and {FAST.channels[1]} "
        f"channels, {FAST.epochs} epochs)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write the report and plots here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-plots", action="store_true", help="write no PNG plots")


def digits_command(args: argparse.Namespace, prepare_out: Any) -> int:
    """Run ``tinygrad-lab digits``; ``prepare_out(path)`` checks ``--out`` (or raises),
    called only once the data and matplotlib are known to load, before any training."""
    config = FAST if args.fast else DigitsConfig()
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr}
    config = replace(
        config, seed=args.seed, **{k: v for k, v in overrides.items() if v is not None}
    )
    data = load_data()  # an ImportError naming the extra, before anything is written
    _check_batch_size(config, data)
    plots = args.out is not None and not args.no_plots
    if plots:
        _pyplot()
    out = prepare_out(args.out) if args.out is not None else None
    result = train_digits(config, data, progress=not (args.no_progress or args.json))
    if args.json:
        print(json.dumps(result.to_json(), allow_nan=False))
    else:
        print(markdown_report(result, plots=False))
    if out is not None:
        written = write_digits_outputs(out, result, plots=plots)
        if not args.json:
            print("\nwrote " + ", ".join(str(p) for p in written))
    return 0
