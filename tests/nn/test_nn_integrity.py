"""nn under misuse: no lost parameter, no half-loaded state, no silently doubled step, and
errors that name what was wrong."""

import pickle

import numpy as np
import pytest

from tinygrad_lab import Function, Tensor, nn, optim


def model(seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU(), nn.Linear(4, 1, rng=rng))


def data(seed: int = 0) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    return Tensor(rng.standard_normal((6, 3))), Tensor(rng.standard_normal((6, 1)))


# ------------------------------------------------------------------------- load_state_dict
def test_load_state_dict_checks_every_value_before_writing_any():
    net = model()
    before = net.state_dict()
    state = net.state_dict()
    state["0.weight"] = np.zeros((3, 4))  # fine, and first
    state["2.bias"] = np.array(["a"])  # bad, and last
    with pytest.raises(TypeError, match="load_state_dict: 2.bias holds <U1 values"):
        net.load_state_dict(state)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_strict_false_skips_and_reports_missing_and_unexpected_keys():
    net = model()
    state = {"0.weight": np.ones((3, 4)), "extra": np.ones(2)}
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.bias", "2.weight", "2.bias"]
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net[0].weight.data, np.ones((3, 4)))
    with pytest.raises(KeyError, match="missing keys"):
        net.load_state_dict(state)


def test_load_state_dict_is_an_in_place_write_that_raises_versions():
    net = model()
    versions = [p.version for p in net.parameters()]
    net.load_state_dict(model(1).state_dict())
    assert [p.version for p in net.parameters()] == [v + 1 for v in versions]


# ------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_a_parameter_given_twice_is_an_error_naming_both_positions(make):
    p = nn.Parameter(np.ones(3))
    q = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match=r"parameter 2 \(shape \(3,\)\) is parameter 0 again"):
        make([p, q, p], lr=0.1)


def test_optimizer_steps_raise_each_parameters_version():
    net = model()
    X, y = data()
    opt = optim.SGD(net.parameters(), lr=0.1)
    nn.MSELoss()(net(X), y).backward()
    before = [p.version for p in net.parameters()]  # 1: initialisation is a write (PyTorch's too)
    opt.step()
    assert [p.version for p in net.parameters()] == [v + 1 for v in before]


# ------------------------------------------------------------------------- Sequential
def test_insert_beyond_the_end_is_an_index_error_naming_the_length():
    net = model()
    with pytest.raises(IndexError, match="index 100 is out of range for 3 layers"):
        net.insert(100, nn.ReLU())
    assert len(net) == 3


# ------------------------------------------------------------------------- losses
def test_cross_entropy_on_an_empty_batch_is_an_error_not_nan():
    with pytest.raises(ValueError, match="CrossEntropy: empty batch"):
        nn.CrossEntropyLoss()(Tensor(np.zeros((0, 3))), Tensor(np.zeros(0)))


@pytest.mark.parametrize(
    ("labels", "named"),
    [
        ([0, -1, 2], "target -1 at position 1"),
        ([0, 1, 1.5], "target 1.5 at position 2"),
        ([np.nan, 1, 2], "target nan at position 0"),
        ([0, 1, 3], "target 3 at position 2"),
    ],
    ids=["negative", "fractional", "nan", "out of range"],
)
def test_cross_entropy_names_a_bad_label_and_its_position(labels, named):
    with pytest.raises(ValueError, match=f"{named} is not a class index in 0..2"):
        nn.CrossEntropyLoss()(Tensor(np.zeros((3, 3))), Tensor(np.array(labels, dtype=float)))


# ------------------------------------------------------------------------- the recorder
class FailOnce(Function):
    """Identity; the first backward raises (a bug found, fixed, and backward retried)."""

    failures = 1

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        if FailOnce.failures:
            FailOnce.failures -= 1
            raise RuntimeError("transient")
        return grad


class FailingLayer(nn.Module):
    def forward(self, x):
        return FailOnce.apply(x)


def test_a_retried_backward_records_no_duplicate_rows():
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Linear(3, 4, rng=rng), FailingLayer(), nn.Linear(4, 1, rng=rng))
    recorder = nn.GradientRecorder(net)
    X, y = data()
    loss = nn.MSELoss()(net(X), y)
    FailOnce.failures = 1
    with pytest.raises(RuntimeError, match="transient"):
        loss.backward()
    loss.backward()
    keys = [(r.step, r.layer, r.quantity) for r in recorder.history()]
    assert len(keys) == len(set(keys))
    assert {q for (_, _, q) in keys} >= {"weight_grad_norm", "output_grad_norm"}


def test_a_model_with_a_recorder_attached_pickles_and_keeps_recording():
    net = model()
    recorder = nn.GradientRecorder(net)
    X, y = data()
    nn.MSELoss()(net(X), y).backward()
    copy = pickle.loads(pickle.dumps(net))
    nn.MSELoss()(copy(X), y).backward()
    assert recorder.step == 1  # the original is untouched by the copy's step
    copied = next(h for h in copy._forward_pre_hooks.values()).__self__
    assert copied.step == 2 and len(copied) == 2 * len(recorder)


def test_any_module_can_be_recorded_by_its_leaf_layers():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.first, self.act = nn.Linear(3, 4, rng=0), nn.Tanh()
            self.last = nn.Linear(4, 1, rng=1)

        def forward(self, x):
            return self.last(self.act(self.first(x)))

    net = Net()
    recorder = nn.GradientRecorder(net)
    assert repr(recorder).startswith("GradientRecorder(3 layers hooked")
    X, y = data()
    nn.MSELoss()(net(X), y).backward()
    assert list(recorder.at_step()) == ["0:Linear", "1:Tanh", "2:Linear"]


# ------------------------------------------------------------------------- messages
def test_conv2d_kernel_size_of_three_values_names_the_argument():
    with pytest.raises(ValueError, match=r"kernel_size must be an integer or a pair of them"):
        nn.Conv2d(1, 2, kernel_size=(3, 2, 1))


def test_a_full_backward_hook_returning_a_wrong_shape_names_the_module():
    layer = nn.Linear(3, 2, rng=0)
    layer.register_full_backward_hook(lambda m, gin, gout: (Tensor(np.ones(7)),))
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"Linear: a full backward hook returned a gradient"):
        layer(x).sum().backward()
    assert x.grad is None


def test_a_forward_that_raises_is_no_step_of_the_recorder():
    net = model()
    recorder = nn.GradientRecorder(net)
    X, y = data()
    with pytest.raises(ValueError, match="expects input"):
        net(Tensor(np.ones((2, 5))))  # the wrong width: the first Linear refuses it
    nn.MSELoss()(net(X), y).backward()
    assert recorder.step == 1
    assert {r.step for r in recorder.history()} == {1}


def test_an_op_raising_its_own_value_error_subclass_keeps_its_type():
    class Shaped(ValueError):
        pass

    class Picky(Function):
        @staticmethod
        def forward(ctx, x):
            raise Shaped("does not tile")

    with pytest.raises(Shaped, match="does not tile"):
        Picky.apply(Tensor(np.ones(2)))
