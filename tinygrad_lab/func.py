"""Function transforms, with torch.func's names: ``grad``, ``grad_and_value``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd``, ``hessian`` and ``hvp``, for functions of Tensors that return Tensors.

Each is a few calls of `tl.autograd.grad`. Reverse mode (``vjp``, ``jacrev``) is backward itself:
one pass gives a whole row of the Jacobian, so a Jacobian costs one backward per output.
Forward mode (``jvp``, ``jacfwd``) is built here as the vjp of a vjp: the vjp ``u ↦ uᵀJ`` is
linear in ``u``, so differentiating ``uᵀJ·t`` with respect to ``u`` gives ``J t``, a column of
the Jacobian. A Jacobian then costs one (second) backward per input: fewer passes than reverse
mode when a function has many outputs and few inputs, more when it has few outputs and many
inputs (a loss of many weights: there reverse mode wins, by the number of weights).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_lab import autograd
from tinygrad_lab.ops.movement import stack
from tinygrad_lab.tensor import Tensor

Argnums = int | tuple[int, ...]


def _inputs(args: Sequence[Any], argnums: Argnums, name: str) -> tuple[list, list[int]]:
    """``args`` with the differentiated ones made Tensors that require grad (a Tensor already
    in a graph is kept, so that transforms nest: ``grad(grad(f))``)."""
    positions = [argnums] if isinstance(argnums, int) else list(argnums)
    args = list(args)
    for p in positions:
        if not -len(args) <= p < len(args):
            raise IndexError(f"{name}: argnums {p} for a function given {len(args)} arguments")
        x = args[p]
        if not isinstance(x, Tensor) or x.dtype.kind != "f":
            raise TypeError(
                f"{name}: argument {p} is a {type(x).__name__}; expected a float Tensor"
            )
        args[p] = x if x.requires_grad else Tensor(x.data, requires_grad=True)
    return args, positions


def _nested(args: Sequence[Any]) -> bool:
    """Whether the call sits inside another transform (or a graph): then the result must be
    differentiable again, so the backward is recorded."""
    return any(isinstance(a, Tensor) and a.requires_grad for a in args)


def _scalar(out: Any, name: str) -> Tensor:
    if not isinstance(out, Tensor) or out.size != 1:
        got = f"shape {out.shape}" if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"{name}: the function must return a one-element Tensor, got {got}")
    return out


def _gradients(
    out: Tensor, wrt: Sequence[Tensor], create: bool, cotangent: Any = None, retain: bool = False
) -> tuple[Tensor, ...]:
    """d(out)/d(wrt) (times ``cotangent``): zeros for an input ``out`` does not depend on (as
    torch.func); the graph is kept for another pass when ``retain``."""
    grads = autograd.grad(
        out,
        list(wrt),
        cotangent,
        retain_graph=retain or create,
        create_graph=create,
        allow_unused=True,
    )
    return tuple(
        Tensor(np.zeros_like(x.data)) if g is None else g for x, g in zip(wrt, grads, strict=True)
    )


def _stacked(parts: list[Tensor], lead: tuple[int, ...], tail: tuple[int, ...]) -> Tensor:
    """Tensors of shape ``tail``, one for each index of ``lead``, as one of ``lead + tail``."""
    return stack(parts).reshape(*lead, *tail) if parts else Tensor(np.zeros((*lead, *tail)))


def grad_and_value(func: Callable, argnums: Argnums = 0) -> Callable:
    """``func``'s gradient with respect to argument ``argnums`` (a tuple: several, returned as
    a tuple) and its value, as ``(gradient, value)``; ``func`` returns one number."""

    def transformed(*args: Any) -> tuple[Any, Tensor]:
        create = _nested(args)
        args, positions = _inputs(args, argnums, "grad")
        value = _scalar(func(*args), "grad")
        grads = _gradients(value, [args[p] for p in positions], create)
        return (grads[0] if isinstance(argnums, int) else grads), value

    return transformed


def grad(func: Callable, argnums: Argnums = 0) -> Callable:
    """``func``'s gradient function, as ``torch.func.grad`` and JAX's ``grad``: nests
    (``grad(grad(f))`` is the second derivative)."""
    both = grad_and_value(func, argnums)
    return lambda *args: both(*args)[0]


def vjp(func: Callable, *primals: Tensor) -> tuple[Tensor, Callable]:
    """``(func(*primals), vjp_fn)``: ``vjp_fn(v)`` is the vector-Jacobian product ``vᵀJ`` with
    respect to each primal (a tuple), by one backward; it can be called many times."""
    create = _nested(primals)
    args, positions = _inputs(primals, tuple(range(len(primals))), "vjp")
    out = func(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"vjp: the function must return a Tensor, got {type(out).__name__}")

    def vjp_fn(cotangent: Tensor) -> tuple[Tensor, ...]:
        if not isinstance(cotangent, Tensor) or cotangent.shape != out.shape:
            got = getattr(cotangent, "shape", type(cotangent).__name__)
            raise ValueError(
                f"vjp_fn: expected a Tensor of the output's shape {out.shape}, got {got}"
            )
        wrt = [args[p] for p in positions]
        return _gradients(out, wrt, create or cotangent.requires_grad, cotangent, retain=True)

    return out, vjp_fn


def jvp(
    func: Callable, primals: Sequence[Tensor], tangents: Sequence[Tensor]
) -> tuple[Tensor, Tensor]:
    """``(func(*primals), J·tangents)``: the Jacobian-vector product, as the vjp of a vjp (see
    the module's docstring); ``tangents`` has one Tensor of each primal's shape."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(tangents)} tangents for {len(primals)} primals")
    for i, (p, t) in enumerate(zip(primals, tangents, strict=True)):
        if not isinstance(t, Tensor) or t.shape != getattr(p, "shape", None):
            got = getattr(t, "shape", type(t).__name__)
            raise ValueError(
                f"jvp: tangent {i} has shape {got}; expected primal {i}'s shape {p.shape}"
            )
    create = _nested(primals)
    args, _ = _inputs(primals, tuple(range(len(primals))), "jvp")
    out = func(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"jvp: the function must return a Tensor, got {type(out).__name__}")
    u = Tensor(np.zeros_like(out.data), requires_grad=True)  # the vjp's cotangent, any value
    vjps = _gradients(out, args, True, u)  # uᵀJ, linear in u
    total = sum((v * t).sum() for v, t in zip(vjps, tangents, strict=True))
    (column,) = _gradients(total, [u], create)
    return out, column


def jacrev(func: Callable, argnums: int = 0) -> Callable:
    """``func``'s Jacobian with respect to argument ``argnums``, shape ``out.shape +
    in.shape``, by reverse mode: one backward per output element."""

    def transformed(*args: Any) -> Tensor:
        create = _nested(args)
        args, (p,) = _inputs(args, argnums, "jacrev")
        out = func(*args)
        rows = []
        for index in np.ndindex(out.shape):
            seed = np.zeros(out.shape, dtype=out.dtype)
            seed[index] = 1
            (row,) = _gradients(out, [args[p]], create, Tensor(seed), retain=True)
            rows.append(row)
        return _stacked(rows, out.shape, args[p].shape)

    return transformed


def jacfwd(func: Callable, argnums: int = 0) -> Callable:
    """``func``'s Jacobian with respect to argument ``argnums``, shape ``out.shape +
    in.shape``, by forward mode: one Jacobian-vector product per input element."""

    def transformed(*args: Any) -> Tensor:
        create = _nested(args)
        args, (p,) = _inputs(args, argnums, "jacfwd")
        x = args[p]
        out = func(*args)
        u = Tensor(np.zeros_like(out.data), requires_grad=True)
        (vjp_x,) = _gradients(out, [x], True, u)  # uᵀJ, recorded once
        columns = []
        for index in np.ndindex(x.shape):
            tangent = np.zeros(x.shape, dtype=x.dtype)
            tangent[index] = 1
            picked = (vjp_x * Tensor(tangent)).sum()  # uᵀJ·t: its gradient in u is J·t
            (column,) = _gradients(picked, [u], create, retain=True)
            columns.append(column.reshape(-1))
        n_out = int(np.prod(out.shape))
        if not columns:
            return Tensor(np.zeros((*out.shape, *x.shape)))
        return stack(columns).reshape(x.size, n_out).T.reshape(*out.shape, *x.shape)

    return transformed


def hessian(func: Callable, argnums: int = 0) -> Callable:
    """The Hessian of a function that returns one number: the Jacobian of its gradient."""
    return jacrev(grad(func, argnums), argnums)


def hvp(
    func: Callable, primals: Sequence[Tensor], tangents: Sequence[Tensor]
) -> tuple[Tensor, tuple]:
    """``(func(*primals), H·tangents)`` for a function returning one number, by Pearlmutter's
    trick: the gradient of ``∇f·v``, two backward passes; never the whole Hessian."""
    primals, tangents = tuple(primals), tuple(tangents)
    create = _nested(primals)
    args, _ = _inputs(primals, tuple(range(len(primals))), "hvp")
    value = _scalar(func(*args), "hvp")
    grads = _gradients(value, args, True)
    total = sum((g * v).sum() for g, v in zip(grads, tangents, strict=True))
    return value, _gradients(total, args, create)
