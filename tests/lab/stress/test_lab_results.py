"""`compute_lab`'s LabResult: plain figures that pickle (no model, no recorder), and the --json
object with the keys the README documents, in their order."""

import dataclasses
import pickle

from tinygrad_lab import Tensor, nn
from tinygrad_lab.lab.rules import LabRun
from tinygrad_lab.lab.stress.compute import compute_lab

RUN = LabRun.from_roll("102303346", seed=2, epochs=12)


def _values(value):
    """Every value inside a result: dataclass fields, dict keys and values, list items."""
    yield value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _values(getattr(value, field.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _values(key)
            yield from _values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)


def test_a_lab_result_holds_plain_figures_only_and_pickles():
    result = compute_lab(RUN)
    kinds = {type(v) for v in _values(result)}
    assert not [k for k in kinds if issubclass(k, nn.Module | nn.GradientRecorder | Tensor)]
    assert pickle.loads(pickle.dumps(result)).to_json() == result.to_json()


def test_the_json_has_the_documented_keys_in_order():
    document = compute_lab(RUN).to_json()
    assert list(document) == [
        "roll",
        "seed",
        "epochs",
        "config",
        "memory",
        "part_a",
        "q2",
        "curvature",
        "part_b",
    ]
    assert list(document["config"]) == [
        "a", "b", "c", "rules", "hidden_width", "hidden_layers", "learning_rate", "activation",
        "init_range", "added_layers", "assumptions", "overrides",
    ]  # fmt: skip
    assert list(document["config"]["rules"][0]) == ["quantity", "rule", "value", "display"]
    assert list(document["memory"]) == ["run1", "run2", "run3"]
    assert list(document["memory"]["run1"]) == ["per_layer", "total", "no_grad_total"]
    part_a = document["part_a"]
    assert list(part_a) == [
        "seed", "epochs", "mean_predictor_loss", "run1", "run2", "run3", "gri_change",
        "weight_grad_norm_series", "weight_grad_norm_series_stride",
    ]  # fmt: skip
    for run in ("run1", "run2", "run3"):
        assert list(part_a[run]) == [
            "hidden_layers", "loss_history", "losses", "grad_norm_first", "grad_norm_last", "gri",
            "gri_undefined_reason", "r2", "layer_grad_norms", "dead_fractions", "diverged_at",
            "final_loss", "dead_layers", "diagnosis",
        ]  # fmt: skip
        assert list(part_a[run]["losses"]) == ["1", "12"]
        assert list(part_a[run]["diagnosis"]) == ["verdict", "explanation", "gradient", "learned"]
    assert list(document["q2"]) == [
        "rank", "max_abs_difference", "linear_layers", "effective_linear_layers", "weight", "bias",
        "absent_reason",
    ]  # fmt: skip
    assert list(document["part_b"]) == [
        "dense_parameters", "dense_layer", "conv_parameters", "conv_layer", "output_size",
        "output_size_error", "output_size_forward", "output_size_config", "manual_matrix",
        "manual_convolution_map", "manual_convolution", "documents_claim", "notes",
    ]  # fmt: skip
