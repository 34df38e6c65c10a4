"""Reductions along axes, the p-norm, and the numerically stable softmax family.

``axis`` is an int, a tuple or None, and an empty tuple reduces over every axis, as in PyTorch
(NumPy's ``axis=()`` reduces over none). `max` and `min` with a dimension, which return the
indices too, are in `selection`; ``amax`` and ``amin`` here take any axes, as PyTorch's."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab import differentiable
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function, Tensor

__all__ = ["Sum", "Mean", "Max", "Min", "Softmax", "LogSoftmax", "LogSumExp", "variance"]
__all__ += ["Prod", "Std", "Norm", "standard_deviation", "norm"]


def _axes(op: str, axis, ndim: int, empty_is_all: bool = True) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple; negatives allowed) as a tuple of non-negative axes;
    None is every axis, and so is ``()``, as PyTorch reads it in a reduction (NumPy: no axis;
    ``empty_is_all=False`` for that reading where PyTorch has none). A 0-d tensor takes axis 0
    or -1, as in PyTorch: reducing it over that axis reduces nothing."""
    empty = isinstance(axis, tuple | list) and len(axis) == 0
    if axis is None or (empty and empty_is_all):
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else axis
    if not isinstance(axes, tuple | list) or not all(
        isinstance(a, int | np.integer) and not isinstance(a, bool) for a in axes
    ):
        raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    span = max(ndim, 1)
    for a in axes:
        if not -span <= a < span:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimensions")
    normal = tuple(sorted(int(a) % span for a in axes))
    if len(set(normal)) != len(normal):
        raise ValueError(f"{op}: axis {axis} repeats an axis")
    return normal if ndim else ()


def _group_size(op: str, shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many entries each group reduced over ``axes`` holds; none is an error (a mean of
    nothing), even where there are no groups either."""
    count = int(np.prod([shape[a] for a in axes]))
    if count == 0:
        raise ValueError(
            f"{op}: the mean of nothing is undefined: shape {shape} reduced over axes {axes} "
            "makes groups of 0 entries"
        )
    return count


def _keep(op: str, keepdims: object) -> bool:
    """``keepdims`` as given, which must be True or False: a second positional argument is
    PyTorch's keepdim here, where NumPy's is dtype (``x.sum(0, np.float32)``): refused."""
    if keepdims not in (True, False):
        raise TypeError(
            f"{op}: keepdim must be True or False, got {keepdims!r} (the argument after the "
            "dimension is PyTorch's keepdim; NumPy's dtype is not taken)"
        )
    return bool(keepdims)


def _expand(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Give a reduced gradient back its reduced axes (size 1), so it broadcasts to the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = (
            _axes("Sum", axis, x.ndim),
            _keep("Sum", keepdims),
            x.shape,
        )
        return x.sum(axis=ctx.axes, keepdims=ctx.keepdims)

    @staticmethod
    def backward(ctx, grad):
        # every input element contributes once: d(sum)/dx = 1
        return np.broadcast_to(_expand(grad, ctx.axes, ctx.keepdims), ctx.shape)


register("sum", Sum)


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = (
            _axes("Mean", axis, x.ndim),
            _keep("Mean", keepdims),
            x.shape,
        )
        ctx.count = _group_size("Mean", x.shape, ctx.axes)
        return x.mean(axis=ctx.axes, keepdims=ctx.keepdims)

    @staticmethod
    def backward(ctx, grad):
        # d(mean)/dx = 1/n for each of the n elements averaged
        return np.broadcast_to(_expand(grad, ctx.axes, ctx.keepdims) / ctx.count, ctx.shape)


register("mean", Mean)


def _extreme(ctx, x, axis, keepdims, reduce) -> np.ndarray:
    """Forward of Max and Min: the extreme entries, with what backward needs saved."""
    ctx.axes, ctx.keepdims = _axes(ctx.name, axis, x.ndim), _keep(ctx.name, keepdims)
    if any(x.shape[a] == 0 for a in ctx.axes):
        raise ValueError(f"{ctx.name}: cannot reduce an empty axis of shape {x.shape}")
    out = reduce(x, axis=ctx.axes, keepdims=ctx.keepdims)
    ctx.save_for_backward(x, out)
    return out


def _share(ctx, grad) -> np.ndarray:
    """Backward of Max and Min: each of k tied extremes gets grad / k, the others nothing. In a
    group holding NaN, NaN is the extreme (as in NumPy): its NaNs share the gradient (PyTorch).
    Which entries win is a constant (``np.asarray``: the values, given Tensors too): the second
    derivative is 0, as PyTorch's."""
    x, out = (np.asarray(t) for t in ctx.saved_tensors)
    out = _expand(out, ctx.axes, ctx.keepdims)
    winners = x == out
    count = winners.sum(axis=ctx.axes, keepdims=True)
    if not count.all():  # only a group whose extreme is NaN has no entry equal to it
        winners |= np.isnan(x) & np.isnan(out)
        count = winners.sum(axis=ctx.axes, keepdims=True)
    return winners / count * _expand(grad, ctx.axes, ctx.keepdims)


class Max(Function):
    """Largest entry. Ties share the gradient equally: each of k tied maxima gets grad / k. Its
    second derivative is 0 (which entry wins is a constant), as PyTorch's."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _extreme(ctx, x, axis, keepdims, np.max)

    @staticmethod
    def backward(ctx, grad):
        return _share(ctx, grad)


register("amax", Max)


class Min(Function):
    """Smallest entry. Ties share the gradient equally, and its second derivative is 0, as in
    ``Max``."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _extreme(ctx, x, axis, keepdims, np.min)

    @staticmethod
    def backward(ctx, grad):
        return _share(ctx, grad)


register("amin", Min)


def _shifted(x: np.ndarray, axis: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The stable softmax trick: ``x - max`` along ``axis`` (exp of it cannot overflow), and the
    max. An infinite max is a limit: where it is +inf, the +inf entries share all the mass (0)
    and the rest none (-inf); a row of -inf (fully masked) has none. Over an empty axis the max
    is -inf, so the result is as empty as NumPy's and PyTorch's."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    if np.isfinite(m).all():
        return x - m, m
    top = np.where(m > -np.inf, 0, m)  # at the max: 0, or -inf in a row of -inf
    with np.errstate(invalid="ignore"):  # inf - inf at an infinite max: replaced by top
        return np.where(x == m, top, x - m), m


def _exp_sum(z: np.ndarray, axis: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """exp(z) and its sum along ``axis``, with 1 for a sum of 0 (a row of -inf, or an empty
    one), so that dividing by it gives 0 there, and its log 0."""
    e = np.exp(z)
    total = e.sum(axis=axis, keepdims=True)
    return e, np.where(total == 0, 1, total)


class Softmax(Function):
    """exp(x) / Σ exp(x) along ``axis``. A row of -inf (fully masked) gives 0 and gradient 0;
    a row with +inf gives its +inf entries an equal share of 1, the rest 0 (PyTorch: NaN)."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        ctx.axis = _axes("Softmax", axis, x.ndim, empty_is_all=False)
        e, total = _exp_sum(_shifted(x, ctx.axis)[0], ctx.axis)
        out = e / total  # 0 for a row of -inf, as PyTorch's _safe_softmax (its attention's)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        # Jacobian diag(s) - s sᵀ applied to grad: s * (grad - <grad, s>)
        return s * (grad - (grad * s).sum(axis=ctx.axis, keepdims=True))


register("softmax", Softmax, functional=True)


class LogSoftmax(Function):
    """x - logsumexp(x) along ``axis``. A row of -inf (fully masked) gives -inf, the log of
    softmax's 0, and passes the gradient through as x - logsumexp(x) does where logsumexp's is
    0; a row with +inf gives -log k at its k +inf entries, -inf elsewhere (PyTorch: NaN)."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        ctx.axis = _axes("LogSoftmax", axis, x.ndim, empty_is_all=False)
        z = _shifted(x, ctx.axis)[0]
        out = z - np.log(_exp_sum(z, ctx.axis)[1])  # -inf - 0 in a row of -inf
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        # d(x - logsumexp x) = grad - softmax * sum(grad)
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


register("log_softmax", LogSoftmax, functional=True)


class LogSumExp(Function):
    """log Σ exp(x) over ``axis``: -inf for a row of -inf (or an empty one), inf for a row with
    +inf, as NumPy and PyTorch. Its gradient is the softmax: 0 for a row of -inf, an equal share
    for each +inf entry of a row (PyTorch: NaN in both)."""

    @staticmethod
    def forward(ctx, x, axis=-1, keepdims=False):
        ctx.axes = _axes("LogSumExp", axis, x.ndim, empty_is_all=False)
        ctx.keepdims = keepdims = _keep("LogSumExp", keepdims)
        z, m = _shifted(x, ctx.axes)
        out = m + np.log(_exp_sum(z, ctx.axes)[1])  # -inf + 0 in a row of -inf, or an empty one
        ctx.save_for_backward(x)
        return out if keepdims else np.squeeze(out, ctx.axes)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = differentiable.call(Softmax, x, axis=ctx.axes)  # recomputed: d(lse)/dx = softmax
        return s * _expand(grad, ctx.axes, ctx.keepdims)


register("logsumexp", LogSumExp)


# An op built from other ops: no backward of its own, its gradient comes free by composition.
def variance(
    x: Tensor,
    axis=None,
    *positional: Any,
    keepdims: bool = False,
    correction: float | None = None,
    ddof: float | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """``Σ (x - mean(x))²`` over ``axis``, divided by ``n - correction``: by ``n - 1`` unless
    told otherwise, as PyTorch (NumPy's default is ``n``; its ``ddof`` is taken as the same
    thing, and PyTorch's ``unbiased``). Everything after the axis is by keyword (the two
    libraries read a second positional differently). Fewer than one degree of freedom is an
    error, where PyTorch gives NaN."""
    axis, (name, value) = _correction("var", axis, positional, correction, ddof, unbiased)
    axes = _axes("var", axis, x.ndim)
    dof = _degrees_of_freedom("var", x.shape, axes, value, name)
    deviation = x - x.mean(axis=axes, keepdims=True)
    return (deviation * deviation).sum(axis=axes, keepdims=keepdims) / dof


register("var", method=variance)


def _correction(op: str, axis, positional: tuple, correction, ddof, unbiased) -> tuple:
    """The axis, and the correction that ``correction``, ``ddof`` or ``unbiased`` gives (1 when
    none does) with the name it was given by. A bool first argument is PyTorch's older
    ``var(unbiased)``; a second positional argument is refused: PyTorch reads it as
    ``unbiased``, NumPy as ``dtype``."""
    if positional:
        raise TypeError(
            f"{op}: got {len(positional) + 1} positional arguments; give everything after the "
            f"dimension by keyword ({op}(dim, correction=1, keepdim=True)): PyTorch reads a "
            f"second positional argument as unbiased, NumPy as dtype"
        )
    if isinstance(axis, bool):  # PyTorch's var(unbiased): over every entry
        axis, unbiased = None, axis
    given = [
        (name, int(value) if isinstance(value, bool) else value)
        for name, value in (("ddof", ddof), ("correction", correction), ("unbiased", unbiased))
        if value is not None
    ]
    if len({value for _, value in given}) > 1:
        said = " and ".join(f"{name}={value}" for name, value in given)
        raise ValueError(f"{op}: {said} disagree; give one of them")
    return axis, given[0] if given else ("correction", 1)


def _degrees_of_freedom(op: str, shape, axes, value: float, name: str = "correction") -> float:
    """``n - correction`` for a reduction over ``axes``, or an error when it is not positive
    (naming the correction by ``name``, the argument it was given by)."""
    count = _group_size(op, shape, axes)
    if count - value <= 0:
        raise ValueError(
            f"{op}: {count} entries with {name}={value} leave no degree of freedom "
            f"(n - {name} = {count - value}); PyTorch would give NaN"
        )
    return count - value


class Std(Function):
    """Standard deviation, ``√(Σ (x - mean)² / (n - correction))``, as one node. Where it is 0
    (every entry of a group equal) it has no derivative: the gradient is taken as 0, not 0/0 =
    NaN, and the second derivative as if the std were 1 (PyTorch: NaN for both)."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        ctx.axes, ctx.keepdims = _axes("std", axis, x.ndim), _keep("std", keepdims)
        ctx.dof = _degrees_of_freedom("std", x.shape, ctx.axes, correction)
        deviation = x - x.mean(axis=ctx.axes, keepdims=True)
        std = np.sqrt((deviation * deviation).sum(axis=ctx.axes, keepdims=ctx.keepdims) / ctx.dof)
        ctx.save_for_backward(x, std)
        return std

    @staticmethod
    def backward(ctx, grad):
        x, std = ctx.saved_tensors
        deviation = x - x.mean(axis=ctx.axes, keepdims=True)  # recomputed from the input
        std = _expand(std, ctx.axes, ctx.keepdims)
        safe = ctx.dof * np.where(std == 0, 1, std)  # a zero std divides a zero deviation by 1
        # d std/dx_i = (x_i - mean) / ((n - correction) · std)
        return deviation * (_expand(grad, ctx.axes, ctx.keepdims) / safe)


def standard_deviation(
    x: Tensor,
    axis=None,
    *positional: Any,
    keepdims: bool = False,
    correction: float | None = None,
    ddof: float | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """The square root of `variance`, with its arguments (by default divided by ``n - 1``)."""
    axis, (name, value) = _correction("std", axis, positional, correction, ddof, unbiased)
    _degrees_of_freedom("std", x.shape, _axes("std", axis, x.ndim), value, name)  # named
    return Std.apply(x, axis=axis, keepdims=keepdims, correction=value)


register("std", Std, method=standard_deviation)


def _others_product(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """For each entry, the product of the *other* entries of its group (the entries reduced
    together over ``axes``): the exclusive running product from the left times the one from
    the right, along the group laid out flat. No division, so zeros need no special case."""
    if x.size == 0:
        return np.zeros_like(x)
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + list(axes))  # the group's axes last
    flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (before * after).reshape(moved.shape)
    return np.transpose(others, np.argsort(kept + list(axes)))


class Prod(Function):
    """Product of the entries. The gradient of an entry is the product of the others, so a
    product with one zero has a non-zero gradient at that zero (and is never NaN)."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims = _axes("Prod", axis, x.ndim), _keep("Prod", keepdims)
        ctx.save_for_backward(x)
        return np.prod(x, axis=ctx.axes, keepdims=ctx.keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # d(∏_j x_j)/dx_i = ∏_{j≠i} x_j
        return _others_product(x, ctx.axes) * _expand(grad, ctx.axes, ctx.keepdims)


register("prod", Prod)


class Norm(Function):
    """The p-norm ``(Σ |x|^p)^(1/p)`` over ``axis``: PyTorch's ``Tensor.norm``, a vector norm
    of the entries over those axes (``p=2`` over a matrix's two axes is its Frobenius norm).
    ``p`` may also be inf (the largest ``|x|``; ties share the gradient, as `Max`), -inf (the
    smallest) or 0 (how many entries are not 0; gradient 0). Where the norm is 0, and at an
    entry 0 for p < 1, the gradient is taken as 0 (PyTorch: 0, and NaN for p < 1). The second
    derivative is 0 for p = inf, -inf and 0 (its sign and which entry wins are constants), as
    PyTorch's."""

    @staticmethod
    def forward(ctx, x, p=2.0, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.p = _axes("Norm", axis, x.ndim), _keep("Norm", keepdims), p
        size = np.abs(x)
        if np.isinf(p):
            if any(x.shape[a] == 0 for a in ctx.axes):
                raise ValueError(f"Norm: p={p} of an empty axis of shape {x.shape}")
            out = (np.max if p > 0 else np.min)(size, axis=ctx.axes, keepdims=True)
        elif p == 0:
            out = np.sum(x != 0, axis=ctx.axes, keepdims=True).astype(x.dtype)
        else:
            out = np.sum(size**p, axis=ctx.axes, keepdims=True) ** (1 / p)
        out = out if ctx.keepdims else np.squeeze(out, ctx.axes)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if ctx.p == 0:  # a count does not change when an entry moves a little
            return np.zeros_like(x)
        grad, out, p = (
            _expand(grad, ctx.axes, ctx.keepdims),
            _expand(out, ctx.axes, ctx.keepdims),
            ctx.p,
        )
        sign = np.sign(np.asarray(x))  # a constant (the values, given Tensors too): slope 0
        if np.isinf(p):  # d max|x|/dx_i = sign(x_i) at the extreme, shared by ties (a constant)
            winners = np.abs(np.asarray(x)) == np.asarray(out)
            return grad * (sign * winners / winners.sum(axis=ctx.axes, keepdims=True))
        # d‖x‖_p/dx_i = sign(x_i) (|x_i| / ‖x‖_p)^(p-1): x_i/‖x‖ for p=2, sign(x_i) for p=1
        ratio = np.abs(x) / np.where(out == 0, 1, out)  # a zero norm: every entry is 0
        slope = np.where(ratio > 0, ratio, 1) ** (p - 1)  # (x_i = 0: sign 0, and no 0^(p-1))
        return grad * sign * slope


def norm(x: Tensor, p: float | str = "fro", axis=None, keepdims: bool = False) -> Tensor:
    """The p-norm over ``axis`` (every axis by default), as PyTorch's ``Tensor.norm(p, dim,
    keepdim)``: a vector norm; ``"fro"`` is p=2. (A matrix's nuclear or spectral norm, NumPy's
    ``np.linalg.norm(a, 2)``, is not this: refused.)"""
    p = 2.0 if p == "fro" else p
    if isinstance(p, str | bool) or not isinstance(p, int | float | np.number):
        raise ValueError(
            f"norm: p={p!r}; p is a number > 0, 0, inf or -inf, or 'fro' (a vector norm of "
            "the entries, as PyTorch's Tensor.norm); matrix norms such as 'nuc' are not here"
        )
    if np.isfinite(p) and p < 0:
        raise ValueError(f"norm: p={p} < 0 is not a norm; give p > 0, 0, inf or -inf")
    return Norm.apply(x, p=float(p), axis=axis, keepdims=keepdims)


register("norm", Norm, method=norm)


def _truth(reduce, op: str, x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Whether some (``any``) or every (``all``) entry is true (not 0), over ``axis``: a bool
    tensor, outside the graph, as PyTorch's and NumPy's."""
    axes = _axes(op, axis, x.ndim)
    return Tensor(np.asarray(reduce(x.data != 0, axis=axes, keepdims=keepdims)))


register(
    "any", method=lambda x, axis=None, keepdims=False: _truth(np.any, "any", x, axis, keepdims)
)
register(
    "all", method=lambda x, axis=None, keepdims=False: _truth(np.all, "all", x, axis, keepdims)
)
