"""The digits run's plots (matplotlib, the ``digits`` extra's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_lab.lab.digits.data import CLASSES, EXTRA_HINT
from tinygrad_lab.lab.digits.train import TARGET_ACCURACY, DigitsResult, percent
from tinygrad_lab.lab.output.plotting import pyplot, save_png
from tinygrad_lab.lab.stress.analysis import EXPLODING_GRI, VANISHING_GRI

PLOTS = {
    "curves.png": "loss and accuracy per epoch",
    "confusion.png": "confusion matrix of the test set",
    "misclassified.png": "the misclassified test digits",
    "grad_norms.png": "per-layer gradient norms over training",
}


def digits_pyplot() -> Any:
    """pyplot, or an ImportError naming the digits extra."""
    return pyplot("the digits plots", EXTRA_HINT)


def _save(plt: Any, fig: Any, target: Any) -> Any:
    return save_png(plt, fig, target, dpi=120)


def plot_curves(result: DigitsResult, path: Path) -> Path:
    """Loss and accuracy per epoch, training and test side by side."""
    plt = digits_pyplot()
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
        title=f"Accuracy (test: {percent(result.test_accuracy)} at the end)",
    )
    for ax in (loss_ax, acc_ax):
        ax.legend()
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    return _save(plt, fig, path)


def plot_confusion(result: DigitsResult, path: Path) -> Path:
    """The confusion matrix as a heat map, every cell's count written in it."""
    plt = digits_pyplot()
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
        title=f"Confusion matrix, test set ({percent(result.test_accuracy)} correct)",
    )
    return _save(plt, fig, path)


def plot_misclassified(result: DigitsResult, path: Path, limit: int = 32) -> Path:
    """The misclassified test images (up to ``limit``), each titled true → predicted."""
    plt = digits_pyplot()
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
    plt = digits_pyplot()
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
