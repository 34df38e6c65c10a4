"""tl.save / tl.load: a state dict round-trips through one .npz file with its dtypes and values;
the write is atomic; a wrong file, and a state of the wrong shapes, are errors that change
nothing."""

import zipfile

import numpy as np
import pytest

import tinygrad_lab as tl
from tinygrad_lab import nn


def small_model(seed: int) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, rng=rng, dtype=np.float32),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * 4 * 4, 3, rng=rng, dtype=np.float32),
    )


def test_a_model_round_trips_through_one_npz_file_with_its_dtypes(tmp_path):
    path = tmp_path / "model.npz"
    trained, fresh = small_model(0), small_model(1)
    tl.save(trained.state_dict(), path)
    assert zipfile.is_zipfile(path) and sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    state = tl.load(path)
    assert list(state) == list(trained.state_dict())
    fresh.load_state_dict(state)
    for (name, a), (_, b) in zip(trained.named_parameters(), fresh.named_parameters(), strict=True):
        assert b.dtype == np.float32, name
        np.testing.assert_array_equal(a.data, b.data)


def test_the_file_is_written_at_exactly_the_path_given(tmp_path):
    tl.save({"w": np.ones(2)}, tmp_path / "weights.bin")  # np.savez would add .npz
    assert [p.name for p in tmp_path.iterdir()] == ["weights.bin"]
    np.testing.assert_array_equal(tl.load(tmp_path / "weights.bin")["w"], np.ones(2))


def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    tl.save({"w": np.zeros(3)}, path)

    def broken(array, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        tl.save({"w": np.ones(3)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    monkeypatch.undo()
    np.testing.assert_array_equal(tl.load(path)["w"], np.zeros(3))


def test_keys_that_are_also_savez_keywords_are_kept(tmp_path):
    state = {"file": np.ones(1), "allow_pickle": np.zeros(1), "0.weight": np.arange(3.0)}
    tl.save(state, tmp_path / "s.npz")
    loaded = tl.load(tmp_path / "s.npz")
    assert list(loaded) == list(state)
    for name, array in state.items():
        np.testing.assert_array_equal(loaded[name], array)


@pytest.mark.parametrize(
    ("value", "message"),
    [({1: np.ones(2)}, "every key must be a non-empty string"), ({"w": "text"}, "w holds")],
)
def test_saving_what_is_not_a_state_dict_is_an_error(tmp_path, value, message):
    with pytest.raises(TypeError, match=message):
        tl.save(value, tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())


def test_loading_a_file_that_is_not_an_npz_names_the_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"load: .*notes.txt is not an .npz file"):
        tl.load(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        tl.load(tmp_path / "missing.npz")


def test_loading_a_state_of_the_wrong_shapes_names_the_key_and_changes_nothing(tmp_path):
    model = small_model(0)
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    versions = [p.version for p in model.parameters()]
    state = small_model(1).state_dict()
    state["3.weight"] = np.zeros((32, 4), np.float32)  # one class too many
    tl.save(state, tmp_path / "wrong.npz")
    with pytest.raises(
        ValueError, match=r"3.weight has shape \(32, 3\) in the model but \(32, 4\) in the state"
    ):
        model.load_state_dict(tl.load(tmp_path / "wrong.npz"))
    for name, p in model.named_parameters():  # not even the keys before the wrong one
        np.testing.assert_array_equal(p.data, before[name])
    assert [p.version for p in model.parameters()] == versions
