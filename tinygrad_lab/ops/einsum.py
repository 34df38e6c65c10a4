"""``tl.einsum``: Einstein summation in the graph, with a backward that is an einsum too."""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

import numpy as np

from tinygrad_lab import differentiable
from tinygrad_lab.ops.movement import Expand
from tinygrad_lab.tensor import Function, Tensor

__all__ = ["Einsum", "einsum"]


def _explicit(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Each operand's subscripts and the output's, written out: ``...`` replaced by letters of
    its own (as many as the dimensions it stands for, aligned on the right), and the output of
    an equation without ``->`` made as NumPy and PyTorch make it (the broadcast dimensions,
    then the letters that appear once, in alphabetical order)."""
    equation = equation.replace(" ", "")
    left, arrow, output = equation.partition("->")
    terms = left.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"Einsum: {equation!r} has subscripts for {len(terms)} operands, got {len(shapes)}"
        )
    free = [c for c in string.ascii_letters if c not in equation]
    spans = [len(s) - len(t) + 3 if "..." in t else 0 for t, s in zip(terms, shapes, strict=True)]
    broadcast = "".join(free[: max(spans, default=0)])
    terms = [
        t.replace("...", broadcast[len(broadcast) - n :]) for t, n in zip(terms, spans, strict=True)
    ]
    for term, shape in zip(terms, shapes, strict=True):
        if len(term) != len(shape) or not (term.isalpha() or term == ""):  # "": a number
            raise ValueError(
                f"Einsum: {equation!r}: subscripts {term!r} (letters, and ... for the rest) do "
                f"not fit an operand of shape {shape}"
            )
    if not arrow:
        counts = Counter("".join(terms))
        output = broadcast + "".join(sorted(c for c, n in counts.items() if n == 1 and c in left))
    return terms, output.replace("...", broadcast)


class Einsum(Function):
    """``np.einsum(equation, *operands)``. Its backward is one einsum per operand: the output's
    gradient contracted with the other operands, back to that operand's subscripts. For
    ``"ij,jk->ik"`` (a matrix product) the gradients are ``einsum("ik,jk->ij", grad, b)``
    (``grad @ bᵀ``) and ``einsum("ij,ik->jk", a, grad)`` (``aᵀ @ grad``). A letter that only
    that operand has was summed over: its gradient is the same all along it (broadcast); a
    letter repeated in it (``"ii->i"``, a diagonal) gets the gradient on that diagonal only.
    Given Tensors, these einsums are recorded: the backward is differentiable again."""

    @staticmethod
    def forward(ctx, *operands, equation):
        ctx.terms, ctx.output = _explicit(equation, [x.shape for x in operands])
        ctx.save_for_backward(*operands)
        return np.asarray(np.einsum(f"{','.join(ctx.terms)}->{ctx.output}", *operands))

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        return tuple(
            _operand_gradient(ctx, grad, operands, i) if needed else None
            for i, needed in enumerate(ctx.needs_input_grad)
        )


def _operand_gradient(ctx: Einsum, grad: Any, operands: tuple, i: int) -> Any:
    """d(out)/d(operand i), applied to ``grad``: an einsum of the gradient and the others (on
    Tensors, the einsum op: so the gradient is differentiable again)."""
    term, x = ctx.terms[i], operands[i]
    others = [t for j, t in enumerate(ctx.terms) if j != i]
    letters = "".join(dict.fromkeys(term))  # each letter once, in order
    reached = set(ctx.output).union(*others)
    kept = "".join(c for c in letters if c in reached)
    rest = [o for j, o in enumerate(operands) if j != i]
    g = np.einsum(f"{','.join([ctx.output, *others])}->{kept}", grad, *rest)
    # the letters only this operand has: the same gradient all along them
    sizes = [g.shape[kept.index(c)] if c in kept else x.shape[term.index(c)] for c in letters]
    if kept != letters:
        ones = [n if c in kept else 1 for c, n in zip(letters, sizes, strict=True)]
        g = differentiable.call(Expand, g.reshape(ones), shape=tuple(sizes))
    if letters == term:
        return g
    # a letter repeated in the term: the gradient on that diagonal only, 0 off it. Each repeat
    # gets a letter of its own, tied to the first by an identity matrix (a constant)
    free = iter(c for c in string.ascii_letters if c not in term)
    spread, eyes = "", []
    for position, c in enumerate(term):
        if term.index(c) == position:
            spread += c
        else:
            spread += next(free)
            eyes.append((c + spread[-1], np.eye(x.shape[position], dtype=x.dtype)))
    subscripts = ",".join([letters, *(s for s, _ in eyes)])
    return np.einsum(f"{subscripts}->{spread}", g, *(e for _, e in eyes))


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, differentiably: ``tl.einsum("bij,bjk->bik", a, b)``, or with the
    operands in a list, as ``torch.einsum`` takes them. See `Einsum` for its backward."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation comes first, a str, got {type(equation).__name__}")
    return Einsum.apply(*operands, equation=equation)
