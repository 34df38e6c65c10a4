"""The engine: `Function`, `Tensor` and `backward()`, in one file, to read top to bottom.

A `Tensor` holds an ndarray. An op is a `Function` subclass with a ``forward`` and a
``backward`` on plain ndarrays; ``Op.apply(*tensors)`` runs ``forward`` and, when gradients are
wanted, keeps the `Function` instance as the output's ``_ctx``: a node of the graph, whose
``parents`` are the op's inputs. That is the whole graph. ``Tensor.backward()`` lists it in
topological order (`tinygrad_lab.graph`) and calls each node's ``backward`` from the output
towards the leaves, summing the gradients of a tensor that fed several ops.

The package's one import cycle is declared here, at the bottom of this file: Tensor's operator
methods call the built-in ops of `tinygrad_lab.ops`, and those ops subclass `Function`. The ops
are looked up when a method runs, never at import time, so no import order matters.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_lab.grad_mode import state
from tinygrad_lab.graph import topological_order
from tinygrad_lab.hooks import RemovableHandle, add_hook

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    The one place broadcasting is undone: an op's ``backward`` may return a gradient in the
    broadcast shape of its output, and the engine reduces it to each input's shape here.
    """
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


# ================================================================================= Function
class Function:
    """Base class of every op. Subclass it with two static methods on ndarrays::

        class Mul(Function):
            @staticmethod
            def forward(ctx, x, y):
                ctx.save_for_backward(x, y)
                return x * y

            @staticmethod
            def backward(ctx, grad):
                x, y = ctx.saved_tensors
                return grad * y, grad * x      # d(x*y)/dx = y, d(x*y)/dy = x

    and call it as ``Mul.apply(a, b)``. An instance is the context (``ctx``) of one node:
    ``apply`` sets ``parents`` (the input Tensors) and ``needs_input_grad`` (one bool each);
    ``save_for_backward`` keeps arrays in ``saved_tensors``; store other values (an axis, a
    shape) as plain attributes of ``ctx``. Keyword arguments of ``apply`` go to ``forward`` as
    they are: they are settings, never differentiated.

    ``backward`` receives the gradient of the output and returns one gradient per input (a
    tuple when there are several), each in the input's shape or in a shape that broadcasts to
    it (the engine sums it back with `unbroadcast`). Return ``None`` for an input that needs
    no gradient (``ctx.needs_input_grad[i]`` is False), or that takes none: an optional input
    given as ``None``, a mask, an index.
    """

    parents: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[np.ndarray, ...] | None = ()  # None once backward released them
    # Filled only while sites are recorded (anomaly mode, traces): the user code line that
    # created the node, and the innermost Module running when it was created.
    site: str | None = None
    module: Any = None

    @staticmethod
    def forward(ctx: Function, *arrays: np.ndarray, **settings: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, grad: np.ndarray) -> np.ndarray | tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep arrays for ``backward``; released after backward unless ``retain_graph``."""
        self.saved_tensors = arrays

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

    # ------------------------------------------------------------------------- the hot path
    # `apply` runs once per op and backward's loop once per node: millions of times in a
    # sweep. They are the only code in the package written for speed, in these ways:
    # - apply builds its output with `_new` (no __init__ conversion: forward returned an
    #   ndarray) and reads each mode switch of `grad_mode.state` once;
    # - list comprehensions, not generator expressions (faster in CPython);
    # - backward compares each gradient's shape and dtype with its input's directly and calls
    #   `_fit` (unbroadcast, cast) only when they differ;
    # - bookkeeping (hooks, anomaly checks, traces) costs one test per node when it is off.
    @classmethod
    def apply(cls, *inputs: Any, **settings: Any) -> Tensor:
        """Run the op forward on ``inputs`` (Tensors or array-likes) and record it in the graph."""
        parents = tuple([x if isinstance(x, Tensor) else Tensor(x) for x in inputs])
        ctx = cls()
        ctx.parents = parents
        ctx.needs_input_grad = needs = tuple([p.requires_grad for p in parents])
        try:
            out = cls.forward(ctx, *[p.data for p in parents], **settings)
        except ValueError as err:
            if str(err).startswith(cls.__name__):
                raise
            # Name the op and every input shape: numpy's own message names neither.
            shapes = ", ".join(str(p.shape) for p in parents)
            raise ValueError(f"{cls.__name__}: inputs of shapes {shapes}: {err}") from None
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if state.record_sites:
            ctx.site = user_site()
            ctx.module = state.module_stack[-1] if state.module_stack else None
        if state.anomaly:
            _check_finite(out, ctx, "forward result")
        if state.grad_enabled and True in needs:
            return Tensor._new(out, ctx)
        return Tensor._new(out, None)


# =================================================================================== Tensor
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
        self._ctx: Function | None = None  # the op that made this tensor; None for a leaf
        self._hooks: dict[int, Callable] | None = None
        self._retains_grad = False
        self.name: str | None = None  # a label for graphs ("X", "loss"); draw_graph shows it

    @classmethod
    def _new(cls, data: np.ndarray, ctx: Function | None) -> Tensor:
        """A Tensor around an array the engine made (no conversion); recorded when ``ctx``."""
        tensor = cls.__new__(cls)
        tensor.data, tensor.grad, tensor._ctx = data, None, ctx
        tensor.requires_grad = ctx is not None
        tensor._hooks, tensor._retains_grad, tensor.name = None, False, None
        return tensor

    # ------------------------------------------------------------------------- basics
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

    # ------------------------------------------------------------------------- operators
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
        if isinstance(exponent, Tensor) or np.ndim(exponent) != 0:
            return ops.TensorPow.apply(self, self._lift(exponent))
        return ops.Pow.apply(self, exponent=float(exponent))

    def __rpow__(self, base: Any) -> Tensor:
        return ops.TensorPow.apply(self._lift(base), self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self, self._lift(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self._lift(other), self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.GetItem.apply(self, index=_plain_index(index))

    # ------------------------------------------------------------------------- ops as methods
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

    def var(
        self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, ddof: int = 0
    ) -> Tensor:
        """Variance, built from other ops: its gradient comes free, by composition."""
        return ops.variance(self, axis, keepdims, ddof)

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

    # ------------------------------------------------------------------------- autograd
    def retain_grad(self) -> Tensor:
        """Also keep ``.grad`` for this non-leaf tensor during backward."""
        self._retains_grad = True
        return self

    def register_hook(self, fn: Callable[[Tensor], Any]) -> RemovableHandle:
        """Call ``fn(grad)`` when backward reaches this tensor; a non-None return replaces grad."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: this tensor does not require grad, so no "
                "gradient will ever reach it"
            )
        if self._hooks is None:
            self._hooks = {}
        return add_hook(self._hooks, fn)

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` that requires grad.

        ``grad`` is the gradient of some scalar with respect to this tensor; it defaults to 1 for
        a one-element tensor. The graph's saved arrays are freed afterwards unless
        ``retain_graph``. Nothing changes until every gradient is computed: a backward that
        fails part-way (in a hook, an op, anomaly mode) leaves every ``.grad`` and the graph
        as they were.
        """
        grads = {self: _seed(self, grad)}  # tensor -> gradient arrived so far
        order = topological_order(self)
        kept: list[tuple[Tensor, np.ndarray]] = []  # (tensor, grad) to store in tensor.grad
        observed = state.anomaly or bool(state.backward_observers)
        for node in reversed(order):  # the output first, each tensor after all its users
            grad = grads.pop(node, None)
            if grad is None:  # no gradient reached it (its users returned None)
                continue
            if node._hooks:
                grad = _run_hooks(node, grad)
            if node._ctx is None or node._retains_grad:
                kept.append((node, grad))
            if node._ctx is not None:
                _visit(node, grad, grads, observed)
        _commit(kept)
        if not retain_graph:
            _release(order)


# ================================================================================= backward
def _seed(root: Tensor, grad: Any) -> np.ndarray:
    """The gradient backward starts from: ``grad``, or 1 for a one-element ``root``."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad (no input of the ops "
            "that made it had requires_grad=True, or it was made in no_grad)"
        )
    if grad is None:
        if root.data.size != 1:
            raise ValueError(
                f"backward: grad can be implied only for a one-element output; "
                f"this tensor has shape {root.shape}, so pass grad= of that shape"
            )
        return np.ones_like(root.data)
    grad = as_array(grad, root.data.dtype)
    if grad.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {grad.shape}, but the tensor has shape {root.shape}"
        )
    return grad


def _visit(node: Tensor, grad: np.ndarray, grads: dict, observed: bool) -> None:
    """Run ``node``'s op backward and add each input's gradient to ``grads``."""
    ctx = node._ctx
    if ctx.saved_tensors is None:
        raise RuntimeError(
            f"backward: the graph through {ctx.name} was already freed by an earlier "
            "backward; pass retain_graph=True to the first backward() to go through it twice"
        )
    input_grads = ctx.backward(ctx, grad)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    parents = ctx.parents
    if len(input_grads) != len(parents):
        raise RuntimeError(
            f"{ctx.name}.backward returned {len(input_grads)} gradients for {len(parents)} inputs"
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


def _commit(kept: list[tuple[Tensor, np.ndarray]]) -> None:
    """Store the gradients that leaves (and retained tensors) receive, accumulating."""
    for node, grad in kept:
        if not grad.flags.writeable:  # a broadcast view: give the user an owned array
            grad = grad.copy()
        node.grad = grad if node.grad is None else node.grad + grad


def _release(order: list[Tensor]) -> None:
    """Free the arrays every node saved for backward (a second backward then needs a new graph)."""
    for node in order:
        if node._ctx is not None:
            node._ctx.saved_tensors = None


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


# ============================================================================= bookkeeping
# Off the main line: hooks, anomaly checks and observers (traces) run only when present.
def _run_hooks(node: Tensor, grad: np.ndarray) -> np.ndarray:
    for fn in list(node._hooks.values()):
        replaced = fn(Tensor._new(grad, None))
        if replaced is not None:
            replaced = as_array(replaced)
            if replaced.shape != grad.shape:
                raise ValueError(
                    f"tensor hook {fn!r} returned a gradient of shape "
                    f"{replaced.shape}, expected {grad.shape}"
                )
            grad = replaced
    return grad


def _observe(node: Tensor, ctx: Function, grad: np.ndarray, input_grads: tuple) -> None:
    if state.anomaly:
        for input_grad in input_grads:
            if input_grad is not None:
                _check_finite(np.asarray(input_grad), ctx, "backward gradient")
    for observer in state.backward_observers:
        observer(node, ctx, grad, input_grads)


def _check_finite(array: np.ndarray, ctx: Function, what: str) -> None:
    if not np.all(np.isfinite(array)):
        bad = "NaN" if np.isnan(array).any() else "inf"
        raise RuntimeError(
            f"detect_anomaly: {ctx.name} produced {bad} in its {what} "
            f"(op created at {ctx.site or '<unknown>'})"
        )


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_site() -> str:
    """The ``file:line`` of the innermost caller outside tinygrad_lab (where the user wrote it)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


# ============================================================================== functions
def _plain_index(index: Any) -> Any:
    """``index`` with every Tensor in it replaced by its array, as integers (Tensors hold
    floats; NumPy indexes with ints)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if not isinstance(index, Tensor):
        return index
    if not np.array_equal(index.data, np.round(index.data)):
        raise IndexError(f"GetItem: a Tensor index must hold whole numbers, got {index.data!r}")
    return index.data.astype(np.intp)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``np.concatenate``), differentiably."""
    return ops.Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis (``np.stack``), differentiably."""
    return ops.Stack.apply(*tensors, axis=axis)


# The import cycle, declared once: the ops subclass Function (above) and Tensor's methods call
# them; `ops.X` is looked up when a method runs.
from tinygrad_lab import ops  # noqa: E402
