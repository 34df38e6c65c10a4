"""Integrity: no gradient computed from values changed in place since forward saved them.

Every tensor has a version, which each in-place write made through the framework raises
(``add_``, ``x -= y`` under ``no_grad``, ``x[i] = v``, ``x.data = ...``, optimizer steps). A
node notes how many writes had been made when it ran (``ctx._writes``); if some were made
since, backward calls `check_versions`, which refuses to run the node if one touched an array
it saved. Under ``detect_anomaly()`` each saved array is also checksummed, so a raw NumPy write
(into ``t.data[...]``) is caught too.

A write that a gradient passes through, ``x[i] = v`` into a tensor of the graph, is recorded
as an op (``ops.indexing.IndexPut``) whose output ``x`` becomes (`rebase`), as PyTorch records
``index_put_``; the ops that used ``x`` before it still reach ``x`` as it was (`parents_then`).

The engine enters this module from two places: ``Function.apply`` notes the count of writes
in each node, and backward, when writes were made since, asks `parents_then`, which checks the
node (`check_versions`). The in-place methods, ``data``'s setter among them, are the `InPlace`
mixin of `Tensor`, below. It imports nothing of the engine: a tensor is whatever has ``_data``,
``_version``, ``_ctx`` and ``requires_grad``.
"""

from __future__ import annotations

import weakref
import zlib
from collections import deque
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import numpy as np

from tinygrad_lab.grad_mode import state
from tinygrad_lab.numpy_interop import as_array

writes = 0  # in-place writes made so far through any tensor: backward's one-compare shortcut
_write_log: deque = deque(maxlen=64)  # (write number, array written), the newest last: exact
# The number of the last write into each buffer (the ndarray that owns the memory), by id: so
# that a write through any tensor viewing it is caught after any number of other writes too.
_buffer_writes: dict[int, int] = {}
# The last write recorded in the graph into each buffer, by id: (its number, the array written).
_graph_writes: dict[int, tuple[int, np.ndarray]] = {}

ADVICE = (
    "Change tensors in place (optimizer.step(), add_, x -= ..., x.data = ...) only after "
    "backward, or compute on a copy."
)
NO_SITE = "<unknown: run inside detect_anomaly() to see where>"


def written(tensor: Any) -> None:
    """Note an in-place write: the tensor's version goes up, and backward's shortcut is off."""
    global writes
    writes += 1
    tensor._version += 1
    tensor._written_at = writes
    data = tensor._data
    _write_log.append((writes, data))
    buffer = data if data.base is None else _buffer(data)
    _buffer_writes[_forget_with(buffer, _buffer_writes)] = writes


def _forget_with(buffer: np.ndarray, book: dict) -> int:
    """``id(buffer)``, to key ``book``; the entry goes when the buffer does (ids are reused)."""
    key = id(buffer)
    if key not in book:
        weakref.finalize(buffer, book.pop, key, None)
    return key


def _buffer(array: np.ndarray) -> np.ndarray:
    """The ndarray that owns ``array``'s memory (the array itself when it is no view)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def parents_then(node: Any, ctx: Any) -> tuple:
    """Backward's slow path, taken for a node that in-place writes were made since: refuse it
    if one changed an array it saved (`check_versions`) or, in the graph, its output; and give
    its parents as they were when it ran (a tensor that a recorded write made the output of
    another node since, as it was before)."""
    if ctx.saved_tensors:
        check_versions(node, ctx)
    data = node._data
    key = id(data if data.base is None else _buffer(data))
    number, array = _graph_writes.get(key, (0, None))
    if number > ctx._writes and array is not data and np.may_share_memory(array, data):
        raise RuntimeError(
            f"backward: the output of {ctx.name} (created at {ctx.site or NO_SITE}), of shape "
            f"{node.shape}, shares memory with a tensor written into (x[...] = ...) since, so "
            "its values changed and its gradient would be wrong; write into a clone() instead"
        )
    return tuple(_as_it_was(parent, ctx._writes) for parent in ctx.parents)


def _as_it_was(tensor: Any, writes: int) -> Any:
    """``tensor`` before the recorded writes made into it after the ``writes``-th write."""
    while getattr(tensor._ctx, "overwrote", 0) > writes:
        tensor = tensor._ctx.parents[0]
    return tensor


def check_versions(node: Any, ctx: Any) -> None:
    """Refuse to run ``ctx.backward`` if an array it saved was changed in place since."""
    saved = [a for a in ctx.saved_tensors if isinstance(a, np.ndarray)]
    owners = [(f"input {i}", p) for i, p in enumerate(ctx.parents)] + [("output", node)]
    for what, tensor in owners:
        if tensor._written_at > ctx._writes and _shares(saved, tensor._data):
            raise RuntimeError(
                f"backward: {ctx.name} (created at {ctx.site or NO_SITE}) saved its {what} "
                f"of shape {tensor.shape} for backward at version {_version_then(tensor, ctx)}, "
                f"but it was changed in place since (version {tensor._version} now), so its "
                f"gradient would be wrong. {ADVICE}"
            )
    log = tuple(_write_log)  # writes through another tensor sharing memory: exact overlaps
    overlaps = any(number > ctx._writes and _shares(saved, array) for number, array in log)
    if not overlaps and log[0][0] > ctx._writes + 1:  # the log has lost writes made since:
        # then, as PyTorch with its one counter per storage, any write into the buffer counts
        since = [_buffer_writes.get(id(_buffer(a)), 0) > ctx._writes for a in saved]
        overlaps = any(since)
    if overlaps:
        raise RuntimeError(
            f"backward: an array that {ctx.name} (created at {ctx.site or NO_SITE}) saved "
            "for backward was changed in place since, through a tensor that shares its "
            f"memory (a view or a detached copy), so its gradient would be wrong. {ADVICE}"
        )


def _version_then(tensor: Any, ctx: Any) -> str:
    """The tensor's version when ``ctx`` ran: its version now, less the writes logged since."""
    log = tuple(_write_log)
    since = sum(1 for number, array in log if number > ctx._writes and array is tensor._data)
    complete = log and log[0][0] <= ctx._writes + 1  # the log reaches back to then
    return str(tensor._version - since) if complete else f"{tensor._version - since} or less"


def _shares(arrays: list[np.ndarray], data: np.ndarray) -> bool:
    return any(np.shares_memory(a, data) for a in arrays)


# ------------------------------------------------------------------------- anomaly mode
def checksum(array: Any) -> int | None:
    """A checksum of an array's bytes (anomaly mode: to catch raw NumPy writes too)."""
    if not isinstance(array, np.ndarray):
        return None
    return zlib.crc32(np.ascontiguousarray(array).view(np.uint8))


def check_checksums(ctx: Any) -> None:
    """Anomaly mode: every array the node saved must still hold what it held in forward."""
    checksums = getattr(ctx, "_checksums", None)
    if not state.anomaly or checksums is None:
        return
    for k, (array, expected) in enumerate(zip(ctx.saved_tensors, checksums, strict=True)):
        if expected is not None and checksum(array) != expected:
            raise RuntimeError(
                f"detect_anomaly: saved array {k} (shape {array.shape}) of {ctx.name} (created "
                f"at {ctx.site}) was changed after forward by a write the engine does not track "
                "(into .data[...], or into the ndarray the Tensor was made from): its gradient "
                "would be wrong"
            )


# ------------------------------------------------------------------------- in-place writes
def _array(value: Any) -> Any:
    """The array of a Tensor, or the value itself."""
    return getattr(value, "_data", value)


def _requires_grad(value: Any) -> bool:
    return bool(getattr(value, "requires_grad", False))


def check_write(tensor: Any, op: str, other: Any) -> None:
    """An in-place write must not bypass the graph: the errors PyTorch gives, worded for us."""
    if not state.grad_enabled:
        return
    if tensor.requires_grad and tensor._ctx is None:
        raise _leaf_written(tensor, op)
    if tensor.requires_grad or _requires_grad(other):
        raise RuntimeError(
            f"{op}: an in-place write into a tensor of the graph (shape {tensor.shape}), or "
            "of a tensor that requires grad into a constant, would lose gradients; write "
            "x = x + y instead, or do it under no_grad()"
        )


def _leaf_written(tensor: Any, op: str) -> RuntimeError:
    return RuntimeError(
        f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
        f"(as PyTorch says): a leaf tensor that requires grad (shape {tensor.shape}) cannot be "
        "changed in place while gradients are recorded: update it inside `with tl.no_grad():`"
    )


def check_graph_write(tensor: Any, op: str) -> None:
    """A write that gradients pass through (``x[i] = v``, recorded as an op): not into a leaf
    that requires grad (as PyTorch), nor into a view, whose base would change behind its own
    node's back (PyTorch follows views; this engine does not), nor into a tensor of bools."""
    if tensor.requires_grad and tensor._ctx is None:
        raise _leaf_written(tensor, op)
    if tensor._data.base is not None:
        raise RuntimeError(
            f"{op}: this tensor (shape {tensor.shape}) is a view of another array (made by "
            "indexing, reshape, transpose, expand, or a Tensor of an ndarray's view), and a "
            "write into it that gradients pass through would change that array without its "
            "gradient knowing; write into a clone() instead: x = x.clone(); x[...] = ..."
        )
    if tensor._data.dtype.kind != "f":
        raise TypeError(
            f"{op}: writing a value that requires grad into a {tensor.dtype} tensor; "
            "only float tensors carry gradients"
        )


def rebase(tensor: Any, out: Any) -> None:
    """Make ``tensor``, written into in place, the output of the node that made ``out`` (an
    op recorded for the write, whose first input is ``tensor`` as it was)."""
    written(tensor)
    node = out._ctx
    tensor._ctx, tensor.requires_grad = node, True
    node.overwrote = node._writes = writes  # (the write is not "since" the node)
    _graph_writes[_forget_with(_buffer(tensor._data), _graph_writes)] = (writes, tensor._data)


def write_items(tensor: Any, index: Any, value: Any) -> None:
    """``tensor[index] = value`` into its array, no gradient involved; the version goes up."""
    check_write(tensor, "__setitem__", value)
    if not tensor._data.flags.writeable:
        raise ValueError(_read_only(tensor, "__setitem__"))
    tensor._data[index] = _array(value)
    written(tensor)


def _read_only(tensor: Any, op: str) -> str:
    return (
        f"{op}: this tensor of shape {tensor.shape} is a read-only view (made by expand, whose "
        "entries share memory, as in PyTorch); write into a clone() instead"
    )


def _may_write(tensor: Any, other: Any, op: str) -> bool:
    """For ``x += y``: True to write in place, False to make a new tensor instead."""
    if not state.grad_enabled:
        return True
    if tensor.requires_grad and tensor._ctx is None:
        check_write(tensor, op, other)  # raises: a leaf that requires grad
    return not (tensor.requires_grad or _requires_grad(other))


def _write(tensor: Any, op: str, ufunc: Callable, other: Any) -> Any:
    """``ufunc(tensor, other)`` into the tensor's own array, checked first; the version goes up."""
    check_write(tensor, op, other)
    if not tensor._data.flags.writeable:
        raise ValueError(_read_only(tensor, op))
    values = _array(other)
    shape = np.broadcast_shapes(tensor.shape, np.shape(values))
    if shape != tensor.shape:
        raise ValueError(
            f"{op}: a value of shape {np.shape(values)} would change the tensor's shape "
            f"{tensor.shape} to {shape}; an in-place write keeps the shape"
        )
    try:
        ufunc(tensor._data, values, out=tensor._data)
    except TypeError:  # NumPy's casting error: say it in our words (nothing was written)
        raise TypeError(
            f"{op}: cannot write {np.asarray(values).dtype} values into a {tensor.dtype} tensor "
            f"of shape {tensor.shape} in place; compute a new tensor instead"
        ) from None
    written(tensor)
    return tensor


class InPlace:
    """`Tensor`'s in-place methods. ``x += y`` writes into x when it may (a constant, or
    anything under no_grad); on a tensor in the graph it makes a new one, as ``x = x + y``; on
    a leaf that requires grad, outside no_grad, it is an error (the update would bypass the
    graph), as in PyTorch."""

    __slots__ = ()

    def _set_data(self, values: Any) -> None:
        self._data = values if values is self._data else as_array(values)
        written(self)

    # (read in C by attrgetter: the optimizers read it for every parameter at every step)
    data = property(
        attrgetter("_data"),
        _set_data,
        doc="The values, an ndarray. Assigning to it (or ``x.data *= 2``) is an in-place write: "
        "it raises the version, so a graph that saved the old values will not use them.",
    )

    def __iadd__(self, other: Any) -> Any:
        return self.add_(other) if _may_write(self, other, "+=") else self + other

    def __isub__(self, other: Any) -> Any:
        return self.sub_(other) if _may_write(self, other, "-=") else self - other

    def __imul__(self, other: Any) -> Any:
        return self.mul_(other) if _may_write(self, other, "*=") else self * other

    def __itruediv__(self, other: Any) -> Any:
        return self.div_(other) if _may_write(self, other, "/=") else self / other

    def add_(self, other: Any) -> Any:
        """``self += other`` in place (allowed on a leaf that requires grad only in no_grad)."""
        return _write(self, "add_", np.add, other)

    def sub_(self, other: Any) -> Any:
        return _write(self, "sub_", np.subtract, other)

    def mul_(self, other: Any) -> Any:
        return _write(self, "mul_", np.multiply, other)

    def div_(self, other: Any) -> Any:
        if not np.all(_array(other)):
            raise ZeroDivisionError(
                f"div_: the divisor of a tensor of shape {self.shape} has zeros"
            )
        return _write(self, "div_", np.divide, other)

    def copy_(self, other: Any) -> Any:
        """Overwrite every entry with ``other`` (broadcast to this tensor's shape)."""
        return _write(self, "copy_", lambda _, new, out: np.copyto(out, new), other)

    def fill_(self, value: float) -> Any:
        return self.copy_(value)

    def zero_(self) -> Any:
        return self.copy_(0.0)
