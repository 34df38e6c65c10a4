"""The digits run's report (Markdown) and files: report.md, results.json, gradients.csv, model.npz
and the plots."""

from __future__ import annotations

import csv
import io
import json
from functools import partial
from pathlib import Path
from typing import Any

from tinygrad_lab import nn, serialization
from tinygrad_lab.display import markdown_table
from tinygrad_lab.lab.digits.data import CLASSES, SPLIT_SEED, TEST_SIZE
from tinygrad_lab.lab.digits.plots import (
    PLOTS,
    plot_confusion,
    plot_curves,
    plot_grad_norms,
    plot_misclassified,
)
from tinygrad_lab.lab.digits.train import TARGET_ACCURACY, DigitsResult, percent
from tinygrad_lab.lab.output.files import OutputFiles
from tinygrad_lab.lab.output.tables import fmt
from tinygrad_lab.lab.stress.analysis import EXPLODING_GRI, VANISHING_GRI


def _fmt(value: Any) -> str:
    return fmt(value, 4)


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
        f"**Test accuracy: {percent(result.test_accuracy)}** ({met} the {target:.0%} target), "
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
        [e.epoch, e.train_loss, percent(e.train_accuracy), e.test_loss]
        + [percent(e.test_accuracy), f"{e.seconds:.2f}"]
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
