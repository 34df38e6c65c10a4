"""What `extract` finds in one submission file: its figures (`Mention`), claims, digits and
unreadable lines, each placed at its file and line, gathered in a `Document`."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_RUN_FIGURES = ("loss.1", "loss.100", "loss.400", "grad_first", "grad_last", "gri")
_CONFIGURATION = ("hidden_width", "hidden_layers", "learning_rate", "activation", "init_range")
# Every key in report order. Losses at other epochs are keys too: run<n>.loss.<epoch>, e.g. the
# last cell's table, run3.loss.257.
QUANTITIES: tuple[str, ...] = (
    "roll",
    *_CONFIGURATION,
    "added_layers",
    "hidden_layers_after",
    *(f"run{run}.{figure}" for run in (1, 2) for figure in _RUN_FIGURES),
    "dense_params",
    "conv_params",
    "output_size",
    "manual_conv",
)
SUFFIXES = {".ipynb": "ipynb", ".txt": "text", ".md": "markdown", ".py": "python"}
_SOURCE_RANK = {"output": 0, "code": 1, "text": 2}  # ties in `Document.best`
PRINTED = {"output", "warning"}  # what running a cell leaves
DIGIT_NAMES = ("a", "b", "c")  # the roll's last, second-last and third-last digits


class _Placed:
    """Something at a place in a file: its ``where``, as reports name it (``lab.txt:12``, or
    ``lab.ipynb:cell 7:2`` in a notebook)."""

    file: Path
    line: int  # 1-based; in a notebook, within the cell's source or output text
    cell: int | None  # .ipynb only, 1-based

    @property
    def where(self) -> str:
        cell = "" if self.cell is None else f"cell {self.cell}:"
        return f"{self.file.name}:{cell}{self.line}"


@dataclass(frozen=True)
class Mention(_Placed):
    """One figure as a file reports it."""

    quantity: str
    text: str  # as printed: "0.00154", "1/7", "ReLU"
    value: float | str  # a float, a lower-case activation name, or the roll's digits
    decimals: int | None  # printed precision is 0.5 * 10**-decimals; None: exact
    file: Path
    line: int
    cell: int | None
    source: str  # "output", "code" or "text"
    line_text: str
    # the other Part A keys it may be, when the document does not make its run (or the count
    # its epochs start from) certain: the seed search compares it with each
    alternatives: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """``quantity``, then the `alternatives`."""
        return (self.quantity, *self.alternatives)


@dataclass(frozen=True)
class Unparsed(_Placed):
    """A figure's label followed by one token that is not a number (``Loss Epoch1: 2.1O89``):
    the figure is not found, and the audit says why in one line."""

    quantity: str
    text: str
    file: Path
    line: int
    cell: int | None
    line_text: str


@dataclass(frozen=True)
class Claim(_Placed):
    """A prose line that claims one of `CLAIM_KINDS`."""

    kind: str
    file: Path
    line: int
    cell: int | None
    line_text: str


@dataclass(frozen=True)
class Digits(_Placed):
    """The digits a, b, c a document's code sets by hand (``a, b, c = 1, 5, 3``) instead of
    taking them from its roll number: what its configuration is computed from. A digit the
    code does not set is its roll's."""

    a: int
    b: int
    c: int
    file: Path
    line: int  # the first line that sets one
    cell: int | None
    line_text: str

    @property
    def roll_ending(self) -> str:
        """The last three digits of a roll whose rules these digits are (``c b a``)."""
        return f"{self.c}{self.b}{self.a}"


def most_precise(mentions: Iterable[Mention]) -> Mention | None:
    """Exact first, then most decimals; ties: output, code, text, then the first given."""
    return min(
        mentions,
        key=lambda m: (m.decimals is not None, -(m.decimals or 0), _SOURCE_RANK[m.source]),
        default=None,
    )


@dataclass(frozen=True)
class Document:
    """What one file reports."""

    path: Path
    format: str
    mentions: tuple[Mention, ...]  # in file order
    claims: tuple[Claim, ...]
    unparsed: tuple[Unparsed, ...] = ()
    digits: Digits | None = None  # the digits its code sets by hand, if it does
    outputs_cleared: bool = False  # a notebook with code and not one line of output

    def all(self, quantity: str) -> list[Mention]:
        return list(self._by_quantity.get(quantity, ()))

    @functools.cached_property
    def _by_quantity(self) -> dict[str, list[Mention]]:
        """The mentions of each quantity, in file order: built once, so that asking for each
        quantity in turn costs the mentions once, not once a quantity."""
        index: dict[str, list[Mention]] = {}
        for mention in self.mentions:
            index.setdefault(mention.quantity, []).append(mention)
        return index

    def best(self, quantity: str) -> Mention | None:
        """The most precise mention of ``quantity`` (see `most_precise`)."""
        return most_precise(self.all(quantity))

    @property
    def roll(self) -> str | None:
        """The roll its code runs with (``ROLL_NUMBER = …``, or printed), else its text's."""
        best = self.best("roll")
        return best.text if best else None

    @property
    def code_roll(self) -> Mention | None:
        """The roll number its code sets (or prints), if any."""
        return most_precise(m for m in self.all("roll") if m.source != "text")

    @property
    def title_roll(self) -> Mention | None:
        """The first roll number its prose gives (a title such as ``Roll Number: …``)."""
        return next((m for m in self.all("roll") if m.source == "text"), None)
