"""What a submission's text asserts that its own figures, or the lab's rules, decide:

- GRI = ‖∇W_first‖ / ‖∇W_last‖ at the precision printed (the interval the printed norms allow);
- arithmetic written out on a figure's line, e.g. "(900 × 36) + 36 = 32436";
- one figure printed with two values in one document (the notebook's text says −18 where its
  own code prints −70);
- claims such as "no vanishing gradient" or "GRI decreased", against the figures and the
  project's verdict thresholds (`analysis.VANISHING_GRI`, `EXPLODING_GRI`).
"""

from __future__ import annotations

import ast
import bisect
import itertools
import math
import operator
import re
from collections.abc import Callable

from tinygrad_lab.lab.audit.extract import Claim, Document, Mention, most_precise
from tinygrad_lab.lab.audit.result import Row, agrees, figure_name, shown
from tinygrad_lab.lab.stress.analysis import EXPLODING_GRI, VANISHING_GRI


def _bounds(mention: Mention) -> tuple[float, float]:
    """The values a printed figure can stand for: rounded or truncated to its digits."""
    value = float(mention.value)
    if mention.decimals is None:
        return value, value
    unit = 10.0**-mention.decimals
    low, high = value - unit / 2, value + unit / 2
    return (low, value + unit) if value >= 0 else (value - unit, high)


def _holds(first: Mention, last: Mention, gri: Mention) -> bool | None:
    """Whether the printed GRI can be the printed ratio (None: a norm printed as 0)."""
    (f_low, f_high), (l_low, l_high) = _bounds(first), _bounds(last)
    if l_low <= 0:
        return None  # a norm printed as 0 bounds no ratio
    low, high = f_low / l_high, f_high / l_low
    g_low, g_high = _bounds(gri)
    return g_high >= low and g_low <= high


def _nearest(mentions: list[Mention], position: int, order: dict[int, int]) -> Mention:
    """Of ``mentions`` (in file order), the one printed nearest ``position``."""
    positions = [order[id(m)] for m in mentions]
    k = bisect.bisect(positions, position)
    near = [j for j in (k - 1, k) if 0 <= j < len(mentions)]
    return mentions[min(near, key=lambda j: abs(positions[j] - position))]


def _gri_rows(document: Document) -> list[Row]:
    """GRI against the norms, run by run: the most precise of each, and each GRI against the
    norms printed nearest it (a cell prints the three together; pairing each GRI with every
    norm would cost the cube of the figures a run prints). Where a run is a guess (a figure
    with alternatives), the figures placed in it may come from several runs: it holds when
    some GRI is such a ratio, and is not called inconsistent on a guess."""
    order = {id(m): k for k, m in enumerate(document.mentions)}
    rows = []
    for run in ("run1", "run2", "run3"):
        placed = [document.all(f"{run}.{q}") for q in ("grad_first", "grad_last", "gri")]
        if not all(placed):
            continue
        best = tuple(most_precise(mentions) for mentions in placed)
        firsts, lasts, gris = placed
        trios = [best] + [
            (_nearest(firsts, order[id(g)], order), _nearest(lasts, order[id(g)], order), g)
            for g in gris
        ]
        checked = [(trio, _holds(*trio)) for trio in trios]
        checked = [(trio, holds) for trio, holds in checked if holds is not None]
        if not checked:
            continue
        (first, last, gri), holds = next((c for c in checked if c[1]), checked[0])
        if not holds and any(m.alternatives for mentions in placed for m in mentions):
            continue
        ratio = float(first.value) / float(last.value)
        rows.append(
            Row(
                f"{figure_name(run + '.gri')} = {figure_name('grad_first')} / "
                f"{figure_name('grad_last')}",
                gri.text,
                f"{first.text} / {last.text} = {ratio:.6g}",
                "holds" if holds else "inconsistent",
                gri.where,
            )
        )
    return rows


_TIMES = re.compile("Ã—|√ó|×|·")  # a multiplication sign, garbled by a double encoding too
_ARITHMETIC = re.compile(r"([-+*/().\d\s]+)=\s*(-?\d+(?:\.\d+)?)\s*$")
_OPERATORS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _evaluate(node: ast.AST) -> float:
    """Numbers and + − × ÷ only: the arithmetic a write-up shows."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    raise ValueError("not arithmetic")


def _arithmetic_rows(document: Document) -> list[Row]:
    """Each figure's line that writes its arithmetic out ("expression = result"), checked."""
    rows = []
    for mention in document.mentions:
        if mention.source != "text" or "=" not in mention.line_text:
            continue
        line = _TIMES.sub("*", mention.line_text)
        match = _ARITHMETIC.search(line.rsplit(":", 1)[-1])
        if not match or not re.search(r"\d\s*[-+*/]\s*\(?\d", match[1]):
            continue
        try:
            value = _evaluate(ast.parse(match[1].strip(), mode="eval").body)
        except (SyntaxError, ValueError, ZeroDivisionError):
            continue
        verdict = "holds" if math.isclose(value, float(match[2])) else "inconsistent"
        rows.append(
            Row(
                f"{figure_name(mention.quantity)}: arithmetic",
                match[0].strip(),
                f"{match[1].strip()} = {shown(value)}",
                verdict,
                mention.where,
            )
        )
    return rows


def _disagreements(document: Document) -> list[Row]:
    """A figure printed twice in one document with values that cannot both be right."""
    rows = []
    # a roll said twice is whose submission it is: the submission's own rows say that
    for quantity in dict.fromkeys(m.quantity for m in document.mentions if m.quantity != "roll"):
        mentions = document.all(quantity)
        best = document.best(quantity)
        for mention in mentions:
            if mention is best or agrees(mention, best.value) or agrees(best, mention.value):
                continue
            if mention.alternatives or best.alternatives:  # its run, or epoch, is a guess
                continue
            rows.append(
                Row(
                    figure_name(quantity),
                    f"{mention.text} ({mention.source})",
                    f"{best.text} ({best.source}, {best.where})",
                    "inconsistent",
                    mention.where,
                    "one document gives it two values",
                )
            )
    return rows


def _gri(document: Document, run: str) -> float | None:
    mention = document.best(f"{run}.gri")
    return None if mention is None else float(mention.value)


def _change(document: Document, fell: bool) -> tuple[bool, str] | None:
    """Whether run 2's GRI is below run 1's (``fell``; else above). A GRI whose run is a
    guess (not named where it is printed, and not placed by a seed) is tried as each run it
    may be: the claim holds when some placement makes it hold, and the text says which
    figures it compared; without guesses, the most precise of each run."""
    ones = [m for m in document.mentions if "run1.gri" in m.keys]
    twos = [m for m in document.mentions if "run2.gri" in m.keys]
    if not ones or not twos:
        return None
    guessed = any(m.alternatives for m in ones + twos)
    placed = (document.best("run1.gri"), document.best("run2.gri"))
    pairs = [placed] if None not in placed else []
    if guessed:
        # the GRIs most in the claim's favour (two of each: one may be the other run's too)
        def favour(sign: int) -> Callable[[Mention], tuple[bool, float]]:
            return lambda m: (math.isnan(float(m.value)), sign * float(m.value))

        high, low = (-1, 1) if fell else (1, -1)
        pairs += itertools.product(
            sorted(ones, key=favour(high))[:2], sorted(twos, key=favour(low))[:2]
        )
    pairs = [(one, two) for one, two in pairs if one is not two]
    if not pairs:
        return None
    holds = [(one, two) for one, two in pairs if (float(two.value) < float(one.value)) == fell]
    one, two = (holds or pairs)[0]
    why = f"{figure_name('run1.gri')} {one.text}, {figure_name('run2.gri')} {two.text}"
    if guessed:
        why += (
            f" (their runs are not named where they are printed: {one.where} compared as run 1's, "
            f"{two.where} as run 2's"
            + (")" if holds else "; no placement of the GRIs printed makes it hold)")
        )
    return bool(holds), why


def _claim_row(claim: Claim, document: Document) -> Row:
    """A claim against the figures of the document that makes it."""
    gris = {run: g for run in ("run1", "run2") if (g := _gri(document, run)) is not None}
    shown_gris = ", ".join(
        f"{figure_name(r + '.gri')} {document.best(r + '.gri').text}" for r in gris
    )
    losses = [float(m.value) for m in document.mentions if ".loss." in m.quantity]
    check: tuple[bool, str] | None = None
    # a GRI of nan (0/0: a dead layer) is not "no vanishing"; it is not exploding either
    if claim.kind == "no_vanishing" and gris:
        holds = all(g >= VANISHING_GRI for g in gris.values())
        check = holds, f"{shown_gris}; vanishing is GRI < {VANISHING_GRI:g}"
    elif claim.kind == "no_exploding" and gris:
        holds = not any(g > EXPLODING_GRI for g in gris.values())
        check = holds, f"{shown_gris}; exploding is GRI > {EXPLODING_GRI:g}"
    elif claim.kind in ("gri_decreased", "gri_increased"):
        check = _change(document, claim.kind == "gri_decreased")
    elif claim.kind == "no_divergence" and losses:
        check = all(math.isfinite(v) for v in losses), "every reported loss is finite"
    if check is None:
        return Row(
            f"claim: {claim.kind}",
            claim.line_text,
            None,
            "not checked",
            claim.where,
            "the document reports no figure that decides it",
        )
    holds, why = check
    verdict = "holds" if holds else "contradicted"
    return Row(f"claim: {claim.kind}", claim.line_text, why, verdict, claim.where)


def check_consistency(document: Document) -> list[Row]:
    """Every consistency row of one document."""
    rows = _gri_rows(document) + _arithmetic_rows(document) + _disagreements(document)
    return rows + [_claim_row(claim, document) for claim in document.claims]
