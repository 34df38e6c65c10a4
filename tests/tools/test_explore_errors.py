"""Bad input to the explorer: one clear line each, and nothing written, let alone half-written."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
from explorer_helpers import lab_loss, python_trace

import tinygrad_lab as tl
from tinygrad_lab import Tensor, nn
from tinygrad_lab.viz import explore


def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


def test_a_leaf_has_no_graph_to_step_through():
    with pytest.raises(ValueError, match="is a leaf") as err:
        explore(Tensor(np.ones(1), requires_grad=True))
    assert "pass the loss" in one_line(err)


def test_a_tensor_made_under_no_grad_has_no_graph():
    w = Tensor(np.ones(3), requires_grad=True)
    with tl.no_grad():
        loss = (w * 2).sum()
    with pytest.raises(ValueError, match=r"no graph: it was made under no_grad\(\)") as err:
        explore(loss)
    one_line(err)


def test_a_graph_freed_by_backward_names_retain_graph():
    model, loss = lab_loss(n_samples=8)
    loss.backward()
    with pytest.raises(RuntimeError, match="already freed by a backward") as err:
        explore(loss, model=model)
    assert "retain_graph=True" in one_line(err)


@pytest.mark.needs_dot
def test_a_graph_kept_with_retain_graph_can_be_explored(tmp_path):
    model, loss = lab_loss(n_samples=8)
    loss.backward(retain_graph=True)
    assert explore(loss, model=model).data["meta"]["steps"] == 12


def test_a_loss_with_more_than_one_element_is_refused():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"one-element loss; this tensor has shape \(2, 2\)"):
        explore(x * 3)


def test_model_without_record_sites_says_how_to_record_layers():
    model = nn.Sequential(nn.Linear(3, 2, rng=np.random.default_rng(0)), nn.ReLU())
    loss = model(Tensor(np.ones((4, 3)))).sum()
    with pytest.raises(ValueError, match=r"inside `with tinygrad_lab.record_sites\(\):`"):
        explore(loss, model=model)


def test_a_trace_needs_its_loss_and_the_kept_gradients():
    model, loss = lab_loss(n_samples=8)
    trace = python_trace(loss, model)
    with pytest.raises(TypeError, match=r"explore\(trace, loss=loss\)"):
        explore(trace)
    other_model, other_loss = lab_loss(n_samples=8, seed=1)
    with pytest.raises(ValueError, match="recorded no backward through this loss"):
        explore(trace, loss=other_loss)
    with tl.trace_backward(model) as unkept:
        _, loss = lab_loss(n_samples=8)
        loss.backward()
    with pytest.raises(ValueError, match=r"retain_grads\(loss\) before loss.backward\(\)"):
        explore(unkept, loss=loss)


def test_not_a_tensor_or_a_trace():
    with pytest.raises(TypeError, match="expected a loss Tensor or a BackwardTrace, got list"):
        explore([1.0])
    _, loss = lab_loss(n_samples=8)
    with pytest.raises(TypeError, match="model must be a Module"):
        explore(loss, model="model")


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("page.svg", ValueError, "must end in .html"),
        ("missing/page.html", FileNotFoundError, "folder .*missing' does not exist"),
        ("a-file/page.html", NotADirectoryError, "is not a folder"),
        ("a-folder.html", IsADirectoryError, "is a folder, not a file name"),
    ],
)
def test_an_out_path_that_cannot_be_written_fails_before_any_work(tmp_path, name, error, message):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder.html").mkdir()
    before = sorted(tmp_path.rglob("*"))
    _, loss = lab_loss(n_samples=8)
    with pytest.raises(error, match=message) as err:
        explore(loss, path=tmp_path / name)
    assert one_line(err).startswith("explore: path ")
    assert sorted(tmp_path.rglob("*")) == before
    assert loss._ctx.saved_tensors is not None  # failed before backward ran


@pytest.mark.needs_dot
def test_a_write_that_fails_half_way_leaves_nothing_behind(tmp_path, monkeypatch):
    _, loss = lab_loss(n_samples=8)
    page = explore(loss)
    target = tmp_path / "page.html"
    target.write_text("the old page")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)  # the rename that would publish the page
    with pytest.raises(OSError, match="No space left"):
        page.save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # no temporary file left
    assert target.read_text() == "the old page"


def test_a_folder_that_refuses_writes_is_named_in_one_line(tmp_path, monkeypatch):
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)  # what root cannot be refused
    _, loss = lab_loss(n_samples=8)
    with pytest.raises(PermissionError, match="cannot write in .*: Permission denied") as err:
        explore(loss, path=tmp_path / "page.html")
    one_line(err)
    assert list(tmp_path.iterdir()) == []
