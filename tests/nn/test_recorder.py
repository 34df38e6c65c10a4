"""GradientRecorder: every recorded number against an independent computation of it."""

import csv
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn, no_grad, optim, reference


def network(rng: np.random.Generator, widths=(3, 6, 5, 1)) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out, rng=rng), nn.ReLU()]
    return nn.Sequential(*layers[:-1])  # linear output, as in the lab


def twin_of(model: nn.Sequential) -> nn.Sequential:
    """A recorder-free copy with the same layers' values, to compute the expectations on."""
    twin = nn.Sequential(*[_copy_layer(layer) for layer in model])
    twin.load_state_dict(model.state_dict())
    return twin


def _copy_layer(layer: nn.Module) -> nn.Module:
    if isinstance(layer, nn.Linear):
        return nn.Linear(layer.in_features, layer.out_features)
    return type(layer)()


def expected_step(model: nn.Sequential, x: np.ndarray, y: np.ndarray) -> dict:
    """``{(index, quantity): value}`` computed on a twin, by retain_grad and NumPy."""
    twin = twin_of(model)
    outputs, h = [], Tensor(x)
    for layer in twin:
        h = layer(h).retain_grad()
        outputs.append(h)
    nn.MSELoss()(h, Tensor(y)).backward()
    expected = {}
    for index, (layer, out) in enumerate(zip(twin, outputs, strict=True)):
        expected[index, "activation_mean"] = np.mean(out.data)
        expected[index, "activation_std"] = np.std(out.data)
        expected[index, "output_grad_norm"] = np.linalg.norm(out.grad)
        if isinstance(layer, nn.ReLU):
            expected[index, "dead_fraction"] = np.mean(np.all(out.data == 0, axis=0))
        for name, param in layer.named_parameters():
            expected[index, f"{name}_grad_norm"] = np.linalg.norm(param.grad)
    return expected


def recorded(recorder: nn.GradientRecorder, step: int) -> dict:
    rows = [r for r in recorder.history() if r.step == step]
    table = {(int(r.layer.split(":")[0]), r.quantity): r.value for r in rows}
    assert len(table) == len(rows), "a quantity was recorded twice in one step"
    return table


def assert_matches(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(actual[key], value, rtol=1e-12, atol=1e-15, err_msg=str(key))


@given(
    seed=st.integers(0, 2**32 - 1),
    widths=st.lists(st.integers(1, 6), min_size=3, max_size=5),
    batch=st.integers(1, 8),
)
def test_every_quantity_of_every_layer_and_step_matches_an_independent_computation(
    seed, widths, batch
):
    rng = np.random.default_rng(seed)
    model = network(rng, [2, *widths[1:-1], 1])
    x, y = rng.standard_normal((batch, 2)), rng.standard_normal((batch, 1))
    recorder = nn.GradientRecorder(model)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for step in (1, 2, 3):
        expected = expected_step(model, x, y)
        optimizer.zero_grad()
        nn.MSELoss()(model(Tensor(x)), Tensor(y)).backward()
        assert recorder.step == step
        assert_matches(recorded(recorder, step), expected)
        # the parameter norms are those of the gradients backward left in .grad this step
        for index, layer in enumerate(model):
            for name, param in layer.named_parameters():
                assert recorded(recorder, step)[index, f"{name}_grad_norm"] == pytest.approx(
                    np.linalg.norm(param.grad), rel=1e-12
                )
        optimizer.step()


def test_labels_are_position_and_type_and_rows_are_step_layer_quantity_value():
    model = network(np.random.default_rng(0))
    recorder = nn.GradientRecorder(model)
    nn.MSELoss()(model(Tensor(np.ones((4, 3)))), Tensor(np.zeros((4, 1)))).backward()
    rows = recorder.history()
    assert {r.layer for r in rows} == {"0:Linear", "1:ReLU", "2:Linear", "3:ReLU", "4:Linear"}
    for row in rows:
        step, layer, quantity, value = row
        assert (step, type(quantity), type(value)) == (1, str, float)
        assert isinstance(layer, str) and layer == f"{layer.position}:{layer.type}"
        assert model[layer.position].__class__.__name__ == layer.type
    assert list(recorder.at_step()) == ["0:Linear", "1:ReLU", "2:Linear", "3:ReLU", "4:Linear"]
    assert recorder.series("1:ReLU", "dead_fraction") == [
        (1, recorder.at_step()["1:ReLU"]["dead_fraction"])
    ]


def test_weight_norms_give_the_notebook_gradient_norms():
    """The lab's GRI is read from these: they must be the notebook's ‖grads_W[i]‖."""
    rng = np.random.RandomState(5)
    model = network(np.random.default_rng(0), (3, 4, 4, 4, 1))
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.uniform_(layer.weight, -0.5, 0.5, rng=rng)
    x, y = rng.uniform(-2, 2, (20, 3)), rng.standard_normal((20, 1))
    recorder = nn.GradientRecorder(model)
    nn.MSELoss()(model(Tensor(x)), Tensor(y)).backward()
    weights = [layer.weight.data for layer in model if isinstance(layer, nn.Linear)]
    biases = [layer.bias.data[None, :] for layer in model if isinstance(layer, nn.Linear)]
    activations, zs = reference.forward(x, weights, biases)
    grads_w, _, _ = reference.backward(activations, zs, y, weights)
    norms = [q["weight_grad_norm"] for q in recorder.at_step(quantity="weight_grad_norm").values()]
    np.testing.assert_allclose(norms, [np.linalg.norm(g) for g in grads_w], rtol=1e-12)


def test_dead_fraction_counts_units_zero_for_every_example():
    model = nn.Sequential(nn.Identity(), nn.ReLU())
    recorder = nn.GradientRecorder(model)
    x = np.array([[1.0, -1.0, -2.0, 0.0], [-1.0, -3.0, 2.0, 0.0], [-1.0, -3.0, 2.0, -5.0]])
    model(Tensor(x, requires_grad=True))
    # unit 0 and 2 are alive on some example; units 1 and 3 are zero for every example
    assert recorder.at_step()["1:ReLU"]["dead_fraction"] == np.mean(np.all(x <= 0, axis=0))
    assert "dead_fraction" not in recorder.at_step()["0:Identity"]


def test_layers_inserted_after_attaching_are_recorded_and_removed_ones_unhooked():
    rng = np.random.default_rng(1)
    model = network(rng)
    recorder = nn.GradientRecorder(model)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    nn.MSELoss()(model(Tensor(x)), Tensor(y)).backward()
    removed = model[0]
    model.insert(-1, nn.Linear(5, 5, rng=rng))
    model.insert(-1, nn.ReLU())
    del model[0]
    model.insert(0, nn.Linear(3, 6, rng=rng))
    expected = expected_step(model, x, y)
    model.zero_grad()
    nn.MSELoss()(model(Tensor(x)), Tensor(y)).backward()
    assert_matches(recorded(recorder, 2), expected)
    assert recorded(recorder, 2)[4, "weight_grad_norm"] > 0  # the new layer at position 4
    assert not removed._forward_hooks
    assert not removed.weight._hooks and not removed.bias._hooks


def test_one_activation_object_at_two_places_is_recorded_at_each_place():
    rng = np.random.default_rng(9)
    relu = nn.ReLU()
    model = nn.Sequential(
        nn.Linear(3, 4, rng=rng), relu, nn.Linear(4, 4, rng=rng), relu, nn.Linear(4, 1, rng=rng)
    )
    recorder = nn.GradientRecorder(model)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    expected = expected_step(model, x, y)
    nn.MSELoss()(model(Tensor(x)), Tensor(y)).backward()
    assert_matches(recorded(recorder, 1), expected)


def test_values_are_those_of_the_step_even_if_arrays_are_changed_in_place_before_reading():
    """What the recorder reads later must not be an array the caller can still write into: a
    .grad clipped in place, or the model's output scaled in place, after the step."""
    rng = np.random.default_rng(10)
    model = network(rng)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    expected = expected_step(model, x, y)
    recorder = nn.GradientRecorder(model)
    output = model(Tensor(x))
    nn.MSELoss()(output, Tensor(y)).backward()
    for param in model.parameters():
        param.grad *= 0.5  # e.g. clipping, in place
    output.data[...] = 0.0  # the array forward made, written over
    assert_matches(recorded(recorder, 1), expected)


def test_detach_removes_every_hook_and_stops_recording():
    rng = np.random.default_rng(2)
    model = network(rng)
    recorder = nn.GradientRecorder(model)
    x, y = Tensor(rng.standard_normal((4, 3))), Tensor(rng.standard_normal((4, 1)))
    loss = nn.MSELoss()(model(x), y)
    count = len(recorder)
    recorder.detach()  # between forward and backward: that backward must record nothing
    loss.backward()
    nn.MSELoss()(model(x), y).backward()
    assert len(recorder) == count and recorder.step == 1
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
        assert not module._backward_hooks
    assert all(not p._hooks for p in model.parameters())
    recorder.detach()  # twice is harmless


def test_context_manager_detaches():
    model = network(np.random.default_rng(3))
    with nn.GradientRecorder(model) as recorder:
        model(Tensor(np.ones((2, 3))))
    model(Tensor(np.ones((2, 3))))
    assert recorder.step == 1 and not model._forward_pre_hooks


def test_eval_and_no_grad_forwards_are_not_steps():
    rng = np.random.default_rng(4)
    model = network(rng)
    recorder = nn.GradientRecorder(model)
    x, y = Tensor(rng.standard_normal((5, 3))), Tensor(rng.standard_normal((5, 1)))
    loss = nn.MSELoss()(model(x), y)
    with no_grad():
        model(x)  # e.g. a validation loss before backward: must not disturb step 1
    loss.backward()
    full = len(recorder)
    assert {r.quantity for r in recorder.history()} >= {"weight_grad_norm", "output_grad_norm"}
    model.eval()
    nn.MSELoss()(model(x), y).backward()
    model.train()
    with no_grad():
        model(x)
    assert recorder.step == 1 and len(recorder) == full
    assert {r.step for r in recorder.history()} == {1}


def test_every_records_one_step_in_n():
    rng = np.random.default_rng(5)
    model = network(rng)
    recorder = nn.GradientRecorder(model, every=2)
    x, y = Tensor(rng.standard_normal((3, 3))), Tensor(rng.standard_normal((3, 1)))
    for _ in range(5):
        nn.MSELoss()(model(x), y).backward()
    assert recorder.step == 5
    assert {r.step for r in recorder.history()} == {1, 3, 5}


def test_max_records_keeps_only_the_latest():
    rng = np.random.default_rng(6)
    model = network(rng)
    unbounded, bounded = nn.GradientRecorder(model), nn.GradientRecorder(model, max_records=10)
    x, y = Tensor(rng.standard_normal((3, 3))), Tensor(rng.standard_normal((3, 1)))
    for _ in range(4):
        nn.MSELoss()(model(x), y).backward()
    assert len(bounded) == 10
    assert bounded.history() == unbounded.history()[-10:]


def test_to_csv_and_to_pandas_give_the_history_rows(tmp_path):
    rng = np.random.default_rng(7)
    model = network(rng)
    recorder = nn.GradientRecorder(model)
    for _ in range(2):
        nn.MSELoss()(model(Tensor(rng.standard_normal((3, 3)))), Tensor(np.ones((3, 1)))).backward()
    path = tmp_path / "history.csv"
    recorder.to_csv(path)
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["step", "layer", "quantity", "value"]
    parsed = [(int(s), layer, q, float(v)) for s, layer, q, v in rows[1:]]
    assert parsed == [tuple(r) for r in recorder.history()]
    frame = recorder.to_pandas()
    assert list(frame.columns) == ["step", "layer", "quantity", "value"]
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        tuple(r) for r in recorder.history()
    ]


def test_to_pandas_without_pandas_says_what_to_do(monkeypatch):
    recorder = nn.GradientRecorder(network(np.random.default_rng(8)))
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match="needs pandas: pip install pandas"):
        recorder.to_pandas()


def test_recorder_argument_errors():
    with pytest.raises(TypeError, match="expected a Module, got function"):
        nn.GradientRecorder(lambda x: x)
    with pytest.raises(ValueError, match="every must be >= 1, got 0"):
        nn.GradientRecorder(nn.Sequential(), every=0)
