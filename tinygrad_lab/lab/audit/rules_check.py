"""The configuration and Part B figures a submission states, against its roll's rules (the
lab's one rules table, `rules.RULES`, through `lab_config`, and Part B as `part_b` computes
it). Where the documents leave a rule open for the roll, the row says so ("open") rather than
call the submission's choice wrong."""

from __future__ import annotations

from tinygrad_lab.lab.audit.extract import Document, Mention, most_precise
from tinygrad_lab.lab.audit.result import Row, agrees, figure_name, shown
from tinygrad_lab.lab.rules import NETWORK_FIELDS, LabConfig
from tinygrad_lab.lab.stress.part_b import run_part_b

CONFIGURATION = (*NETWORK_FIELDS, "hidden_layers_after")
# what the notebook never prints (it follows from what it does print): not "missing" unstated
NEVER_PRINTED = ("hidden_layers_after",)
PART_B = ("dense_params", "conv_params", "output_size", "manual_conv")
MANUAL_RULE = (
    "the filter on the centre of v(i,j) = (a+i) + (b+j), as the notebook's code computes it"
)
# the rules-table quantity whose rule a figure follows, and which may be left open
RULE_OF = {
    "hidden_width": "hidden width",
    "hidden_layers": "hidden layers",
    "learning_rate": "learning rate",
    "activation": "activation",
    "init_range": "weight init",
    "added_layers": "structural break",
    "hidden_layers_after": "structural break",
    "dense_params": "dense parameters",
    "conv_params": "conv parameters",
    "output_size": "output size",
}


def expected_values(config: LabConfig) -> dict[str, float | int | str | None]:
    """Every figure the rules fix for ``config``'s roll (None: the formula gives no integer)."""
    part_b = run_part_b(config)
    return {
        **config.network(),
        "hidden_layers_after": config.hidden_layers + config.added_layers,
        "dense_params": part_b.dense_parameters,
        "conv_params": part_b.conv_parameters,
        "output_size": part_b.output_size,
        "manual_conv": part_b.manual_convolution,
    }


def reported_text(mention: Mention) -> str:
    """A mention as a report shows it: the printed text, and its value where the text is an
    expression (code's ``6 + a``)."""
    try:
        float(mention.text)
    except ValueError:
        if not isinstance(mention.value, str) and mention.text != str(mention.value):
            return f"{mention.text} = {shown(mention.value)}"
    return mention.text


def _row(quantity: str, mention: Mention, expected: object, config: LabConfig) -> Row:
    rule = config.rule(RULE_OF[quantity]) if quantity in RULE_OF else None
    text = reported_text(mention)
    rule_text = rule.rule if rule else MANUAL_RULE
    if rule is not None and rule.left_open:
        return Row(
            figure_name(quantity),
            text,
            shown(expected),
            "open",
            mention.where,
            f"the documents leave this rule open for roll {config.roll} ({rule.rule}); "
            f"{shown(expected)} is the documented default, not a rule",
        )
    if agrees(mention, expected, exact=True):
        return Row(figure_name(quantity), text, shown(expected), "correct", mention.where)
    if expected is None:  # the output-size formula gives no whole number for this roll
        expected_text = "no whole number"
        note = f"the filter does not tile the input: {config.rule('output size').value}"
    else:
        expected_text, note = shown(expected), f"the rule is {rule_text}"
    return Row(figure_name(quantity), text, expected_text, "wrong", mention.where, note)


def check_rules(documents: list[Document], config: LabConfig) -> list[Row]:
    """A row per configuration value and Part B figure: the most precise mention's verdict,
    then every other mention that reads differently (each with its own line); "missing" where
    no document of the submission states it (unless the notebook never prints it either)."""
    expected = expected_values(config)
    rows = []
    for quantity in CONFIGURATION + PART_B:
        mentions = [m for document in documents for m in document.all(quantity)]
        if not mentions and quantity in NEVER_PRINTED:
            continue
        if not mentions:
            rows.append(Row(figure_name(quantity), None, shown(expected[quantity]), "missing"))
            continue
        best = most_precise(mentions)
        first = _row(quantity, best, expected[quantity], config)
        rows.append(first)
        seen = {(best.text, best.where)}
        for mention in mentions:
            row = _row(quantity, mention, expected[quantity], config)
            if row.verdict != first.verdict and (mention.text, mention.where) not in seen:
                seen.add((mention.text, mention.where))
                rows.append(row)
    return rows
