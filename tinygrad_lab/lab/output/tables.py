"""How the lab writes a figure in a report: significant digits, percentages, factors, shares,
and a Markdown table of them."""

from __future__ import annotations

import math
from typing import Any

from tinygrad_lab.display import cell, markdown_table


def fmt(value: Any, digits: int = 6) -> str:
    """A figure in the report: ``digits`` significant digits, "undefined" for None or a
    non-finite float (as the JSON's null)."""
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    return cell(value, digits)


def percent(count: int, total: int) -> str:
    """``count`` of ``total`` as a percentage, with a decimal more where rounding would make a
    share that is neither none nor all read as 0 % or 100 %."""
    value = 100 * count / total
    for digits in range(0, 6):
        text = f"{value:.{digits}f}"
        if 0 < count < total and float(text) in (0, 100):
            continue
        return f"{text} %"
    return f"{value:g} %"


SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def factor(ratio: float) -> str:
    """A ratio ≥ 1 as a factor, rounded (never floored or ceiled): whole from 100 on
    (``4,689``), in powers of ten from a million on (``2.08 × 10¹³``: 14 digits are not read),
    else three significant digits (``15.5``, ``2``), with more digits where three would round a
    change to "1"."""
    if not math.isfinite(ratio):
        return "infinity"
    if round(ratio) >= 1_000_000:
        mantissa, exponent = f"{ratio:.2e}".split("e")
        return f"{mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPTS)}"
    if round(ratio) >= 100:
        return f"{ratio:,.0f}"
    for digits in range(3, 16):
        text = f"{ratio:.{digits}g}"
        if ratio == 1 or float(text) != 1:
            return text
    return f"{ratio!r}"


def change_text(change: float) -> str:
    """``fell by a factor of 15.5`` for a new/old ratio of 0.0646, ``rose by a factor of 3``
    for 3, ``did not change`` for 1."""
    if change == 1:
        return "did not change"
    if change < 1:
        return "fell by a factor of " + (factor(1 / change) if change > 0 else "infinity")
    return f"rose by a factor of {factor(change)}"


def share(count: int, total: int, noun: str) -> str:
    """``"16 of 50 seeds (32 %)"``."""
    return f"{count} of {total} {noun} ({percent(count, total)})"


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [markdown_table(header, rows, fmt=fmt), ""]


def listed(noun: str, items: list[Any]) -> str:
    """``"seed 3"`` or ``"seeds 3, 4"``."""
    return f"{noun}{'s' if len(items) > 1 else ''} {', '.join(map(str, items))}"
