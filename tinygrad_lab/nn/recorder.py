"""`GradientRecorder`: per-layer gradients and activations of a model, every training step.

One call attaches it: ``recorder = GradientRecorder(model)``. Every forward of ``model`` with
gradients enabled and the model in training mode is a step; for each layer of that step it
records:

- ``<param>_grad_norm``: Frobenius norm of the gradient of each parameter (``weight_grad_norm``,
  ``bias_grad_norm``), as backward computes it for this step (before any accumulation);
- ``output_grad_norm``: norm of the gradient of the loss with respect to the layer's output, i.e.
  the gradient that flows back out of the next layer into this one;
- ``activation_mean`` / ``activation_std`` of the layer's output;
- ``dead_fraction`` (activations registered as ``dead_below_zero``: ReLU, LeakyReLU): the share
  of units that are not positive for any example of the batch. For ReLU their output is 0
  everywhere and no gradient passes through them; for LeakyReLU only the leak's small slope does.

Layers are labelled by their position at that step and their type, as a `LayerLabel`: the string
``"3:Linear"`` with ``.position`` (3) and ``.type`` ("Linear"). A layer inserted later is picked
up at the next forward, and positions read as the step saw them.
"""

from __future__ import annotations

import csv
import functools
import math
from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from tinygrad_lab.display import markdown_table, norm, to_pandas
from tinygrad_lab.grad_mode import state as _state
from tinygrad_lab.hooks import RemovableHandle
from tinygrad_lab.nn.activations import activation_of
from tinygrad_lab.nn.module import Module
from tinygrad_lab.tensor import Tensor


class LayerLabel(str):
    """A layer as one step saw it: the string ``"3:Linear"``, with ``position`` and ``type``."""

    position: int
    type: str

    def __new__(cls, position: int, layer_type: str) -> LayerLabel:
        label = super().__new__(cls, f"{position}:{layer_type}")
        label.position, label.type = position, layer_type
        return label

    def __getnewargs__(self) -> tuple[int, str]:  # pickling (sweeps send records to processes)
        return self.position, self.type


class Record(NamedTuple):
    step: int
    layer: LayerLabel
    quantity: str
    value: float


class GradientRecorder:
    """Records per-layer gradient norms and activation statistics of a model's layers.

    The layers are the model's leaf modules (a Sequential's layers), labelled by the order in
    which the step's forward ran them. ``max_records`` bounds memory (the oldest records are
    dropped); ``every`` records one step in that many. Use as a context manager, or call
    ``detach()`` when done.
    """

    def __init__(self, model: Module, every: int = 1, max_records: int | None = None) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"GradientRecorder: expected a Module, got {type(model).__name__}")
        if every < 1:
            raise ValueError(f"GradientRecorder: every must be >= 1, got {every}")
        self.model, self.every = model, every
        self._records: deque[Record] = deque(maxlen=max_records)
        # A step's records wait here until the step is over: a backward retried after a
        # failure overwrites them instead of recording its rows twice, and a forward that
        # raised is no step (its records are dropped, its number given back).
        self._pending: dict[tuple[LayerLabel, str], Record] = {}
        self._forward_done = True  # the last step's forward ran to its end
        self._in_step = False  # a step's forward is running (it may be a skipped one)
        self.step = 0  # steps seen (forward passes in training mode with grad enabled)
        self._active = False  # the last graph built is a recorded step's: its backward counts
        self._forwarding = False  # a recorded step's forward is running
        self._labels: dict[int, LayerLabel] = {}  # id(layer) -> its first label in this step
        self._calls = 0  # layers run so far in this step's forward: the position of the next
        self._layer_hooks: dict[int, tuple[Module, list[RemovableHandle]]] = {}
        self._model_hooks = [model.register_forward_pre_hook(self._begin)]
        self._sync_layers()
        self._model_hooks.append(model.register_forward_hook(self._end))

    @property
    def records(self) -> deque[Record]:
        """Every record so far, oldest first (at most ``max_records``)."""
        self._flush()
        return self._records

    def layers(self) -> list[Module]:
        """The layers recorded: the model's modules that hold no other module."""
        leaves = [m for m in self.model.modules() if not m._modules]
        return leaves or [self.model]

    # ----------------------------------------------------------------------------- hooks
    def _begin(self, model: Module, inputs: tuple) -> None:
        self._forwarding = False
        if not _state.grad_enabled:
            # No graph, so no backward: a step still waiting for its backward keeps recording.
            return
        if not model.training:
            self._active = False  # backward through an eval-mode graph is not a step either
            return
        if not self._forward_done:  # the last step's forward raised: it was no step
            self._pending.clear()
            self.step -= 1
        self._flush()
        self._forward_done, self._in_step = False, True
        self.step += 1
        self._active = self._forwarding = (self.step - 1) % self.every == 0
        self._calls, self._labels = 0, {}
        if self._active:
            self._sync_layers()

    def _end(self, model: Module, inputs: tuple, output: Any) -> None:
        self._forwarding = False
        if self._in_step:
            self._forward_done, self._in_step = True, False

    def _sync_layers(self) -> None:
        """Hook layers added since the last step and unhook removed ones."""
        present = {id(layer): layer for layer in self.layers()}
        for key, layer in present.items():
            if key not in self._layer_hooks:
                handles = [layer.register_forward_hook(self._after_forward)]
                for name, param in layer.named_parameters():
                    quantity = f"{name.replace('.', '_')}_grad_norm"
                    hook = functools.partial(self._on_param_grad, key, quantity)
                    handles.append(param.register_hook(hook))
                self._layer_hooks[key] = (layer, handles)
        for key in [k for k in self._layer_hooks if k not in present]:
            for handle in self._layer_hooks.pop(key)[1]:
                handle.remove()

    def _add(self, step: int, label: LayerLabel, quantity: str, value: float) -> None:
        self._pending[label, quantity] = Record(step, label, quantity, float(value))

    def _flush(self) -> None:
        if self._pending and self._forward_done:
            self._records.extend(self._pending.values())
            self._pending.clear()

    def _on_param_grad(self, key: int, quantity: str, grad: Tensor) -> None:
        # a layer object used at several places: its parameters are labelled by the first
        if self._active and key in self._labels:
            self._add(self.step, self._labels[key], quantity, norm(grad.data))

    def _on_output_grad(self, step: int, label: LayerLabel, grad: Tensor) -> None:
        if self._model_hooks:  # still attached
            self._add(step, label, "output_grad_norm", norm(grad.data))

    def _after_forward(self, layer: Module, inputs: tuple, output: Any) -> None:
        if not self._forwarding:
            return
        # the count of calls is this call's position: right even for one layer placed twice
        label = LayerLabel(self._calls, type(layer).__name__)
        self._calls += 1
        self._labels.setdefault(id(layer), label)
        if not isinstance(output, Tensor):
            return
        data = output.data
        activation = activation_of(layer)
        if activation is not None and activation.dead_below_zero and data.ndim and data.size:
            # a unit is dead when it is positive for no example of the batch
            alive = np.count_nonzero((data.reshape(len(data), -1) > 0).any(axis=0))
            self._add(
                self.step, label, "dead_fraction", 1.0 - alive / (data.size // max(len(data), 1))
            )
        flat = data.ravel()
        mean = flat.sum() / data.size
        # Two passes (deviations from the mean, then their squares summed as one dot product):
        # E[x²] - mean² would cancel catastrophically when std << |mean|.
        deviation = flat - mean
        self._add(self.step, label, "activation_mean", float(mean))
        self._add(
            self.step,
            label,
            "activation_std",
            math.sqrt(float(deviation.dot(deviation)) / data.size),
        )
        if output.requires_grad:
            output.register_hook(functools.partial(self._on_output_grad, self.step, label))

    # ----------------------------------------------------------------------------- lifetime
    def detach(self) -> None:
        """Remove every hook; the records stay."""
        for handle in self._model_hooks:
            handle.remove()
        self._model_hooks.clear()
        for _, handles in self._layer_hooks.values():
            for handle in handles:
                handle.remove()
        self._layer_hooks.clear()
        self._flush()
        self._active = self._forwarding = False

    def __enter__(self) -> GradientRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()

    # ----------------------------------------------------------------------------- reading
    def history(self) -> list[Record]:
        """Every record as ``(step, layer, quantity, value)`` rows."""
        return list(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self.records))

    def __len__(self) -> int:
        return len(self.records)

    def at_step(self, step: int | None = None, quantity: str | None = None) -> dict[str, Any]:
        """``{layer: {quantity: value}}`` for one step (the last when None), in layer order."""
        step = self.step if step is None else step
        out: dict[str, dict[str, float]] = {}
        for record in self.records:
            if record.step == step and (quantity is None or record.quantity == quantity):
                out.setdefault(record.layer, {})[record.quantity] = record.value
        return dict(sorted(out.items(), key=lambda item: item[0].position))

    def series(self, layer: str, quantity: str) -> list[tuple[int, float]]:
        """``[(step, value), ...]`` of one quantity of one layer label."""
        return [
            (r.step, r.value) for r in self.records if r.layer == layer and r.quantity == quantity
        ]

    def to_csv(self, path: Any) -> None:
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(Record._fields)
            writer.writerows(self.records)

    def to_pandas(self) -> Any:
        """The history as a ``pandas.DataFrame`` (needs pandas installed)."""
        return to_pandas(self.records, Record._fields, "GradientRecorder.to_pandas")

    def _repr_markdown_(self) -> str:
        """In Jupyter: the last step, one row a layer and one column a quantity."""
        last = self.at_step()
        quantities = sorted({q for values in last.values() for q in values})
        rows = [[label] + [values.get(q, "") for q in quantities] for label, values in last.items()]
        return f"**{self!r}** — step {self.step}:\n\n" + markdown_table(
            ["layer", *quantities], rows
        )

    def __repr__(self) -> str:
        return (
            f"GradientRecorder({len(self._layer_hooks)} layers hooked, {self.step} steps, "
            f"{len(self)} records)"
        )
