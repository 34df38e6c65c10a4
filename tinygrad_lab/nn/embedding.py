"""`Embedding`: a table of learned vectors, one row per index, looked up by indexing the weight
(``weight[indices]``), so the gradient of each row is the sum of those of its lookups."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab.nn import functional as F
from tinygrad_lab.nn import init as nn_init
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.tensor import Tensor


class Embedding(Module):
    """``Embedding(num_embeddings, embedding_dim)``: integer indices of any shape (...) give
    vectors (..., embedding_dim), rows of ``weight`` (num_embeddings, embedding_dim), drawn
    from N(0, 1) (PyTorch's default) by ``rng``. The row ``padding_idx`` starts at zero and
    gets no gradient, as in PyTorch."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {value!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = F._padding_index("Embedding", padding_idx, self.num_embeddings)
        self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim)), dtype=dtype)
        nn_init.normal()(self.weight, nn_init.generator(rng))
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0  # (a new weight: no graph has used it yet)

    def forward(self, input: Any) -> Tensor:  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
