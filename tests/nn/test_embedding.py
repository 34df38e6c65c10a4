"""Embedding as PyTorch's: a lookup of weight rows for integer indices of any shape, whose
gradient sums the lookups of each row (against a one-hot matmul written in NumPy), with the
padding row starting at zero and getting no gradient; indices out of range are errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lab.nn.functional as F
from tinygrad_lab import Tensor, nn


@given(
    rows=st.integers(1, 6),
    dim=st.integers(1, 4),
    index_shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
    seed=st.integers(0, 2**32 - 1),
    padded=st.booleans(),
)
def test_embedding_looks_up_rows_and_sums_their_gradients(rows, dim, index_shape, seed, padded):
    rng = np.random.default_rng(seed)
    padding_idx = int(rng.integers(-rows, rows)) if padded else None
    layer = nn.Embedding(rows, dim, padding_idx, rng=rng)
    indices = rng.integers(0, rows, index_shape)
    out = layer(Tensor(indices.astype(np.float64)))
    assert out.shape == index_shape + (dim,)
    np.testing.assert_array_equal(out.data, layer.weight.data[indices])
    grad = rng.normal(size=out.shape)
    out.backward(grad)
    # d(out)/d(weight) as a one-hot matrix: row r gets the sum of the gradients of its lookups
    one_hot = (indices.reshape(-1, 1) == np.arange(rows)).astype(float)
    if padding_idx is not None:
        one_hot[:, padding_idx % rows] = 0  # the padding row's lookups pass no gradient
    np.testing.assert_allclose(layer.weight.grad, one_hot.T @ grad.reshape(-1, dim), rtol=1e-12)


def test_the_padding_row_starts_at_zero_and_a_negative_index_counts_from_the_end():
    layer = nn.Embedding(5, 3, padding_idx=-1, rng=0)
    assert layer.padding_idx == 4
    np.testing.assert_array_equal(layer.weight.data[4], np.zeros(3))
    assert np.all(layer.weight.data[:4] != 0)
    layer.weight.data[4] = 7.0  # a changed padding row is looked up as it is, as in PyTorch
    out = layer([4, 0])
    np.testing.assert_array_equal(out.data[0], [7.0, 7.0, 7.0])
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad[4], np.zeros(3))
    np.testing.assert_array_equal(layer.weight.grad[0], np.ones(3))


def test_weights_are_drawn_from_the_generator_as_pytorchs_normal():
    a = nn.Embedding(400, 50, rng=np.random.default_rng(1)).weight.data
    b = nn.Embedding(400, 50, rng=np.random.default_rng(1)).weight.data
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean()) < 0.02 and abs(a.std() - 1) < 0.02  # N(0, 1)


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        ([0, 5], IndexError, "embedding: index 5 is out of range for 5 embeddings"),
        ([-1], IndexError, "index -1 is out of range"),  # not NumPy's count from the end
        ([0.5], TypeError, "indices must be whole numbers"),
        ([True], TypeError, "indices must be whole numbers"),
    ],
)
def test_bad_indices_are_errors(indices, error, message):
    with pytest.raises(error, match=message):
        nn.Embedding(5, 2, rng=0)(indices)


def test_bad_settings_are_errors_and_unsupported_options_are_refused():
    with pytest.raises(ValueError, match="padding_idx 5 is out of range for 5 embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer"):
        nn.Embedding(5, 0)
    with pytest.raises(ValueError, match="max_norm=1.0 is not supported yet"):
        F.embedding([0], np.ones((2, 2)), max_norm=1.0)
    with pytest.raises(ValueError, match=r"weight must be \(num_embeddings, dim\)"):
        F.embedding([0], np.ones(2))
