"""Roll-number rules (lab-spec §1, §3), their open defaults, overrides and errors."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab.lab.rules import (
    DEFAULT_ADDED_LAYERS,
    DEFAULT_ODD_ACTIVATION,
    RULES,
    RollNumberError,
    lab_config,
    parse_roll,
)

rolls = st.text(alphabet="0123456789", min_size=3, max_size=12)


@given(roll=rolls)
def test_every_rule_follows_the_last_three_digits(roll):
    config = lab_config(roll)
    a, b, c = int(roll[-1]), int(roll[-2]), int(roll[-3])
    assert (config.a, config.b, config.c) == (a, b, c)
    assert config.hidden_width == 6 + a
    assert config.hidden_layers == 4 + b % 3
    assert config.learning_rate == 0.002 * (c + 1)
    assert config.init_range == 1 / (a + 1)
    assert config.layer_sizes == [3] + [6 + a] * (4 + b % 3) + [1]
    assert config.image_side == 24 + a and config.dense_neurons == 32 + b
    assert config.conv_filter_size == 3 + c % 2 and config.conv_filters == 8 + a
    assert (config.output_stride, config.output_padding) == (1 + b % 2, c % 2)
    assert config.output_filter_size == 3
    size = Fraction(24 + a - 3 + 2 * (c % 2), 1 + b % 2) + 1
    shown = dict((q, v) for q, _, v in config.table())["output size"]
    if size.denominator == 1:
        assert config.output_size == size.numerator and shown == str(size.numerator)
    else:  # not a whole number: no size, and the table says by how much
        assert config.output_size is None
        assert shown.startswith("not an integer") and shown.endswith(f"= {float(size):g}")


def test_the_spec_table_is_the_rules_table_in_order():
    config = lab_config("102303346")
    shown = [row.quantity for row in RULES if row.quantity is not None]
    assert [q for q, _, _ in config.table()] == shown
    rules = {row.quantity: row.rule for row in RULES}
    assert all(rule.startswith(rules[q]) for q, rule, _ in config.table())


@given(roll=rolls)
def test_open_rules_get_documented_defaults_and_say_so(roll):
    config = lab_config(roll)
    a, b = int(roll[-1]), int(roll[-2])
    assert config.activation == ("relu" if a % 2 == 0 else DEFAULT_ODD_ACTIVATION)
    assert config.activation_assumed == (a % 2 == 1)
    assert config.added_layers == (3 if b % 3 == 1 else DEFAULT_ADDED_LAYERS)
    assert config.added_layers_assumed == (b % 3 != 1)
    assumed = [q for q, rule, _ in config.table() if "[assumed default]" in rule]
    expected = (["activation"] if a % 2 else []) + (["structural break"] if b % 3 != 1 else [])
    assert assumed == expected
    assert len(config.assumptions) == len(expected)


def test_overrides_replace_rules_and_are_not_assumptions():
    config = lab_config("102303151", activation="sigmoid", added_layers=5)
    assert config.activation == "sigmoid" and config.added_layers == 5
    assert config.assumptions == []
    assert "(overridden)" in dict((q, r) for q, r, _ in config.table())["activation"]


def test_example_roll_table_matches_lab_spec():
    values = {q: v for q, _, v in lab_config("102303346").table()}
    assert values["hidden width"] == 12 and values["hidden layers"] == 5
    assert values["learning rate"] == 0.008 and values["activation"] == "relu"
    assert values["structural break"] == 3
    assert values["dense parameters"] == 32436 and values["conv parameters"] == 238
    assert values["output size"] == "30"


def test_spec_table_prints_every_rule():
    text = lab_config("102303346").format_table()
    assert text.splitlines()[0].startswith("roll number 102303346")
    assert len(text.splitlines()) == 2 + 1 + len(lab_config("102303346").table())


@pytest.mark.parametrize("bad", ["12", "", "abc", "12a34", "1 234", "-123", "١٢٣", None, 1.5, True])
def test_bad_roll_numbers_say_what_a_roll_number_must_look_like(bad):
    with pytest.raises(RollNumberError, match="at least three decimal digits"):
        parse_roll(bad)


def test_bad_overrides_are_errors():
    with pytest.raises(ValueError, match="unknown activation"):
        lab_config("123", activation="swish")
    with pytest.raises(ValueError, match="added layers"):
        lab_config("123", added_layers=-1)


def test_spec_shows_every_rule_in_jupyter():
    config = lab_config("102303346")
    rows = [line for line in config._repr_markdown_().splitlines() if line.startswith("|")][2:]
    assert len(rows) == len(config.table())
    assert rows[0] == "| hidden width | 6 + a | 12 |"
