"""The digits: scikit-learn's ``load_digits``, split once (stratified, 25% test, seed 0)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXTRA_HINT = "pip install -e '.[digits]' (or pip install 'tinygrad_lab[digits]')"
SPLIT_SEED, TEST_SIZE = 0, 0.25  # the fixed split of the issue: stratified, 25% test, seed 0
CLASSES = 10


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
