"""tinygrad-lab digits: the CNN reaches its accuracy on scikit-learn's handwritten digits, the
same to the bit on every run with the same seed, float32 everywhere in forward and backward;
the report, JSON, weights and plots; and its errors."""

import contextlib
import io
import json
import sys

import numpy as np
import pytest

import tinygrad_lab as tl
from tinygrad_lab import nn, optim
from tinygrad_lab.grad_mode import observe_backward
from tinygrad_lab.graph import topological_order
from tinygrad_lab.lab import digits
from tinygrad_lab.lab.cli import main


@pytest.fixture(scope="module")
def data() -> digits.DigitsData:
    return digits.load_data()


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory, data):
    """``tinygrad-lab digits --fast --json --out DIR``, run once: (exit code, JSON, DIR)."""
    out = tmp_path_factory.mktemp("digits") / "report"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["digits", "--fast", "--json", "--no-progress", "--out", str(out)])
    return code, json.loads(stdout.getvalue()), out


def test_the_split_is_fixed_stratified_and_float32(data):
    assert data.x_train.shape == (1347, 1, 8, 8) and data.x_test.shape == (450, 1, 8, 8)
    assert data.x_train.dtype == data.x_test.dtype == np.float32
    assert data.x_train.min() >= 0 and data.x_train.max() <= 1
    everything = np.concatenate([data.y_train, data.y_test])
    shares = np.bincount(everything) * digits.TEST_SIZE  # stratified: each digit's quarter
    assert np.all(np.abs(np.bincount(data.y_test) - shares) <= 1)
    np.testing.assert_array_equal(digits.load_data().y_test, data.y_test)


def test_the_default_configuration_reaches_97_percent_on_the_test_set(data):
    result = digits.train_digits(digits.DigitsConfig(), data)
    assert result.test_accuracy >= digits.TARGET_ACCURACY  # 97.56% measured with seed 0
    assert result.epochs[-1].train_loss < result.epochs[0].train_loss / 10


def test_the_fast_configuration_reaches_its_accuracy(fast_run):
    code, figures, _ = fast_run
    assert code == 0
    assert figures["config"]["channels"] == [8, 16] and len(figures["epochs"]) == 4
    assert figures["test_accuracy"] >= 0.93  # 94.22% measured with seed 0: 26 of 450 wrong


def test_a_second_run_with_the_same_seed_is_the_same_to_the_bit(fast_run, data):
    _, figures, out = fast_run
    again = digits.train_digits(digits.FAST, data)
    assert json.loads(json.dumps(again.to_json())) == figures
    saved = tl.load(out / "model.npz")
    assert list(saved) == list(again.state_dict)
    for name, array in again.state_dict.items():
        assert saved[name].dtype == np.float32
        np.testing.assert_array_equal(saved[name], array)


def test_another_seed_draws_other_weights_batches_and_masks():
    a, b = digits.generators(0), digits.generators(1)
    for one, other in zip(a, b, strict=True):
        assert one.random() != other.random()
    streams = digits.generators(0)
    assert len({s.random() for s in streams}) == 3  # three independent streams


def test_the_saved_weights_reload_into_a_fresh_model_and_give_the_same_predictions(fast_run, data):
    _, figures, out = fast_run
    model = digits.build_model(digits.FAST, digits.generators(123))
    model.load_state_dict(tl.load(out / "model.npz"))
    _, predicted = digits.evaluate(model, data.x_test, data.y_test)
    assert float((predicted == data.y_test).mean()) == figures["test_accuracy"]


def test_the_report_json_csv_and_plots_are_written(fast_run):
    _, figures, out = fast_run
    names = {p.name for p in out.iterdir()}
    assert names == {"report.md", "results.json", "gradients.csv", "model.npz", *digits.PLOTS}
    assert json.loads((out / "results.json").read_text()) == figures
    report = (out / "report.md").read_text()
    assert f"**Test accuracy: {100 * figures['test_accuracy']:.2f}%**" in report
    assert all(f"]({name})" in report for name in digits.PLOTS)
    for name in digits.PLOTS:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = (out / "gradients.csv").read_text().splitlines()
    assert rows[0] == "step,layer,quantity,value"
    steps = {int(row.split(",")[0]) for row in rows[1:]}
    assert steps == set(range(1, 4 * 42 + 1))  # every step of 4 epochs of 42 full batches


def test_the_figures_hold_the_confusion_matrix_and_per_layer_gradients(fast_run):
    _, figures, _ = fast_run
    confusion = np.array(figures["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 450
    assert np.trace(confusion) / 450 == figures["test_accuracy"]
    assert len(figures["misclassified"]) == 450 - np.trace(confusion)
    assert [e["epoch"] for e in figures["epochs"]] == [1, 2, 3, 4]
    norms = figures["grad_norms_by_epoch"]
    assert list(norms) == [f"{k}:{name}" for k, name in enumerate(LAYERS)]
    for layer in ("0:Conv2d", "3:Conv2d", "7:Linear"):
        assert {"weight_grad_norm", "bias_grad_norm", "output_grad_norm"} == set(norms[layer])
        assert all(v > 0 for v in norms[layer]["weight_grad_norm"])
    first, last = norms["0:Conv2d"]["weight_grad_norm"], norms["7:Linear"]["weight_grad_norm"]
    assert figures["gri_by_epoch"] == pytest.approx(
        [a / b for a, b in zip(first, last, strict=True)]
    )


LAYERS = ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "Flatten", "Dropout", "Linear"]


def test_float32_end_to_end_every_saved_array_and_every_gradient(data):
    """One training step of the default network: every tensor of the graph, every array a node
    saves for backward and every gradient an op's backward returns is float32 (an op that
    upcast to float64 would be cast back silently by the engine, so its own result is read)."""
    model = digits.build_model(digits.DigitsConfig(), digits.generators(0))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    images, labels = data.x_train[:32], data.y_train[:32].astype(np.float32)
    loss = nn.CrossEntropyLoss()(model(images), labels)
    nodes = [t for t in topological_order(loss) if t._ctx is not None]
    assert [type(n._ctx).__name__ for n in nodes] == [
        *("Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "Reshape", "Dropout", "Affine"),
        "CrossEntropy",
    ]
    for node in nodes:
        assert node.dtype == np.float32, node._ctx.name
        assert all(p.dtype == np.float32 for p in node._ctx.parents), node._ctx.name
        for array in node._ctx.saved_tensors:
            assert array.dtype == np.float32 or array.dtype.kind in "iub", node._ctx.name
    returned = []
    with observe_backward(lambda node, ctx, grad, grads: returned.append((ctx.name, grad, grads))):
        loss.backward()
    assert len(returned) == len(nodes)
    for name, grad, grads in returned:
        assert grad.dtype == np.float32, name
        assert all(g.dtype == np.float32 for g in grads if g is not None), name
    optimizer.step()
    for p in model.parameters():
        assert p.dtype == p.grad.dtype == np.float32
    moments = [optimizer.state[p] for p in model.parameters()]
    assert all(m["exp_avg"].dtype == m["exp_avg_sq"].dtype == np.float32 for m in moments)


def test_input_with_the_wrong_number_of_channels_names_the_layer_and_changes_nothing():
    model = digits.build_model(digits.FAST, digits.generators(0))
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    dropout = model[6].rng.bit_generator.state
    with pytest.raises(ValueError, match=r"Conv2d\(1 → 8\) expects input \(N, 1, H, W\), got "):
        model(np.zeros((4, 3, 8, 8), np.float32))
    assert model[6].rng.bit_generator.state == dropout
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


def test_without_scikit_learn_the_error_names_the_extra_and_writes_nothing(
    tmp_path, capsys, monkeypatch
):
    for name in ("sklearn", "sklearn.datasets", "sklearn.model_selection"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it raises ImportError
    out = tmp_path / "report"
    assert main(["digits", "--fast", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "needs scikit-learn" in err and "pip install -e '.[digits]'" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "--epochs: must be at least 1, got 0"),
        (["--batch-size", "x"], "--batch-size: expected a number, got 'x'"),
        (["--lr", "-1"], "--lr: must be at least"),
        (["--seed", "-2"], "--seed: must be at least 0, got -2"),
        (["--batch-size", "5000"], "a batch of 5000 is more than the 1347 training images"),
    ],
)
def test_bad_options_are_one_line_errors_with_status_2_before_anything_is_written(
    tmp_path, capsys, argv, message
):
    assert main(["digits", *argv, "--out", str(tmp_path / "report")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "report").exists()
