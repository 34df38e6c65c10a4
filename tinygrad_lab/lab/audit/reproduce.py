"""The seed search: which seed, with the submission's own configuration, reproduces a
document's Part A figures, the notebook's cells run in order.

The course notebook seeds with ``np.random.seed(np.random.randint(0, 1000))``, and the stress
test with seed ``s`` gives the figures of its code run after ``np.random.seed(s)``; so every
honest run is one of 1,000 seeds. The search needs one forward pass a seed: only seeds whose
epoch-1 loss matches the printed one (a handful at 3 decimals, one at 6) train, all at once on
the seed axis (`seed_axis.train_seeds`, the stress test's figures to the bit), runs 1, 2 and 3.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence

import numpy as np

from tinygrad_lab.lab.audit.extract import Document, Mention, most_precise
from tinygrad_lab.lab.audit.orders import ORDERS, first_losses, train_seeds
from tinygrad_lab.lab.audit.result import DocumentSeed, Row, agrees, figure_name, shown
from tinygrad_lab.lab.output.tables import listed
from tinygrad_lab.lab.rules import EPOCHS, NETWORK_FIELDS, LabConfig
from tinygrad_lab.lab.studies.seed_axis import SeedFigures, Setting
from tinygrad_lab.nn import get_activation

FILTER = "run1.loss.1"  # the figure one forward pass gives
NEAREST = 5  # seeds trained when no epoch-1 loss matches: is only that figure off?
PART_A = re.compile(r"run([123])\.(loss\.(\d+)|grad_first|grad_last|gri)")
# the configuration a run trains with: a submission's own values, else its roll's rules
# (the layers added at the break come from the stated count, or from the depth stated after it)
TRAINED = tuple(name for name in NETWORK_FIELDS if name != "added_layers")


def part_a_quantities(document: Document) -> list[str]:
    """The Part A figures ``document`` reports (keys such as ``run2.gri``), in file order."""
    return list(
        dict.fromkeys(m.quantity for m in document.mentions if PART_A.fullmatch(m.quantity))
    )


class ConfigurationError(ValueError):
    """A stated configuration no network can be trained with (a width of 0, an unknown
    activation): the figures cannot be reproduced, and the error says why."""


def ran_value(mentions: list[Mention]) -> Mention | None:
    """What a document ran with: its most precise mention of a value, unless what its code
    printed reads otherwise (then the printout: the audit read the code wrong, the output is
    what ran)."""
    best = most_precise(mentions)
    printed = most_precise(m for m in mentions if m.source == "output")
    return printed if printed is not None and not agrees(printed, best.value, exact=True) else best


def trained_configuration(documents: list[Document], config: LabConfig) -> LabConfig:
    """``config`` (the rules of the digits the code ran with) with every value the submission
    states instead: what it ran with across ``documents`` (`ran`). Layers added at the break
    come from the stated count, or from the depth stated after it."""
    best, rules = {}, config.network()
    for quantity in (*TRAINED, "added_layers", "hidden_layers_after"):
        mention = ran_value([m for d in documents for m in d.all(quantity)])
        # a value that is the rule's, printed short ("0.018" for 0.002 × 9, which is
        # 0.018000000000000002), trains as the rule's: the notebook computed it from the digits
        if mention is not None and not (
            quantity in rules and agrees(mention, rules[quantity], exact=True)
        ):
            best[quantity] = mention.value
    values: dict[str, object] = {q: best[q] for q in TRAINED if q in best}
    if "added_layers" in best:
        values["added_layers"] = best["added_layers"]
    elif "hidden_layers_after" in best:
        hidden = values.get("hidden_layers", config.hidden_layers)
        values["added_layers"] = float(best["hidden_layers_after"]) - float(hidden)
    for name in ("hidden_width", "hidden_layers", "added_layers"):
        if name in values:
            number = float(values[name])
            if not number.is_integer() or number < (0 if name == "added_layers" else 1):
                raise ConfigurationError(f"{figure_name(name)} {values[name]} is not a size")
            values[name] = int(number)
    for name in ("learning_rate", "init_range"):
        if name in values:
            values[name] = float(values[name])
            if not (math.isfinite(values[name]) and values[name] > 0):
                raise ConfigurationError(f"{figure_name(name)} {values[name]} is not positive")
    if "activation" in values:
        try:
            get_activation(str(values["activation"]))
        except ValueError as err:
            raise ConfigurationError(str(err)) from None
    return dataclasses.replace(config, **values)


class _AfterDivergence:
    """A figure the notebook prints after its run diverged: its loop trains on, on inf and
    NaN, where the stress test stops; such a figure is not checked (nor counted)."""

    def __init__(self, run: str, epoch: int) -> None:
        self.note = (
            f"run {run} diverged at epoch {epoch}; the notebook's code trains on past it, on "
            "inf and NaN, which the stress test does not, so this figure is not checked"
        )


def _value(figures: SeedFigures, quantity: str) -> float | _AfterDivergence | None:
    """A seed's figure for a Part A key, as the notebook's code would print it (None: that run
    has no such epoch). The loss of the epoch that diverged is not finite, as the notebook's."""
    match = PART_A.fullmatch(quantity)
    run = getattr(figures, f"run{match[1]}")
    epoch = int(match[3]) if match[3] is not None else None
    if run is None or epoch == 0:
        return None
    if epoch is not None and epoch <= len(run.loss_history):
        return run.loss_history[epoch - 1]
    if run.diverged_at is not None and (epoch is None or epoch <= EPOCHS):
        if epoch == run.diverged_at:
            return math.nan
        return _AfterDivergence(match[1], run.diverged_at)
    if epoch is not None:
        return None
    if match[2] == "gri" and run.gri is None:  # a dead layer: what the notebook's division prints
        return math.nan if run.grad_norm_first == 0 else math.inf
    attribute = {"grad_first": "grad_norm_first", "grad_last": "grad_norm_last"}
    return getattr(run, attribute.get(match[2], match[2]))


def _as(mention: Mention, key: str) -> str:
    """Why a figure was compared as ``key``, when the document does not say so itself."""
    if not mention.alternatives:
        return ""
    run, printed = key.split(".")[0], mention.quantity.split(".")
    notes = []
    if PART_A.fullmatch(mention.quantity)[3] is not None and key.split(".")[2] != printed[2]:
        notes.append(f"printed as epoch {printed[2]}: the document counts epochs from 0")
    if any(k.split(".")[0] != printed[0] for k in mention.alternatives):
        notes.append(f"its run is not named where it is printed; of every run's, it is {run[3:]}'s")
    return "; ".join(notes)


def _row(mention: Mention, figures: SeedFigures) -> tuple[Row, str]:
    """A figure against the seed's: as the document places it, or as any of its
    alternatives (another run, an epoch counted from 0), whichever it reproduces; and the
    key it reproduced as ("" if none)."""
    values = [(key, _value(figures, key)) for key in mention.keys]
    for key, value in values:
        if not isinstance(value, _AfterDivergence) and agrees(mention, value):
            return Row(figure_name(key), mention.text, shown(value), "reproduced",
                       mention.where, _as(mention, key)), key  # fmt: skip
    key, value = next(((k, v) for k, v in values if v is not None), values[0])
    if isinstance(value, _AfterDivergence):
        row = Row(figure_name(key), mention.text, None, "not checked", mention.where, value.note)
        return row, ""
    return Row(figure_name(key), mention.text, shown(value), "not reproduced", mention.where), ""


def _rows(document: Document, figures: SeedFigures) -> tuple[list[Row], list[str]]:
    """Every mention of a Part A figure against the seed's own figures, and the key each
    reproduced as."""
    placed = [_row(mention, figures) for mention in part_a_mentions(document)]
    return [row for row, _ in placed], [key for _, key in placed]


def placed(document: Document, result: DocumentSeed | None) -> Document:
    """``document`` with each Part A figure its seed reproduced read as the run and epoch it
    reproduced as (no longer a guess), so that its claims and GRIs are checked against the
    run the seed search matched rather than a guessed one. Unchanged when not reproduced."""
    if result is None or result.outcome != "reproduced":
        return document
    keys = {id(m): key for m, key in zip(part_a_mentions(document), result.keys, strict=True)}
    mentions = tuple(
        dataclasses.replace(m, quantity=keys[id(m)], alternatives=()) if keys.get(id(m)) else m
        for m in document.mentions
    )
    return dataclasses.replace(document, mentions=mentions)


def _score(rows: list[Row]) -> tuple[int, int]:
    """How many of the figures a seed can be checked on it reproduces, and of how many."""
    checked = [row for row in rows if row.verdict != "not checked"]
    return sum(row.verdict == "reproduced" for row in checked), len(checked)


def part_a_mentions(document: Document) -> list[Mention]:
    """Every mention of a Part A figure, in the order of `part_a_quantities`."""
    return [m for q in part_a_quantities(document) for m in document.all(q)]


class EpochOneLosses:
    """Every seed's epoch-1 loss for a configuration, computed once per configuration: the
    documents of a submission (or of a class that shares a configuration) search it again."""

    def __init__(self, seeds: Sequence[int]) -> None:
        self.seeds = np.asarray(seeds)
        self._cache: dict[tuple[LabConfig, str], np.ndarray] = {}

    def __call__(self, config: LabConfig, order: str = "notebook") -> np.ndarray:
        if (config, order) not in self._cache:
            self._cache[config, order] = first_losses(Setting(config), self.seeds, order)
        return self._cache[config, order]


def _candidates(
    document: Document, config: LabConfig, losses: EpochOneLosses, order: str
) -> tuple[list[int], list[int]]:
    """The seeds whose epoch-1 loss is a figure that may be run 1's epoch-1 loss, and the seeds
    to train: those, or when none matches the `NEAREST` to the most precise such figure (to
    tell an edited epoch-1 loss from figures no seed gives)."""
    epoch_one = losses(config, order)
    firsts = [m for m in part_a_mentions(document) if FILTER in m.keys]
    matches = sorted(
        {int(s) for first in firsts for s, v in zip(losses.seeds, epoch_one, strict=True)
         if agrees(first, v)}
    )  # fmt: skip
    first = most_precise(m for m in firsts if m.quantity == FILTER) or most_precise(firsts)
    order_ = np.argsort(np.abs(epoch_one - float(first.value)), kind="stable")
    return matches, matches or [int(losses.seeds[k]) for k in order_[:NEAREST]]


class _Attempt:
    """The seeds trained for one order of the draws, and each one's rows and score."""

    def __init__(
        self, document: Document, config: LabConfig, losses: EpochOneLosses, order: str
    ) -> None:
        self.order = order
        self.matches, self.trained = _candidates(document, config, losses, order)
        setting = Setting(config, epochs=EPOCHS, structural_break=True, run3=True)
        self.results = train_seeds(setting, self.trained, order)
        placed = [_rows(document, figures) for figures in self.results]
        self.rows = [rows for rows, _ in placed]
        self.keys = [keys for _, keys in placed]
        self.scores = [_score(rows) for rows in self.rows]
        self.exact = [k for k, (hit, of) in enumerate(self.scores) if hit == of]


def search_seed(
    document: Document, config: LabConfig, losses: EpochOneLosses
) -> DocumentSeed | None:
    """The seed search for one document (None: it reports no Part A figure): the notebook's
    order of draws, then the other honest orders (`orders.ORDERS`)."""
    if not part_a_quantities(document):
        return None
    if not any(FILTER in m.keys for m in document.mentions):
        why = f"the search starts from run 1's epoch-1 loss, which {document.path.name} lacks"
        return DocumentSeed(document.path, None, "not searched", why)
    attempts = []
    for order in ORDERS:
        attempt = _Attempt(document, config, losses, order)
        if attempt.exact:
            return _reproduced(document, attempt)
        attempts.append(attempt)
    notebook = attempts[0]  # the closest is told in the notebook's order
    closest = max(range(len(notebook.results)), key=lambda k: notebook.scores[k][0])
    low, high = int(losses.seeds[0]), int(losses.seeds[-1])
    matched = "matches" if notebook.matches else "matches no seed's; the nearest are"
    hit, of = notebook.scores[closest]
    trained = listed("seed", notebook.trained)
    why = (
        f"not reproduced with the notebook's cell order: no seed in {low}–{high} reproduces "
        "these figures with the notebook's cells run in order, nor with the weights drawn "
        "before the data. Possible causes: cells run in another order or run again, code "
        f"changed, or figures edited. Its epoch-1 loss {matched} {trained}; "
        f"the closest, seed {notebook.results[closest].seed}, reproduces {hit} of its {of} "
        "figures (the rows say which)"
    )
    rows = tuple(notebook.rows[closest])
    return DocumentSeed(document.path, None, "not reproduced", why, tuple(notebook.matches), rows)


def _reproduced(document: Document, attempt: _Attempt) -> DocumentSeed:
    seeds = [attempt.results[k].seed for k in attempt.exact]
    rows, keys = attempt.rows[attempt.exact[0]], attempt.keys[attempt.exact[0]]
    also = f" (also seeds {', '.join(map(str, seeds[1:]))})" if len(seeds) > 1 else ""
    unchecked = sum(row.verdict == "not checked" for row in rows)
    after = f" ({unchecked} after a divergence not checked)" if unchecked else ""
    why = (
        f"seed {seeds[0]}{also} reproduces {document.path.name}'s Part A figures{after} "
        f"{ORDERS[attempt.order]}"
    )
    return DocumentSeed(
        document.path,
        seeds[0],
        "reproduced",
        why,
        tuple(attempt.matches),
        tuple(rows),
        tuple(keys),
    )


def reported(document: Document) -> list[Mention]:
    """The most precise mention of each Part A figure ``document`` reports."""
    return [m for q in part_a_quantities(document) if (m := document.best(q)) is not None]
