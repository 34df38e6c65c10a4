"""Q4 as a spec comparison: every rule value where a student's configuration differs from a
reference roll's (the example roll's), with a count per student. A submission that copied the
example's code shows in exactly those values; one that differs in none cannot be told apart by
its architecture.

``tinygrad-lab spec --rolls roster.csv --against 102303346``
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinygrad_lab.display import cell, markdown_table
from tinygrad_lab.lab.output.files import OutputFiles
from tinygrad_lab.lab.rules import LabConfig


@dataclass(frozen=True)
class RuleValue:
    """One rule's value for a student beside the reference roll's."""

    quantity: str
    value: object
    against: object

    @property
    def differs(self) -> bool:
        return self.value != self.against


@dataclass(frozen=True)
class SpecComparison:
    """A student's rule values against the reference roll's."""

    roll: str
    against: str
    rules: tuple[RuleValue, ...]

    @property
    def differences(self) -> int:
        return sum(rule.differs for rule in self.rules)


def compare_specs(configs: list[LabConfig], against: LabConfig) -> list[SpecComparison]:
    """Each configuration's rule values (the spec table's) against ``against``'s."""
    reference = {quantity: value for quantity, _, value in against.table()}
    return [
        SpecComparison(
            config.roll,
            against.roll,
            tuple(RuleValue(q, value, reference[q]) for q, _, value in config.table()),
        )
        for config in configs
    ]


def against_table(comparisons: list[SpecComparison], against: LabConfig) -> str:
    """A Markdown table: the reference roll's values, then a row per student with the count
    of differing values and each differing value in bold."""
    quantities = [rule.quantity for rule in comparisons[0].rules]
    rows = [[f"{against.roll} (against)", "—"] + [cell(v, 6) for _, _, v in against.table()]]
    for comparison in comparisons:
        marked = [
            f"**{cell(rule.value, 6)}**" if rule.differs else cell(rule.value, 6)
            for rule in comparison.rules
        ]
        rows.append([comparison.roll, comparison.differences, *marked])
    header = ["roll", "differing", *quantities]
    return (
        markdown_table(header, rows)
        + f"\n\n**Bold**: differs from roll {against.roll}'s value. "
        + f"{sum(c.differences == 0 for c in comparisons)} of {len(comparisons)} "
        + "configurations differ in no value (copied code would not show in them)."
    )


def against_json(comparisons: list[SpecComparison]) -> list[dict[str, Any]]:
    return [
        {
            "roll": c.roll,
            "against": c.against,
            "differences": c.differences,
            "rules": [
                {
                    "quantity": r.quantity,
                    "value": r.value,
                    "against": r.against,
                    "differs": r.differs,
                }
                for r in c.rules
            ],
        }
        for c in comparisons
    ]


def against_csv(comparisons: list[SpecComparison]) -> str:
    """Long form: one row a (student, rule)."""
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["roll", "against", "quantity", "value", "against_value", "differs"])
    for c in comparisons:
        for r in c.rules:
            writer.writerow([c.roll, c.against, r.quantity, r.value, r.against, int(r.differs)])
    return handle.getvalue()


def write_against(
    configs: list[LabConfig], against: LabConfig, out: Path | None, as_json: bool = False
) -> int:
    """The comparison on stdout (the table, or with ``as_json`` the JSON), and
    spec_against.csv in ``out`` (whole or not at all, `OutputFiles`)."""
    comparisons = compare_specs(configs, against)
    if out is not None:
        with OutputFiles() as files:
            files.write(out / "spec_against.csv", against_csv(comparisons))
    if as_json:
        print(json.dumps(against_json(comparisons), allow_nan=False))
    else:
        print(against_table(comparisons, against))
    return 0
