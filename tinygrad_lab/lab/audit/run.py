"""Audit submissions: read every file under the paths given, group them into submissions, audit
each (what was handed in, rules, seed search, consistency), then the class as a whole (a roll
handed in twice, shared figures, another roll's configuration).

A submission is the documents of one roll number in one folder (or one student's folder and
its subfolders): a student's notebook and write-up together (the seed documents are one
submission), each student of a class folder on their own, whether the class keeps one folder a
student or all files side by side. Its roll is whose it is by how it was handed in (its
folder's or file's name, else its title, else its code's ROLL_NUMBER: `handed_in`); a code or
title that gives another roll is a finding, and so are a roll handed in twice, a submission
with no Part A figure ("nothing to audit") and one the audit cannot read ("unreadable
format")."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from tinygrad_lab.lab.audit.class_findings import class_findings
from tinygrad_lab.lab.audit.collect import ROLL_SOURCES, SUPPORTED, Submission, by_source, collect
from tinygrad_lab.lab.audit.consistency import check_consistency
from tinygrad_lab.lab.audit.extract import (
    Document,
)
from tinygrad_lab.lab.audit.reproduce import (
    ConfigurationError,
    EpochOneLosses,
    part_a_quantities,
    placed,
    reported,
    search_seed,
    trained_configuration,
)
from tinygrad_lab.lab.audit.result import (
    ClassAudit,
    DocumentSeed,
    ReadError,
    Row,
    SubmissionAudit,
    figure_name,
)
from tinygrad_lab.lab.audit.rules_check import check_rules
from tinygrad_lab.lab.rules import (
    EXAMPLE_ROLL,
    NOTEBOOK_SEEDS,
    LabConfig,
    RollNumberError,
    lab_config,
)


def _roll_rows(submission: Submission) -> list[Row]:
    """A row for each roll the submission names other than the one it is handed in as:
    both rolls, where each is said, and whose submission it is."""
    # the most trusted source of the roll it is handed in as
    whose = next((r for r in by_source(submission.rolls) if r.roll == submission.roll), None)
    rows = []
    for named in submission.rolls:
        if whose is None or named.roll == submission.roll:
            continue
        says = "runs with ROLL_NUMBER =" if named.by == "code" else "gives roll"
        source = ROLL_SOURCES[named.by].removesuffix(" ROLL_NUMBER").removesuffix("'s")
        note = f"this is roll {submission.roll}'s submission, but {source} {says} {named.roll}"
        if named.roll == EXAMPLE_ROLL:
            note += " (the course's example notebook's)"
        if named.by == "code":
            note += (
                f": its configuration and figures are roll {named.roll}'s; the rules are "
                f"checked for roll {submission.roll}"
            )
        rows.append(
            Row(
                figure_name("roll"),
                f"{named.roll} ({ROLL_SOURCES[named.by]})",
                f"{submission.roll} ({ROLL_SOURCES[whose.by]}, {whose.where})",
                "roll mismatch",
                named.where,
                note,
            )
        )
    return rows


def _unreadable_rows(submission: Submission) -> list[Row]:
    return [
        Row("document", u.path.name, SUPPORTED, "unreadable format", u.path.name,
            f"{u.reason}: nothing of it can be audited")
        for u in submission.unreadable
    ]  # fmt: skip


def _nothing_to_audit(documents: list[Document]) -> list[Row]:
    """A row when no document reports a Part A figure: nothing it ran can be checked."""
    if any(part_a_quantities(d) for d in documents):
        return []
    cleared = [d.path.name for d in documents if d.outputs_cleared]
    note = (
        f"{', '.join(cleared)}: code with not one line of output (outputs cleared), so no "
        "figure it printed is left to reproduce"
        if cleared
        else "no document of it reports a loss, a gradient norm or a GRI"
    )
    where = ", ".join(d.path.name for d in documents)
    return [
        Row("Part A figures", None, "the losses, gradient norms and GRIs of runs 1 and 2",
            "nothing to audit", where, note)
    ]  # fmt: skip


def _ran_rules(documents: list[Document], rules: LabConfig) -> LabConfig:
    """The rules of the digits the code ran with: those it sets by hand, else its
    ROLL_NUMBER's, else (no code) the roll's own. The values it states override them."""
    digits = next((d.digits for d in documents if d.digits is not None), None)
    if digits is not None:
        return lab_config(digits.roll_ending)
    code = next((d.code_roll.text for d in documents if d.code_roll is not None), None)
    try:
        return lab_config(code) if code is not None else rules
    except RollNumberError:
        return rules


def _same_network(first: dict[str, object], second: dict[str, object]) -> bool:
    return all(
        first[k] == second[k]
        if isinstance(first[k], str) or isinstance(second[k], str)
        else math.isclose(float(first[k]), float(second[k]), rel_tol=1e-9)
        for k in first
    )


def _digits_text(config: LabConfig) -> str:
    return f"a = {config.a}, b = {config.b}, c = {config.c}"


@functools.cache
def _every_digits() -> tuple[LabConfig, ...]:
    """The rules of every digits a, b, c (once a process)."""
    return tuple(lab_config(f"{k:03d}") for k in range(1000))


def _digits_giving(network: dict[str, object]) -> str:
    """Whose configuration ``network`` is, by the digits a, b, c whose rules give it."""
    configs = [c for c in _every_digits() if _same_network(network, c.network())]
    if not configs:
        return "a configuration no roll's rules give (no digits a, b, c)"
    parts = []
    for name in ("a", "b", "c"):
        values = [str(v) for v in sorted({getattr(c, name) for c in configs})]
        listed = values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]
        parts.append(f"{name} = {listed}")
    return "the configuration of digits " + ", ".join(parts)


def configuration_owner(config: LabConfig, roll: str, documents: list[Document]) -> str:
    """Whose configuration the seed search trained, when not roll ``roll``'s own ("" when
    it is): the digits the code sets by hand, its ROLL_NUMBER's, else the digits that give
    it. A roll of the class that has it is named by the class audit."""
    trained, rules = config.network(), lab_config(roll)
    if _same_network(trained, rules.network()):
        return ""
    own = f"not roll {roll}'s ({_digits_text(rules)})"
    digits = next((d.digits for d in documents if d.digits is not None), None)
    typed = lab_config(digits.roll_ending) if digits is not None else None
    if typed is not None and _same_network(trained, typed.network()):
        return (
            f"the configuration of digits {_digits_text(typed)}, which its code sets by hand "
            f"({digits.where}: {digits.line_text}), {own}"
        )
    code = next((d.code_roll.text for d in documents if d.code_roll is not None), None)
    if code not in (None, roll) and _same_network(trained, lab_config(code).network()):
        return f"the configuration of roll {code} (its code's ROLL_NUMBER), {own}"
    return f"{_digits_giving(trained)}, {own}"


def audit_submission(
    submission: Submission, seed_range: tuple[int, int] = NOTEBOOK_SEEDS
) -> SubmissionAudit:
    """What was handed in (its rolls, whether it can be read and holds anything to check),
    rules, the seed search of each document, and consistency, for one submission."""
    handed = _roll_rows(submission)
    if not submission.documents:
        paths = tuple(u.path for u in submission.unreadable)
        return SubmissionAudit(submission.name, submission.roll, paths, {}, (), (), (),
                               handed_in=tuple(handed + _unreadable_rows(submission)))  # fmt: skip
    documents = list(submission.documents)
    try:
        rules_config = lab_config(submission.roll)
    except RollNumberError as err:
        rules_config = None
        rules = [Row("roll number", submission.roll, None, "wrong", note=str(err))]
    else:
        rules = check_rules(documents, rules_config)
    reproduction, configuration, owner = [], {}, ""
    if rules_config is not None:
        reproduction, configuration, owner = _search(submission, rules_config, seed_range)
    by_path = {result.path: result for result in reproduction}
    consistency = [
        row for d in documents for row in check_consistency(placed(d, by_path.get(d.path)))
    ]
    return SubmissionAudit(
        submission.name,
        submission.roll,
        tuple(d.path for d in documents),
        configuration,
        tuple(rules),
        tuple(reproduction),
        tuple(consistency),
        {m.quantity: m.text for d in documents for m in reported(d)},
        handed_in=tuple(handed + _nothing_to_audit(documents)),
        configuration_owner=owner,
    )


def _search(
    submission: Submission, rules_config: LabConfig, seed_range: tuple[int, int]
) -> tuple[list[DocumentSeed], dict[str, float | int | str], str]:
    """The seed search of each document, with the configuration the documents ran (and whose
    it is, when not the roll's own); a configuration no network trains with is not searched."""
    documents = list(submission.documents)
    try:
        config = trained_configuration(documents, _ran_rules(documents, rules_config))
    except ConfigurationError as err:
        reason = f"cannot train: {err}"
        return (
            [DocumentSeed(d.path, None, "not searched", reason) for d in documents if reported(d)],
            {},
            "",
        )
    owner = configuration_owner(config, submission.roll, documents)
    losses = EpochOneLosses(range(seed_range[0], seed_range[1] + 1))
    searched = (search_seed(document, config, losses) for document in documents)
    return [r for r in searched if r is not None], config.network(), owner


def audit_paths(
    paths: Sequence[str | Path],
    seed_range: tuple[int, int] = NOTEBOOK_SEEDS,
    workers: int | None = None,
    progress: bool = False,
) -> ClassAudit:
    """Audit every submission under ``paths``: one alone here, a class on a process pool with
    a progress bar (the sweeps' own, `pool.run_many`)."""
    submissions, errors, unparsed = collect(paths)
    audit = partial(audit_submission, seed_range=seed_range)
    if len(submissions) > 1:
        from tinygrad_lab.lab.pool import run_many

        audits = run_many(submissions, workers=workers, progress=progress, fn=audit)
    else:
        audits = [audit(s) for s in submissions]
    problems = [ReadError(e) for e in errors] + [ReadError(u, "figure") for u in unparsed]
    return ClassAudit(tuple(class_findings(audits, submissions)), tuple(problems), seed_range)
