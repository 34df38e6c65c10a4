"""`DataLoader`: mini-batches over ndarrays, in order or shuffled from an explicit seed.

    loader = DataLoader(X, y, batch_size=64, shuffle=True, seed=0)
    for xb, yb in loader:          # one epoch; the next `for` is the next epoch's order
        ...

Nothing more than that: no datasets, workers or collation. Each batch is a tuple of ndarrays
(copies, picked by index), one per array given, all cut along their first axis.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_lab.tensor import Tensor


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"DataLoader: {name} must be a positive whole number, got {value!r}")
    return int(value)


class DataLoader:
    """Iterate over ``arrays`` (ndarrays or Tensors, the same length along axis 0) in batches
    of ``batch_size``.

    With ``shuffle``, every epoch (every ``iter()``) draws a new order from one generator made
    from ``seed`` (an int or a ``np.random.Generator``): the sequence of epochs is the same on
    every run with the same seed. ``drop_last`` drops a last batch smaller than the others.
    """

    def __init__(
        self,
        *arrays: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        seed: int | np.random.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        if not arrays:
            raise ValueError("DataLoader: give at least one array")
        self.arrays = tuple(np.asarray(a.data if isinstance(a, Tensor) else a) for a in arrays)
        lengths = [len(a) if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = [a.shape for a in self.arrays]
            raise ValueError(
                f"DataLoader: every array needs the same length along axis 0, got shapes {shapes}"
            )
        self.batch_size = _positive_int("batch_size", batch_size)
        if shuffle and seed is None:
            raise ValueError(
                "DataLoader: shuffle=True needs seed= (an int or a np.random.Generator), "
                "so that the order is reproducible"
            )
        self.rng = np.random.default_rng(seed) if shuffle else None
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)

    def __len__(self) -> int:
        """Batches an epoch."""
        n = len(self.arrays[0])
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        n = len(self.arrays[0])
        order = self.rng.permutation(n) if self.rng is not None else np.arange(n)
        for batch in range(len(self)):
            index = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            yield tuple(a[index] for a in self.arrays)
