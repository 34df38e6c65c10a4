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

A recurrent layer (`nn.RNN`, `nn.LSTM`, `nn.GRU`) is recorded by its output sequence, and through
time as well: ``time_grad_norms()`` holds, per recurrent layer and step, the norm of dL/dh_t for
every time step t of its output sequence, the gradient backpropagation through time carries
back to h_t (from the output at t and from step t + 1 together).
"""

from __future__ import annotations

import csv
import math
from collections import deque
from collections.abc import Iterator
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from tinygrad_lab import grad_mode
from tinygrad_lab.display import markdown_table, to_pandas
from tinygrad_lab.grad_mode import state as _state
from tinygrad_lab.hooks import RemovableHandle
from tinygrad_lab.nn.activations import activation_of
from tinygrad_lab.nn.module import Module, leaf_modules, structure_changes
from tinygrad_lab.tensor import Tensor


class LayerLabel(str):
    """A layer as one step saw it: the string ``"3:Linear"``, with ``position`` and ``type``
    (read off the string: it has no attributes of its own)."""

    __slots__ = ()

    def __new__(cls, position: int, layer_type: str) -> LayerLabel:
        return super().__new__(cls, f"{position}:{layer_type}")

    @property
    def position(self) -> int:
        return int(self.partition(":")[0])

    @property
    def type(self) -> str:
        return self.partition(":")[2]

    def __getnewargs__(self) -> tuple[int, str]:  # pickling (sweeps send records to processes)
        return self.position, self.type


class Record(NamedTuple):
    step: int
    layer: LayerLabel
    quantity: str
    value: float


_ONES: dict[tuple[int, Any], np.ndarray] = {}


def activation_statistics(data: np.ndarray, dead: str | None) -> tuple[float, float, float | None]:
    """Mean, standard deviation and (``dead`` given) dead fraction of a layer's output.

    Fewer, larger NumPy calls than the textbook's: a product with a vector of ones (BLAS) sums
    every unit over the examples, one dot product sums the squares. The variance is then
    E[x²] − mean², which cancels when the spread is small against the mean: below a tenth of the
    root mean square (the relative error would pass 100 ulps), the two-pass formula is used.
    A unit is dead when it is positive for no example: for outputs >= 0 (rule "zero"), exactly
    when its sum is 0; otherwise (rule "positive") its positive entries are counted.
    """
    rows = (
        data if data.ndim == 2 else data.reshape(len(data), -1) if data.ndim else data.reshape(1, 1)
    )
    ones = _ONES.get((len(rows), data.dtype))
    if ones is None:
        ones = _ONES[len(rows), data.dtype] = np.ones(len(rows), data.dtype)
    column_sums = np.dot(ones, rows)  # (np.dot: less dispatch than the @ ufunc)
    flat = rows.ravel()
    size = flat.size
    mean = sum(column_sums.tolist()) / size  # (a few numbers: Python's sum is cheaper)
    mean_square = float(flat.dot(flat)) / size
    variance = mean_square - mean * mean
    if variance < 0.01 * mean_square:
        deviation = flat - mean
        variance = float(deviation.dot(deviation)) / size
    if dead is None:
        return mean, math.sqrt(variance), None
    units = column_sums if dead == "zero" else np.dot(ones, rows > 0)
    return mean, math.sqrt(variance), 1.0 - int(np.count_nonzero(units)) / rows.shape[1]


class _Layer(NamedTuple):
    """A layer the recorder has hooked: the module, its hook handles, how its dead units count,
    its type's name (each of its forward hooks is handed this)."""

    module: Module
    handles: list[RemovableHandle]
    dead: str | None  # "zero" (outputs >= 0: dead when a unit's sum is 0), "positive", or None
    name: str


def _dead_rule(layer: Module) -> str | None:
    activation = activation_of(layer)
    if activation is None or not activation.dead_below_zero:
        return None
    return "zero" if activation.nonnegative else "positive"


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
        # Plain tuples (step, layer, quantity, value) of plain values, the layer's label a str:
        # the garbage collector stops following those, not named tuples nor tuples that hold
        # a `LayerLabel` (a str subclass, which it tracks). They become `Record`s when read.
        self._records: deque[tuple] = deque(maxlen=max_records)
        # A step's rows wait until the step is over: a backward retried after a failure
        # overwrites its rows instead of recording them twice, and a forward that raised is no
        # step (its rows are dropped, its number given back). Forward's rows, in layer order,
        # then backward's, in the order they arrived, by (step, layer, quantity):
        self._forward_rows: list[tuple] = []
        self._backward_rows: dict[tuple, tuple] = {}
        # Per step and recurrent layer, ‖dL/dh_t‖ for every t: (step, label, array), kept as
        # many steps as records (bounded by max_records steps when it is given).
        self._time_norms: deque[tuple[int, str, np.ndarray]] = deque(maxlen=max_records)
        self._forward_done = True  # the last step's forward ran to its end
        self._in_step = False  # a step's forward is running (it may be a skipped one)
        self.step = 0  # steps seen (forward passes in training mode with grad enabled)
        self._active = False  # the last graph built is a recorded step's: its backward counts
        self._forwarding = False  # a recorded step's forward is running
        self._labels: dict[int, str] = {}  # id(layer) -> its first label in this step
        self._label_cache: dict[tuple[int, str], str] = {}  # (position, type) -> label
        self._label_objects: dict[str, LayerLabel] = {}  # label -> the LayerLabel read back
        self._calls = 0  # layers run so far in this step's forward: the position of the next
        self._layers: dict[int, _Layer] = {}
        self._synced = -1  # the model-structure count at the last sync of the hooks
        self._model_hooks = [model.register_forward_pre_hook(self._begin)]
        self._sync_layers()
        self._model_hooks.append(model.register_forward_hook(self._end))

    def __setstate__(self, state: dict) -> None:
        """After a copy (pickle, deepcopy), the layers are new objects: key them anew."""
        self.__dict__.update(state)
        self._layers = {id(layer.module): layer for layer in self._layers.values()}
        self._labels, self._synced = {}, -1

    @property
    def records(self) -> list[Record]:
        """Every record so far, oldest first (at most ``max_records``)."""
        self._flush()
        labels = self._label_objects
        return [Record(step, labels[label], q, v) for step, label, q, v in self._records]

    def _rows(self) -> deque[tuple]:
        self._flush()
        return self._records

    def layers(self) -> list[Module]:
        """The layers recorded: the model's modules that hold no other module."""
        return leaf_modules(self.model)

    # ----------------------------------------------------------------------------- hooks
    def _begin(self, model: Module, inputs: tuple) -> None:
        self._forwarding = False
        if grad_mode.switched and not _state.grad_enabled:
            # No graph, so no backward: a step still waiting for its backward keeps recording.
            return
        if not model.training:
            self._active = False  # backward through an eval-mode graph is not a step either
            return
        if not self._forward_done:  # the last step's forward raised: it was no step
            self._drop_pending()
            self.step -= 1
        self._flush()
        self._forward_done, self._in_step = False, True
        self.step += 1
        self._active = self._forwarding = (self.step - 1) % self.every == 0
        self._calls, self._labels = 0, {}
        if self._active and self._synced != structure_changes():
            self._sync_layers()

    def _end(self, model: Module, inputs: tuple, output: Any) -> None:
        self._forwarding = False
        if self._in_step:
            self._forward_done, self._in_step = True, False

    def _sync_layers(self) -> None:
        """Hook layers added since the last sync and unhook removed ones."""
        self._synced = structure_changes()
        present = {id(layer): layer for layer in self.layers()}
        for key, layer in present.items():
            if key not in self._layers:
                info = _Layer(layer, [], _dead_rule(layer), type(layer).__name__)
                info.handles.append(layer.register_forward_hook(partial(self._after_forward, info)))
                for name, param in layer.named_parameters():
                    quantity = f"{name.replace('.', '_')}_grad_norm"
                    hook = partial(self._on_param_grad, layer, quantity)
                    info.handles.append(param.register_hook(hook))
                self._layers[key] = info
        for key in [k for k in self._layers if k not in present]:
            for handle in self._layers.pop(key).handles:
                handle.remove()

    def _after_forward(self, info: _Layer, layer: Module, inputs: tuple, output: Any) -> None:
        if not self._forwarding:
            return
        # the count of calls is this call's position: right even for one layer placed twice
        position = self._calls
        self._calls = position + 1
        label = self._label_cache.get((position, info.name))
        if label is None:
            layer_label = LayerLabel(position, info.name)
            label = self._label_cache[position, info.name] = str(layer_label)
            self._label_objects[label] = layer_label
        if id(layer) not in self._labels:  # its parameters are labelled by its first place
            self._labels[id(layer)] = label
        if type(output) is tuple and output and isinstance(output[0], Tensor):
            unrolled = getattr(output[0]._ctx, "unrolled", None)
            if unrolled is None:
                return
            self._hook_time_steps(label, unrolled.hidden)  # a recurrent layer, through time
            output = output[0]  # recorded by its output sequence
        if not isinstance(output, Tensor) or not output.data.size:
            return
        step, rows = self.step, self._forward_rows
        mean, std, dead = activation_statistics(output.data, info.dead)
        if dead is not None:
            rows.append((step, label, "dead_fraction", dead))
        rows.append((step, label, "activation_mean", mean))
        rows.append((step, label, "activation_std", std))
        if output.requires_grad:
            key = (step, label, "output_grad_norm")
            output.register_hook(partial(self._on_output_grad, key))

    def _hook_time_steps(self, label: str, hidden: tuple[Tensor, ...]) -> None:
        """Hook every h_t of a recurrent layer's output sequence: its gradient's norm goes into
        this step's array for the layer (0 where no gradient reaches h_t: L does not depend
        on it)."""
        norms = np.zeros(len(hidden))
        self._time_norms.append((self.step, label, norms))
        for t, h in enumerate(hidden):
            if h.requires_grad:
                h.register_hook(partial(self._on_time_grad, norms, t))

    def _on_time_grad(self, norms: np.ndarray, t: int, grad: Tensor) -> None:
        if self._model_hooks:  # still attached
            flat = grad.data.ravel("K")
            norms[t] = math.sqrt(flat.dot(flat))

    # A gradient's norm is `display.norm`'s computation written out (one call less a gradient):
    # one dot product of the array, in memory order, with itself.
    def _on_output_grad(self, key: tuple, grad: Tensor) -> None:
        if self._model_hooks:  # still attached
            flat = grad.data.ravel("K")
            self._backward_rows[key] = (*key, math.sqrt(flat.dot(flat)))

    def _on_param_grad(self, layer: Module, quantity: str, grad: Tensor) -> None:
        # a layer object used at several places: its parameters are labelled by the first
        label = self._labels.get(id(layer))
        if self._active and label is not None:
            key = (self.step, label, quantity)
            flat = grad.data.ravel("K")
            self._backward_rows[key] = (*key, math.sqrt(flat.dot(flat)))

    def _flush(self) -> None:
        """Move a finished step's rows into the records: forward's, then backward's."""
        if self._forward_done:
            if self._forward_rows:
                self._records.extend(self._forward_rows)
                self._forward_rows.clear()
            if self._backward_rows:
                self._records.extend(self._backward_rows.values())
                self._backward_rows.clear()

    def _drop_pending(self) -> None:
        self._forward_rows.clear()
        self._backward_rows.clear()
        while self._time_norms and self._time_norms[-1][0] == self.step:
            self._time_norms.pop()

    # ----------------------------------------------------------------------------- lifetime
    def detach(self) -> None:
        """Remove every hook; the records stay."""
        for handle in self._model_hooks:
            handle.remove()
        self._model_hooks.clear()
        for layer in self._layers.values():
            for handle in layer.handles:
                handle.remove()
        self._layers.clear()
        self._flush()
        self._active = self._forwarding = False

    def __enter__(self) -> GradientRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()

    # ----------------------------------------------------------------------------- reading
    def history(self) -> list[Record]:
        """Every record as ``(step, layer, quantity, value)`` rows."""
        return self.records

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self._rows())

    def at_step(self, step: int | None = None, quantity: str | None = None) -> dict[str, Any]:
        """``{layer: {quantity: value}}`` for one step (the last when None), in layer order."""
        step = self.step if step is None else step
        out: dict[str, dict[str, float]] = {}
        labels = self._label_objects
        for at, layer, name, value in self._rows():
            if at == step and (quantity is None or name == quantity):
                out.setdefault(labels[layer], {})[name] = value
        return dict(sorted(out.items(), key=lambda item: item[0].position))

    def time_grad_norms(self, step: int | None = None) -> dict[LayerLabel, np.ndarray]:
        """``{layer: norms}`` for each recurrent layer of one step (the last when None):
        ``norms[t - 1]`` is ‖dL/dh_t‖ for t = 1 .. T, the gradient that backpropagation through
        time brings to the layer's hidden state at time step t (a copy). Their ratio
        ``norms[0] / norms[-1]`` is how much the gradient shrank (or grew) over the sequence."""
        step = self.step if step is None else step
        labels = self._label_objects
        return {labels[label]: norms.copy() for at, label, norms in self._time_norms if at == step}

    def series(self, layer: str, quantity: str) -> list[tuple[int, float]]:
        """``[(step, value), ...]`` of one quantity of one layer label."""
        return [(r[0], r[3]) for r in self._rows() if r[1] == layer and r[2] == quantity]

    def to_csv(self, path: Any) -> None:
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(Record._fields)
            writer.writerows(self._rows())

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
            f"GradientRecorder({len(self._layers)} layers hooked, {self.step} steps, "
            f"{len(self)} records)"
        )
