"""DataLoader: every example once an epoch, in batches of the asked size; the shuffled order is
the same on every run with the same seed; bad arguments are errors naming them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Tensor
from tinygrad_lab.data import DataLoader


@given(
    n=st.integers(1, 40),
    batch_size=st.integers(1, 12),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_an_epoch_yields_every_example_once_in_batches(n, batch_size, shuffle, drop_last, seed):
    X, y = np.arange(n * 2.0).reshape(n, 2), np.arange(n)
    loader = DataLoader(
        X, y, batch_size=batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last
    )
    batches = list(loader)
    assert len(batches) == len(loader)
    sizes = [len(yb) for _, yb in batches]
    full, rest = divmod(n, batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest and not drop_last else [])
    seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], int)
    for xb, yb in batches:  # X and y stay paired
        np.testing.assert_array_equal(xb, X[yb])
    if drop_last:
        assert len(set(seen)) == len(seen) == full * batch_size
    else:
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(len(seen)))


def test_the_same_seed_gives_the_same_orders_and_each_epoch_a_new_one():
    y = np.arange(100)
    a = DataLoader(y, batch_size=100, shuffle=True, seed=3)
    b = DataLoader(y, batch_size=100, shuffle=True, seed=np.random.default_rng(3))
    epochs_a = [next(iter(a))[0] for _ in range(3)]
    epochs_b = [next(iter(b))[0] for _ in range(3)]
    for order_a, order_b in zip(epochs_a, epochs_b, strict=True):
        np.testing.assert_array_equal(order_a, order_b)
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    np.testing.assert_array_equal(epochs_a[0], np.random.default_rng(3).permutation(100))


def test_tensors_are_taken_as_their_arrays():
    (xb,) = next(iter(DataLoader(Tensor(np.arange(4.0)), batch_size=2)))
    np.testing.assert_array_equal(xb, [0.0, 1.0])


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "8"])
def test_batch_size_that_is_not_a_positive_whole_number_is_an_error(batch_size):
    with pytest.raises(ValueError, match=r"DataLoader: batch_size must be a positive whole number"):
        DataLoader(np.arange(4), batch_size=batch_size)


def test_arrays_of_different_lengths_are_an_error_naming_the_shapes():
    with pytest.raises(ValueError, match=r"same length .* shapes \[\(4, 2\), \(3,\)\]"):
        DataLoader(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="at least one array"):
        DataLoader()


def test_shuffling_without_a_seed_is_an_error():
    with pytest.raises(ValueError, match="shuffle=True needs seed="):
        DataLoader(np.arange(4), shuffle=True)
