"""BatchNorm's ``num_batches_tracked`` and ``momentum=None`` as PyTorch's: the count of
training batches is a buffer (saved and loaded), and with no momentum the running statistics are
the plain average of every batch's (mean, unbiased variance), step by step against that formula
written here; ``affine=False`` and ``track_running_stats=False`` as PyTorch's."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn, no_grad

seeds = st.integers(0, 2**32 - 1)


@given(
    seed=seeds,
    channels=st.integers(1, 3),
    batches=st.lists(st.integers(2, 5), min_size=1, max_size=5),
    two_d=st.booleans(),
)
def test_momentum_none_keeps_the_cumulative_average_of_the_batch_statistics(
    seed, channels, batches, two_d
):
    rng = np.random.default_rng(seed)
    layer = (nn.BatchNorm2d if two_d else nn.BatchNorm1d)(channels, momentum=None)
    means, variances = [], []
    for step, size in enumerate(batches, start=1):
        shape = (size, channels, 2, 3) if two_d else (size, channels)
        x = rng.normal(size=shape) * rng.uniform(0.5, 3) + rng.uniform(-2, 2)
        layer(Tensor(x))
        values = np.moveaxis(x, 1, 0).reshape(channels, -1)
        means.append(values.mean(axis=1))
        variances.append(values.var(axis=1, ddof=1))
        assert layer.num_batches_tracked == step
        # the plain average of every batch so far: the initial (0, 1) counts for nothing
        np.testing.assert_allclose(layer.running_mean, np.mean(means, axis=0), rtol=1e-10)
        np.testing.assert_allclose(layer.running_var, np.mean(variances, axis=0), rtol=1e-10)


def test_num_batches_tracked_counts_training_batches_only_and_is_saved():
    layer = nn.BatchNorm1d(2)
    assert layer.num_batches_tracked.dtype == np.int64 and layer.num_batches_tracked.shape == ()
    x = Tensor(np.random.default_rng(0).normal(size=(4, 2)))
    layer(x)
    with no_grad():  # still training: counted, as the statistics move
        layer(x)
    layer.eval()
    layer(x)
    assert layer.num_batches_tracked == 2
    with pytest.raises(ValueError, match="expects input"):
        layer.train()(np.ones((4, 3)))
    assert layer.num_batches_tracked == 2  # a batch that failed is not counted
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    copy = nn.BatchNorm1d(2)
    copy.load_state_dict(state)
    assert copy.num_batches_tracked == 2
    copy.reset_running_stats()
    assert copy.num_batches_tracked == 0
    np.testing.assert_array_equal(copy.running_var, np.ones(2))


def test_a_state_dict_without_num_batches_tracked_loads_only_without_strict():
    older = {k: v for k, v in nn.BatchNorm1d(2).state_dict().items() if "tracked" not in k}
    with pytest.raises(KeyError, match=r"missing keys \['num_batches_tracked'\]"):
        nn.BatchNorm1d(2).load_state_dict(older)
    assert nn.BatchNorm1d(2).load_state_dict(older, strict=False).missing_keys == [
        "num_batches_tracked"
    ]


def test_affine_false_has_no_parameters_and_normalises_alone():
    layer = nn.BatchNorm1d(3, affine=False)
    assert list(layer.parameters()) == [] and layer.weight is None
    x = np.random.default_rng(1).normal(size=(6, 3)) * 4 + 2
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + layer.eps)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12)
    assert list(layer.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]


def test_without_running_statistics_evaluation_uses_the_batch_statistics():
    layer = nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert layer.running_mean is None and list(layer.state_dict()) == ["weight", "bias"]
    x = np.random.default_rng(2).normal(size=(6, 3)) * 4 + 2
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + layer.eps)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12)


def test_momentum_none_is_shown_and_a_bad_momentum_refused():
    assert "momentum=None" in repr(nn.BatchNorm1d(2, momentum=None))
    with pytest.raises(ValueError, match=r"0 <= momentum <= 1 \(or None\)"):
        nn.BatchNorm1d(2, momentum=-0.1)
