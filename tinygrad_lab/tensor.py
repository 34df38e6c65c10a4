"""The engine: `Function`, `Tensor` and `backward()`, in one file, to read top to bottom.

A `Tensor` holds an ndarray. An op is a `Function` subclass with a ``forward`` and a
``backward`` on plain ndarrays; ``Op.apply(*tensors)`` runs ``forward`` and, when gradients are
wanted, keeps the `Function` instance as the output's ``_ctx``: a node of the graph, whose
``parents`` are the op's inputs. That is the whole graph. ``Tensor.backward()`` visits its
nodes from the newest to the oldest (a node is always made after its inputs) and calls each
one's ``backward``, summing the gradients of a tensor that fed several ops.

Sections, in reading order: `Function` (and ``apply``, the one fenced hot path), `Tensor`,
backward and its helpers, then what stays off the main line: integrity and bookkeeping.

Integrity: every tensor has a version, which each in-place write made through the framework
raises (``add_``, ``x -= y`` under ``no_grad``, ``x.data = ...``, optimizer steps). A node
notes how many writes had been made when it ran; if some were made since, backward checks
that none touched an array the node saved, and refuses to run it if one did, instead of
computing a wrong gradient.

The package's one import cycle is declared here, at the bottom of this file: Tensor's operator
methods call the built-in ops of `tinygrad_lab.ops`, and those ops subclass `Function`. The ops
are looked up when a method runs, never at import time, so no import order matters.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import os
import sys
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_lab import grad_mode
from tinygrad_lab.display import tensor_markdown
from tinygrad_lab.grad_mode import state
from tinygrad_lab.hooks import RemovableHandle, add_hook
from tinygrad_lab.numpy_interop import UFUNC_METHODS, ufunc_refusal

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_DTYPES = (*_FLOAT_DTYPES, np.dtype(bool))
_creation = itertools.count()  # numbers the recorded nodes in order of creation
_writes = 0  # in-place writes made so far through any tensor: backward's one-compare shortcut
_write_log: deque = deque(maxlen=64)  # (write number, array written), the newest last


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
    they are: they are settings, never differentiated. ``forward`` returns an ndarray; an
    output that is not floating point (a mask, an index) records no graph.

    ``backward`` receives the gradient of the output and returns one gradient per input (a
    tuple when there are several), each an ndarray in the input's shape or in a shape that
    broadcasts to it (the engine sums it back with `unbroadcast`). Return ``None`` for an input
    that needs no gradient (``ctx.needs_input_grad[i]`` is False), or that takes none: an
    optional input given as ``None``, a mask, an index.
    """

    parents: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[np.ndarray, ...] | None = ()  # None once backward released them
    _writes = -1  # how many in-place writes had been made when the op ran (set by apply)
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
        """Keep arrays for ``backward``; released after backward unless ``retain_graph``.
        (Backward checks that none of them was changed in place since.)"""
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
    #   ndarray) and reads the thread's modes only when some switch is on (`grad_mode`);
    # - one plain loop over the inputs, not comprehensions (each of which makes a function
    #   object in CPython 3.11), and the array slot `_data` rather than the `data` property;
    # - backward compares each gradient's shape and dtype with its input's directly and calls
    #   `_fit` (check, unbroadcast, cast) only when they differ; the versions of saved inputs
    #   are compared only when some in-place write happened since the node saved them;
    # - bookkeeping (hooks, anomaly checks, traces) costs one test per node when it is off.
    @classmethod
    def apply(cls, *inputs: Any, **settings: Any) -> Tensor:
        """Run the op forward on ``inputs`` (Tensors or array-likes) and record it in the graph."""
        needs, arrays = [], []
        for x in inputs:
            if not isinstance(x, Tensor):  # numbers and arrays enter the graph as constants
                inputs = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in inputs)
                needs, arrays = [t.requires_grad for t in inputs], [t._data for t in inputs]
                break
            needs.append(x.requires_grad)
            arrays.append(x._data)
        ctx = cls()
        ctx.parents, ctx.needs_input_grad = inputs, tuple(needs)
        ctx._writes = _writes  # backward compares: was anything written in place since?
        try:
            out = cls.forward(ctx, *arrays, **settings)
        except ValueError as err:
            if type(err) is not ValueError or str(err).startswith(cls.__name__):
                raise  # the op's own error (or a subclass of its own): as it is
            # Name the op and every input shape (numpy's message names neither); chained, so
            # the traceback still shows the line of forward that failed.
            shapes = ", ".join(str(p.shape) for p in inputs)
            raise ValueError(f"{cls.__name__}: inputs of shapes {shapes}: {err}") from err
        except TypeError as err:
            hint = _signature_hint(err, cls, "forward", "forward(ctx, *arrays, **settings)")
            if hint is None:
                raise
            raise hint from err
        if type(out) is not np.ndarray:
            out = _as_output(out, cls)
        recording = True
        if grad_mode.switched:  # a mode is on in some thread: read this thread's
            if state.record_sites:  # traces, layer drawings and anomaly mode
                _note_site(ctx, out)
            recording = state.grad_enabled
        kind = out.dtype.kind
        if recording and True in needs and kind == "f":
            ctx.seq = next(_creation)
            return Tensor._new(out, ctx)
        if kind in "iu":  # a count or an index (the sum of a mask): numbers are floats here
            out = out.astype(np.float64)
        return Tensor._new(out, None)


# =================================================================================== Tensor
def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``data`` as a float32, float64 or bool ndarray; numbers and ints become float64."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in _DTYPES:
            raise TypeError(f"Tensor: dtype must be float32, float64 or bool, got {dtype}")
    try:
        array = np.asarray(data, dtype=dtype) if dtype is not None else np.asarray(data)
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"Tensor: expected numbers or a rectangular array of them, got "
            f"{type(data).__name__} {_short(data)} ({err})"
        ) from None
    if array.dtype in _DTYPES:
        return array
    if array.dtype.kind in "iuf":  # ints and other float widths: compute in float64
        return array.astype(np.float64)
    raise TypeError(
        f"Tensor: expected numbers or a rectangular array of them, got {type(data).__name__} "
        f"{_short(data)} of dtype {array.dtype}"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _pytorch_names(method: Callable) -> Callable:
    """Let a reduction take PyTorch's ``dim=`` for ``axis=`` and ``keepdim=`` for ``keepdims=``."""

    @functools.wraps(method)
    def reduction(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        for torch_name, name in (("dim", "axis"), ("keepdim", "keepdims")):
            if torch_name in kwargs:
                if name in kwargs:
                    raise TypeError(f"{method.__name__}: give {name}= or {torch_name}=, not both")
                kwargs[name] = kwargs.pop(torch_name)
        return method(self, *args, **kwargs)

    return reduction


class Tensor:
    """A float32/float64 ndarray plus what autograd needs: ``grad``, ``requires_grad``, its op.

    ``Tensor(ndarray)`` shares the array's memory (like ``torch.from_numpy``); anything else is
    converted. A bool tensor (a mask, a comparison's result) holds no gradient. Every ``.grad``
    the engine stores is an array of its own.
    """

    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_hooks", "_retains_grad", "name")
    __slots__ += ("_version", "_written_at")
    __hash__ = object.__hash__  # graph bookkeeping keys tensors by identity

    # NumPy interoperability: `np.exp(t)` and `ndarray + t` are the ops (numpy_interop.py has
    # the table); `np.asarray(t)` is the data.
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """A plain call of a ufunc that has an op is that op; anything else is a TypeError."""
        name = UFUNC_METHODS.get(ufunc)
        if name is None or method != "__call__" or kwargs:
            raise TypeError(ufunc_refusal(ufunc, method, kwargs))
        first = inputs[0] if isinstance(inputs[0], Tensor) else self._lift(inputs[0])
        return getattr(first, name)(*inputs[1:])

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)``: the data itself (``np.array(t)`` copies it, as for an ndarray)."""
        return self._data if dtype is None and not copy else np.array(self._data, dtype, copy=copy)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data: np.ndarray = as_array(data, dtype)
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only float32 and float64 tensors can require grad, not {self.dtype}"
            )
        self.grad: np.ndarray | None = None
        self.requires_grad: bool = bool(requires_grad)
        self._ctx: Function | None = None  # the op that made this tensor; None for a leaf
        self._hooks: dict[int, Callable] | None = None
        self._retains_grad = False
        self.name: str | None = None  # a label for graphs ("X", "loss"); draw_graph shows it
        self._version = 0  # raised by every in-place write
        self._written_at = 0  # the number of its last in-place write (0: none)

    @classmethod
    def _new(cls, data: np.ndarray, ctx: Function | None) -> Tensor:
        """A Tensor around an array the engine made (no conversion); recorded when ``ctx``."""
        tensor = cls.__new__(cls)
        tensor._data, tensor.grad, tensor._ctx = data, None, ctx
        tensor.requires_grad = ctx is not None
        tensor._hooks, tensor._retains_grad, tensor.name = None, False, None
        tensor._version = tensor._written_at = 0
        return tensor

    # ------------------------------------------------------------------------- basics
    @property
    def data(self) -> np.ndarray:
        """The values, an ndarray. Assigning to it (or ``x.data *= 2``) is an in-place write:
        it raises the version, so a graph that saved the old values will not use them."""
        return self._data

    @data.setter
    def data(self, values: Any) -> None:
        self._data = values if values is self._data else as_array(values)
        _written(self)

    shape = property(lambda self: self._data.shape, doc="Shape of ``data``.")
    ndim = property(lambda self: self._data.ndim, doc="Number of dimensions.")
    dtype = property(lambda self: self._data.dtype, doc="float32, float64 or bool.")
    size = property(lambda self: self._data.size, doc="Number of elements.")
    grad_fn = property(lambda self: self._ctx, doc="The Function node that made this tensor.")
    is_leaf = property(lambda self: self._ctx is None, doc="True unless made by a recorded op.")
    version = property(lambda self: self._version, doc="How many in-place writes it has had.")

    def __len__(self) -> int:
        return len(self._data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self._data.size != 1:
            raise ValueError(f"item: tensor has {self._data.size} elements {self.shape}, not one")
        return float(self._data.item())

    __float__ = item

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"bool: the truth of a tensor of {self._data.size} elements {self.shape} is "
                "ambiguous; use (x > 0).data.any() or .all()"
            )
        return bool(self._data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self._data

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor(self._data)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``grad`` to None, as PyTorch does)."""
        self.grad = None

    def _repr_markdown_(self) -> str:
        """In Jupyter: shape, dtype and graph facts, and the values of a small tensor as a table."""
        return tensor_markdown(self)

    def __repr__(self) -> str:
        extra = (
            f", requires_grad=True, grad_fn={self._ctx.name}"
            if self._ctx
            else (", requires_grad=True" if self.requires_grad else "")
        )
        data = self._data
        if data.size <= 16 or data.dtype.kind == "b":
            body = np.array2string(data, precision=4, separator=", ", prefix="Tensor(")
        else:
            body = f"<shape={self.shape} mean={data.mean():.4g} std={data.std():.4g}>"
        dtype = "" if data.dtype == np.float64 else f", dtype={data.dtype}"
        return f"Tensor({body}{dtype}{extra})"

    # ------------------------------------------------------------------------- operators
    def _lift(self, other: Any) -> Tensor:
        # Numbers take this tensor's dtype, so float32 stays float32 (as NumPy does with scalars).
        if isinstance(other, Tensor):
            return other
        floating = np.ndim(other) == 0 and self._data.dtype.kind == "f"
        return Tensor(other, dtype=self._data.dtype if floating else None)

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

    # Comparisons give bool tensors, outside the graph (nothing to differentiate).
    def __lt__(self, other: Any) -> Tensor:
        return Tensor._new(self._data < _array(other), None)

    def __le__(self, other: Any) -> Tensor:
        return Tensor._new(self._data <= _array(other), None)

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._new(self._data > _array(other), None)

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._new(self._data >= _array(other), None)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._new(np.asarray(self._data == _array(other)), None)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._new(np.asarray(self._data != _array(other)), None)

    # ------------------------------------------------------------------------- in-place
    # `x += y` writes into x when it may (a constant, or anything under no_grad); on a tensor
    # in the graph it makes a new one, as `x = x + y`; on a leaf that requires grad, outside
    # no_grad, it is an error (the update would bypass the graph), as in PyTorch.
    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other) if _may_write(self, other, "+=") else self + other

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other) if _may_write(self, other, "-=") else self - other

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other) if _may_write(self, other, "*=") else self * other

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other) if _may_write(self, other, "/=") else self / other

    def add_(self, other: Any) -> Tensor:
        """``self += other`` in place (allowed on a leaf that requires grad only in no_grad)."""
        return _write(self, "add_", np.add, other)

    def sub_(self, other: Any) -> Tensor:
        return _write(self, "sub_", np.subtract, other)

    def mul_(self, other: Any) -> Tensor:
        return _write(self, "mul_", np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        if not np.all(_array(other)):
            raise ZeroDivisionError(
                f"div_: the divisor of a tensor of shape {self.shape} has zeros"
            )
        return _write(self, "div_", np.divide, other)

    def copy_(self, other: Any) -> Tensor:
        """Overwrite every entry with ``other`` (broadcast to this tensor's shape)."""
        return _write(self, "copy_", lambda _, new, out: np.copyto(out, new), other)

    def fill_(self, value: float) -> Tensor:
        return self.copy_(value)

    def zero_(self) -> Tensor:
        return self.copy_(0.0)

    def __setitem__(self, index: Any, value: Any) -> None:
        _check_write(self, "__setitem__", value)
        self._data[_plain_index(index)] = _array(value)
        _written(self)

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

    @_pytorch_names
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    @_pytorch_names
    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    @_pytorch_names
    def var(
        self,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
        ddof: float = 0,
        *,
        correction: float | None = None,
    ) -> Tensor:
        """Variance, built from other ops: its gradient comes free, by composition. Divides by
        ``n - ddof``; ``correction`` is PyTorch's name for ddof (there 1 by default, here 0)."""
        return ops.variance(self, axis, keepdims, ddof, correction)

    @_pytorch_names
    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.Max.apply(self, axis=axis, keepdims=keepdims)

    @_pytorch_names
    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.Min.apply(self, axis=axis, keepdims=keepdims)

    @_pytorch_names
    def logsumexp(self, axis: int | tuple[int, ...] = -1, keepdims: bool = False) -> Tensor:
        return ops.LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    @_pytorch_names
    def softmax(self, axis: int = -1) -> Tensor:
        return ops.Softmax.apply(self, axis=axis)

    @_pytorch_names
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

    # PyTorch's names for some of the above (dim= and keepdim= are taken by every reduction)
    clamp, pow, view = clip, __pow__, reshape

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Make this leaf (not) require grad, in place, as PyTorch's ``requires_grad_``."""
        if self._ctx is not None:
            raise RuntimeError(
                "requires_grad_: only a leaf's requires_grad can be set (this tensor was made by "
                f"{self._ctx.name}: use .detach().requires_grad_())"
            )
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(
                "requires_grad_: only float32 and float64 tensors can require grad, "
                f"not {self.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        return self

    # Element-wise math (ops/math.py): PyTorch's names, NumPy's as aliases where they differ.
    def sin(self) -> Tensor:
        return ops.Sin.apply(self)

    def cos(self) -> Tensor:
        return ops.Cos.apply(self)

    def tan(self) -> Tensor:
        return ops.Tan.apply(self)

    def asin(self) -> Tensor:
        return ops.Asin.apply(self)

    def acos(self) -> Tensor:
        return ops.Acos.apply(self)

    def atan(self) -> Tensor:
        return ops.Atan.apply(self)

    def sinh(self) -> Tensor:
        return ops.Sinh.apply(self)

    def cosh(self) -> Tensor:
        return ops.Cosh.apply(self)

    def log2(self) -> Tensor:
        return ops.Log2.apply(self)

    def log10(self) -> Tensor:
        return ops.Log10.apply(self)

    def log1p(self) -> Tensor:
        return ops.Log1p.apply(self)

    def exp2(self) -> Tensor:
        return ops.Exp2.apply(self)

    def expm1(self) -> Tensor:
        return ops.Expm1.apply(self)

    def square(self) -> Tensor:
        return ops.Square.apply(self)

    def reciprocal(self) -> Tensor:
        return ops.Reciprocal.apply(self)

    def sign(self) -> Tensor:
        return ops.Sign.apply(self)

    def __pos__(self) -> Tensor:
        return self  # unary + is the identity: no node (PyTorch's +t is t too)

    def maximum(self, other: Any) -> Tensor:
        return ops.Maximum.apply(self, self._lift(other))

    def minimum(self, other: Any) -> Tensor:
        return ops.Minimum.apply(self, self._lift(other))

    def logaddexp(self, other: Any) -> Tensor:
        return ops.LogAddExp.apply(self, self._lift(other))

    def logaddexp2(self, other: Any) -> Tensor:
        return ops.LogAddExp2.apply(self, self._lift(other))

    def atan2(self, other: Any) -> Tensor:
        """``atan2(self, other)``: the angle of the point (x=other, y=self), as ``torch.atan2``."""
        return ops.Atan2.apply(self, self._lift(other))

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2  # NumPy's names

    # More reductions (ops/reduce.py) and running sums and products (ops/scan.py).
    @_pytorch_names
    def prod(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.Prod.apply(self, axis=axis, keepdims=keepdims)

    @_pytorch_names
    def std(
        self,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
        ddof: float = 0,
        *,
        correction: float | None = None,
    ) -> Tensor:
        """Standard deviation, dividing by ``n - ddof`` as `var` does."""
        return ops.Std.apply(self, axis=axis, keepdims=keepdims, ddof=ddof, correction=correction)

    @_pytorch_names
    def cumsum(self, axis: int | None = None) -> Tensor:
        return ops.CumSum.apply(self, axis=axis)

    @_pytorch_names
    def cumprod(self, axis: int | None = None) -> Tensor:
        return ops.CumProd.apply(self, axis=axis)

    @_pytorch_names
    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the largest entry, as a float64 tensor outside the graph (no gradient)."""
        return ops.argmax(self, axis, keepdims)

    @_pytorch_names
    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the smallest entry, as a float64 tensor outside the graph (no gradient)."""
        return ops.argmin(self, axis, keepdims)

    # More activations (ops/activation.py); their layers are in nn.
    def softplus(self, beta: float = 1.0) -> Tensor:
        return ops.Softplus.apply(self, beta=beta)

    def gelu(self, approximate: str = "none") -> Tensor:
        """x Φ(x) (``approximate="none"``), or its tanh approximation (``"tanh"``)."""
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return (ops.GELU if approximate == "none" else ops.GELUTanh).apply(self)

    def silu(self) -> Tensor:
        return ops.SiLU.apply(self)

    def elu(self, alpha: float = 1.0) -> Tensor:
        return ops.ELU.apply(self, alpha=alpha)

    def relu6(self) -> Tensor:
        return ops.ReLU6.apply(self)

    def hardswish(self) -> Tensor:
        return ops.Hardswish.apply(self)

    def mish(self) -> Tensor:
        return ops.Mish.apply(self)

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
        ``retain_graph``. Nothing changes until every gradient is computed and checked: a
        backward that fails part-way (in a hook, an op, a check) leaves every ``.grad`` and the
        graph as they were.
        """
        seed = _seed(self, grad)
        grads = {self: seed}  # tensor -> the sum of the gradients that have reached it
        # Tensors made by an op that some gradient has reached, as a heap: the newest (largest
        # creation number) pops first. A node is made after its inputs, so a tensor pops after
        # every tensor made from it: all its gradient has arrived by then.
        waiting = [(-self._ctx.seq, self)] if self._ctx is not None else []
        kept: list[tuple[Tensor, np.ndarray]] = []  # (tensor, grad) to store in tensor.grad
        visited: list[Tensor] = []
        observed = grad_mode.switched and (state.anomaly or bool(state.backward_observers))
        while waiting:
            node = heapq.heappop(waiting)[1]
            grad = grads.pop(node)
            if node._hooks:
                grad = _run_hooks(node, grad)
            if node._retains_grad:
                kept.append((node, grad))
            _visit(node, grad, grads, waiting, observed)
            visited.append(node)
        for leaf, grad in grads.items():  # what is left are the leaves, with their sums
            kept.append((leaf, _run_hooks(leaf, grad) if leaf._hooks else grad))
        _commit(kept, seed)
        if not retain_graph:
            _release(visited)


# ================================================================================= backward
def _seed(root: Tensor, grad: Any) -> np.ndarray:
    """The gradient backward starts from: ``grad``, or 1 for a one-element ``root``."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad (no input of the ops "
            "that made it had requires_grad=True, or it was made in no_grad)"
        )
    if grad is None:
        if root._data.size != 1:
            raise ValueError(
                f"backward: grad can be implied only for a one-element output; "
                f"this tensor has shape {root.shape}, so pass grad= of that shape"
            )
        return np.ones_like(root._data)
    grad = as_array(grad, root._data.dtype)
    if grad.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {grad.shape}, but the tensor has shape {root.shape}"
        )
    return grad


def _visit(node: Tensor, grad: np.ndarray, grads: dict, waiting: list, observed: bool) -> None:
    """Run ``node``'s op backward and add each input's gradient to ``grads``; an input made by
    an op joins ``waiting`` when its first gradient arrives."""
    ctx = node._ctx
    saved = ctx.saved_tensors
    if saved is None:
        raise RuntimeError(
            f"backward: the graph through {ctx.name} was already freed by an earlier "
            "backward; pass retain_graph=True to the first backward() to go through it twice"
        )
    if saved and ctx._writes != _writes:  # something was written in place since
        _check_versions(node, ctx)
    if observed:
        _observe_before(ctx)
    try:
        input_grads = ctx.backward(ctx, grad)
    except TypeError as err:
        hint = _signature_hint(err, type(ctx), "backward", "backward(ctx, grad)")
        if hint is None:
            raise
        raise hint from err
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    parents = ctx.parents
    if len(input_grads) != len(parents):
        raise RuntimeError(
            f"{ctx.name}.backward returned {len(input_grads)} gradients for {len(parents)} inputs"
        )
    if observed:
        _observe(node, ctx, grad, input_grads)
    i = -1
    for parent, parent_grad in zip(parents, input_grads, strict=True):
        i += 1
        if parent_grad is None or not parent.requires_grad:
            continue
        data = parent._data
        if (
            type(parent_grad) is not np.ndarray
            or parent_grad.shape != data.shape
            or parent_grad.dtype is not data.dtype  # (NumPy's float dtypes are singletons)
        ):
            parent_grad = _fit(parent_grad, parent, ctx, i)
        previous = grads.get(parent)
        if previous is not None:
            grads[parent] = previous + parent_grad
            continue
        grads[parent] = parent_grad
        if parent._ctx is not None:
            heapq.heappush(waiting, (-parent._ctx.seq, parent))


def _commit(kept: list[tuple[Tensor, np.ndarray]], seed: np.ndarray) -> None:
    """Store the gradients that leaves (and retained tensors) receive, accumulating; every
    check first, so that either every ``.grad`` changes or none does."""
    for node, _ in kept:
        old = node.grad
        if old is not None and (not isinstance(old, np.ndarray) or old.shape != node.shape):
            raise RuntimeError(
                f"backward: a tensor of shape {node.shape} holds a .grad of "
                f"{getattr(old, 'shape', type(old).__name__)}: set it to None (zero_grad()) "
                "or to an array of the tensor's shape"
            )
    stored = {id(seed)}  # arrays some .grad (or the caller) already holds
    for node, grad in kept:
        if node.grad is not None:
            node.grad = node.grad + grad
            continue
        if grad.base is not None or id(grad) in stored:  # a view, or shared: copy
            grad = grad.copy()
        stored.add(id(grad))
        node.grad = grad


def _release(order: list[Tensor]) -> None:
    """Free the arrays every node saved for backward (a second backward then needs a new graph)."""
    for node in order:
        if node._ctx is not None:
            node._ctx.saved_tensors = None


def _fit(grad: Any, parent: Tensor, ctx: Function, i: int) -> np.ndarray:
    """An op's gradient for input ``i``, checked and reduced to ``parent``'s shape and dtype; or
    an error naming the op, the input and what was wrong."""
    if isinstance(grad, np.generic):  # a NumPy scalar: what arithmetic on 0-d arrays gives
        grad = np.asarray(grad)
    if type(grad) is not np.ndarray or grad.dtype.kind not in "fiub":
        got = type(grad).__name__ if type(grad) is not np.ndarray else f"{grad.dtype} array"
        raise TypeError(
            f"{ctx.name}.backward returned a {got} as the gradient of input {i}; expected an "
            f"ndarray of shape {parent.shape} (a Tensor's array is its .data)"
        )
    if grad.shape != parent.shape and grad.ndim >= parent.ndim:
        grad = unbroadcast(grad, parent.shape)
    if grad.shape != parent.shape:
        raise RuntimeError(
            f"{ctx.name}.backward returned a gradient of shape {grad.shape} for input {i}, "
            f"of shape {parent.shape}"
        )
    return grad.astype(parent.dtype, copy=False)


# ============================================================================== integrity
# Off the main line: run only when an in-place write happened, or in anomaly mode.
def _written(tensor: Tensor) -> None:
    """Note an in-place write: the tensor's version goes up, and backward's shortcut is off."""
    global _writes
    _writes += 1
    tensor._version += 1
    tensor._written_at = _writes
    _write_log.append((_writes, tensor._data))


def _check_versions(node: Tensor, ctx: Function) -> None:
    """Refuse to run ``ctx.backward`` if an array it saved was changed in place since."""
    saved = [a for a in ctx.saved_tensors if isinstance(a, np.ndarray)]
    owners = [(f"input {i}", p) for i, p in enumerate(ctx.parents)] + [("output", node)]
    for what, tensor in owners:
        if tensor._written_at > ctx._writes and _shares(saved, tensor._data):
            raise RuntimeError(
                f"backward: {ctx.name} (created at {ctx.site or _NO_SITE}) saved its {what} "
                f"of shape {tensor.shape} for backward at version {_version_then(tensor, ctx)}, "
                f"but it was changed in place since (version {tensor._version} now), so its "
                f"gradient would be wrong. {_ADVICE}"
            )
    for number, array in tuple(_write_log):  # writes through another tensor sharing memory
        if number > ctx._writes and _shares(saved, array):
            raise RuntimeError(
                f"backward: an array that {ctx.name} (created at {ctx.site or _NO_SITE}) saved "
                "for backward was changed in place since, through a tensor that shares its "
                f"memory (a view or a detached copy), so its gradient would be wrong. {_ADVICE}"
            )


def _version_then(tensor: Tensor, ctx: Function) -> str:
    """The tensor's version when ``ctx`` ran: its version now, less the writes logged since."""
    log = tuple(_write_log)
    since = sum(1 for number, array in log if number > ctx._writes and array is tensor._data)
    complete = log and log[0][0] <= ctx._writes + 1  # the log reaches back to then
    return str(tensor._version - since) if complete else f"{tensor._version - since} or less"


def _shares(arrays: list[np.ndarray], data: np.ndarray) -> bool:
    return any(np.shares_memory(a, data) for a in arrays)


_ADVICE = (
    "Change tensors in place (optimizer.step(), add_, x -= ..., x.data = ...) only after "
    "backward, or compute on a copy."
)

_NO_SITE = "<unknown: run inside detect_anomaly() to see where>"


def _checksum(array: Any) -> int | None:
    """A checksum of an array's bytes (anomaly mode: to catch raw NumPy writes too)."""
    if not isinstance(array, np.ndarray):
        return None
    return zlib.crc32(np.ascontiguousarray(array).view(np.uint8))


def _observe_before(ctx: Function) -> None:
    """Anomaly mode: every array the node saved must still hold what it held in forward."""
    checksums = getattr(ctx, "_checksums", None)
    if not state.anomaly or checksums is None:
        return
    for k, (array, checksum) in enumerate(zip(ctx.saved_tensors, checksums, strict=True)):
        if checksum is not None and _checksum(array) != checksum:
            raise RuntimeError(
                f"detect_anomaly: saved array {k} (shape {array.shape}) of {ctx.name} (created "
                f"at {ctx.site}) was changed after forward by a write the engine does not track "
                "(into .data[...], or into the ndarray the Tensor was made from): its gradient "
                "would be wrong"
            )


def _signature_hint(err: TypeError, op: type, method: str, signature: str) -> TypeError | None:
    """A TypeError raised by the call itself (not inside it) means a wrong signature, most
    often a missing @staticmethod: the error that says so. None for any other TypeError."""
    if err.__traceback__ is None or err.__traceback__.tb_next is not None:
        return None  # raised inside the method: the user's own error, as it is
    return TypeError(
        f"{op.__name__}.{method} could not be called ({err}): it must be a @staticmethod "
        f"{signature}, with ctx, the node, first"
    )


def _as_output(out: Any, op: type) -> np.ndarray:
    """What a forward returned, as an ndarray: a NumPy or Python number is fine; anything else
    is an error naming the op."""
    if isinstance(out, np.generic | int | float) and not isinstance(out, bool):
        return np.asarray(out)
    hint = " (a Tensor's array is its .data)" if isinstance(out, Tensor) else ""
    raise TypeError(
        f"{op.__name__}.forward returned {type(out).__name__}; it must return an ndarray{hint}"
    )


def _array(value: Any) -> Any:
    """The array of a Tensor, or the value itself (for comparisons and in-place writes)."""
    return value._data if isinstance(value, Tensor) else value


def _check_write(tensor: Tensor, op: str, other: Any) -> None:
    """An in-place write must not bypass the graph: the errors PyTorch gives, worded for us."""
    if not state.grad_enabled:
        return
    if tensor.requires_grad and tensor._ctx is None:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad (shape {tensor.shape}) cannot be changed "
            "in place while gradients are recorded: update it inside `with tl.no_grad():`"
        )
    if tensor.requires_grad or (isinstance(other, Tensor) and other.requires_grad):
        raise RuntimeError(
            f"{op}: an in-place write into a tensor of the graph (shape {tensor.shape}), or "
            "of a tensor that requires grad into a constant, would lose gradients; write "
            "x = x + y instead, or do it under no_grad()"
        )


def _may_write(tensor: Tensor, other: Any, op: str) -> bool:
    """For ``x += y``: True to write in place, False to make a new tensor instead."""
    if not state.grad_enabled:
        return True
    if tensor.requires_grad and tensor._ctx is None:
        _check_write(tensor, op, other)  # raises: a leaf that requires grad
    return not (tensor.requires_grad or (isinstance(other, Tensor) and other.requires_grad))


def _write(tensor: Tensor, op: str, ufunc: Callable, other: Any) -> Tensor:
    """``ufunc(tensor, other)`` into the tensor's own array, checked first; the version goes up."""
    _check_write(tensor, op, other)
    values = _array(other)
    shape = np.broadcast_shapes(tensor.shape, np.shape(values))
    if shape != tensor.shape:
        raise ValueError(
            f"{op}: a value of shape {np.shape(values)} would change the tensor's shape "
            f"{tensor.shape} to {shape}; an in-place write keeps the shape"
        )
    ufunc(tensor._data, values, out=tensor._data)
    _written(tensor)
    return tensor


# ============================================================================= bookkeeping
# Off the main line: hooks, anomaly checks and observers (traces) run only when present.
def _run_hooks(node: Tensor, grad: np.ndarray) -> np.ndarray:
    wrapped = Tensor._new(grad, None)  # what each hook sees (a fresh one after a replacement)
    for fn in tuple(node._hooks.values()):  # (a hook may remove itself)
        replaced = fn(wrapped)
        if replaced is not None:
            replaced = np.array(as_array(replaced))  # a copy: the hook may keep its array
            if replaced.shape != grad.shape:
                raise ValueError(
                    f"tensor hook {fn!r} returned a gradient of shape "
                    f"{replaced.shape}, expected {grad.shape}"
                )
            grad, wrapped = replaced, Tensor._new(replaced, None)
    return grad


def _note_site(ctx: Function, out: np.ndarray) -> None:
    """Where the node was made (user code line, innermost Module); in anomaly mode, also check
    its result and checksum what it saved."""
    ctx.site = user_site()
    ctx.module = state.module_stack[-1] if state.module_stack else None
    if state.anomaly:
        _check_finite(out, ctx, "forward result")
        ctx._checksums = [_checksum(a) for a in ctx.saved_tensors]


def _observe(node: Tensor, ctx: Function, grad: np.ndarray, input_grads: tuple) -> None:
    if state.anomaly:
        for input_grad in input_grads:
            if input_grad is not None:
                _check_finite(np.asarray(input_grad), ctx, "backward gradient")
    for observer in state.backward_observers:
        observer(node, ctx, grad, input_grads)


def _check_finite(array: np.ndarray, ctx: Function, what: str) -> None:
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        bad = "NaN" if np.isnan(array).any() else "inf"
        raise RuntimeError(
            f"detect_anomaly: {ctx.name} produced {bad} in its {what} "
            f"(op created at {ctx.site or '<unknown>'})"
        )


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_site() -> str:
    """The ``file:line`` of the innermost caller outside tinygrad_lab (where the user wrote it);
    in a notebook, ``cell N:line`` (N the cell's execution count)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    filename = frame.f_code.co_filename
    cell = _notebook_cell(filename)
    where = f"cell {cell}" if cell is not None else os.path.basename(filename)
    return f"{where}:{frame.f_lineno}"


def _notebook_cell(filename: str) -> int | None:
    """The execution count of the notebook cell IPython compiled as ``filename``, if any (its
    code has a temporary file name such as ``/tmp/ipykernel_42/123.py``)."""
    ipython = sys.modules.get("IPython")  # only if running: never imported here
    shell = ipython.get_ipython() if ipython is not None else None
    cells = getattr(getattr(shell, "compile", None), "_filename_map", None)
    return cells.get(filename) if isinstance(cells, dict) else None


# ============================================================================== functions
def _plain_index(index: Any) -> Any:
    """``index`` with every Tensor in it replaced by its array: a bool mask as it is, numbers
    as integers (Tensors hold floats; NumPy indexes with ints)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if not isinstance(index, Tensor):
        return index
    data = index._data
    if data.dtype.kind == "b":
        return data
    if not np.array_equal(data, np.round(data)):
        raise IndexError(f"GetItem: a Tensor index must hold whole numbers, got {data!r}")
    return data.astype(np.intp)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``np.concatenate``), differentiably."""
    return ops.Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis (``np.stack``), differentiably."""
    return ops.Stack.apply(*tensors, axis=axis)


# The import cycle, declared once: the ops subclass Function (above) and Tensor's methods call
# them; `ops.X` is looked up when a method runs.
from tinygrad_lab import ops  # noqa: E402
