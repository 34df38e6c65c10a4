"""`Tensor`: an ndarray that remembers how it was made, and `backward()` that walks that back.

Each op's output keeps the `Function` that made it (``_ctx``); ``ctx.parents`` are its inputs. That
is the whole graph. ``backward()`` orders it topologically (iteratively: a 100,000-op chain is
fine) and calls each node's ``backward`` from the output towards the leaves, summing gradients
where a tensor fed several ops. Hooks, anomaly checks and graph release stay off the main line.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_lab._state import state as _state
from tinygrad_lab.function import Function, _check_finite, unbroadcast

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_handle_ids = itertools.count()


class RemovableHandle:
    """Returned by every ``register_*hook``: ``remove()`` detaches the hook (idempotent)."""

    def __init__(self, hooks: dict, key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``data`` as a float32 or float64 ndarray; numbers, bools and ints become float64."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in _FLOAT_DTYPES:
            raise TypeError(f"Tensor: dtype must be float32 or float64, got {dtype}")
    try:
        array = np.asarray(data, dtype=dtype) if dtype is not None else np.asarray(data)
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"Tensor: expected numbers or a rectangular array of them, got "
            f"{type(data).__name__} {_short(data)} ({err})"
        ) from None
    if array.dtype in _FLOAT_DTYPES:
        return array
    if array.dtype.kind in "biuf":  # bool, ints and other float widths: compute in float64
        return array.astype(np.float64)
    raise TypeError(
        f"Tensor: expected numbers or a rectangular array of them, got {type(data).__name__} "
        f"{_short(data)} of dtype {array.dtype}"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Tensor:
    """A float32/float64 ndarray plus what autograd needs: ``grad``, ``requires_grad``, its op.

    ``Tensor(ndarray)`` shares the array's memory (like ``torch.from_numpy``); anything else is
    converted. Gradients stored in ``.grad`` are fresh arrays or views: treat them as read-only.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_hooks", "_retains_grad", "name")
    __hash__ = object.__hash__  # graph bookkeeping keys tensors by identity
    # NumPy defers to our reflected operators: `ndarray + Tensor` is a Tensor, not an object array.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data: np.ndarray = as_array(data, dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad: bool = bool(requires_grad)
        self._ctx: Function | None = None
        self._hooks: dict[int, Callable] | None = None
        self._retains_grad = False
        self.name: str | None = None  # a label for graphs ("X", "loss"); draw_graph shows it

    # ----------------------------------------------------------------------------- basics
    shape = property(lambda self: self.data.shape, doc="Shape of ``data``.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    dtype = property(lambda self: self.data.dtype, doc="float32 or float64.")
    size = property(lambda self: self.data.size, doc="Number of elements.")
    grad_fn = property(lambda self: self._ctx, doc="The Function node that made this tensor.")
    is_leaf = property(lambda self: self._ctx is None, doc="True unless made by a recorded op.")

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: tensor has {self.data.size} elements {self.shape}, not one")
        return float(self.data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor(self.data)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``grad`` to None, as PyTorch does)."""
        self.grad = None

    def retain_grad(self) -> Tensor:
        """Also keep ``.grad`` for this non-leaf tensor during backward."""
        self._retains_grad = True
        return self

    def _repr_markdown_(self) -> str:
        """In Jupyter: shape, dtype and graph facts, and the values of a small tensor as a table."""
        from tinygrad_lab.display import tensor_markdown

        return tensor_markdown(self)

    def __repr__(self) -> str:
        extra = (
            f", requires_grad=True, grad_fn={self._ctx.name}"
            if self._ctx
            else (", requires_grad=True" if self.requires_grad else "")
        )
        if self.data.size <= 16:
            body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        else:
            body = f"<shape={self.shape} mean={self.data.mean():.4g} std={self.data.std():.4g}>"
        dtype = "" if self.dtype == np.float64 else ", dtype=float32"
        return f"Tensor({body}{dtype}{extra})"

    # ----------------------------------------------------------------------------- operators
    def _lift(self, other: Any) -> Tensor:
        # Numbers take this tensor's dtype, so float32 stays float32 (as NumPy does with scalars).
        if isinstance(other, Tensor):
            return other
        return Tensor(other, dtype=self.data.dtype if np.ndim(other) == 0 else None)

    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(self, self._lift(other))

    def __radd__(self, other: Any) -> Tensor:
        return ops.Add.apply(self._lift(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(self, self._lift(other))

    def __rsub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(self._lift(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(self, self._lift(other))

    def __rmul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(self._lift(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(self, self._lift(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(self._lift(other), self)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, Tensor):
            return ops.TensorPow.apply(self, exponent)
        if np.ndim(exponent) != 0:
            return ops.TensorPow.apply(self, self._lift(exponent))
        return ops.Pow.apply(self, exponent=float(exponent))

    def __rpow__(self, base: Any) -> Tensor:
        return ops.TensorPow.apply(self._lift(base), self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self, self._lift(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self._lift(other), self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.GetItem.apply(self, index=index)

    # ----------------------------------------------------------------------------- methods
    def exp(self) -> Tensor:
        return ops.Exp.apply(self)

    def log(self) -> Tensor:
        return ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        return ops.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return ops.Abs.apply(self)

    def relu(self) -> Tensor:
        return ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return ops.LeakyReLU.apply(self, negative_slope=negative_slope)

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid.apply(self)

    def tanh(self) -> Tensor:
        return ops.Tanh.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        return ops.Clip.apply(self, low=min, high=max)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.Min.apply(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis: int | tuple[int, ...] = -1, keepdims: bool = False) -> Tensor:
        return ops.LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return ops.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return ops.LogSoftmax.apply(self, axis=axis)

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
            shape = tuple(shape[0])
        return ops.Reshape.apply(self, shape=tuple(int(n) for n in shape))

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        if len(axes) == 1 and not isinstance(axes[0], int | np.integer):
            axes = tuple(axes[0])
        return ops.Transpose.apply(self, axes=tuple(axes) or None)

    @property
    def T(self) -> Tensor:  # noqa: N802  (NumPy's and PyTorch's name)
        return ops.Transpose.apply(self, axes=None)

    def draw_graph(self, **options: Any) -> Any:
        """The graph that produced this tensor as a ``graphviz.Digraph`` (see ``draw_graph``)."""
        from tinygrad_lab.viz import draw_graph

        return draw_graph(self, **options)

    # ----------------------------------------------------------------------------- autograd
    def register_hook(self, fn: Callable[[Tensor], Any]) -> RemovableHandle:
        """Call ``fn(grad)`` when backward reaches this tensor; a non-None return replaces grad."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: this tensor does not require grad, so no "
                "gradient will ever reach it"
            )
        if self._hooks is None:
            self._hooks = {}
        key = next(_handle_ids)
        self._hooks[key] = fn
        return RemovableHandle(self._hooks, key)

    def _run_hooks(self, grad: np.ndarray) -> np.ndarray:
        for fn in list(self._hooks.values()):
            replaced = fn(_wrap(grad))
            if replaced is not None:
                replaced = as_array(replaced)
                if replaced.shape != grad.shape:
                    raise ValueError(
                        f"tensor hook {fn!r} returned a gradient of shape "
                        f"{replaced.shape}, expected {grad.shape}"
                    )
                grad = replaced
        return grad

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` that requires grad.

        ``grad`` is the gradient of some scalar with respect to this tensor; it defaults to 1 for
        a one-element tensor. The graph's saved arrays are freed afterwards unless
        ``retain_graph``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad (no input of the ops "
                "that made it had requires_grad=True, or it was made in no_grad)"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward: grad can be implied only for a one-element output; "
                    f"this tensor has shape {self.shape}, so pass grad= of that shape"
                )
            grad = np.ones_like(self.data)
        else:
            grad = as_array(grad, self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward: grad has shape {grad.shape}, but the tensor has shape {self.shape}"
                )
        grads = {self: grad}
        order = _topological_order(self)
        kept: list[tuple[Tensor, np.ndarray]] = []  # (tensor, grad) to store in tensor.grad
        observed = _state.anomaly or bool(_state.backward_observers)
        for node in reversed(order):
            grad = grads.pop(node, None)
            if grad is None:
                continue
            if node._hooks:
                grad = node._run_hooks(grad)
            ctx = node._ctx
            if ctx is None or node._retains_grad:
                kept.append((node, grad))
            if ctx is None:
                continue
            input_grads = ctx.backward(ctx, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            parents = ctx.parents
            if len(input_grads) != len(parents):
                raise RuntimeError(
                    f"{ctx.name}.backward returned {len(input_grads)} gradients "
                    f"for {len(parents)} inputs"
                )
            if observed:
                _observe(node, ctx, grad, input_grads)
            for parent, parent_grad in zip(parents, input_grads, strict=True):
                if parent_grad is None or not parent.requires_grad:
                    continue
                data = parent.data
                if parent_grad.shape != data.shape or parent_grad.dtype != data.dtype:
                    parent_grad = _fit(parent_grad, parent, ctx)
                previous = grads.get(parent)
                grads[parent] = parent_grad if previous is None else previous + parent_grad
        # Change state only now that every gradient is computed: an error part-way through (in
        # a hook, an op's backward, anomaly mode) leaves every .grad and the graph as they were.
        for node, grad in kept:
            if not grad.flags.writeable:  # a broadcast view: give the user an owned array
                grad = grad.copy()
            node.grad = grad if node.grad is None else node.grad + grad
        if not retain_graph:
            for node in order:
                if node._ctx is not None:
                    node._ctx.saved_tensors = None


def _wrap(array: np.ndarray) -> Tensor:
    """A constant Tensor around an ndarray the engine made, without ``__init__``'s checks."""
    tensor = Tensor.__new__(Tensor)
    tensor.data, tensor.grad, tensor.requires_grad = array, None, False
    tensor._ctx, tensor._hooks, tensor._retains_grad, tensor.name = None, None, False, None
    return tensor


_INPUTS_DONE = object()  # on the stack of `_topological_order`: the tensor under it is done


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors that need grad, each after all of its inputs (iterative depth-first search).

    The stack holds tensors to visit and, above a tensor whose inputs are being visited, the
    marker ``_INPUTS_DONE``: a flat list, no pair per node, so that a 100,000-node graph does not
    feed the garbage collector 100,000 tuples (that made the cost per node grow with the graph).
    """
    order: list[Tensor] = []
    visited: set[Tensor] = set()
    stack: list = [root]
    while stack:
        node = stack.pop()
        if node is _INPUTS_DONE:
            order.append(stack.pop())
            continue
        if node in visited:
            continue
        visited.add(node)
        ctx = node._ctx
        if ctx is None:  # a leaf has no inputs to wait for: it is done at once
            order.append(node)
            continue
        if ctx.saved_tensors is None:
            raise RuntimeError(
                f"backward: the graph through {ctx.name} was already freed by an earlier "
                "backward; pass retain_graph=True to the first backward() to go through it twice"
            )
        stack.append(node)
        stack.append(_INPUTS_DONE)
        for parent in ctx.parents:
            if parent.requires_grad and parent not in visited:
                stack.append(parent)
    return order


def _fit(grad: np.ndarray, parent: Tensor, ctx: Function) -> np.ndarray:
    """Reduce a broadcast gradient to ``parent``'s shape and dtype, or say which op got it wrong."""
    if grad.shape != parent.data.shape:
        grad = np.asarray(grad)
        if grad.ndim >= parent.ndim:
            grad = unbroadcast(grad, parent.data.shape)
        if grad.shape != parent.data.shape:
            raise RuntimeError(
                f"{ctx.name}.backward returned a gradient of shape {grad.shape} "
                f"for an input of shape {parent.shape}"
            )
    return grad.astype(parent.dtype, copy=False)


def _observe(node: Tensor, ctx: Function, grad: np.ndarray, input_grads: tuple) -> None:
    if _state.anomaly:
        for input_grad in input_grads:
            if input_grad is not None:
                _check_finite(np.asarray(input_grad), ctx, "backward gradient")
    for observer in _state.backward_observers:
        observer(node, ctx, grad, input_grads)


from tinygrad_lab.grad_mode import detect_anomaly, is_grad_enabled, no_grad  # noqa: E402, F401


# --------------------------------------------------------------------------------- functions
def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``np.concatenate``), differentiably."""
    return ops.Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis (``np.stack``), differentiably."""
    return ops.Stack.apply(*tensors, axis=axis)


from tinygrad_lab import ops  # noqa: E402  (the ops need Tensor defined first)
