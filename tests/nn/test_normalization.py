"""BatchNorm1d and BatchNorm2d against a plain per-channel loop and central finite differences
(float64), in training and evaluation; running statistics, train()/eval(), float32, and errors
that leave the running statistics as they were."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lab.nn.functional as F
from tinygrad_lab import Tensor, gradcheck, gradgradcheck, nn, no_grad, ops

seeds = st.integers(0, 2**32 - 1)


def loop_batch_norm(x, weight, bias, eps, mean=None, var=None):
    """Each channel on its own: ``(x - μ) / √(σ² + ε) · γ + β``, with the batch's μ and biased
    σ² when none are given (written independently of the op)."""
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        values = x[:, c]
        mu = values.mean() if mean is None else mean[c]
        sigma2 = ((values - mu) ** 2).mean() if var is None else var[c]
        out[:, c] = (values - mu) / np.sqrt(sigma2 + eps) * weight[c] + bias[c]
    return out


@st.composite
def batch_norm_cases(draw):
    spatial = draw(st.sampled_from([(), (3,), (2, 2), (1, 3)]))
    channels = draw(st.integers(1, 3))
    return {
        "layer": nn.BatchNorm1d if len(spatial) < 2 else nn.BatchNorm2d,
        "shape": (draw(st.integers(2, 4)), channels, *spatial),
        "seed": draw(seeds),
    }


def make_layer(case, rng):
    layer = case["layer"](case["shape"][1])
    layer.weight.data = rng.uniform(0.5, 2.0, layer.weight.shape)
    layer.bias.data = rng.uniform(-1.0, 1.0, layer.bias.shape)
    return layer


@given(case=batch_norm_cases())
def test_batch_norm_in_training_matches_a_loop_and_finite_differences(case):
    rng = np.random.default_rng(case["seed"])
    layer = make_layer(case, rng)
    x = Tensor(rng.uniform(-2, 2, case["shape"]), requires_grad=True)
    expected = loop_batch_norm(x.data, layer.weight.data, layer.bias.data, layer.eps)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x, *params: layer(x), [x, layer.weight, layer.bias])
    assert gradgradcheck(lambda x, *params: layer(x), [x, layer.weight, layer.bias])


@given(case=batch_norm_cases())
def test_batch_norm_in_evaluation_uses_the_running_statistics_and_matches_differences(case):
    rng = np.random.default_rng(case["seed"])
    layer = make_layer(case, rng)
    layer.running_mean[...] = rng.uniform(-1, 1, layer.num_features)
    layer.running_var[...] = rng.uniform(0.5, 2, layer.num_features)
    layer.eval()
    x = Tensor(rng.uniform(-2, 2, case["shape"]), requires_grad=True)
    expected = loop_batch_norm(
        x.data, layer.weight.data, layer.bias.data, layer.eps, layer.running_mean, layer.running_var
    )
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x, *params: layer(x), [x, layer.weight, layer.bias])
    assert gradgradcheck(lambda x, *params: layer(x), [x, layer.weight, layer.bias])


@given(case=batch_norm_cases(), momentum=st.floats(0.0, 1.0))
def test_running_statistics_move_towards_the_batch_mean_and_unbiased_variance(case, momentum):
    rng = np.random.default_rng(case["seed"])
    layer = case["layer"](case["shape"][1], momentum=momentum)
    before_mean = rng.uniform(-1, 1, layer.num_features)
    before_var = rng.uniform(0.5, 2, layer.num_features)
    layer.running_mean[...], layer.running_var[...] = before_mean, before_var
    x = rng.uniform(-2, 2, case["shape"])
    layer(Tensor(x))
    for c in range(layer.num_features):
        values = x[:, c].ravel()
        np.testing.assert_allclose(
            layer.running_mean[c], (1 - momentum) * before_mean[c] + momentum * values.mean()
        )
        np.testing.assert_allclose(
            layer.running_var[c], (1 - momentum) * before_var[c] + momentum * values.var(ddof=1)
        )


def test_train_and_eval_switch_batch_norm_between_batch_and_running_statistics():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.BatchNorm1d(4))
    x = Tensor(rng.uniform(-2, 2, (8, 3)))
    trained = model(x).data  # training mode: normalised by this batch's statistics
    np.testing.assert_allclose(trained.mean(axis=0), 0, atol=1e-12)
    norm = model[1]
    running = norm.running_mean.copy(), norm.running_var.copy()
    model.eval()
    assert not norm.training
    evaluated = model(x).data
    np.testing.assert_array_equal(norm.running_mean, running[0])  # evaluation changes nothing
    np.testing.assert_array_equal(norm.running_var, running[1])
    expected = loop_batch_norm(
        model[0](x).data, norm.weight.data, norm.bias.data, norm.eps, *running
    )
    np.testing.assert_allclose(evaluated, expected, rtol=1e-12)
    assert not np.allclose(evaluated, trained)
    model.train()
    np.testing.assert_allclose(model(x).data, trained, rtol=1e-12)


def test_batch_norm_in_training_updates_running_statistics_under_no_grad_too():
    layer = nn.BatchNorm1d(2)
    with no_grad():
        layer(Tensor(np.array([[1.0, 2.0], [3.0, 6.0]])))
    np.testing.assert_allclose(layer.running_mean, [0.2, 0.4])


def test_batch_norm_keeps_float32_in_forward_backward_and_running_statistics():
    layer = nn.BatchNorm2d(3, dtype=np.float32)
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float32
    x = Tensor(np.random.default_rng(1).standard_normal((4, 3, 2, 2)).astype(np.float32), True)
    out = layer(x)
    assert out.dtype == np.float32
    assert all(a.dtype == np.float32 for a in out.grad_fn.saved_tensors)
    grads = ops.BatchNorm.backward(out.grad_fn, np.ones(out.shape, np.float32))
    assert [g.dtype for g in grads] == [np.float32] * 3  # the op's own, before the engine casts
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float32


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (nn.BatchNorm2d(3), (2, 4, 5, 5), r"BatchNorm2d\(3\) expects input \(N, 3, H, W\), got "),
        (nn.BatchNorm2d(3), (2, 3, 5), r"BatchNorm2d\(3\) expects input \(N, 3, H, W\)"),
        (nn.BatchNorm1d(4), (2, 3), r"BatchNorm1d\(4\) expects input \(N, 4\) or \(N, 4, L\)"),
        (nn.BatchNorm1d(3), (1, 3), "training needs more than one value per channel"),
    ],
)
def test_bad_input_is_an_error_naming_the_layer_and_changes_no_statistic(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(Tensor(np.ones(shape)))
    np.testing.assert_array_equal(layer.running_mean, np.zeros(layer.num_features))
    np.testing.assert_array_equal(layer.running_var, np.ones(layer.num_features))


def test_batch_norm_of_one_example_is_fine_in_evaluation():
    layer = nn.BatchNorm1d(3).eval()
    np.testing.assert_allclose(layer(Tensor(np.ones((1, 3)))).data, 1 / np.sqrt(1 + 1e-5))


def test_running_statistics_are_buffers_saved_and_loaded_but_not_parameters():
    layer = nn.BatchNorm2d(5)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    x = np.random.default_rng(0).standard_normal((4, 5, 3, 3))
    layer(x)  # training: the running statistics move
    copy = nn.BatchNorm2d(5)
    copy.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(copy.running_mean, layer.running_mean)
    np.testing.assert_array_equal(copy.running_var, layer.running_var)
    assert copy.running_mean is not layer.running_mean  # copied in place, not shared
    with pytest.raises(TypeError, match="running_mean is a buffer"):
        layer.running_mean = [0.0] * 5


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [({"num_features": 0}, "num_features"), ({"num_features": 2, "momentum": 2}, "momentum")],
)
def test_batch_norm_rejects_bad_hyperparameters(kwargs, named):
    with pytest.raises(ValueError, match=named):
        nn.BatchNorm1d(**kwargs)


# ------------------------------------------------------------------------- all or nothing
def read_only(array):
    array.flags.writeable = False
    return array


# How a running statistic of C channels can be unusable in training, and what the error says.
BAD_RUNNING = {
    "int": (lambda c: np.ones(c, dtype=np.int64), TypeError, "writeable float32 or float64"),
    "bool": (lambda c: np.ones(c, dtype=bool), TypeError, "writeable float32 or float64"),
    "read-only": (lambda c: read_only(np.ones(c)), TypeError, "got read-only"),
    "list": (lambda c: [1.0] * c, TypeError, "must be an ndarray"),
    "one too many": (lambda c: np.ones(c + 1), ValueError, r"must be \("),
}


@given(
    case=batch_norm_cases(),
    bad=st.sampled_from(["running_mean", "running_var"]),
    kind=st.sampled_from(list(BAD_RUNNING)),
    momentum=st.floats(0.01, 1.0),
)
def test_training_with_an_unusable_running_statistic_raises_and_moves_neither(
    case, bad, kind, momentum
):
    """Both statistics are checked before either is written: an integer running_var used to
    fail only after running_mean had moved."""
    rng = np.random.default_rng(case["seed"])
    channels = case["shape"][1]
    stats = {
        "running_mean": rng.uniform(-1, 1, channels),
        "running_var": rng.uniform(1, 2, channels),
    }
    make, error, message = BAD_RUNNING[kind]
    stats[bad] = make(channels)
    before = {name: np.array(stat) for name, stat in stats.items()}
    with pytest.raises(error, match=f"BatchNorm: .*{bad}.*{message}"):
        F.batch_norm(rng.normal(size=case["shape"]), **stats, training=True, momentum=momentum)
    for name, stat in stats.items():
        assert np.array(stat).tobytes() == before[name].tobytes(), name


def test_a_failure_after_the_statistics_are_computed_moves_neither():
    """The running statistics are written last, once nothing else can fail."""
    x = np.random.default_rng(0).normal(size=(4, 2))
    mean, var = np.zeros(2), np.ones(2)
    with pytest.raises(ValueError):
        F.batch_norm(x, mean, var, training=True, eps=np.full(3, 1e-5))  # eps (3,) vs C = 2
    np.testing.assert_array_equal(mean, np.zeros(2))
    np.testing.assert_array_equal(var, np.ones(2))


def test_running_statistics_sharing_memory_are_refused_in_training():
    x = np.random.default_rng(1).normal(size=(4, 2))
    both = np.ones(2)
    with pytest.raises(ValueError, match="running_mean and running_var share memory"):
        F.batch_norm(x, both, both, training=True)
    np.testing.assert_array_equal(both, np.ones(2))
    F.batch_norm(x, both, both)  # evaluation only reads them


@given(case=batch_norm_cases(), momentum=st.floats(0.0, 1.0), dtype=st.sampled_from(["f4", "f8"]))
def test_running_statistics_move_bit_for_bit_as_the_in_place_update(case, momentum, dtype):
    """Written last, the update is still ``r *= 1 - m; r += m·batch`` to the bit."""
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=case["shape"]).astype(dtype)
    mean = rng.uniform(-1, 1, case["shape"][1]).astype(dtype)
    var = rng.uniform(1, 2, case["shape"][1]).astype(dtype)
    axes = (0, *range(2, x.ndim))
    count = x.size // x.shape[1]
    want_mean, want_var = mean.copy(), var.copy()
    want_mean *= 1 - momentum
    want_mean += momentum * x.mean(axis=axes)
    want_var *= 1 - momentum
    want_var += (momentum * count / (count - 1)) * x.var(axis=axes)
    F.batch_norm(x, mean, var, training=True, momentum=momentum)
    assert mean.dtype == var.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(mean, want_mean)
    np.testing.assert_array_equal(var, want_var)


@pytest.mark.parametrize("which", ["weight", "bias"])
def test_a_weight_or_bias_of_the_wrong_shape_moves_neither_statistic(which):
    x = np.random.default_rng(2).normal(size=(4, 2))
    mean, var = np.zeros(2), np.ones(2)
    affine = {"weight": np.ones(2), "bias": np.zeros(2), which: np.ones(3)}
    with pytest.raises(ValueError, match=r"weight \(\d,\) and bias \(\d,\) both \(C,\)"):
        F.batch_norm(x, mean, var, **affine, training=True)
    np.testing.assert_array_equal(mean, np.zeros(2))
    np.testing.assert_array_equal(var, np.ones(2))
