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
import itertools
import math
import operator
import re
from collections.abc import Callable

from tinygrad_lab.lab.analysis import EXPLODING_GRI, VANISHING_GRI
from tinygrad_lab.lab.audit.extract import Claim, Document, Mention, most_precise
from tinygrad_lab.lab.audit.result import Row, agrees, figure_name, shown


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


def _gri_rows(document: Document) -> list[Row]:
    """GRI against the norms, run by run. Where a run is a guess (a figure with
    alternatives), the figures placed in it may come from several runs: it holds when some
    GRI is some ratio, and is not called inconsistent on a guess."""
    rows = []
    for run in ("run1", "run2", "run3"):
        placed = [document.all(f"{run}.{q}") for q in ("grad_first", "grad_last", "gri")]
        if not all(placed):
            continue
        best = tuple(most_precise(mentions) for mentions in placed)
        trios = [best, *itertools.product(*placed)]
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
    for quantity in dict.fromkeys(m.quantity for m in document.mentions):
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
    elif claim.kind in ("gri_decreased", "gri_increased") and len(gris) == 2:
        fell = gris["run2"] < gris["run1"]
        check = fell == (claim.kind == "gri_decreased"), shown_gris
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
