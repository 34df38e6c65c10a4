"""Function transforms, with torch.func's names: ``grad``, ``grad_and_value``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd``, ``hessian`` and ``hvp``, for functions of Tensors that return Tensors.

Each is a few calls of `tl.autograd.grad`. Reverse mode (``vjp``, ``jacrev``) is backward itself:
one pass gives a whole row of the Jacobian, so a Jacobian costs one backward per output.
Forward mode (``jvp``, ``jacfwd``) is built here as the vjp of a vjp: the vjp ``u ↦ uᵀJ`` is
linear in ``u``, so differentiating ``uᵀJ·t`` with respect to ``u`` gives ``J t``, a column of
the Jacobian. A Jacobian then costs one (second) backward per input: fewer passes than reverse
mode when a function has many outputs and few inputs, more when it has few outputs and many
inputs (a loss of many weights: there reverse mode wins, by the number of weights).

Each transform differentiates with respect to fresh Tensors of its own (a leaf, or a ``clone``
of a Tensor that is already in a graph), so transforms nest without mixing up their variables:
in ``grad(lambda x: grad(lambda y: (x * y).sum())(x).sum())`` the inner gradient is ``x``, not
``2x``. When the result depends on any other Tensor that requires grad (an outer transform's
variable, a closed-over parameter), its backward is recorded so that it can be differentiated
again; otherwise it is an ordinary backward, at first-order speed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_lab import autograd
from tinygrad_lab.grad_mode import enable_grad
from tinygrad_lab.ops.movement import stack
from tinygrad_lab.tensor import Tensor

Argnums = int | tuple[int, ...]


def _positions(argnums: Any, n_args: int, name: str, single: bool = False) -> list[int]:
    """``argnums`` as a list of argument positions, or an error naming the bad value."""
    ints = argnums if isinstance(argnums, tuple) and argnums and not single else (argnums,)
    if not all(isinstance(p, int) and not isinstance(p, bool) for p in ints):
        expected = "an int" if single else "an int or a non-empty tuple of ints"
        raise TypeError(f"{name}: argnums is {argnums!r}; expected {expected}")
    for p in ints:
        if not -n_args <= p < n_args:
            raise IndexError(f"{name}: argnums {p} for a function given {n_args} arguments")
    positions = [p % n_args for p in ints]
    if len(set(positions)) != len(positions):
        raise ValueError(f"{name}: argnums {argnums!r} names an argument twice")
    return positions


def _fresh(x: Any, what: str, name: str) -> Tensor:
    """The variable a transform differentiates with respect to: a new leaf on ``x``'s data, or,
    when ``x`` is already in a graph, its clone (a node of its own, still connected to ``x``)."""
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        raise TypeError(f"{name}: {what} is a {type(x).__name__}; expected a float Tensor")
    if not x.requires_grad:
        return Tensor(x.data, requires_grad=True)
    with enable_grad():  # (recorded even inside no_grad: the clone must stay connected)
        return x.clone()


def _output(out: Any, name: str, scalar: bool = False) -> Tensor:
    """The function's result, checked: a Tensor (of one element for ``grad``/``hessian``)."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: the function must return a Tensor, got {type(out).__name__}")
    if scalar and out.size != 1:
        raise ValueError(
            f"{name}: the function must return a one-element Tensor, got shape {out.shape}; "
            "use jacrev or jacfwd for a function with several outputs"
        )
    return out


def _tangents(primals: Sequence, tangents: Sequence, name: str) -> None:
    """One tangent Tensor of each primal's shape, or an error naming the first wrong one."""
    if len(primals) != len(tangents):
        raise ValueError(f"{name}: {len(tangents)} tangents for {len(primals)} primals")
    for i, (p, t) in enumerate(zip(primals, tangents, strict=True)):
        if not isinstance(t, Tensor) or t.shape != getattr(p, "shape", None):
            got = getattr(t, "shape", type(t).__name__)
            raise ValueError(
                f"{name}: tangent {i} has shape {got}; expected primal {i}'s shape "
                f"{getattr(p, 'shape', None)}"
            )


def _as_tuple(value: Any, what: str, name: str) -> tuple:
    if not isinstance(value, tuple | list) or not value:
        got = "an empty one" if isinstance(value, tuple | list) else type(value).__name__
        raise TypeError(f"{name}: {what} must be a non-empty tuple of Tensors, got {got}")
    return tuple(value)


def _nested(out: Tensor, own: Sequence[Tensor], *others: Tensor) -> bool:
    """Whether the result must be differentiable again: ``out`` depends on a Tensor requiring
    grad other than the transform's own leaves ``own`` (an outer variable, a parameter), or one
    of ``others`` (a cotangent, a tangent) requires grad."""
    if any(t.requires_grad for t in others):
        return True
    mine, seen, waiting = {id(t) for t in own}, set(), [out]
    while waiting:
        t = waiting.pop()
        if not t.requires_grad or id(t) in seen:
            continue
        seen.add(id(t))
        if t._ctx is None and id(t) not in mine:
            return True
        if t._ctx is not None:
            waiting.extend(t._ctx.parents)
    return False


def _gradients(
    out: Tensor, wrt: Sequence[Tensor], create: bool, cotangent: Any = None, retain: bool = False
) -> tuple[Tensor, ...]:
    """d(out)/d(wrt) (times ``cotangent``): zeros for an input ``out`` does not depend on (as
    torch.func); the graph is kept for another pass when ``retain``."""
    if not out.requires_grad:  # a constant function
        return tuple(Tensor(np.zeros_like(x.data)) for x in wrt)
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


def _stacked(parts: list[Tensor], shape: tuple[int, ...], dtype: Any) -> Tensor:
    """Tensors of one shape, one for each of the first ``len(parts)`` entries, as one Tensor of
    ``shape`` (zeros when there are none: an empty output or input)."""
    return stack(parts).reshape(*shape) if parts else Tensor(np.zeros(shape, dtype=dtype))


def grad_and_value(func: Callable, argnums: Argnums = 0) -> Callable:
    """``func``'s gradient with respect to argument ``argnums`` (a tuple: several, returned as
    a tuple) and its value, as ``(gradient, value)``; ``func`` returns one number."""

    def transformed(*args: Any) -> tuple[Any, Tensor]:
        positions = _positions(argnums, len(args), "grad")
        args = list(args)
        for p in positions:
            args[p] = _fresh(args[p], f"argument {p}", "grad")
        wrt = [args[p] for p in positions]
        with enable_grad():
            value = _output(func(*args), "grad", scalar=True)
            create = _nested(value, wrt)
            grads = _gradients(value, wrt, create)
        value = value if create else value.detach()
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
    primals = _as_tuple(primals, "primals", "vjp")
    args = [_fresh(x, f"primal {i}", "vjp") for i, x in enumerate(primals)]
    with enable_grad():
        out = _output(func(*args), "vjp")

    def vjp_fn(cotangent: Tensor) -> tuple[Tensor, ...]:
        if not isinstance(cotangent, Tensor) or cotangent.shape != out.shape:
            got = getattr(cotangent, "shape", type(cotangent).__name__)
            raise ValueError(
                f"vjp_fn: expected a Tensor of the output's shape {out.shape}, got {got}"
            )
        with enable_grad():
            create = _nested(out, args, cotangent)
            return _gradients(out, args, create, cotangent, retain=True)

    return (out if _nested(out, args) else out.detach()), vjp_fn


def jvp(
    func: Callable, primals: Sequence[Tensor], tangents: Sequence[Tensor]
) -> tuple[Tensor, Tensor]:
    """``(func(*primals), J·tangents)``: the Jacobian-vector product, as the vjp of a vjp (see
    the module's docstring); ``tangents`` has one Tensor of each primal's shape."""
    primals = _as_tuple(primals, "primals", "jvp")
    tangents = _as_tuple(tangents, "tangents", "jvp")
    _tangents(primals, tangents, "jvp")
    args = [_fresh(x, f"primal {i}", "jvp") for i, x in enumerate(primals)]
    with enable_grad():
        out = _output(func(*args), "jvp")
        create = _nested(out, args, *tangents)
        u = Tensor(np.zeros_like(out.data), requires_grad=True)  # the vjp's cotangent, any value
        vjps = _gradients(out, args, True, u)  # uᵀJ, recorded: linear in u
        total = sum((v * t).sum() for v, t in zip(vjps, tangents, strict=True))
        (column,) = _gradients(total, [u], create)  # d(uᵀJ·t)/du = J·t
    return (out if create else out.detach()), column


def jacrev(func: Callable, argnums: int = 0) -> Callable:
    """``func``'s Jacobian with respect to argument ``argnums``, shape ``out.shape +
    in.shape``, by reverse mode: one backward per output element."""

    def transformed(*args: Any) -> Tensor:
        (p,) = _positions(argnums, len(args), "jacrev", single=True)
        args = list(args)
        x = args[p] = _fresh(args[p], f"argument {p}", "jacrev")
        with enable_grad():
            out = _output(func(*args), "jacrev")
            create = _nested(out, [x])
            rows = []
            for index in np.ndindex(out.shape):
                seed = np.zeros(out.shape, dtype=out.dtype)
                seed[index] = 1
                (row,) = _gradients(out, [x], create, Tensor(seed), retain=True)
                rows.append(row)
            return _stacked(rows, (*out.shape, *x.shape), x.dtype)

    return transformed


def jacfwd(func: Callable, argnums: int = 0) -> Callable:
    """``func``'s Jacobian with respect to argument ``argnums``, shape ``out.shape +
    in.shape``, by forward mode: one Jacobian-vector product per input element (each the vjp
    of one recorded vjp)."""

    def transformed(*args: Any) -> Tensor:
        (p,) = _positions(argnums, len(args), "jacfwd", single=True)
        args = list(args)
        x = args[p] = _fresh(args[p], f"argument {p}", "jacfwd")
        with enable_grad():
            out = _output(func(*args), "jacfwd")
            create = _nested(out, [x])
            u = Tensor(np.zeros_like(out.data), requires_grad=True)
            (vjp_x,) = _gradients(out, [x], True, u)  # uᵀJ, recorded once
            columns = []
            for index in np.ndindex(x.shape):
                tangent = np.zeros(x.shape, dtype=x.dtype)
                tangent[index] = 1
                # d(uᵀJ·t)/du = J·t: the vjp of the vjp, with the tangent as its cotangent
                (column,) = _gradients(vjp_x, [u], create, Tensor(tangent), retain=True)
                columns.append(column.reshape(-1))
            if not columns or out.size == 0:
                return Tensor(np.zeros((*out.shape, *x.shape), dtype=x.dtype))
            by_input = stack(columns)  # (inputs, outputs): the Jacobian transposed
            return by_input.reshape(x.size, out.size).T.reshape(*out.shape, *x.shape)

    return transformed


def hessian(func: Callable, argnums: int = 0) -> Callable:
    """The Hessian of a function that returns one number, shape ``in.shape + in.shape``: the
    Jacobian (by reverse mode) of its gradient."""

    def transformed(*args: Any) -> Tensor:
        _positions(argnums, len(args), "hessian", single=True)

        def checked(*inner: Any) -> Tensor:
            return _output(func(*inner), "hessian", scalar=True)

        return jacrev(grad(checked, argnums), argnums)(*args)

    return transformed


def hvp(func: Callable, primals: Any, tangents: Any) -> tuple[Tensor, Any]:
    """``(func(*primals), H·tangents)`` for a function returning one number, as
    ``torch.autograd.functional.hvp``: a Tensor for a Tensor ``primals``, a tuple for a tuple.
    By Pearlmutter's trick, the gradient of ``∇f·v``: two backward passes, never the Hessian."""
    single = isinstance(primals, Tensor)
    primals = (primals,) if single else _as_tuple(primals, "primals", "hvp")
    tangents = (tangents,) if isinstance(tangents, Tensor) else _as_tuple(tangents, "v", "hvp")
    _tangents(primals, tangents, "hvp")
    args = [_fresh(x, f"primal {i}", "hvp") for i, x in enumerate(primals)]
    with enable_grad():
        value = _output(func(*args), "hvp", scalar=True)
        create = _nested(value, args, *tangents)
        grads = _gradients(value, args, True)
        total = sum((g * v).sum() for g, v in zip(grads, tangents, strict=True))
        products = _gradients(total, args, create)
    value = value if create else value.detach()
    return value, (products[0] if single else products)
