"""Ops that move entries around without arithmetic: their backward moves the gradient back.

The methods take PyTorch's meaning where NumPy gives the same name another
(docs/pytorch/tensor.md): ``transpose(0, 1)`` swaps two dimensions (``permute`` is the
permutation), ``repeat`` tiles the whole tensor, ``squeeze(dim)`` of a dimension that is not 1
leaves it, ``flatten(start_dim, end_dim)`` joins a run of dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_lab import differentiable
from tinygrad_lab.numpy_interop import plain_index
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function, Tensor

__all__ = ["Reshape", "Permute", "Expand", "Repeat", "GetItem", "AddAt", "Concatenate", "Stack"]
__all__ += ["Pad"]
__all__ += ["ModuleInput", "getitem", "cat", "concatenate", "concat", "stack"]


def _sizes(values: tuple) -> tuple:
    """``f(2, 3)`` or ``f((2, 3))``: the numbers either way, as PyTorch and NumPy take them."""
    if len(values) == 1 and not isinstance(values[0], int | np.integer):
        return tuple(values[0])
    return values


def dim_index(op: str, dim: Any, ndim: int) -> int:
    """``dim`` (negatives count from the end) as an index in ``range(ndim)``, or an error naming
    the op. A 0-d tensor takes 0 and -1, as in PyTorch."""
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"{op}: a dimension is an int, got {dim!r}")
    span = max(ndim, 1)
    if not -span <= dim < span:
        raise IndexError(
            f"{op}: dimension {dim} is out of range for a tensor of {ndim} dimensions "
            f"(expected {-span} to {span - 1})"
        )
    return int(dim) % span


# ------------------------------------------------------------------------------ Reshape
class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"Reshape: cannot reshape {x.shape} ({x.size} elements) into {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


def reshape(x: Tensor, *shape: int | Sequence[int]) -> Tensor:
    """The same entries in another shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
    try:
        sizes = _sizes(shape)
    except TypeError:  # one argument, not a size and not a sequence of them
        sizes = (None,)
    if not all(isinstance(n, int | np.integer) for n in sizes):
        raise TypeError(
            f"reshape: a shape is whole numbers, got {shape!r} (PyTorch's view(dtype), which "
            "reads the bits as another dtype, is not here; to(dtype) converts the values)"
        )
    return Reshape.apply(x, shape=tuple(int(n) for n in sizes))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions ``start_dim`` to ``end_dim`` (both included) joined into one, as PyTorch; a
    0-d tensor becomes 1-D. (NumPy's ``flatten(order)`` takes no dimensions: refused.)"""
    if isinstance(start_dim, str):
        raise TypeError(
            f"flatten: got {start_dim!r}, NumPy's order; this is PyTorch's "
            "flatten(start_dim=0, end_dim=-1), whose order is always 'C'"
        )
    start, end = dim_index("flatten", start_dim, x.ndim), dim_index("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (int(np.prod(x.shape[start : end + 1])),) + x.shape[end + 1 :]
    return Reshape.apply(x, shape=shape)


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dimension ``dim`` split into ``sizes`` (one of them may be -1), as PyTorch."""
    d = dim_index("unflatten", dim, x.ndim)
    sizes = tuple(int(n) for n in sizes)
    known = int(np.prod([n for n in sizes if n != -1]))
    n = x.shape[d]
    fits = known == n if -1 not in sizes else known != 0 and n % known == 0
    if sizes.count(-1) > 1 or not fits:
        raise ValueError(
            f"unflatten: sizes {sizes} do not split dimension {dim} of size {x.shape[d]} "
            f"(shape {x.shape})"
        )
    sizes = tuple(n // known if size == -1 else size for size in sizes)
    return Reshape.apply(x, shape=x.shape[:d] + sizes + x.shape[d + 1 :])


def squeeze(x: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Drop dimensions of size 1: all of them, or those of ``dim`` (an int or a tuple) that are 1;
    a ``dim`` of another size stays, as in PyTorch (NumPy raises)."""
    if dim is None:
        dims = range(x.ndim)
    else:
        dims = {dim_index("squeeze", d, x.ndim) for d in ((dim,) if np.ndim(dim) == 0 else dim)}
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return Reshape.apply(x, shape=shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A new dimension of size 1 at ``dim`` (``-1`` puts it last), as PyTorch."""
    d = dim_index("unsqueeze", dim, x.ndim + 1)
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


register("reshape", Reshape, method=reshape, aliases=("view",))
register("flatten", Reshape, method=flatten)
register("unflatten", Reshape, method=unflatten)
register("squeeze", Reshape, method=squeeze)
register("unsqueeze", Reshape, method=unsqueeze)
register("view_as", Reshape, method=lambda x, other: reshape(x, other.shape))
register("reshape_as", Reshape, method=lambda x, other: reshape(x, other.shape))


# ------------------------------------------------------------------------------ Permute
class Permute(Function):
    """Reorder the dimensions: dimension i of the output is dimension ``dims[i]`` of ``x``."""

    @staticmethod
    def forward(ctx, x, dims):
        if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
            raise ValueError(
                f"Permute: dims {tuple(dims)} are not a permutation of the "
                f"{x.ndim} dimensions of shape {x.shape}"
            )
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        # each entry goes back where it came from: the inverse permutation
        return np.transpose(grad, np.argsort([d % grad.ndim for d in ctx.dims]))


def permute(x: Tensor, *dims: int | Sequence[int]) -> Tensor:
    """Reorder the dimensions: ``x.permute(2, 0, 1)`` or ``x.permute((2, 0, 1))``."""
    return Permute.apply(x, dims=tuple(_sizes(dims)))


def transpose(x: Tensor, *dims: int) -> Tensor:
    """Swap two dimensions, as PyTorch: ``k.transpose(-2, -1)``. (NumPy's ``transpose(axes)``
    is a permutation, and with no axes reverses them: ``permute`` and ``T`` are those.)"""
    if len(dims) != 2 or not all(isinstance(d, int | np.integer) for d in dims):
        raise TypeError(
            f"transpose: got {dims!r}; transpose(dim0, dim1) swaps two dimensions, as PyTorch's. "
            "For NumPy's transpose(axes), a permutation, write permute(*axes); to reverse every "
            "dimension, .T"
        )
    order = list(range(x.ndim))
    first, second = (dim_index("transpose", d, x.ndim) for d in dims)
    if x.ndim:
        order[first], order[second] = order[second], order[first]
    return Permute.apply(x, dims=tuple(order))


def _matrix_transpose(x: Tensor) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"mT: needs a tensor of at least 2 dimensions, got shape {x.shape}")
    return transpose(x, -2, -1)


register("permute", Permute, method=permute)
register("transpose", Permute, method=transpose, aliases=("swapaxes", "swapdims"))
register(
    "T",
    method=property(
        lambda x: Permute.apply(x, dims=tuple(range(x.ndim))[::-1]),
        doc="Every dimension reversed (NumPy's .T; PyTorch's too, which warns beyond 2-D).",
    ),
)
register("mT", method=property(_matrix_transpose, doc="The last two dimensions swapped."))


# ------------------------------------------------------------------------------ Expand
class Expand(Function):
    """``x`` broadcast to a larger ``shape`` without copying, as PyTorch's ``expand``."""

    @staticmethod
    def forward(ctx, x, shape):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(
                f"Expand: cannot expand shape {x.shape} to {shape}: each dimension must be "
                "the tensor's own size or stretch a size 1 (new dimensions go in front)"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad  # each copy of an entry sends its gradient back: the engine sums them


def expand(x: Tensor, *sizes: int | Sequence[int]) -> Tensor:
    """``x`` broadcast to ``sizes`` (``-1`` keeps a dimension's size), a view as in PyTorch."""
    sizes = tuple(int(n) for n in _sizes(sizes))
    new = len(sizes) - x.ndim
    if new < 0 or -1 in sizes[:new]:
        raise ValueError(
            f"expand: sizes {sizes} for shape {x.shape}: give one size per dimension, new "
            "dimensions in front (and -1 only for an existing one)"
        )
    shape = sizes[:new] + tuple(
        m if n == -1 else n for n, m in zip(sizes[new:], x.shape, strict=True)
    )
    return Expand.apply(x, shape=shape)


register("expand", Expand, method=expand)
register("expand_as", Expand, method=lambda x, other: expand(x, other.shape))


# ------------------------------------------------------------------------------ Repeat
class Repeat(Function):
    """PyTorch's ``repeat``: the whole tensor tiled ``repeats[i]`` times along dimension i
    (NumPy's ``np.tile``); extra repeats add dimensions in front."""

    @staticmethod
    def forward(ctx, x, repeats):
        if len(repeats) < x.ndim or min(repeats, default=0) < 0:
            raise ValueError(
                f"Repeat: repeats {repeats} for shape {x.shape}: give a count >= 0 for each "
                "dimension (more add dimensions in front)"
            )
        ctx.repeats, ctx.shape = repeats, x.shape
        return np.tile(x, repeats)

    @staticmethod
    def backward(ctx, grad):
        # every tile's gradient adds to the entry it copied: split each dimension into
        # (tiles, size) and sum over the tiles
        sizes = (1,) * (len(ctx.repeats) - len(ctx.shape)) + ctx.shape
        split = [n for pair in zip(ctx.repeats, sizes, strict=True) for n in pair]
        tiles = tuple(range(0, len(split), 2))
        return grad.reshape(split).sum(axis=tiles).reshape(ctx.shape)


def repeat(x: Tensor, *repeats: int | Sequence[int], **numpy_style: Any) -> Tensor:
    """The whole tensor tiled: ``x.repeat(2, 3)``, as PyTorch (NumPy's ``np.tile``). NumPy's
    ``repeat`` of each entry is ``repeat_interleave``."""
    if numpy_style or not repeats:
        raise TypeError(
            f"repeat: got {repeats!r} {numpy_style or ''}; this is PyTorch's repeat(*sizes), "
            "which tiles the whole tensor (np.tile). NumPy's repeat(repeats, axis), each entry "
            "repeated, is repeat_interleave(repeats, dim)"
        )
    return Repeat.apply(x, repeats=tuple(int(n) for n in _sizes(repeats)))


def repeat_interleave(x: Tensor, repeats: int, dim: int | None = None) -> Tensor:
    """Each entry repeated ``repeats`` times along ``dim`` (flattened first when None), as
    PyTorch's (and NumPy's ``repeat``). ``repeats`` is one count, not a tensor of them."""
    if isinstance(repeats, bool) or not isinstance(repeats, int | np.integer) or repeats < 0:
        raise TypeError(f"repeat_interleave: repeats is one whole number >= 0, got {repeats!r}")
    if dim is None:
        x, dim = flatten(x), 0
    d = dim_index("repeat_interleave", dim, x.ndim)
    if x.ndim == 0:
        x = reshape(x, 1)
    copies = expand(unsqueeze(x, d + 1), *x.shape[: d + 1], int(repeats), *x.shape[d + 1 :])
    return flatten(copies, d, d + 1)


register("repeat", Repeat, method=repeat)
register("repeat_interleave", Expand, method=repeat_interleave)


# ------------------------------------------------------------------------------ GetItem
def is_basic(index) -> bool:
    """True for indexes of ints, slices, None and Ellipsis only (no repeated positions)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, int | slice | type(None) | type(Ellipsis)) for p in parts)


class GetItem(Function):
    """``x[index]``: slices, ints, integer and boolean arrays (``index`` is a setting, never
    differentiated). Repeated integer indices pick an entry several times, so its gradient is
    the sum of theirs."""

    @staticmethod
    def forward(ctx, x, index):
        if isinstance(index, list):
            index = np.asarray(index)
            if index.size == 0:  # [] is a list of no integers (NumPy's reading), not of floats
                index = index.astype(np.intp)
        ctx.index, ctx.shape = index, x.shape
        try:
            return x[index]
        except IndexError as err:
            raise IndexError(
                f"GetItem: index {index!r} does not fit shape {x.shape}: {err}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        # each picked entry's gradient goes back to where it was picked from
        return differentiable.call(AddAt, grad, index=ctx.index, shape=ctx.shape)


class AddAt(Function):
    """``values`` added into zeros of ``shape`` at ``index``, as ``np.add.at``: an entry picked
    several times gets the sum. The backward of `GetItem` (and `Gather`); its own backward picks
    the entries back, a `GetItem`."""

    @staticmethod
    def forward(ctx, values, index, shape):
        ctx.index = index
        out = np.zeros(shape, dtype=values.dtype)
        if is_basic(index):
            out[index] = values
        else:
            np.add.at(out, index, values)  # unbuffered: repeated indices accumulate
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` (the operator): a Tensor in the index counts by its values."""
    return GetItem.apply(x, index=plain_index(index))


# ------------------------------------------------------------------------------ cat, stack
class Concatenate(Function):
    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("Concatenate: needs at least one tensor")
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] if x.ndim else 0 for x in xs]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        # each input's gradient is its slice of the output's, along the axis
        before = (slice(None),) * (ctx.axis % grad.ndim)
        ends = np.cumsum(ctx.sizes)
        return tuple(
            grad[(*before, slice(end - n, end))] for n, end in zip(ctx.sizes, ends, strict=True)
        )


class Stack(Function):
    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("Stack: needs at least one tensor")
        ctx.axis = axis
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


def _joined(name: str, tensors: Any, dim: int, axis: int | None) -> tuple[tuple, int]:
    """The tensors (a sequence, not one Tensor) and the one dimension given (dim or axis)."""
    if isinstance(tensors, Tensor | np.ndarray) or not isinstance(tensors, Sequence):
        raise TypeError(
            f"{name}: expects a sequence (a list or tuple) of tensors, got "
            f"{type(tensors).__name__}; write {name}([a, b], dim=0)"
        )
    if axis is not None:
        if dim != 0 and dim != axis:
            raise TypeError(f"{name}: give dim= (PyTorch's name) or axis= (NumPy's), not both")
        dim = axis
    return tuple(tensors), dim


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension, differentiably (PyTorch's ``cat``; NumPy's
    ``concatenate`` and ``axis=`` are the same)."""
    tensors, dim = _joined("cat", tensors, dim, axis)
    return Concatenate.apply(*tensors, axis=dim)


def stack(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join same-shape tensors along a new dimension, differentiably (``axis=`` as NumPy)."""
    tensors, dim = _joined("stack", tensors, dim, axis)
    return Stack.apply(*tensors, axis=dim)


concatenate = concat = cat  # NumPy's name, and PyTorch's other one


class Pad(Function):
    """Surround ``x`` with a constant: ``widths`` holds one (before, after) pair of whole
    numbers >= 0 per axis, as ``np.pad`` takes them."""

    @staticmethod
    def forward(ctx, x, widths, value=0.0):
        widths = tuple((int(before), int(after)) for before, after in widths)
        if len(widths) != x.ndim or min((w for pair in widths for w in pair), default=0) < 0:
            raise ValueError(
                f"Pad: widths {widths} must be one (before, after) pair >= 0 for each of the "
                f"{x.ndim} axes of shape {x.shape}"
            )
        ctx.inside = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape, strict=True))
        return np.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inside]  # the padding is constant: the gradient of x is what lies over x


class ModuleInput(Function):
    """Identity node at a module's input, so a full backward hook sees the gradient of that
    input as it leaves the module (not summed with other uses of the same tensor)."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad  # d(x)/dx = 1
