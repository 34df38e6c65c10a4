"""Element-wise math beyond `elementwise`'s arithmetic: trigonometric and hyperbolic functions,
more logarithms and exponentials, and the binary ``maximum``, ``minimum``, ``logaddexp``,
``hypot`` and ``atan2``. PyTorch's names (`Tensor` also has NumPy's, ``arcsin`` and so on, as
aliases). As in `elementwise`, an input outside an op's domain is an error, never a NaN. Each
backward is written with ops, so it can be differentiated again (``create_graph=True``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab.ops.elementwise import _no_new_nan, _no_zero_divisor, _require
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function, Tensor

__all__ = [
    "Sin",
    "Cos",
    "Tan",
    "Asin",
    "Acos",
    "Atan",
    "Sinh",
    "Cosh",
    "Asinh",
    "Acosh",
    "Atanh",
    "Cbrt",
    "Log2",
    "Log10",
    "Log1p",
    "Exp2",
    "Expm1",
    "Square",
    "Reciprocal",
    "Sign",
    "Maximum",
    "Minimum",
    "LogAddExp",
    "LogAddExp2",
    "Hypot",
    "Atan2",
]

LN2, LN10 = np.log(2.0), np.log(10.0)


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)  # d sin x/dx = cos x


register("sin", Sin, ufunc=np.sin)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * -np.sin(x)  # d cos x/dx = -sin x


register("cos", Cos, ufunc=np.cos)


class Tan(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 + out * out)  # d tan x/dx = 1 + tan² x


register("tan", Tan, ufunc=np.tan)


class Asin(Function):
    """arcsin on [-1, 1]; at ±1 its derivative is infinite (backward gives inf, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        _require(np.abs(x) <= 1, "Asin", "asin needs inputs in [-1, 1]", x)
        ctx.save_for_backward(x)
        return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        root = np.sqrt(1 - x * x)
        with np.errstate(divide="ignore", invalid="ignore"):  # at ±1: inf, or 0 where grad is 0
            return _no_new_nan(grad / root, grad, root)  # d asin x/dx = 1/√(1-x²)


register("asin", Asin, ufunc=np.arcsin, aliases=("arcsin",))


class Acos(Function):
    """arccos on [-1, 1]; at ±1 its derivative is infinite, as `Asin`'s."""

    @staticmethod
    def forward(ctx, x):
        _require(np.abs(x) <= 1, "Acos", "acos needs inputs in [-1, 1]", x)
        ctx.save_for_backward(x)
        return np.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        root = np.sqrt(1 - x * x)
        with np.errstate(divide="ignore", invalid="ignore"):  # at ±1: -inf, or 0 where grad is 0
            return _no_new_nan(-grad / root, grad, root)  # d acos x/dx = -1/√(1-x²)


register("acos", Acos, ufunc=np.arccos, aliases=("arccos",))


class Atan(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x * x)  # d atan x/dx = 1/(1+x²)


register("atan", Atan, ufunc=np.arctan, aliases=("arctan",))


class Sinh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):  # ±inf beyond the largest float, as in PyTorch
            return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return grad * np.cosh(x)  # d sinh x/dx = cosh x


register("sinh", Sinh, ufunc=np.sinh)


class Cosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):  # inf beyond the largest float, as in PyTorch
            return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return grad * np.sinh(x)  # d cosh x/dx = sinh x


register("cosh", Cosh, ufunc=np.cosh)


class Asinh(Function):
    """arsinh, the inverse of sinh: log(x + √(x² + 1)), defined everywhere."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / np.hypot(x, 1)  # d asinh x/dx = 1/√(x²+1) (hypot: no overflow of x²)


register("asinh", Asinh, ufunc=np.arcsinh, aliases=("arcsinh",))


class Acosh(Function):
    """arcosh, the inverse of cosh on [1, inf); at 1 its derivative is infinite, as `Asin`'s."""

    @staticmethod
    def forward(ctx, x):
        _require(x >= 1, "Acosh", "acosh needs inputs >= 1", x)
        ctx.save_for_backward(x)
        return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        root = np.sqrt(x - 1) * np.sqrt(x + 1)  # √(x²-1), without overflow of x²
        with np.errstate(divide="ignore", invalid="ignore"):  # at 1: inf, or 0 where grad is 0
            return _no_new_nan(grad / root, grad, root)  # d acosh x/dx = 1/√(x²-1)


register("acosh", Acosh, ufunc=np.arccosh, aliases=("arccosh",))


class Atanh(Function):
    """artanh, the inverse of tanh on [-1, 1]: ±inf at ±1 (as NumPy and PyTorch), where its
    derivative is infinite too."""

    @staticmethod
    def forward(ctx, x):
        _require(np.abs(x) <= 1, "Atanh", "atanh needs inputs in [-1, 1]", x)
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore"):  # ±1: ±inf, the limit
            return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):  # at ±1: inf, or 0 where grad is 0
            return _no_new_nan(grad / (1 - x * x), grad, x)  # d atanh x/dx = 1/(1-x²)


register("atanh", Atanh, ufunc=np.arctanh, aliases=("arctanh",))


class Cbrt(Function):
    """The real cube root, NumPy's ``cbrt`` (PyTorch has none; ``x ** (1/3)`` refuses x < 0).
    At 0 its slope is infinite: backward gives inf there, or 0 where the gradient is 0."""

    @staticmethod
    def forward(ctx, x):
        out = np.cbrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return _no_new_nan(grad / (3 * out * out), grad, out)  # d ∛x/dx = 1/(3 ∛x²)


register("cbrt", Cbrt, ufunc=np.cbrt)


def positive(x: Tensor) -> Tensor:
    """``+x``: the tensor itself (PyTorch's ``positive``, NumPy's ``np.positive``), no node."""
    return x


register("positive", method=positive, ufunc=np.positive)


class Log2(Function):
    @staticmethod
    def forward(ctx, x):
        _require(x > 0, "Log2", "log2 needs positive inputs", x)
        ctx.save_for_backward(x)
        return np.log2(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * LN2)  # d log₂ x/dx = 1/(x ln 2)


register("log2", Log2, ufunc=np.log2)


class Log10(Function):
    @staticmethod
    def forward(ctx, x):
        _require(x > 0, "Log10", "log10 needs positive inputs", x)
        ctx.save_for_backward(x)
        return np.log10(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * LN10)  # d log₁₀ x/dx = 1/(x ln 10)


register("log10", Log10, ufunc=np.log10)


class Log1p(Function):
    """log(1 + x), accurate for small x."""

    @staticmethod
    def forward(ctx, x):
        _require(x > -1, "Log1p", "log1p needs inputs > -1", x)
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)  # d log(1+x)/dx = 1/(1+x)


register("log1p", Log1p, ufunc=np.log1p)


class Exp2(Function):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):  # inf beyond the largest float, as in PyTorch
            out = np.exp2(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * LN2  # d 2ˣ/dx = 2ˣ ln 2


register("exp2", Exp2, ufunc=np.exp2)


class Expm1(Function):
    """eˣ - 1, accurate for small x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):  # inf beyond the largest float, as in PyTorch
            return np.expm1(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):  # d(eˣ - 1)/dx = eˣ (not out + 1: that loses tiny eˣ)
            return grad * np.exp(x)


register("expm1", Expm1, ufunc=np.expm1)


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 * x)  # d x²/dx = 2x


register("square", Square, ufunc=np.square)


class Reciprocal(Function):
    """1 / x; zero is outside its domain, as it is for division."""

    @staticmethod
    def forward(ctx, x):
        _no_zero_divisor("Reciprocal", x, "the input")
        out = 1 / x
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -grad * out * out  # d(1/x)/dx = -1/x²


register("reciprocal", Reciprocal, ufunc=np.reciprocal)


class Sign(Function):
    """-1, 0 or 1; its gradient is 0 everywhere (as PyTorch's, also at the jump at 0)."""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)  # d sign x/dx = 0 wherever it is defined


register("sign", Sign, ufunc=np.sign)


def _tie_share(ahead: np.ndarray, tied: np.ndarray, grad: Any) -> Any:
    """``grad`` where one input is ahead, half of it where both tie, 0 where it is behind (the
    masks come from the values: constants, so the second derivative is 0)."""
    return grad * (ahead + 0.5 * tied).astype(grad.dtype, copy=False)


class Maximum(Function):
    """The larger of x and y, entry by entry. A tie shares the gradient equally, as `Max`. Its
    second derivative is 0 (as PyTorch's; at a tie it is undefined)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = (np.asarray(v) for v in ctx.saved_tensors)  # only their order matters
        tied, needs = x == y, ctx.needs_input_grad
        # d max(x, y)/dx = 1 where x > y, 0 where x < y, ½ at a tie (and the same for y)
        dx = _tie_share(x > y, tied, grad) if needs[0] else None
        dy = _tie_share(y > x, tied, grad) if needs[1] else None
        return dx, dy


register("maximum", Maximum, ufunc=np.maximum)


class Minimum(Function):
    """The smaller of x and y, entry by entry. A tie shares the gradient equally, as `Min`. Its
    second derivative is 0 (as PyTorch's; at a tie it is undefined)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = (np.asarray(v) for v in ctx.saved_tensors)  # only their order matters
        tied, needs = x == y, ctx.needs_input_grad
        # d min(x, y)/dx = 1 where x < y, 0 where x > y, ½ at a tie (and the same for y)
        dx = _tie_share(x < y, tied, grad) if needs[0] else None
        dy = _tie_share(y < x, tied, grad) if needs[1] else None
        return dx, dy


register("minimum", Minimum, ufunc=np.minimum)


def _weights(x: Any, y: Any, out: Any, exp: Any) -> tuple[Any, Any]:
    """eˣ / (eˣ + eʸ) and eʸ / (eˣ + eʸ) as exp(x - out) and exp(y - out) (``exp`` is exp2 for
    base 2): logsumexp's gradient, with its limits where ``out`` is infinite (x - out would be
    inf - inf): each +inf input an equal share, two -inf inputs none (constants there, so that
    no NaN reaches a second derivative either)."""
    infinite = np.isinf(np.asarray(out))
    if not infinite.any():
        return exp(x - out), exp(y - out)
    up_x, up_y = (np.asarray(v) == np.inf for v in (x, y))
    ups = np.maximum(up_x.astype(out.dtype) + up_y, 1)  # (no +inf where out is -inf)
    with np.errstate(invalid="ignore"):  # inf - inf where out is infinite: replaced by 0
        dx, dy = np.where(infinite, 0, x - out), np.where(infinite, 0, y - out)
    return np.where(infinite, up_x / ups, exp(dx)), np.where(infinite, up_y / ups, exp(dy))


class LogAddExp(Function):
    """log(eˣ + eʸ), computed stably (no overflow for large x or y). Its gradient is that of
    `logsumexp` over the pair, with the same limits at ±inf (PyTorch gives NaN there)."""

    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(invalid="ignore"):  # (NumPy warns of a NaN input: NaN in, NaN out)
            out = np.logaddexp(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        needs = ctx.needs_input_grad
        wx, wy = _weights(x, y, out, np.exp)  # ∂/∂x = eˣ / (eˣ + eʸ), ∂/∂y = eʸ / (eˣ + eʸ)
        return (grad * wx if needs[0] else None), (grad * wy if needs[1] else None)


register("logaddexp", LogAddExp, ufunc=np.logaddexp)


class LogAddExp2(Function):
    """log₂(2ˣ + 2ʸ), computed stably, with `LogAddExp`'s limits at ±inf."""

    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(invalid="ignore"):  # (NumPy warns of a NaN input: NaN in, NaN out)
            out = np.logaddexp2(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        needs = ctx.needs_input_grad
        wx, wy = _weights(x, y, out, np.exp2)  # ∂/∂x = 2ˣ / (2ˣ + 2ʸ), ∂/∂y = 2ʸ / (2ˣ + 2ʸ)
        return (grad * wx if needs[0] else None), (grad * wy if needs[1] else None)


register("logaddexp2", LogAddExp2, ufunc=np.logaddexp2)


def _direction(x: Any, y: Any, r: Any) -> tuple[Any, Any, Any]:
    """``x``, ``y`` and their distance ``r`` from the origin, ready to divide by ``r``: at the
    origin, which has no direction, constants 0, 0 and 1 (so the gradients of `Hypot` and
    `Atan2` are 0 there, and their derivatives too)."""
    origin = np.asarray(r) == 0
    if not origin.any():
        return x, y, r
    return np.where(origin, 0, x), np.where(origin, 0, y), np.where(origin, 1, r)


class Hypot(Function):
    """√(x² + y²), computed without overflow or underflow of the squares (PyTorch's and NumPy's
    ``hypot``). At the origin, which has no direction, the gradient is taken as 0, and its
    derivatives too (PyTorch: NaN)."""

    @staticmethod
    def forward(ctx, x, y):
        out = np.hypot(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, r = _direction(*ctx.saved_tensors)
        needs = ctx.needs_input_grad
        # ∂√(x² + y²)/∂x = x / √(x² + y²), and the same for y
        return (grad * (x / r) if needs[0] else None), (grad * (y / r) if needs[1] else None)


register("hypot", Hypot, ufunc=np.hypot)


class Atan2(Function):
    """The angle of the point (x, y), ``atan2(y, x)`` in (-π, π] (the first input is y, as in
    NumPy and PyTorch). At the origin, which has no direction, the gradient is taken as 0, and
    its derivatives too (PyTorch: NaN)."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        x, y, r = _direction(x, y, np.hypot(x, y))  # (hypot: no overflow of x² + y²)
        needs = ctx.needs_input_grad
        dy = grad * (x / r) / r if needs[0] else None  # ∂atan2(y, x)/∂y = x / (x² + y²)
        dx = grad * (-y / r) / r if needs[1] else None  # ∂atan2(y, x)/∂x = -y / (x² + y²)
        return dy, dx


register("atan2", Atan2, ufunc=np.arctan2, aliases=("arctan2",))
