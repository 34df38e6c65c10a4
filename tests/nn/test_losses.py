"""The losses PyTorch users reach for (L1, Huber, SmoothL1, BCE, BCE with logits, NLL, and
cross-entropy's weight and ignore_index): values against each published formula written here in
NumPy, gradients against central finite differences, for random shapes, values and every
reduction; each layer is its functional form; bad calls are errors naming the function."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import check

import tinygrad_lab.nn.functional as F
from tinygrad_lab import Tensor, gradgradcheck, nn, ops

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}


def differences(rng, shape, kinks=()):
    """``(input, target)`` whose difference stays at least 0.05 away from each kink (and
    from 0, where |d| bends), so that central differences see one smooth piece."""
    target = rng.normal(size=shape)
    d = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.05, 3.0, shape)
    for kink in kinks:
        near = np.abs(np.abs(d) - kink) < 0.05
        d = np.where(near, d + 0.1 * np.sign(d), d)
    return np.asarray(target + d), target  # (0-d arrays, not NumPy scalars)


# ------------------------------------------------------------------------- regression losses
@pytest.mark.parametrize("reduction", REDUCE)
@given(shape=shapes, seed=seeds)
def test_l1_loss_is_the_absolute_error_and_its_gradient_the_sign(reduction, shape, seed):
    x, y = differences(np.random.default_rng(seed), shape)
    check(
        lambda a, b: F.l1_loss(a, b, reduction=reduction),
        lambda a, b: REDUCE[reduction](np.abs(a - b)),
        x,
        y,
        seed=seed,
    )


def huber(d, delta):
    """PyTorch's HuberLoss, as its documentation writes it."""
    return np.where(np.abs(d) < delta, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))


def smooth_l1(d, beta):
    """PyTorch's SmoothL1Loss, as its documentation writes it (beta = 0: the L1 loss)."""
    if beta == 0:
        return np.abs(d)
    return np.where(np.abs(d) < beta, 0.5 * d**2 / beta, np.abs(d) - 0.5 * beta)


@pytest.mark.parametrize("reduction", REDUCE)
@given(shape=shapes, seed=seeds, delta=st.floats(0.2, 3.0))
def test_huber_loss_matches_its_formula_and_finite_differences(reduction, shape, seed, delta):
    x, y = differences(np.random.default_rng(seed), shape, kinks=[delta])
    check(
        lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=delta),
        lambda a, b: REDUCE[reduction](huber(a - b, delta)),
        x,
        y,
        seed=seed,
    )
    layer = nn.HuberLoss(reduction, delta)  # PyTorch's positional order: reduction, delta
    np.testing.assert_array_equal(
        layer(x, y).data, F.huber_loss(x, y, reduction=reduction, delta=delta).data
    )


@pytest.mark.parametrize("reduction", REDUCE)
@given(shape=shapes, seed=seeds, beta=st.one_of(st.just(0.0), st.floats(0.2, 3.0)))
def test_smooth_l1_loss_matches_its_formula_and_finite_differences(reduction, shape, seed, beta):
    x, y = differences(np.random.default_rng(seed), shape, kinks=[beta])
    check(
        lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
        lambda a, b: REDUCE[reduction](smooth_l1(a - b, beta)),
        x,
        y,
        seed=seed,
    )


@given(seed=seeds, beta=st.floats(0.2, 3.0))
def test_smooth_l1_is_huber_divided_by_beta(seed, beta):
    x, y = differences(np.random.default_rng(seed), (5,), kinks=[beta])
    smooth = F.smooth_l1_loss(x, y, reduction="none", beta=beta).data
    np.testing.assert_allclose(smooth, F.huber_loss(x, y, "none", beta).data / beta, rtol=1e-12)


# ------------------------------------------------------------------------- binary cross-entropy
def bce(x, y, w=1.0):
    """-w·(y·log x + (1 - y)·log(1 - x)), each log clamped at -100 as PyTorch documents."""
    with np.errstate(divide="ignore"):
        return -w * (y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def bce_with_logits(x, y, w=1.0, p=1.0):
    """PyTorch's documented formula, -w·(p·y·log σ(x) + (1 - y)·log(1 - σ(x))), computed the
    plain (unstable) way: the test keeps the logits moderate."""
    return -w * (p * y * np.log(sigmoid(x)) + (1 - y) * np.log(1 - sigmoid(x)))


def weight_shape(draw_from, shape):
    """A weight shape that broadcasts to ``shape``: a suffix of it, some sides set to 1."""
    suffix = shape[len(shape) - draw_from.integers(0, len(shape) + 1) :]
    return tuple(1 if draw_from.random() < 0.3 else n for n in suffix)


@pytest.mark.parametrize("reduction", REDUCE)
@given(shape=shapes, seed=seeds, weighted=st.booleans())
def test_bce_matches_its_formula_and_finite_differences(reduction, shape, seed, weighted):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)  # soft targets too
    w = rng.uniform(0.1, 2.0, weight_shape(rng, shape)) if weighted else None
    check(
        lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction),
        lambda a, b: REDUCE[reduction](bce(a, b, 1.0 if w is None else w)),
        x,
        y,
        seed=seed,
    )
    layer = nn.BCELoss(w, reduction=reduction)
    np.testing.assert_array_equal(
        layer(x, y).data, F.binary_cross_entropy(x, y, w, reduction=reduction).data
    )


def test_bce_clamps_each_log_at_minus_100_and_keeps_the_gradient_finite():
    x = Tensor(np.array([0.0, 1.0, 0.0, 1.0, 1e-50]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0, 0.0, 100.0])
    loss.backward(np.ones(5))
    # PyTorch's backward: (x - y) / max(x(1 - x), 1e-12), finite at 0 and 1
    expected = (x.data - y) / np.maximum(x.data * (1 - x.data), 1e-12)
    np.testing.assert_array_equal(x.grad, expected)
    assert np.isfinite(x.grad).all()


@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan])
def test_bce_of_values_outside_0_1_is_an_error_pointing_at_the_logits_form(bad):
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*with_logits"):
        F.binary_cross_entropy(np.array([0.5, bad]), np.array([1.0, 0.0]))


@pytest.mark.parametrize("reduction", REDUCE)
@given(shape=shapes, seed=seeds, weighted=st.booleans(), positive=st.booleans())
def test_bce_with_logits_matches_its_formula_and_finite_differences(
    reduction, shape, seed, weighted, positive
):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-4, 4, shape), rng.uniform(0, 1, shape)
    w = rng.uniform(0.1, 2.0, weight_shape(rng, shape)) if weighted else None
    classes = shape[-1:] if shape else ()
    p = rng.uniform(0.2, 5.0, classes) if positive else None  # one per class, the last axis
    check(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction=reduction, pos_weight=p),
        lambda a, b: REDUCE[reduction](
            bce_with_logits(a, b, 1.0 if w is None else w, 1.0 if p is None else p)
        ),
        x,
        y,
        seed=seed,
    )
    layer = nn.BCEWithLogitsLoss(w, reduction=reduction, pos_weight=p)
    np.testing.assert_array_equal(
        layer(x, y).data,
        F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=p).data,
    )


@given(seed=seeds)
def test_bce_with_logits_is_bce_of_the_sigmoid(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-4, 4, (3, 2)), rng.uniform(0, 1, (3, 2))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(x, y).item(),
        F.binary_cross_entropy(sigmoid(x), y).item(),
        rtol=1e-12,
    )


def test_bce_with_logits_is_finite_and_exact_for_huge_logits():
    x = Tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0]), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=np.array(3.0))
    np.testing.assert_array_equal(loss.data, [1000.0, 3000.0, 0.0, 0.0])
    loss.backward(np.ones(4))
    # dl/dx = (1 - y)·σ(x) - p·y·(1 - σ(x)): 1, -3, 0, 0 at these limits
    np.testing.assert_array_equal(x.grad, [1.0, -3.0, 0.0, 0.0])


# ------------------------------------------------------------------------- NLL and cross-entropy
@st.composite
def class_cases(draw):
    """(input shape, target shape, classes): (N, C), (N, C, d1[, d2]) or (C,)."""
    classes = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["NC", "NCd", "C"]))
    if kind == "C":
        return (classes,), (), classes
    batch = draw(st.integers(1, 4))
    extra = (
        tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))) if kind == "NCd" else ()
    )
    return (batch, classes, *extra), (batch, *extra), classes


def nll_loop(log_probs, target, weight, ignore_index, reduction):
    """NLL one target at a time: -weight[t]·log_probs[n, t, ...], the ignored ones left out of
    the losses (0) and of the mean's divisor (the sum of the weights counted)."""
    scores = log_probs[None] if log_probs.ndim == 1 else log_probs
    targets = target[None] if target.ndim == 0 else target
    losses = np.zeros(targets.shape)
    divisor = 0.0
    for index in np.ndindex(targets.shape):
        t = int(targets[index])
        if t == ignore_index:
            continue
        w = 1.0 if weight is None else weight[t]
        losses[index] = -w * scores[(index[0], t, *index[1:])]
        divisor += w
    if reduction == "none":
        return losses.reshape(target.shape)
    return losses.sum() / divisor if reduction == "mean" else losses.sum()


def class_targets(rng, target_shape, classes, ignore_index, ignore):
    target = rng.integers(0, classes, target_shape).astype(np.float64)
    if ignore:
        skipped = rng.random(target_shape) < 0.3
        if not target.ndim or skipped.all():  # the mean needs one target that counts
            skipped = np.zeros(target_shape, bool)
        target = np.where(skipped, ignore_index, target)
    return target


@pytest.mark.parametrize("reduction", REDUCE)
@given(
    case=class_cases(),
    seed=seeds,
    weighted=st.booleans(),
    ignore=st.booleans(),
    ignore_index=st.sampled_from([-100, 0, 2]),
)
def test_nll_loss_matches_a_loop_and_finite_differences(
    reduction, case, seed, weighted, ignore, ignore_index
):
    input_shape, target_shape, classes = case
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=input_shape)
    if ignore_index >= 0:  # a class index as ignore_index: its targets are the ignored ones
        ignore = False
    target = class_targets(rng, target_shape, classes, ignore_index, ignore)
    if reduction == "mean" and np.all(target == ignore_index):
        target = np.full(target_shape, (ignore_index + 1) % classes, dtype=np.float64)
        if np.all(target == ignore_index):
            return  # one class, and it is ignored: no mean (tested below)
    weight = rng.uniform(0.1, 2.0, classes) if weighted else None
    check(
        lambda s: F.nll_loss(s, target, weight, ignore_index=ignore_index, reduction=reduction),
        lambda s: nll_loop(s, target, weight, ignore_index, reduction),
        scores,
        seed=seed,
    )
    layer = nn.NLLLoss(weight, ignore_index=ignore_index, reduction=reduction)
    np.testing.assert_array_equal(
        layer(scores, target).data,
        F.nll_loss(scores, target, weight, ignore_index=ignore_index, reduction=reduction).data,
    )


def log_softmax(z, axis):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("reduction", REDUCE)
@given(case=class_cases(), seed=seeds, weighted=st.booleans(), ignore=st.booleans())
def test_cross_entropy_is_nll_of_the_log_softmax_over_classes(
    reduction, case, seed, weighted, ignore
):
    input_shape, target_shape, classes = case
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=input_shape) * 3
    target = class_targets(rng, target_shape, classes, -100, ignore)
    weight = rng.uniform(0.1, 2.0, classes) if weighted else None
    axis = 1 if len(input_shape) >= 2 else 0
    check(
        lambda z: F.cross_entropy(z, target, weight, reduction=reduction),
        lambda z: nll_loop(log_softmax(z, axis), target, weight, -100, reduction),
        logits,
        seed=seed,
    )
    layer = nn.CrossEntropyLoss(weight, reduction=reduction)
    np.testing.assert_array_equal(
        layer(logits, target).data,
        F.cross_entropy(logits, target, weight, reduction=reduction).data,
    )


def regression_inputs(name, rng, shape):
    """``(input, target, weight)`` inside each loss's domain, away from its kinks."""
    if name == "bce":
        return rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape), rng.uniform(0.1, 2, shape)
    if name == "bce_with_logits":
        return rng.normal(size=shape), rng.uniform(0, 1, shape), rng.uniform(0.1, 2, shape)
    return (*differences(rng, shape, kinks=(0.7,)), None)


REGRESSION_LOSSES = {  # each differentiable in its input and its target
    "mse": lambda a, b, w, r: F.mse_loss(a, b, reduction=r),
    "l1": lambda a, b, w, r: F.l1_loss(a, b, reduction=r),
    "huber": lambda a, b, w, r: F.huber_loss(a, b, reduction=r, delta=0.7),
    "smooth_l1": lambda a, b, w, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.7),
    "bce": lambda a, b, w, r: F.binary_cross_entropy(a, b, w, reduction=r),
    "bce_with_logits": lambda a, b, w, r: F.binary_cross_entropy_with_logits(
        a, b, w, reduction=r, pos_weight=w
    ),
}


@pytest.mark.parametrize("name", REGRESSION_LOSSES)
@pytest.mark.parametrize("reduction", REDUCE)
@given(shape=shapes, seed=seeds)
def test_regression_losses_are_twice_differentiable_in_input_target_and_cotangent(
    name, reduction, shape, seed
):
    """`gradgradcheck`: the first derivative against finite differences in the input, the
    target and the cotangent (which `check`'s constant cotangent does not vary)."""
    x, y, w = regression_inputs(name, np.random.default_rng(seed), shape)
    a, b = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    loss = REGRESSION_LOSSES[name]
    assert gradgradcheck(lambda a, b: loss(a, b, w, reduction), [a, b], seed=seed)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds)
def test_batched_mse_is_twice_differentiable_in_prediction_target_and_cotangent(shape, seed):
    x, y = differences(np.random.default_rng(seed), shape)
    a, b = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    assert gradgradcheck(lambda a, b: ops.MSE.apply(a, b, batched=True), [a, b], seed=seed)


@pytest.mark.parametrize("reduction", REDUCE)
@given(case=class_cases(), seed=seeds, weighted=st.booleans())
def test_class_losses_are_twice_differentiable_in_scores_and_cotangent(
    reduction, case, seed, weighted
):
    """NLL (linear in its scores: only the cotangent varies its gradient) and cross-entropy,
    the fused node for (N, C) logits with a mean, through the log-softmax otherwise."""
    input_shape, target_shape, classes = case
    rng = np.random.default_rng(seed)
    target = class_targets(rng, target_shape, classes, -100, False)
    weight = rng.uniform(0.1, 2.0, classes) if weighted else None
    scores = Tensor(rng.normal(size=input_shape), requires_grad=True)
    for loss in (F.nll_loss, F.cross_entropy):
        fn = lambda z, loss=loss: loss(z, target, weight, reduction=reduction)  # noqa: E731
        assert gradgradcheck(fn, [scores], seed=seed)


def test_a_mean_over_no_counted_target_is_an_error_not_nan():
    scores = np.zeros((2, 3))
    with pytest.raises(ValueError, match="nll_loss|NLL: no target counts"):
        F.nll_loss(scores, [-100, -100])
    with pytest.raises(ValueError, match="NLL: no target counts"):
        F.nll_loss(scores, [0, 0], np.array([0.0, 1.0, 1.0]))  # class 0 weighs nothing
    assert F.nll_loss(scores, [-100, -100], reduction="sum").item() == 0.0  # a sum of none is 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.nll_loss(np.zeros((2, 3)), [0, 3]), r"nll_loss: target 3 at position 1 is not"),
        (lambda: F.nll_loss(np.zeros((2, 3)), [0, -1]), r"nll_loss: target -1 at position 1"),
        (lambda: F.nll_loss(np.zeros((2, 3)), [0.5, 1]), r"nll_loss: target 0.5 at position 0"),
        (lambda: F.nll_loss(np.zeros((2, 3)), [0, 1, 2]), r"nll_loss: input must be \(N, C\)"),
        (
            lambda: F.cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 4, 1))),
            r"cross_entropy: input must be \(N, C\) and target \(N,\).*got \(2, 3, 4\)",
        ),
        (lambda: F.nll_loss(np.zeros((2, 3)), [0, 1], np.ones(2)), r"NLL: weight must be \(3,\)"),
        (lambda: F.l1_loss(np.zeros(3), np.zeros((3, 1))), r"L1: input shape \(3,\) and target"),
        (lambda: F.huber_loss(np.zeros(3), np.zeros((1, 3))), r"Huber: input shape \(3,\)"),
        (lambda: F.smooth_l1_loss(np.zeros(2), np.zeros(3)), r"SmoothL1: input shape \(2,\)"),
        (
            lambda: F.binary_cross_entropy(np.full(3, 0.5), np.ones((3, 1))),
            r"BinaryCrossEntropy: input shape \(3,\) and target shape \(3, 1\) differ",
        ),
        (lambda: F.huber_loss(np.zeros(3), np.zeros(3), delta=0.0), "Huber: delta must be pos"),
        (lambda: F.smooth_l1_loss(np.zeros(3), np.zeros(3), beta=-1.0), "beta must be >= 0"),
        (lambda: F.l1_loss(np.zeros(0), np.zeros(0)), "empty input: the mean of no losses"),
        (lambda: F.l1_loss(np.zeros(2), np.zeros(2), reduction="avg"), "reduction must be one"),
        (
            lambda: F.binary_cross_entropy(np.full(3, 0.5), np.ones(3), np.ones(2)),
            r"weight of shape \(2,\) does not broadcast to \(3,\)",
        ),
        (
            lambda: F.binary_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros((2, 2))),
            r"input shape \(2, 3\) and target shape \(2, 2\) differ",
        ),
        (lambda: nn.L1Loss(reduction="avg"), "L1Loss: reduction must be one of"),
        (lambda: nn.HuberLoss(delta=-1.0), "HuberLoss: delta must be positive"),
    ],
)
def test_bad_calls_are_errors_naming_the_loss(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_loss_weights_that_require_grad_are_refused_not_left_without_gradient():
    weight = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match=r"nll_loss: weight requires grad.*weight.detach\(\)"):
        F.nll_loss(np.zeros((2, 3)), [0, 1], weight)
    with pytest.raises(TypeError, match="BCEWithLogitsLoss: pos_weight requires grad"):
        nn.BCEWithLogitsLoss(pos_weight=weight)


def test_options_after_the_inputs_are_keyword_only_where_pytorch_has_deprecated_ones_first():
    with pytest.raises(TypeError):
        nn.L1Loss("sum")  # PyTorch's first positional is size_average
    with pytest.raises(TypeError):
        F.l1_loss(np.zeros(2), np.zeros(2), "sum")
    with pytest.raises(TypeError):
        F.nll_loss(np.zeros((1, 2)), [0], None, 0)  # PyTorch's 4th is size_average
    assert nn.HuberLoss("sum", 2.0).delta == 2.0  # PyTorch's own order: reduction, delta


def test_cross_entropy_label_smoothing_is_refused_not_ignored():
    with pytest.raises(ValueError, match="label_smoothing=0.1 is not supported yet"):
        F.cross_entropy(np.zeros((2, 3)), [0, 1], label_smoothing=0.1)
    with pytest.raises(ValueError, match="label_smoothing=0.1 is not supported yet"):
        nn.CrossEntropyLoss(label_smoothing=0.1)


def test_cross_entropy_with_class_probability_targets_is_refused_not_misread():
    with pytest.raises(ValueError, match=r"cross_entropy: input must be \(N, C\)"):
        F.cross_entropy(np.zeros((2, 3)), np.full((2, 3), 1 / 3))


def test_cross_entropy_ignores_targets_of_minus_100_by_default_as_pytorch():
    logits = np.random.default_rng(3).normal(size=(3, 4))
    loss = F.cross_entropy(logits, [1, -100, 2]).item()
    expected = -(log_softmax(logits, 1)[0, 1] + log_softmax(logits, 1)[2, 2]) / 2
    np.testing.assert_allclose(loss, expected, rtol=1e-12)


def test_loss_weights_are_buffers_in_the_state_dict_as_in_pytorch():
    layer = nn.CrossEntropyLoss(np.array([1.0, 2.0]))
    assert list(layer.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=np.ones(2)).state_dict()) == ["pos_weight"]
    assert list(nn.L1Loss().state_dict()) == []
    assert list(layer.parameters()) == []


@pytest.mark.parametrize(
    "loss",
    [
        lambda a, b: F.l1_loss(a, b),
        lambda a, b: F.huber_loss(a, b),
        lambda a, b: F.smooth_l1_loss(a, b, reduction="none"),
        lambda a, b: F.binary_cross_entropy(F.sigmoid(a), b.detach().sigmoid(), np.ones(3)),
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=np.ones(3)),
        lambda a, b: F.nll_loss(a, np.array([0, 2])),
        lambda a, b: F.cross_entropy(a, np.array([0, -100]), np.ones(3)),
    ],
)
def test_float32_stays_float32_in_value_and_gradient(loss):
    rng = np.random.default_rng(4)
    a = Tensor(rng.normal(size=(2, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(rng.uniform(size=(2, 3)).astype(np.float32), requires_grad=True)
    out = loss(a, b)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert a.grad.dtype == np.float32
