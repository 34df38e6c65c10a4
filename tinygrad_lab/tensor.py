"""The engine: `Function`, `Tensor` and `backward()`, to read top to bottom.

A `Tensor` holds an ndarray. An op is a `Function` subclass with a ``forward`` and a
``backward`` on plain ndarrays; ``Op.apply(*tensors)`` runs ``forward`` and, when gradients are
wanted, keeps the `Function` instance as the output's ``_ctx``: a node of the graph, whose
``parents`` are the op's inputs. That is the whole graph. ``Tensor.backward()`` visits its
nodes from the newest to the oldest (a node is always made after its inputs) and calls each
one's ``backward``, summing the gradients of a tensor that fed several ops.

Off this main line, each in a module of its own: `integrity` (in-place writes), `sites` (where
a node was made; anomaly checks), `numpy_interop`, `errors`. Each op's method (``t.exp()``)
comes from its registration in `tinygrad_lab.ops` (`ops.registry`), the one import cycle.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import numpy as np

from tinygrad_lab import differentiable, errors, grad_mode, integrity, sites
from tinygrad_lab.display import FunctionDisplay, TensorDisplay
from tinygrad_lab.grad_mode import state
from tinygrad_lab.hooks import TensorHooks, run_hooks
from tinygrad_lab.numpy_interop import NumpyInterop, as_array, unbroadcast

_creation = itertools.count()  # numbers the recorded nodes in order of creation


# ================================================================================= Function
class Function(FunctionDisplay):
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

    and call it as ``Mul.apply(a, b)``. An instance is the context (``ctx``) of one node, with
    ``parents`` (the input Tensors), ``needs_input_grad`` (a bool each) and ``saved_tensors``;
    keep other values (an axis) as plain attributes. Keyword arguments of ``apply`` are settings
    for ``forward``, never differentiated. An output that is not floating point (a mask) records
    no graph. ``backward`` returns one gradient per input (a tuple when there are several), in
    the input's shape or one that broadcasts to it (the engine sums it back, `unbroadcast`), or
    ``None`` for an input that needs or takes none (``ctx.needs_input_grad[i]`` False, a mask).
    """

    parents: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[np.ndarray, ...] | None = ()  # None once backward released them
    _writes = -1  # how many in-place writes had been made when the op ran (set by apply)
    site: str | None = None  # where the user made it, and in which Module (`sites`: only
    module: Any = None  # while sites are recorded, as in anomaly mode and traces)

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

    # Runs once per op, millions of times in a sweep: a plain loop, modes read only when on.
    @classmethod
    def apply(cls, *inputs: Any, **settings: Any) -> Tensor:
        """Run the op forward on ``inputs`` (Tensors, numbers, arrays, or None for an optional
        input) and record it in the graph. A number takes the first float Tensor's dtype."""
        needs, arrays = [], []
        for x in inputs:
            if not isinstance(x, Tensor):  # numbers and arrays enter the graph as constants
                inputs, needs, arrays = _constants(inputs)
                break
            needs.append(x.requires_grad)
            arrays.append(x._data)
        if settings:
            errors.check_settings(cls, settings)  # a Tensor there would get no gradient
        ctx = cls()
        ctx.parents, ctx.needs_input_grad = inputs, tuple(needs)
        ctx._writes = integrity.writes  # backward compares: was anything written in place since?
        try:
            out = cls.forward(ctx, *arrays, **settings)
        except (ValueError, TypeError) as err:
            better = errors.in_forward(err, cls, inputs)  # None: clear as it is
            if better is None:
                raise
            raise better from err
        if type(out) is not np.ndarray:
            out = errors.as_output(out, cls, ctx)
        recording = True
        if grad_mode.switched:  # a mode is on in some thread: read this thread's
            if state.record_sites:  # traces, layer drawings and anomaly mode
                sites.note_site(ctx, out)
            recording = state.grad_enabled
        kind = out.dtype.kind
        if recording and True in needs and kind == "f":
            ctx.seq = next(_creation)
            return Tensor._new(out, ctx)
        if kind in "iu":  # a count or an index (the sum of a mask): numbers are floats here
            out = out.astype(np.float64)
        return Tensor._new(out, None)


def _constants(inputs: tuple) -> tuple[tuple[Tensor, ...], list[bool], list]:
    """Parents, needs and arrays of inputs not all Tensors: a number takes the first float
    Tensor's dtype; None (an optional input) stays None for forward."""
    like = next((x for x in inputs if isinstance(x, Tensor) and x._data.dtype.kind == "f"), None)
    lift = like._lift if like is not None else Tensor
    parents = tuple(
        x if isinstance(x, Tensor) else NO_INPUT if x is None else lift(x) for x in inputs
    )
    arrays = [None if x is None else t._data for x, t in zip(inputs, parents, strict=True)]
    return parents, [t.requires_grad for t in parents], arrays


# =================================================================================== Tensor
class Tensor(NumpyInterop, integrity.InPlace, TensorHooks, TensorDisplay):
    """A float32/float64 ndarray plus what autograd needs: ``grad``, ``requires_grad``, its op.

    ``Tensor(ndarray)`` shares the array's memory (like ``torch.from_numpy``); anything else is
    converted. A bool tensor (a mask, a comparison's result) holds no gradient. Every ``.grad``
    the engine stores is an array of its own. Mixins add in-place methods (`integrity`), hooks,
    conversions (`numpy_interop`) and repr (`display`); each op's method is its registration.
    """

    __slots__ = ("_data", "_grad", "requires_grad", "_ctx", "_hooks", "_retains_grad", "name")
    __slots__ += ("_version", "_written_at")
    __hash__ = object.__hash__  # graph bookkeeping keys tensors by identity

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data: np.ndarray = as_array(data, dtype)
        if requires_grad not in (True, False) or (requires_grad and self._data.dtype.kind != "f"):
            raise errors.cannot_require_grad(self, requires_grad)
        self._grad: np.ndarray | None = None
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
        tensor._data, tensor._grad, tensor._ctx = data, None, ctx
        tensor.requires_grad = ctx is not None
        tensor._hooks, tensor._retains_grad, tensor.name = None, False, None
        tensor._version = tensor._written_at = 0
        return tensor

    def _lift(self, other: Any) -> Tensor:
        """``other`` as a Tensor: a number takes this tensor's dtype (float32 stays float32)."""
        if isinstance(other, Tensor):
            return other
        dtype = self._data.dtype
        if (type(other) is float or type(other) is int) and dtype.kind == "f":  # the usual case
            return Tensor._new(np.array(other, dtype), None)
        floating = np.ndim(other) == 0 and dtype.kind == "f"
        return Tensor(other, dtype=self._data.dtype if floating else None)

    # What backward accumulated: None, or an ndarray of the tensor's shape and dtype (checked
    # when assigned: a wrong one is an error there, not later in backward). The getters are
    # attrgetters, read in C: optimizers and hooks read them for every parameter at every step.
    grad = property(attrgetter("_grad"), errors.set_grad, doc="The accumulated gradient.")
    shape = property(attrgetter("_data.shape"), doc="Shape of ``data``.")
    ndim = property(attrgetter("_data.ndim"), doc="Number of dimensions.")
    dtype = property(attrgetter("_data.dtype"), doc="float32, float64 or bool.")
    grad_fn = property(attrgetter("_ctx"), doc="The Function node that made this tensor.")
    is_leaf = property(lambda self: self._ctx is None, doc="True unless made by a recorded op.")
    version = property(attrgetter("_version"), doc="How many in-place writes it has had.")

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor(self._data)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``grad`` to None, as PyTorch does)."""
        self.grad = None

    # ------------------------------------------------------------------------- operators
    # (Their ops' other names, t.add(y), t.mul(y), ..., are registered in ops/elementwise.py.)
    __add__ = lambda self, other: ops.Add.apply(self, self._lift(other))  # noqa: E731
    __radd__ = lambda self, other: ops.Add.apply(self._lift(other), self)  # noqa: E731
    __sub__ = lambda self, other: ops.Sub.apply(self, self._lift(other))  # noqa: E731
    __rsub__ = lambda self, other: ops.Sub.apply(self._lift(other), self)  # noqa: E731
    __mul__ = lambda self, other: ops.Mul.apply(self, self._lift(other))  # noqa: E731
    __rmul__ = lambda self, other: ops.Mul.apply(self._lift(other), self)  # noqa: E731
    __truediv__ = lambda self, other: ops.Div.apply(self, self._lift(other))  # noqa: E731
    __rtruediv__ = lambda self, other: ops.Div.apply(self._lift(other), self)  # noqa: E731
    __matmul__ = lambda self, other: ops.MatMul.apply(self, self._lift(other))  # noqa: E731
    __rmatmul__ = lambda self, other: ops.MatMul.apply(self._lift(other), self)  # noqa: E731
    __neg__ = lambda self: ops.Neg.apply(self)  # noqa: E731
    __pow__ = lambda self, exponent: ops.power(self, exponent)  # noqa: E731
    __rpow__ = lambda self, base: ops.TensorPow.apply(self._lift(base), self)  # noqa: E731
    __getitem__ = lambda self, index: ops.getitem(self, index)  # noqa: E731
    __setitem__ = lambda self, index, value: ops.setitem(self, index, value)  # noqa: E731
    __pos__ = lambda self: self  # noqa: E731  (the identity, no node: PyTorch's +t is t too)

    # ------------------------------------------------------------------------- autograd
    def backward(
        self,
        grad: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        *,
        gradient: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` that requires grad.

        ``grad`` (PyTorch's ``gradient=``) is the gradient of some scalar with respect to this
        tensor (1 by default, for a one-element tensor). The graph's saved arrays are freed
        afterwards unless ``retain_graph`` (by default ``create_graph``); with ``create_graph``
        the backward is itself recorded (each ``.grad`` a Tensor in a graph). All or nothing: a
        backward that fails part-way leaves every ``.grad`` and the graph as they were."""
        seed = _seed(self, grad if gradient is None else gradient, create_graph)
        kept = _walk((self,), (seed,), None, create_graph, retain_graph)
        _commit(kept, seed)


# ================================================================================= backward
def _seed(root: Tensor, grad: Any, create_graph: bool = False) -> Any:
    """The gradient backward starts from: ``grad``, or 1 for a one-element ``root``; a Tensor
    when the backward is recorded (``grad`` itself when it is one: it may require grad)."""
    if not root.requires_grad or (grad is None and root._data.size != 1):
        raise errors.cannot_start_backward(root)
    array = np.ones_like(root._data) if grad is None else as_array(grad, root._data.dtype)
    if array.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {array.shape}, but the tensor has shape {root.shape}"
        )
    if create_graph and not (isinstance(grad, Tensor) and grad.dtype == array.dtype):
        return Tensor._new(array, None)
    return grad if create_graph else array


def _walk(roots: tuple, seeds: tuple, wanted: Any, create_graph: bool, retain: Any) -> list:
    """Run backward from ``roots`` (each with its seed); return (tensor, gradient) for every
    leaf reached and tensor retaining its grad, or for the set ``wanted`` of tensors."""
    grads: dict = {}  # tensor -> the sum of the gradients that have reached it
    # Tensors made by an op that some gradient has reached, as a heap: the newest (largest
    # creation number) pops first. A node is made after its inputs, so a tensor pops after
    # every tensor made from it: all its gradient has arrived by then.
    for root, seed in zip(roots, seeds, strict=True):
        grads[root] = grads[root] + seed if root in grads else seed
    waiting = [(-root._ctx.seq, root) for root in grads if root._ctx is not None]
    heapq.heapify(waiting)
    kept: list[tuple[Tensor, Any]] = []  # (tensor, grad) to store in tensor.grad
    visited: list[Tensor] = []
    observed = grad_mode.switched and (state.anomaly or bool(state.backward_observers))
    with grad_mode.enable_grad() if create_graph else _AS_IS:
        while waiting:
            node = heapq.heappop(waiting)[1]
            grad = grads.pop(node)
            if node._hooks:
                grad = run_hooks(node._hooks, grad, Tensor._new)
            if node._retains_grad if wanted is None else node in wanted:
                kept.append((node, grad))
            _visit(node, grad, grads, waiting, observed, create_graph)
            visited.append(node)
        for leaf, grad in grads.items():  # what is left are the leaves, with their sums
            if wanted is None or leaf in wanted:
                hooked = run_hooks(leaf._hooks, grad, Tensor._new) if leaf._hooks else grad
                kept.append((leaf, hooked))
    if not (create_graph if retain is None else retain):
        _release(visited)
    return kept


def _visit(
    node: Tensor, grad: Any, grads: dict, waiting: list, observed: bool, create_graph: bool
) -> None:
    """Run ``node``'s op backward and add each input's gradient to ``grads``."""
    ctx = node._ctx
    if ctx.saved_tensors is None:
        raise errors.freed_graph(ctx.name)
    parents = ctx.parents
    if ctx._writes != integrity.writes:  # something was written in place since: checked,
        parents = integrity.parents_then(node, ctx)  # and its inputs as they were then
    if observed:
        sites.observe_before(ctx)
    try:
        if create_graph:  # the op's one backward, given Tensors: what it does is recorded
            input_grads = differentiable.recorded_backward(ctx, node, grad, parents)
        else:
            input_grads = ctx.backward(ctx, grad)
    except TypeError as err:
        hint = errors.signature_hint(err, type(ctx), "backward", "backward(ctx, grad)")
        if hint is None:
            raise
        raise hint from err
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if len(input_grads) != len(parents):
        raise RuntimeError(
            f"{ctx.name}.backward returned {len(input_grads)} gradients for {len(parents)} inputs"
        )
    if observed:
        sites.observe(node, ctx, grad, input_grads)
    needs = ctx.needs_input_grad  # (fixed when the op ran, as in PyTorch)
    for i, (parent, parent_grad) in enumerate(zip(parents, input_grads, strict=True)):
        if parent_grad is None or not needs[i]:
            continue
        data = parent._data
        if (
            create_graph  # (Tensors: checked in _fit)
            or type(parent_grad) is not np.ndarray
            or parent_grad.shape != data.shape
            or parent_grad.dtype is not data.dtype  # (NumPy's float dtypes are singletons)
        ):
            parent_grad = _fit(parent_grad, parent, ctx, i, create_graph)
        previous = grads.get(parent)
        if previous is not None:
            total = previous + parent_grad
            grads[parent] = total if create_graph else np.asarray(total)  # (0-d: an array)
            continue
        grads[parent] = parent_grad
        if parent._ctx is not None:
            heapq.heappush(waiting, (-parent._ctx.seq, parent))


def _commit(kept: list[tuple[Tensor, Any]], seed: Any) -> None:
    """Store the gradients that leaves (and retained tensors) receive, accumulating; every
    check first, so that either every ``.grad`` changes or none does."""
    for node, _ in kept:
        old = node._grad
        if old is not None and (old.shape != node.shape or old.dtype != node._data.dtype):
            raise errors.stale_grad(node, old)
    stored = {id(seed)}  # arrays some .grad (or the caller) already holds
    for node, grad in kept:
        if type(grad) is not np.ndarray or type(node._grad) is Tensor:  # recorded: a Tensor
            node._grad = grad if node._grad is None else node._grad + grad
        elif node._grad is not None:
            node._grad = np.asarray(node._grad + grad)
        else:
            if grad.base is not None or id(grad) in stored:  # a view, or shared: copy
                grad = grad.copy()
            stored.add(id(grad))
            node._grad = grad


def _release(order: list[Tensor]) -> None:
    """Free the arrays every node saved for backward (a second backward then needs a new graph)."""
    for node in order:
        if node._ctx is not None:
            node._ctx.saved_tensors = None


def _fit(grad: Any, parent: Tensor, ctx: Function, i: int, create_graph: bool = False) -> Any:
    """An op's gradient for input ``i``, checked and reduced to ``parent``'s shape and dtype; or
    an error naming the op, the input and what was wrong."""
    if isinstance(grad, np.generic):  # a NumPy scalar: what arithmetic on 0-d arrays gives
        grad = np.asarray(grad)
    recorded = isinstance(grad, Tensor)  # (with create_graph, it must be)
    array = grad._data if recorded else grad
    ok = recorded is create_graph and type(array) is np.ndarray and array.dtype.kind in "fiub"
    if not ok:
        raise errors.not_a_gradient(grad, ctx.name, i, parent.shape, create_graph)
    if grad.shape != parent.shape and grad.ndim >= parent.ndim:
        grad = unbroadcast(grad, parent.shape)
    if grad.shape != parent.shape:
        raise errors.wrong_gradient_shape(grad, ctx.name, i, parent.shape)
    return grad.to(parent.dtype) if create_graph else grad.astype(parent.dtype, copy=False)


_AS_IS = contextlib.nullcontext()  # (one, reused: the first-order backward's context)
NO_INPUT = Tensor._new(np.empty(0), None)  # the parent of an optional input given as None
NO_INPUT.name = "None"

# The import cycle, declared once: the ops subclass Function (above), Tensor's operators call
# them (`ops.X` is looked up when an operator runs), and their registrations add its methods.
from tinygrad_lab import ops  # noqa: E402
