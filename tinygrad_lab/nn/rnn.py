"""Recurrent layers, as PyTorch defines them: the cells `RNNCell`, `LSTMCell`, `GRUCell` (one
time step) and the layers `RNN`, `LSTM`, `GRU` (a whole sequence, ``num_layers`` deep).

Each is written from the engine's ops (matmul, sigmoid, tanh, slicing, cat, stack): the graph of
a sequence is the cell's graph repeated once per time step, *unrolled*, and backward through it
is backpropagation through time. Its gradients, and their gradients, are the ops' own.

The parameters have PyTorch's names, shapes, gate order and initialisation, so a PyTorch
``state_dict`` loads as it is: for layer ``k`` of ``hidden_size`` H and G gates (1 for RNN, 4
for LSTM, 3 for GRU), ``weight_ih_l{k}`` (G·H, input_size; H for k > 0), ``weight_hh_l{k}``
(G·H, H), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (G·H,), each drawn from U(-1/√H, 1/√H) in that
order (the cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``). Truncated BPTT is
``h.detach()`` between chunks of a sequence (docs/rnn.md).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lab import ops
from tinygrad_lab.nn import init as nn_init
from tinygrad_lab.nn.layers import _whole
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.tensor import Tensor

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU", "Unrolled", "time_steps"]

NONLINEARITIES = ("tanh", "relu")
_ALL = slice(None)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


@dataclass(frozen=True, eq=False)
class Unrolled:
    """What one forward of a recurrent layer unrolled, kept on the ops that made its outputs
    (``output.grad_fn.unrolled``): the gradient recorder hooks ``hidden``, the drawing and the
    trace group the ops of each time step. Nothing reads it on the engine's path."""

    module: Module
    hidden: tuple[Tensor, ...]  # the last layer's h_t for t = 0 .. T-1: the output sequence
    steps: tuple[tuple[Tensor, ...], ...]  # per time step, the states it made (every layer's)
    before: tuple[Tensor, ...]  # what the time loop started from (input, weights, h0)

    @functools.cached_property
    def time_step_of(self) -> dict[int, int]:
        """``{id(tensor or op): t}`` for what time step t made (t = 1 .. T, as h_1 .. h_T):
        the graph from each step's states down to the previous step's and to what the loop
        started from."""
        stop = {id(t) for t in self.before}
        found: dict[int, int] = {}
        for t, states in enumerate(self.steps, start=1):
            stack = list(states)
            while stack:
                tensor = stack.pop()
                if id(tensor) in stop or id(tensor) in found:
                    continue
                found[id(tensor)] = t
                if tensor._ctx is not None:
                    found.setdefault(id(tensor._ctx), t)
                    stack.extend(tensor._ctx.parents)
        return found


def time_steps(ops: Any) -> dict[int, tuple[int, int]]:
    """``{id(tensor or op): (k, t)}`` over the ops given: what time step t of the k-th unrolled
    recurrent forward among them made (the drawing's and the trace's clusters)."""
    records = list({id(u): u for op in ops if (u := getattr(op, "unrolled", None))}.values())
    return {key: (k, t) for k, u in enumerate(records) for key, t in u.time_step_of.items()}


# ----------------------------------------------------------------------------- one time step
# Each step takes the input x_t (N, I), the state, and the layer's weights prepared once per
# forward (`_prepare`): ``w`` the two weight matrices transposed and stacked, so that
# ``[x_t, h] @ w`` is W_ih x_t + W_hh h for every gate at once (one matmul a step), ``b`` the
# two biases added (or None). GRU keeps them apart: its candidate needs W_hn h + b_hn alone.


def _gates(x: Tensor, h: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """[x_t, h] W + b: every gate's pre-activation in one product, (N, G·H)."""
    xh = ops.Concatenate.apply(x, h, axis=1)
    return ops.Affine.apply(xh, w) if b is None else ops.Affine.apply(xh, w, b)


def _rnn_step(x: Tensor, h: Tensor, weights: tuple, relu: bool) -> Tensor:
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)   (or ReLU)."""
    z = _gates(x, h, *weights)
    return z.relu() if relu else z.tanh()


def _lstm_step(x: Tensor, h: Tensor, c: Tensor, weights: tuple, size: int) -> tuple:
    """The LSTM, gates in PyTorch's order i, f, g, o::

    i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
    f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate cell
    o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
    c' = f ⊙ c + i ⊙ g
    h' = o ⊙ tanh(c')
    """
    gates = _gates(x, h, *weights)
    s = gates.sigmoid()  # σ of all four at once (g's quarter unused): one op, not three
    i = ops.GetItem.apply(s, index=(_ALL, slice(0, size)))
    f = ops.GetItem.apply(s, index=(_ALL, slice(size, 2 * size)))
    o = ops.GetItem.apply(s, index=(_ALL, slice(3 * size, 4 * size)))
    g = ops.GetItem.apply(gates, index=(_ALL, slice(2 * size, 3 * size))).tanh()
    c = f * c + i * g
    return o * c.tanh(), c


def _gru_step(x: Tensor, h: Tensor, weights: tuple, size: int) -> Tensor:
    """The GRU, gates in PyTorch's order r, z, n::

    r = σ(W_ir x + b_ir + W_hr h + b_hr)          reset gate
    z = σ(W_iz x + b_iz + W_hz h + b_hz)          update gate
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))  candidate
    h' = (1 - z) ⊙ n + z ⊙ h  =  n + z ⊙ (h - n)
    """
    w_ih, w_hh, b_ih, b_hh = weights
    gi = ops.Affine.apply(x, w_ih) if b_ih is None else ops.Affine.apply(x, w_ih, b_ih)
    gh = ops.Affine.apply(h, w_hh) if b_hh is None else ops.Affine.apply(h, w_hh, b_hh)
    rz_index, n_index = (_ALL, slice(0, 2 * size)), (_ALL, slice(2 * size, 3 * size))
    rz = (ops.GetItem.apply(gi, index=rz_index) + ops.GetItem.apply(gh, index=rz_index)).sigmoid()
    r = ops.GetItem.apply(rz, index=(_ALL, slice(0, size)))
    z = ops.GetItem.apply(rz, index=(_ALL, slice(size, 2 * size)))
    hn = ops.GetItem.apply(gh, index=n_index)
    n = (ops.GetItem.apply(gi, index=n_index) + r * hn).tanh()
    return n + z * (h - n)


# ----------------------------------------------------------------------------- the shared part
class _Recurrent(Module):
    """What the cells and the layers share: the arguments, PyTorch's parameters and their
    initialisation, the weights prepared for the time loop, and the input checks."""

    gates = 1  # G: how many blocks of H rows each weight holds
    mode = "RNN_TANH"  # PyTorch's name of the recurrence: RNN_TANH, RNN_RELU, LSTM, GRU

    def _arguments(self, input_size: Any, hidden_size: Any, bias: Any) -> None:
        name = type(self).__name__
        self.input_size = _whole(name, "input_size", input_size, 1)
        self.hidden_size = _whole(name, "hidden_size", hidden_size, 1)
        if not isinstance(bias, bool | np.bool_):
            raise TypeError(f"{name}: bias must be True or False, got {bias!r}")
        self.bias = bool(bias)

    def _add_weights(self, suffix: str, input_size: int, dtype: Any) -> None:
        """weight_ih, weight_hh, bias_ih, bias_hh (with ``suffix``), in PyTorch's order."""
        rows = self.gates * self.hidden_size
        setattr(self, "weight_ih" + suffix, Parameter(np.zeros((rows, input_size)), dtype=dtype))
        setattr(self, "weight_hh" + suffix, Parameter(np.zeros((rows, self.hidden_size)), dtype))
        if self.bias:
            setattr(self, "bias_ih" + suffix, Parameter(np.zeros(rows), dtype=dtype))
            setattr(self, "bias_hh" + suffix, Parameter(np.zeros(rows), dtype=dtype))

    def reset_parameters(self, rng: Any = None) -> None:
        """Every parameter from U(-1/√H, 1/√H), in registration order, as PyTorch's."""
        bound = 1 / math.sqrt(self.hidden_size)
        rng = nn_init.generator(rng)
        for param in self.parameters():
            nn_init.uniform_(param, -bound, bound, rng=rng)

    def _prepare(self, suffix: str = "") -> tuple:
        """The weights as one time step uses them, made once per forward (see `_gates`)."""
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        if self.mode == "GRU":
            return w_ih.T, w_hh.T, b_ih, b_hh
        w = ops.Concatenate.apply(w_ih.T, w_hh.T, axis=0)  # (I + H, G·H)
        return w, (None if b_ih is None else b_ih + b_hh)

    def _step(self, x: Tensor, state: tuple, weights: tuple) -> tuple:
        """One time step: the new state, (h,) or for the LSTM (h, c)."""
        if self.mode == "LSTM":
            return _lstm_step(x, state[0], state[1], weights, self.hidden_size)
        if self.mode == "GRU":
            return (_gru_step(x, state[0], weights, self.hidden_size),)
        return (_rnn_step(x, state[0], weights, self.mode == "RNN_RELU"),)

    def _state_count(self) -> int:
        return 2 if self.mode == "LSTM" else 1

    def _title(self) -> str:
        return f"{type(self).__name__}({self.input_size} → {self.hidden_size})"


def _nonlinearity_mode(layer: str, nonlinearity: Any) -> str:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


# ----------------------------------------------------------------------------- the cells
class _Cell(_Recurrent):
    """One time step: ``cell(input, hx)`` with input (N, input_size) or unbatched
    (input_size,), the state (N, hidden_size) or (hidden_size,); hx None is zeros."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self._arguments(input_size, hidden_size, bias)
        self._add_weights("", self.input_size, dtype)
        self.reset_parameters(rng)

    def _run(self, input: Any, states: tuple) -> tuple:  # noqa: A002
        x = _as_tensor(input)
        title = self._title()
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{title} expects input (N, {self.input_size}) or unbatched "
                f"({self.input_size},), got {x.shape}"
            )
        batched = x.ndim == 2
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        names = ("hx", "cx") if len(states) == 2 else ("hx",)
        given = []
        for name, state in zip(names, states, strict=True):
            if state is None:
                given.append(None)
                continue
            state = _as_tensor(state)
            if state.shape != expected:
                raise ValueError(
                    f"{title} expects {name} of shape {expected} for input {x.shape}, got "
                    f"{state.shape}"
                )
            given.append(state if batched else state.reshape(1, self.hidden_size))
        if not batched:
            x = x.reshape(1, self.input_size)
        dtype = np.result_type(x.dtype, self.weight_ih.dtype)
        zeros = np.zeros((x.shape[0], self.hidden_size), dtype)
        state = tuple(Tensor(zeros) if s is None else s for s in given)
        out = self._step(x, state, self._prepare())
        return out if batched else tuple(s.reshape(self.hidden_size) for s in out)

    def extra_repr(self) -> str:
        text = f"{self.input_size} → {self.hidden_size}"
        return text + ("" if self.bias else ", bias=False")


class RNNCell(_Cell):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (``nonlinearity="relu"``: ReLU), one step:
    ``h = cell(x, h)``. ``weight_ih`` (H, input_size), ``weight_hh`` (H, H), biases (H,)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        mode = _nonlinearity_mode("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, rng=rng, dtype=dtype)
        self.mode, self.nonlinearity = mode, nonlinearity

    def forward(self, input: Any, hx: Any = None) -> Tensor:  # noqa: A002
        return self._run(input, (hx,))[0]

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + ("" if self.nonlinearity == "tanh" else ", nonlinearity='relu'")


class LSTMCell(_Cell):
    """One LSTM step (equations in `_lstm_step`): ``h, c = cell(x, (h, c))``; hx None starts
    from zeros. ``weight_ih`` (4H, input_size) and ``weight_hh`` (4H, H) hold the gates i, f,
    g, o in that order, as PyTorch's."""

    gates, mode = 4, "LSTM"

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        return tuple(self._run(input, _pair(self._title(), hx)))


class GRUCell(_Cell):
    """One GRU step (equations in `_gru_step`): ``h = cell(x, h)``. ``weight_ih`` (3H,
    input_size) and ``weight_hh`` (3H, H) hold the gates r, z, n in that order, as PyTorch's."""

    gates, mode = 3, "GRU"

    def forward(self, input: Any, hx: Any = None) -> Tensor:  # noqa: A002
        return self._run(input, (hx,))[0]


def _pair(title: str, hx: Any) -> tuple:
    """An LSTM's (h, c), or (None, None) for hx None; anything else is an error naming it."""
    if hx is None:
        return None, None
    if not isinstance(hx, tuple | list) or len(hx) != 2:
        raise TypeError(
            f"{title} expects hx as a tuple (h, c) of two tensors, or None, got {type(hx).__name__}"
        )
    return tuple(hx)


# ----------------------------------------------------------------------------- the layers
class _Layer(_Recurrent):
    """A whole sequence through ``num_layers`` stacked recurrences (see the module docstring).

    ``rnn(input, h0)`` with input (L, N, input_size) (``batch_first``: (N, L, input_size)) or
    unbatched (L, input_size), h0 (num_layers, N, hidden_size) (unbatched: (num_layers,
    hidden_size)) or None for zeros. Returns ``(output, h_n)``: output holds the last layer's
    h_t for every t, (L, N, hidden_size) (batch_first: (N, L, hidden_size)); h_n every layer's
    last state. ``dropout`` zeroes each layer's output but the last's in training mode, every
    mask drawn from ``rng`` (as `Dropout`); ``rng`` also draws the initial weights."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self._arguments(input_size, hidden_size, bias)
        self.num_layers = _whole(name, "num_layers", num_layers, 1)
        if not isinstance(batch_first, bool | np.bool_):
            raise TypeError(f"{name}: batch_first must be True or False, got {batch_first!r}")
        self.batch_first = bool(batch_first)
        ok = isinstance(dropout, int | float) and not isinstance(dropout, bool)
        if not ok or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.dropout = float(dropout)
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(
                f"{name}: dropout={dropout} acts between layers, so with num_layers=1 it does "
                "nothing (as in PyTorch)",
                UserWarning,
                stacklevel=2,
            )
        if bidirectional:
            raise NotImplementedError(
                f"{name}: bidirectional=True is not implemented here; run a second {name} on "
                "the reversed sequence and concatenate the outputs"
            )
        self.bidirectional = False
        for k in range(self.num_layers):
            self._add_weights(f"_l{k}", self.input_size if k == 0 else self.hidden_size, dtype)
        self.rng = nn_init.generator(rng)
        self.reset_parameters(self.rng)

    # ------------------------------------------------------------------------- checks
    def _check(self, x: Tensor, hx: tuple) -> tuple[bool, tuple]:
        """Whether the input is batched, and the initial states, each (num_layers, N, H) or
        None; any misfit is an error naming the layer, before anything runs."""
        title = self._title()
        layout = "(N, L, {0})" if self.batch_first else "(L, N, {0})"
        expected = (layout + " or unbatched (L, {0})").format(self.input_size)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(f"{title} expects input {expected}, got {x.shape}")
        batched = x.ndim == 3
        length = x.shape[1 if batched and self.batch_first else 0]
        if length == 0:
            raise ValueError(f"{title} expects a sequence of length >= 1, got input {x.shape}")
        batch = x.shape[0 if self.batch_first else 1] if batched else None
        shape = (self.num_layers, batch, self.hidden_size) if batched else None
        shape = shape or (self.num_layers, self.hidden_size)
        names = ("h0", "c0") if len(hx) == 2 else ("h0",)
        states = []
        for name, state in zip(names, hx, strict=True):
            if state is not None:
                state = _as_tensor(state)
                if state.shape != shape:
                    raise ValueError(
                        f"{title} expects {name} of shape {shape} for input {x.shape}, got "
                        f"{state.shape}"
                    )
            states.append(state)
        return batched, tuple(states)

    # ------------------------------------------------------------------------- the loop
    def _run(self, input: Any, hx: tuple) -> tuple[Tensor, tuple]:  # noqa: A002
        x = _as_tensor(input)
        batched, given = self._check(x, hx)
        if not batched:  # one sequence: a batch of one, taken off again at the end
            one = (1, x.shape[0]) if self.batch_first else (x.shape[0], 1)  # (batch_first: N, L)
            x = x.reshape(*one, self.input_size)
            given = tuple(None if s is None else s.reshape(self.num_layers, 1, -1) for s in given)
        batch, length = x.shape[:2] if self.batch_first else x.shape[1::-1]
        dtype = np.result_type(x.dtype, self.weight_ih_l0.dtype)
        zeros = Tensor(np.zeros((batch, self.hidden_size), dtype))
        before = [x, *(s for s in given if s is not None)]
        steps: list[list[Tensor]] = [[] for _ in range(length)]
        last_states: list[tuple] = []
        dropping = self.dropout > 0 and self.training
        inputs: list[Tensor] = []  # the layer below's outputs
        for k in range(self.num_layers):
            weights = self._prepare(f"_l{k}")
            state = tuple(zeros if s is None else s[k] for s in given)
            before.extend(w for w in (*weights, *state) if w is not None)
            outputs = []
            for t in range(length):  # x_t read, or the layer below's h_t dropped out, at step t
                if k == 0:
                    x_t = x[:, t] if self.batch_first else x[t]
                elif dropping:
                    x_t = ops.Dropout.apply(inputs[t], p=self.dropout, rng=self.rng)
                else:
                    x_t = inputs[t]
                state = self._step(x_t, state, weights)
                steps[t].extend(state)
                outputs.append(state[0])
            last_states.append(state)
            inputs = outputs
        output = ops.Stack.apply(*outputs, axis=1 if self.batch_first else 0)
        finals = tuple(
            ops.Stack.apply(*(s[j] for s in last_states), axis=0)
            for j in range(self._state_count())
        )
        stacked = (output, *finals)
        if not batched:
            output = output.reshape(length, self.hidden_size)
            finals = tuple(s.reshape(self.num_layers, self.hidden_size) for s in finals)
        unrolled = Unrolled(self, tuple(outputs), tuple(map(tuple, steps)), tuple(before))
        for made in {*stacked, output, *finals}:  # (unbatched: the stacks and their reshapes)
            if made._ctx is not None:
                made._ctx.unrolled = unrolled
        return output, finals

    def extra_repr(self) -> str:
        text = f"{self.input_size} → {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += ", nonlinearity='relu'"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text


class RNN(_Layer):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) per layer (ReLU with
    ``nonlinearity="relu"``), the arguments in PyTorch's order. ``rnn(input, h0)`` returns
    ``(output, h_n)`` (see `_Layer`)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        mode = _nonlinearity_mode("RNN", nonlinearity)
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            rng=rng, dtype=dtype,
        )  # fmt: skip
        self.mode, self.nonlinearity = mode, nonlinearity

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        output, (h_n,) = self._run(input, (hx,))
        return output, h_n


class LSTM(_Layer):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), per layer and time step the
    equations of `_lstm_step`. ``lstm(input, (h0, c0))`` returns ``(output, (h_n, c_n))``;
    without the state, zeros. (PyTorch's ``proj_size`` is not here.)"""

    gates, mode = 4, "LSTM"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        if proj_size:
            raise NotImplementedError(f"LSTM: proj_size={proj_size!r} is not implemented here")
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            rng=rng, dtype=dtype,
        )  # fmt: skip

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:  # noqa: A002
        output, (h_n, c_n) = self._run(input, _pair(self._title(), hx))
        return output, (h_n, c_n)


class GRU(_Layer):
    """Gated recurrent unit (Cho et al., 2014), per layer and time step the equations of
    `_gru_step`. ``gru(input, h0)`` returns ``(output, h_n)``."""

    gates, mode = 3, "GRU"

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        output, (h_n,) = self._run(input, (hx,))
        return output, h_n
