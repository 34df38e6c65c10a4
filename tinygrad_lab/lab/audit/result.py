"""What an audit finds, as typed results: a `Row` per checked figure, a `DocumentSeed` per
document searched, a `SubmissionAudit` per student, a `ClassAudit` for everything audited.
Results stay these objects until a report writes them out (`audit.report`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from tinygrad_lab.lab.audit.extract import Mention
from tinygrad_lab.lab.rules import NOTEBOOK_SEEDS

# Every verdict a row can have; the findings are what the instructor must read. The last four
# are about what was handed in rather than a figure in it (the "submission" rows).
SUBMISSION_FINDINGS = ("unreadable format", "nothing to audit", "roll mismatch", "handed in twice")
FINDINGS = ("wrong", "not reproduced", "inconsistent", "contradicted", *SUBMISSION_FINDINGS)
VERDICTS = (*FINDINGS, "correct", "open", "missing", "reproduced", "holds", "not checked")

# A printed figure and a computed one agree when the printed one is the computed value rounded
# or truncated (students do both) to the digits printed. Up to this relative difference more,
# too: BLAS kernels differ in the last bits of a dot product (a GRI's norms), machine to machine.
FLOAT_SLACK = 1e-12

QUANTITY_NAMES = {
    "roll": "roll number",
    "hidden_width": "hidden width",
    "hidden_layers": "hidden layers",
    "learning_rate": "learning rate",
    "activation": "activation",
    "init_range": "weight init range r of U(−r, r)",
    "added_layers": "layers added at the break",
    "hidden_layers_after": "hidden layers after the break",
    "dense_params": "dense parameters",
    "conv_params": "conv parameters",
    "output_size": "output size",
    "manual_conv": "manual convolution (centre)",
    "grad_first": "‖∇W_first‖",
    "grad_last": "‖∇W_last‖",
    "gri": "GRI",
}


def figure_name(quantity: str) -> str:
    """A quantity key as a report names it: ``run2.loss.400`` -> ``run 2 loss, epoch 400``."""
    run, _, rest = quantity.partition(".")
    if not run.startswith("run") or not rest:
        return QUANTITY_NAMES.get(quantity, quantity)
    number = run.removeprefix("run")
    if rest.startswith("loss."):
        return f"run {number} loss, epoch {rest.removeprefix('loss.')}"
    return f"run {number} {QUANTITY_NAMES.get(rest, rest)}"


def agrees(mention: Mention, value: float | str | None, exact: bool = False) -> bool:
    """Whether ``mention`` is ``value`` to the precision it is printed with (rounded or
    truncated), or exactly (a fraction such as 1/7, a name). ``exact``: ``value`` is no
    trained figure but a rule's or a count (6, 0.008), which no BLAS kernel shifts: no
    `FLOAT_SLACK`, so that "5" is not 6 truncated nor "0.007" 0.008."""
    if value is None or isinstance(mention.value, str) or isinstance(value, str):
        return mention.value == value
    reported, value = float(mention.value), float(value)
    if not (math.isfinite(reported) and math.isfinite(value)):
        # nan or inf, whichever the notebook's arithmetic met first (0/0 is nan, x/0 inf, and
        # a diverged loss goes from inf to nan): both undefined is agreement
        return not (math.isfinite(reported) or math.isfinite(value))
    slack = 0.0 if exact else FLOAT_SLACK * max(abs(value), abs(reported))
    if mention.decimals is None:
        return abs(reported - value) <= slack
    unit = 10.0**-mention.decimals
    difference = value - reported
    rounded = abs(difference) <= unit / 2 + slack
    # truncated: the printed digits, then whatever the value has beyond them (towards zero)
    truncated = -slack <= math.copysign(1, value) * difference < unit + slack
    return rounded or truncated


def shown(value: float | str | None) -> str:
    """A computed figure in a report: every digit (it is compared with printed ones)."""
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value) if isinstance(value, str) else repr(value)


@dataclass(frozen=True)
class Row:
    """One checked figure: what was reported, what it should be (the rule's value, or the
    reproduced one), the verdict, and where the submission says it."""

    figure: str
    reported: str | None
    expected: str | None
    verdict: str
    where: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}; expected one of {VERDICTS}")

    @property
    def finding(self) -> bool:
        return self.verdict in FINDINGS

    def to_json(self) -> dict[str, object]:
        return {
            "figure": self.figure,
            "reported": self.reported,
            "expected": self.expected,
            "verdict": self.verdict,
            "where": self.where,
            "note": self.note,
        }


@dataclass(frozen=True)
class DocumentSeed:
    """The seed search for one document: the seed that reproduces its Part A figures (or
    None), the seeds whose epoch-1 loss matched, and a row per figure."""

    path: Path
    seed: int | None
    outcome: str  # "reproduced" | "not reproduced" | "not searched"
    explanation: str
    candidates: tuple[int, ...] = ()
    rows: tuple[Row, ...] = ()
    # the Part A key each row's figure reproduced as ("" where none): the run and epoch the
    # search placed it in, which the consistency checks then read it as
    keys: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "document": str(self.path),
            "seed": self.seed,
            "outcome": self.outcome,
            "explanation": self.explanation,
            "candidates": list(self.candidates),
            "figures": [row.to_json() for row in self.rows],
        }


@dataclass(frozen=True)
class SubmissionAudit:
    """Everything the audit says about one student's submission (its documents of one roll)."""

    name: str
    roll: str
    documents: tuple[Path, ...]
    configuration: dict[str, float | int | str]  # what the reproduction trained
    rules: tuple[Row, ...]
    reproduction: tuple[DocumentSeed, ...]
    consistency: tuple[Row, ...]
    part_a_figures: dict[str, str] = field(default_factory=dict)  # quantity -> best text
    class_findings: tuple[str, ...] = ()  # set by the class audit: shared figures, copied rules
    class_notes: tuple[str, ...] = ()  # what the class tells that is no finding (an original)
    # what was handed in: a file that cannot be read, nothing to audit, a roll that disagrees
    # with whose submission it is, a roll handed in twice (`SUBMISSION_FINDINGS`)
    handed_in: tuple[Row, ...] = ()
    # whose configuration the search trained when not the roll's own ("" when it is)
    configuration_owner: str = ""

    def sections(self) -> dict[str, tuple[Row, ...]]:
        """The report's tables: what was handed in, rules, reproduction (every document's
        rows), consistency."""
        rows = tuple(row for document in self.reproduction for row in document.rows)
        return {
            "submission": self.handed_in,
            "rules": self.rules,
            "reproduction": rows,
            "consistency": self.consistency,
        }

    @property
    def findings(self) -> list[Row]:
        return [row for rows in self.sections().values() for row in rows if row.finding]

    @property
    def finding_count(self) -> int:
        """Every finding: the rows' and the class's."""
        return len(self.findings) + len(self.class_findings)

    @property
    def seeds(self) -> list[int | None]:
        return [document.seed for document in self.reproduction]

    @property
    def reproduced(self) -> bool:
        """Every document with Part A figures is reproduced by a seed."""
        return all(d.outcome == "reproduced" for d in self.reproduction)

    @property
    def clean(self) -> bool:
        return not self.findings and self.reproduced and not self.class_findings

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "roll": self.roll,
            "documents": [str(path) for path in self.documents],
            "configuration": self.configuration,
            "configuration_owner": self.configuration_owner,
            "clean": self.clean,
            "submission": [row.to_json() for row in self.handed_in],
            "rules": [row.to_json() for row in self.rules],
            "reproduction": [document.to_json() for document in self.reproduction],
            "consistency": [row.to_json() for row in self.consistency],
            "class_findings": list(self.class_findings),
            "class_notes": list(self.class_notes),
        }


@dataclass(frozen=True)
class ReadError:
    """A line for what the audit could not read: a path or file (``kind`` "file": not
    audited), or one figure of a file that was audited without it (``kind`` "figure")."""

    text: str
    kind: str = "file"

    def __post_init__(self) -> None:
        if self.kind not in ("file", "figure"):
            raise ValueError(f"unknown kind {self.kind!r}; expected 'file' or 'figure'")

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ClassAudit:
    """Every submission audited, and a line for each path or file that could not be read
    and each figure that did not parse (`ReadError`)."""

    submissions: tuple[SubmissionAudit, ...]
    errors: tuple[ReadError, ...] = ()
    seed_range: tuple[int, int] = NOTEBOOK_SEEDS

    @property
    def not_read(self) -> list[ReadError]:
        """The paths and files that could not be read (not audited)."""
        return [e for e in self.errors if e.kind == "file"]

    @property
    def unparsed(self) -> list[ReadError]:
        """The figures that did not parse (their files were audited without them)."""
        return [e for e in self.errors if e.kind == "figure"]

    @property
    def clean(self) -> bool:
        """No finding, every submission reproduced, nothing unreadable."""
        return not self.errors and all(s.clean for s in self.submissions)

    def to_json(self) -> dict[str, object]:
        return {
            "seed_range": list(self.seed_range),
            "clean": self.clean,
            "errors": [str(e) for e in self.not_read],
            "unparsed": [str(e) for e in self.unparsed],
            "submissions": [s.to_json() for s in self.submissions],
        }
