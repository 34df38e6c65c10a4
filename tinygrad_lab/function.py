"""`Function`: the one way an operation enters the graph.

Every op, built-in or yours, is a subclass with two static methods working on plain ndarrays::

    class Mul(Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y, grad * x      # d(x*y)/dx = y, d(x*y)/dy = x

and is called as ``Mul.apply(a, b)``. ``apply`` runs ``forward`` on the inputs' arrays and, when
any input requires grad, keeps the ``Function`` instance as the output's ``_ctx``: the graph node
that ``Tensor.backward`` later visits. ``backward`` may return gradients in a broadcast shape; the
engine sums them back to each input's shape in one place (`unbroadcast`).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_lab._state import state as _state

if TYPE_CHECKING:
    from tinygrad_lab.tensor import Tensor

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_site() -> str:
    """The ``file:line`` of the innermost caller outside tinygrad_lab (where the user wrote it)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


class Function:
    """Base class of every op; an instance is the context (``ctx``) of one node of the graph.

    Attributes set by ``apply``: ``parents`` (the input Tensors), ``needs_input_grad`` (one bool
    per input) and ``saved_tensors`` (what ``save_for_backward`` kept). Store other non-array
    values (an axis, a shape) as plain attributes of ``ctx``.
    """

    parents: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[np.ndarray, ...] | None = ()  # None once backward released them
    # Filled only while sites are recorded (anomaly mode or a backward trace): the user code line
    # that created the node, and the innermost Module running when it was created.
    site: str | None = None
    module: Any = None

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep arrays for ``backward``; they are released after backward unless retained."""
        self.saved_tensors = arrays

    @staticmethod
    def forward(ctx: Function, *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, grad: np.ndarray) -> np.ndarray | tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def released(self) -> bool:
        """True once backward has run through this node without ``retain_graph``."""
        return self.saved_tensors is None

    def saved_nbytes(self) -> int:
        """Bytes of the arrays this node keeps for backward (0 once released)."""
        return sum(a.nbytes for a in self.saved_tensors or () if isinstance(a, np.ndarray))

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Tensor:
        """Run the op forward on ``inputs`` (Tensors or array-likes) and record it in the graph."""
        # (list comprehensions, not generators: this runs for every op, and they are faster)
        parents = tuple([x if isinstance(x, Tensor) else Tensor(x) for x in inputs])
        ctx = cls()
        ctx.parents = parents
        ctx.needs_input_grad = needs = tuple([p.requires_grad for p in parents])
        try:
            out = cls.forward(ctx, *[p.data for p in parents], **kwargs)
        except ValueError as err:
            # Name the op and every input shape: numpy's own message names neither.
            if str(err).startswith(cls.__name__):
                raise
            shapes = ", ".join(str(p.shape) for p in parents)
            raise ValueError(f"{cls.__name__}: inputs of shapes {shapes}: {err}") from None
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if _state.record_sites:
            ctx.site = user_site()
            ctx.module = _state.module_stack[-1] if _state.module_stack else None
        if _state.anomaly:
            _check_finite(out, ctx, "forward result")
        # Build the output without Tensor.__init__'s validation: forward returned an ndarray.
        result = Tensor.__new__(Tensor)
        result.data = out
        result.grad = None
        result._hooks = None
        result._retains_grad = False
        result.name = None
        if _state.grad_enabled and True in needs:
            result.requires_grad = True
            result._ctx = ctx
        else:
            result.requires_grad = False
            result._ctx = None
        return result


def _check_finite(array: np.ndarray, ctx: Function, what: str) -> None:
    if not np.all(np.isfinite(array)):
        bad = "NaN" if np.isnan(array).any() else "inf"
        raise RuntimeError(
            f"detect_anomaly: {ctx.name} produced {bad} in its {what} "
            f"(op created at {ctx.site or '<unknown>'})"
        )


from tinygrad_lab.tensor import Tensor  # noqa: E402  (Tensor's methods need Function first)
