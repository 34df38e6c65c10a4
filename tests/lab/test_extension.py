"""The extension contract: one activation, registered once, is usable by nn, the reference,
the self-check, the recorder and the lab, with nothing else edited."""

import numpy as np
import pytest

from tinygrad_lab import Function, Tensor, gradcheck, nn, reference
from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.rules import LabRun
from tinygrad_lab.lab.stress.check import check_lab


class SoftsignOp(Function):
    """x / (1 + |x|), written as the README teaches."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.abs(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + np.abs(x)) ** 2  # d/dx x/(1+|x|) = 1/(1+|x|)²


class Softsign(nn.Module):
    def forward(self, x):
        return SoftsignOp.apply(x)


@pytest.fixture
def softsign():
    entry = nn.register_activation(
        nn.Activation(
            "softsign",
            Softsign,
            lambda z: z / (1 + np.abs(z)),
            lambda z: 1 / (1 + np.abs(z)) ** 2,
            dead_below_zero=False,
        )
    )
    yield entry
    del nn.ACTIVATIONS["softsign"]


def test_a_registered_activation_runs_the_lab_self_check(softsign):
    x = Tensor(np.linspace(-3, 3, 9), requires_grad=True)
    assert gradcheck(SoftsignOp.apply, [x])
    result = check_lab(LabRun.from_roll("102303346", seed=1, epochs=20, activation="softsign"))
    assert result.passed
    assert result.run.config.activation == "softsign"


def test_a_registered_activation_is_known_to_the_reference_recorder_and_cli(softsign, capsys):
    model = nn.Sequential(nn.Linear(3, 4, rng=0), Softsign(), nn.Linear(4, 1, rng=1))
    rows = reference.compare(model, np.ones((5, 3)), np.zeros((5, 1)))
    assert max(r.worst_rel for r in rows) < 1e-12
    recorder = nn.GradientRecorder(model)
    nn.MSELoss()(model(Tensor(np.ones((5, 3)))), Tensor(np.zeros((5, 1)))).backward()
    assert "activation_std" in recorder.at_step()["1:Softsign"]
    code = main(["stress-test", "--roll", "102303346", "--activation", "softsign", "--epochs", "3"])
    assert code == 0 and "softsign" in capsys.readouterr().out


def test_registering_a_name_twice_is_an_error():
    with pytest.raises(ValueError, match="'relu' is already registered"):
        nn.register_activation(nn.Activation("relu", nn.ReLU, np.abs, np.sign))
