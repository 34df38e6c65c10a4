"""Element-wise ops. Binary ops broadcast as NumPy does; the engine sums their gradients back to
each input's shape, so a backward here returns gradients in the broadcast shape.

Every backward runs on ndarrays and, under ``create_graph=True``, on Tensors (it is then
recorded, so it can be differentiated again). A mask or a piecewise-constant slope is taken
from the values, ``np.asarray(x)``: a constant to the next derivative, as in PyTorch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function, Tensor

__all__ = [
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Pow",
    "TensorPow",
    "Exp",
    "Log",
    "Sqrt",
    "Abs",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Clip",
    "power",
]


def _require(ok: np.ndarray, op: str, rule: str, x: np.ndarray) -> None:
    """Raise instead of letting NumPy quietly produce NaN outside an op's domain. A NaN of
    ``x`` is not rejected: it was NaN already, and passes through as NaN (NaN in, NaN out)."""
    if not np.all(ok):
        ok = ok | np.isnan(x)
    if not np.all(ok):
        bad = x[~ok]
        raise ValueError(
            f"{op}: {rule}; got {bad.size} of {x.size} entries outside it "
            f"(e.g. {bad.flat[0]!r}) in an input of shape {x.shape}"
        )


class Add(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad  # d(x+y)/dx = d(x+y)/dy = 1


register("add", Add)


class Sub(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)  # d(x-y)/dy = -1


register("sub", Sub)


class Mul(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dx = grad * y if ctx.needs_input_grad[0] else None  # d(x*y)/dx = y
        dy = grad * x if ctx.needs_input_grad[1] else None  # d(x*y)/dy = x
        return dx, dy


register("mul", Mul)


def _no_new_nan(result: Any, *factors: Any) -> Any:
    """A gradient formula's ``result``, with 0 wherever it is NaN though none of its ``factors``
    was: there it computed 0 · inf or 0 / 0 (a gradient of 0 arriving at an infinite slope,
    x⁰ at x = 0, a power x^±inf that vanishes), whose limit is 0. A NaN given stays NaN.
    (Arrays or Tensors: the mask comes from the values, the 0 is a constant.)"""
    made = np.isnan(np.asarray(result))
    if not made.any():
        return result
    for factor in factors:
        made &= ~np.isnan(np.asarray(factor))
    return np.where(made, 0.0, result)


def _no_zero_divisor(op: str, divisor: np.ndarray, what: str = "the divisor") -> None:
    """Division by zero raises, for `/` and for negative powers alike, instead of giving inf."""
    if not np.all(divisor):
        raise ZeroDivisionError(
            f"{op}: {what} (shape {divisor.shape}) has "
            f"{divisor.size - np.count_nonzero(divisor)} zero entries"
        )


def _recordable(op: str, x: Any, exponent: Any) -> None:
    """A recorded backward (given Tensors: ``create_graph=True``) computes p·x^(p-1), which
    divides by x where p < 1: at x = 0 its derivative is infinite or undefined (PyTorch gives
    inf or NaN there). An error naming the op, instead of the inner division's."""
    if isinstance(x, Tensor):
        zero = (np.asarray(x) == 0) & (np.asarray(exponent) < 1)
        if zero.any():
            raise ZeroDivisionError(
                f"{op}: a backward with create_graph=True differentiates x^p at x = 0 with an "
                f"exponent below 1 ({np.count_nonzero(zero)} entries of shape {zero.shape}), "
                "where its slope p·x^(p-1) divides by zero; keep x away from 0 there"
            )


class Div(Function):
    @staticmethod
    def forward(ctx, x, y):
        _no_zero_divisor("Div", y)
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dx = grad / y if ctx.needs_input_grad[0] else None  # d(x/y)/dx = 1/y
        # d(x/y)/dy = -x/y², as (x/y)/y: y² underflows to 0 (or overflows) long before x/y² does
        dy = -grad * (x / y / y) if ctx.needs_input_grad[1] else None
        return dx, dy


register("div", Div)


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


register("neg", Neg)


class Pow(Function):
    """``x ** exponent`` for a number exponent. An infinite exponent gives IEEE's (and NumPy's
    and PyTorch's) values, also for a negative base (``(-2) ** inf = inf``); a NaN one gives NaN
    (but ``1 ** nan = 1``, as NumPy and PyTorch). A backward with ``create_graph=True`` refuses
    x = 0 for an exponent in (0, 1) (`_recordable`)."""

    @staticmethod
    def forward(ctx, x, exponent):
        if math.isfinite(exponent) and exponent != int(exponent):
            _require(x >= 0, "Pow", f"a non-integer exponent {exponent} needs inputs >= 0", x)
        if exponent < 0:
            _no_zero_divisor("Pow", x, f"x ** {exponent} divides by x, and x")
        ctx.exponent = exponent
        ctx.save_for_backward(x)
        return x**exponent

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:  # x^0 = 1 is constant; p x^(p-1) would be 0 · inf = NaN at x = 0
            return np.zeros_like(grad)
        if 1 <= p < math.inf:  # x^(p-1) is finite wherever x is
            return grad * (p * x ** (p - 1))  # d(x^p)/dx = p x^(p-1)
        # p < 1: the slope is infinite at x = 0; p = ±inf: it is ±inf · x^(±inf - 1), which is
        # ±inf · 0 where x^p vanishes. Each 0 · inf is taken as 0, its limit (not NaN)
        _recordable("Pow", x, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _no_new_nan(grad * _no_new_nan(p * x ** (p - 1), p, x), grad, x, p)


def power(x: Tensor, exponent: Any) -> Tensor:
    """``x ** exponent``: `Pow` for a number exponent, `TensorPow` for a tensor one."""
    if isinstance(exponent, Tensor) or np.ndim(exponent) != 0:
        return TensorPow.apply(x, exponent)
    return Pow.apply(x, exponent=float(exponent))


register("pow", Pow, method=power)


class TensorPow(Function):
    """``x ** y`` where the exponent is a tensor too. Where y = 0 the gradient of x is 0 (x⁰ is
    constant, also at x = 0: not 0 · inf), as for a number exponent and as PyTorch. A backward
    with ``create_graph=True`` refuses x = 0 where y < 1 (`_recordable`)."""

    @staticmethod
    def forward(ctx, x, y):
        if ctx.needs_input_grad[1]:
            _require(x > 0, "TensorPow", "a differentiable exponent needs a positive base", x)
        elif not np.all((y == np.round(y)) | np.isnan(y)):
            _require(x >= 0, "TensorPow", "non-integer exponents need a base >= 0", x)
        if np.any((x == 0) & (y < 0)):
            raise ZeroDivisionError("TensorPow: a negative exponent of a zero base divides by zero")
        out = x**y
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        dx = dy = None
        # each 0 · inf is taken as 0, its limit: y = 0 at x = 0 (x⁰ is constant), x^(y-1) = 0
        # for y = ±inf, a gradient of 0 at an infinite slope, x^y = 0 for x = inf
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:  # d(x^y)/dx = y x^(y-1)
                _recordable("TensorPow", x, y)
                dx = _no_new_nan(grad * _no_new_nan(y * x ** (y - 1), x, y), grad, x, y)
            if ctx.needs_input_grad[1]:  # d(x^y)/dy = x^y ln x
                dy = _no_new_nan(grad * _no_new_nan(out * np.log(x), x, y), grad, x, y)
        return dx, dy


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):  # e^x beyond the largest float is inf, as in PyTorch
            out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out  # d(e^x)/dx = e^x


register("exp", Exp, ufunc=np.exp)


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        _require(x > 0, "Log", "log needs positive inputs", x)
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x  # d(ln x)/dx = 1/x


register("log", Log, ufunc=np.log)


class Sqrt(Function):
    """√x. Its slope is infinite at 0 (inf, or 0 where no gradient arrives); a backward with
    ``create_graph=True`` refuses x = 0 (`_recordable`)."""

    @staticmethod
    def forward(ctx, x):
        _require(x >= 0, "Sqrt", "sqrt needs inputs >= 0", x)
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        _recordable("Sqrt", out, 0.5)  # (√x = 0 exactly where x = 0)
        with np.errstate(divide="ignore", invalid="ignore"):  # at 0: inf, or 0 where grad is 0
            return _no_new_nan(grad / (2 * out), grad, out)  # d(√x)/dx = 1/(2√x)


register("sqrt", Sqrt, ufunc=np.sqrt)


class Abs(Function):
    """|x|; the gradient at 0 is 0 (``sign(0) = 0``), as in PyTorch. Its second derivative is
    0, at 0 too (as PyTorch's)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(np.asarray(x))  # d|x|/dx = sign(x), a constant to the next one


register("abs", Abs, ufunc=(np.absolute, np.fabs))


class ReLU(Function):
    """max(x, 0). Its derivative at exactly 0 is taken as 0, as in the course notebook. Its
    second derivative is 0, at 0 too (as PyTorch's)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # 1 where x > 0, else 0 (0 at x = 0): the notebook's (z > 0).astype(float), which is also
        # faster than multiplying by the bool mask directly; from x's values, a constant
        return grad * (np.asarray(x) > 0).astype(grad.dtype)


register("relu", ReLU, layer=True, dead_below_zero=True, nonnegative=True)


class LeakyReLU(Function):
    """x where x > 0, else negative_slope * x (slope used at exactly 0). Its second derivative
    is 0, at 0 too (as PyTorch's)."""

    # np.where costs ten times its arithmetic on data of mixed signs (a branch an element);
    # for the usual slopes the same values come branch-free: max(x, s·x) is x or s·x when
    # 0 <= s <= 1, and (x > 0)·(1 - s) + s is 1 or s when (1 - s) + s is exactly 1.

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.negative_slope = s = negative_slope
        if 0 <= s <= 1:
            return np.maximum(x, s * x)
        return np.where(x > 0, x, s * x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = ctx.negative_slope
        positive = np.asarray(x) > 0  # (from x's values: the slope is a constant)
        if (1 - s) + s == 1:
            slope = positive * (1 - s)
            slope += s
        else:
            slope = np.where(positive, 1.0, s)
        return grad * slope  # 1 where x > 0, else the slope


register("leaky_relu", LeakyReLU, layer=True, dead_below_zero=True)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        # exp of a non-positive number only: no overflow for large |x|. 1/(1+e) where x >= 0,
        # e/(1+e) elsewhere, as one division of max(e, [x >= 0]) by 1 + e (e <= 1 where x >= 0,
        # so the numerator is 1 there): np.where's branch an element costs ten times more.
        e = np.exp(-np.abs(x))
        out = np.maximum(e, x >= 0) / (1 + e)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)  # σ' = σ(1-σ)


register("sigmoid", Sigmoid, layer=True)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)  # tanh' = 1 - tanh²


register("tanh", Tanh, ufunc=np.tanh, layer=True)


class Clip(Function):
    """Clamp to [low, high]; the gradient passes where low <= x <= high (bounds included). Its
    second derivative is 0, at the bounds too (as PyTorch's)."""

    @staticmethod
    def forward(ctx, x, low=None, high=None):
        if low is not None and high is not None and low > high:
            raise ValueError(f"Clip: min {low} is greater than max {high}")
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        x = np.asarray(ctx.saved_tensors[0])  # (x's values: the mask is a constant)
        inside = np.ones(x.shape, dtype=bool)
        if ctx.low is not None:
            inside &= x >= ctx.low
        if ctx.high is not None:
            inside &= x <= ctx.high
        return grad * inside


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Clamp to [min, max] (PyTorch's names for the bounds)."""
    return Clip.apply(x, low=min, high=max)


register("clip", Clip, method=clip, aliases=("clamp",))
