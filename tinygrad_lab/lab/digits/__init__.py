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

`data` (the split), `model` (`DigitsConfig`, the CNN), `train` (`train_digits` → `DigitsResult`),
`report` (report.md and the files: `write_digits_outputs`), `plots`, `command`. Their public
names are importable from here too.
"""

from tinygrad_lab.lab.digits.data import (
    CLASSES,
    EXTRA_HINT,
    SPLIT_SEED,
    TEST_SIZE,
    DigitsData,
    load_data,
)
from tinygrad_lab.lab.digits.model import FAST, DigitsConfig, Generators, build_model, generators
from tinygrad_lab.lab.digits.plots import (
    PLOTS,
    plot_confusion,
    plot_curves,
    plot_grad_norms,
    plot_misclassified,
)
from tinygrad_lab.lab.digits.report import markdown_report, write_digits_outputs
from tinygrad_lab.lab.digits.train import (
    TARGET_ACCURACY,
    DigitsResult,
    EpochResult,
    evaluate,
    train_digits,
    train_epoch,
)

__all__ = [
    "CLASSES", "EXTRA_HINT", "FAST", "PLOTS", "SPLIT_SEED", "TARGET_ACCURACY", "TEST_SIZE",
    "DigitsConfig", "DigitsData", "DigitsResult", "EpochResult", "Generators", "build_model",
    "evaluate", "generators", "load_data", "markdown_report", "plot_confusion", "plot_curves",
    "plot_grad_norms", "plot_misclassified", "train_digits", "train_epoch",
    "write_digits_outputs",
]  # fmt: skip
