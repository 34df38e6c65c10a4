"""The lab's roll-number rules (lab-spec §1 and §3) as one table, and `LabRun`, the description
of one run that every part of the lab shares.

Each row of `RULES` holds a quantity, its rule as the spec writes it, and how its value is
computed, so the text and the value cannot drift apart; `lab_config` builds the `LabConfig`
from the rows.

Two rules are left open by the course documents; they get documented defaults here, which a
caller can override, and the configuration remembers whether a default was assumed:

- activation when ``a`` is odd: default **ReLU** (the documents define only "ReLU when a is
  even"); override with ``activation=``;
- layers added at the structural break when ``b mod 3`` is 0 or 2: default **3** (the documents
  define only "b mod 3 = 1 → add 3"); override with ``added_layers=``.

Both defaults are what the course notebook's code does for every roll number: it hard-codes
``activation_name = "relu"`` and ``for _ in range(3)`` at the break. So with the defaults, a run
reproduces the notebook's code for any roll, and the reports still say a default was assumed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral
from types import SimpleNamespace

from tinygrad_lab.display import cell
from tinygrad_lab.nn import get_activation
from tinygrad_lab.ops import conv_output_size

EXAMPLE_ROLL = "102303346"
DEFAULT_ODD_ACTIVATION = "relu"  # the notebook's code uses ReLU whatever a is
DEFAULT_ADDED_LAYERS = 3  # the notebook's code adds 3 whatever b is
EPOCHS = 400  # epochs a run (lab-spec §2)
# The notebook seeds with np.random.seed(np.random.randint(0, 1000)): every run of it as written
# is one of these seeds (both ends included).
NOTEBOOK_SEEDS = (0, 999)
# Every epoch's loss is kept (the lab's loss-history tables), so the epochs are bounded: at
# this maximum the two histories of a run hold 200,000 floats (a few MB), and a sweep of 50
# seeds keeps a few hundred MB in all.
MAX_EPOCHS = 100_000
ROLL_RULE = "a roll number is a string of at least three decimal digits, e.g. 102303346"


class RollNumberError(ValueError):
    """A roll number that is not a string of at least three decimal digits."""


def parse_roll(roll: object) -> str:
    """The roll number as a string of digits, or `RollNumberError` saying what it must be."""
    if isinstance(roll, bool) or not isinstance(roll, str | int):
        raise RollNumberError(f"bad roll number {roll!r}: {ROLL_RULE}")
    text = str(roll).strip()
    if not re.fullmatch(r"[0-9]{3,}", text):
        raise RollNumberError(f"bad roll number {str(roll)!r}: {ROLL_RULE}")
    return text


def record_epochs(epochs: int) -> list[int]:
    """The epochs whose loss the lab reports: 1, 100 and the last (those that exist)."""
    return sorted({e for e in (1, 100, epochs) if 1 <= e <= epochs})


# ------------------------------------------------------------------------------ the table
Values = SimpleNamespace  # the digits a, b, c, then each row's value under its field's name


@dataclass(frozen=True)
class RuleRow:
    """A rule: its quantity, its text, and its value computed from the digits and the rows
    above. ``quantity`` None: a rule other rules use that the spec's table does not show."""

    quantity: str | None
    rule: str
    value: Callable[[Values], object]
    field: str | None = None  # the LabConfig field the value sets
    shown: Callable[[Values], object] | None = None  # the table's value, when not ``value``


@dataclass(frozen=True)
class OpenRuleRow:
    """A rule the documents define for some rolls only: the override when one is given, else
    the rule's value, else the documented default (recorded as assumed)."""

    quantity: str
    rule: str
    ruled: Callable[[Values], object | None]  # None where the documents leave the rule open
    open_case: Callable[[Values], str]  # which case is open, e.g. "a is odd"
    default: object
    field: str


class NonIntegerOutputSize(ValueError):
    """``(N − F + 2P) / S`` is not a whole number: the filter does not tile the input."""


def course_output_size(n: int, f: int, s: int, p: int) -> int:
    """The output-size question's answer, ``((N − F + 2P) / S) + 1``. The lab's rule (lab-spec
    §3) is that it must be a whole number: a remainder is a `NonIntegerOutputSize` naming N, F,
    S and P. The rule is the lab's own: the framework's layers floor, as PyTorch does."""
    if (n - f + 2 * p) % s:
        raise NonIntegerOutputSize(
            f"output size: (N − F + 2P) / S = ({n} − {f} + 2·{p}) / {s} = {n - f + 2 * p}/{s} "
            f"is not a whole number: with N={n}, F={f}, S={s}, P={p} the filter does not tile "
            "the input"
        )
    return conv_output_size(n, f, s, p)


def _output_size(v: Values) -> int | None:
    try:
        return course_output_size(
            v.image_side, v.output_filter_size, v.output_stride, v.output_padding
        )
    except NonIntegerOutputSize:
        return None


def _output_size_shown(v: Values) -> str:
    if v.output_size is not None:
        return str(v.output_size)
    n, f, s, p = v.image_side, v.output_filter_size, v.output_stride, v.output_padding
    # course_output_size gives whole sizes only; the real quotient is shown to say how far off
    return f"not an integer: ({n} − {f} + 2·{p}) / {s} + 1 = {(n - f + 2 * p) / s + 1:g}"


RULES: tuple[RuleRow | OpenRuleRow, ...] = (
    RuleRow("hidden width", "6 + a", lambda v: 6 + v.a, "hidden_width"),
    RuleRow("hidden layers", "4 + (b mod 3)", lambda v: 4 + v.b % 3, "hidden_layers"),
    RuleRow("learning rate", "0.002 × (c + 1)", lambda v: 0.002 * (v.c + 1), "learning_rate"),
    OpenRuleRow(
        "activation",
        "ReLU when a is even",
        lambda v: "relu" if v.a % 2 == 0 else None,
        lambda v: "a is odd",
        DEFAULT_ODD_ACTIVATION,
        "activation",
    ),
    RuleRow(
        "weight init",
        "Uniform[−1/(a+1), +1/(a+1)]",
        lambda v: 1 / (v.a + 1),
        "init_range",
        shown=lambda v: f"±1/{v.a + 1} (±{v.init_range:.6g})",
    ),
    RuleRow("bias init", "0", lambda v: 0),
    OpenRuleRow(
        "structural break",
        "b mod 3 = 1 → add 3 hidden layers",
        lambda v: 3 if v.b % 3 == 1 else None,
        lambda v: f"b mod 3 = {v.b % 3}",
        DEFAULT_ADDED_LAYERS,
        "added_layers",
    ),
    RuleRow("image side N", "24 + a", lambda v: 24 + v.a, "image_side"),
    RuleRow("dense hidden neurons", "32 + b", lambda v: 32 + v.b, "dense_neurons"),
    RuleRow(
        "dense parameters",
        "N²·neurons + neurons",
        lambda v: v.image_side**2 * v.dense_neurons + v.dense_neurons,
    ),
    RuleRow("conv filter size F", "3 + (c mod 2)", lambda v: 3 + v.c % 2, "conv_filter_size"),
    RuleRow("conv filters K", "8 + a", lambda v: 8 + v.a, "conv_filters"),
    RuleRow(
        "conv parameters",
        "F²·K + K (1 input channel)",
        lambda v: v.conv_filter_size**2 * v.conv_filters + v.conv_filters,
    ),
    # the output-size question's own F, S and P (its F is 3, not the conv filter size)
    RuleRow(None, "F = 3", lambda v: 3, "output_filter_size"),
    RuleRow(None, "S = 1 + (b mod 2)", lambda v: 1 + v.b % 2, "output_stride"),
    RuleRow(None, "P = c mod 2", lambda v: v.c % 2, "output_padding"),
    RuleRow(
        "output size",
        "((N − F + 2P) / S) + 1, F = 3, S = 1 + (b mod 2), P = c mod 2",
        _output_size,
        "output_size",
        shown=_output_size_shown,
    ),
)


@dataclass(frozen=True)
class Rule:
    """A row of the spec's table, evaluated for one roll."""

    quantity: str
    rule: str
    value: object
    assumed: bool = False  # True when a documented default filled a rule the documents leave open
    overridden: bool = False  # True when the caller's override replaced the rule's value
    without_override: object = None  # the rule's value (or the default) an override replaced
    left_open: bool = False  # the documents define no value for this roll: a default fills it
    computed: object = None  # the value as computed, when ``value`` is its display text
    displayed: bool = False  # ``value`` is display text for ``computed``


def _evaluate(row: RuleRow | OpenRuleRow, v: Values, override: object) -> Rule:
    """Evaluate ``row`` for the digits in ``v``, record its value there, return its table row."""
    if isinstance(row, RuleRow):
        value = row.value(v)
        if row.field is not None:
            setattr(v, row.field, value)
        if row.shown is None:
            return Rule(row.quantity or "", row.rule, value)
        return Rule(row.quantity or "", row.rule, row.shown(v), computed=value, displayed=True)
    ruled = row.ruled(v)
    by_rule = ruled if ruled is not None else row.default
    value = override if override is not None else by_rule
    setattr(v, row.field, value)
    text = row.rule + ("" if ruled is not None else f"; {row.open_case(v)}: not defined")
    text += " (overridden)" if override is not None else ""
    open_ = ruled is None
    if override is not None:
        return Rule(row.quantity, text, value, False, True, by_rule, left_open=open_)
    return Rule(row.quantity, text, value, assumed=open_, left_open=open_)


# The LabConfig fields that set up Part A's network and its training (the others: the digits,
# Part B, and what was assumed), in the order every report lists them.
NETWORK_FIELDS = (
    "hidden_width",
    "hidden_layers",
    "learning_rate",
    "activation",
    "init_range",
    "added_layers",
)


@dataclass(frozen=True)
class LabConfig:
    """Every figure the roll number fixes, from `RULES`. Build it with `lab_config`."""

    roll: str
    a: int
    b: int
    c: int
    hidden_width: int
    hidden_layers: int
    learning_rate: float
    activation: str
    init_range: float
    added_layers: int
    activation_assumed: bool
    added_layers_assumed: bool
    # Part B
    image_side: int
    dense_neurons: int
    conv_filter_size: int
    conv_filters: int
    output_filter_size: int
    output_stride: int
    output_padding: int
    output_size: int | None  # None when the formula does not give a whole number
    # Part A data and training (lab-spec §2); a LabRun may train other epochs
    n_samples: int = 400
    epochs: int = EPOCHS
    rules: tuple[Rule, ...] = field(default=(), compare=False, repr=False)

    def network(self) -> dict[str, object]:
        """Part A's network and training settings (`NETWORK_FIELDS`), by name."""
        return {name: getattr(self, name) for name in NETWORK_FIELDS}

    @property
    def layer_sizes(self) -> list[int]:
        """Run 1's layer widths: 3 → width × layers → 1."""
        return [3] + [self.hidden_width] * self.hidden_layers + [1]

    @property
    def assumptions(self) -> list[str]:
        """Sentences naming each default assumed for a rule the documents leave open."""
        return [
            f"{r.quantity}: {r.rule} (assumed default: {r.value})" for r in self.rules if r.assumed
        ]

    @property
    def overrides(self) -> list[str]:
        """Sentences naming each rule the caller overrode, with what the rule gives."""
        return [
            f"{r.quantity}: {r.value} by override (the "
            f"{'assumed default' if r.left_open else 'rule'} gives {r.without_override})"
            for r in self.rules
            if r.overridden
        ]

    def rule(self, quantity: str) -> Rule:
        """The evaluated rule of ``quantity`` (e.g. ``"activation"``)."""
        return next(r for r in self.rules if r.quantity == quantity)

    def table(self) -> list[tuple[str, str, object]]:
        """``(quantity, rule, value)`` rows, lab-spec §1 then §3."""
        return [
            (r.quantity, r.rule + (" [assumed default]" if r.assumed else ""), r.value)
            for r in self.rules
        ]

    def format_table(self) -> str:
        # the spec command's own layout (" | " columns), kept as users know it
        rows = [("quantity", "rule", "value")] + [(q, r, cell(v, 6)) for q, r, v in self.table()]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [
            " | ".join(text.ljust(w) for text, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return f"roll number {self.roll}: a={self.a}, b={self.b}, c={self.c}\n" + "\n".join(lines)

    def _repr_markdown_(self) -> str:
        from tinygrad_lab.display import markdown_table

        rows = [(q, r, cell(v, 6)) for q, r, v in self.table()]
        return (
            f"**roll number {self.roll}**: a={self.a}, b={self.b}, c={self.c}\n\n"
            + markdown_table(["quantity", "rule", "value"], rows)
        )


def lab_config(
    roll: object, activation: str | None = None, added_layers: int | None = None
) -> LabConfig:
    """The configuration of roll number ``roll``; ``activation`` and ``added_layers`` override
    the rules (or the documented defaults where the documents leave a rule open)."""
    roll = parse_roll(roll)
    if activation is not None:
        get_activation(activation)  # a ValueError naming the known ones
    if added_layers is not None and (int(added_layers) != added_layers or added_layers < 0):
        raise ValueError(f"added layers must be a whole number >= 0, got {added_layers}")
    overrides = {
        "activation": activation,
        "added_layers": None if added_layers is None else int(added_layers),
    }
    v = Values(a=int(roll[-1]), b=int(roll[-2]), c=int(roll[-3]))
    rules, assumed = [], {}
    for row in RULES:
        rule = _evaluate(row, v, overrides.get(row.field or ""))
        if row.quantity is not None:
            rules.append(rule)
        if isinstance(row, OpenRuleRow):
            assumed[f"{row.field}_assumed"] = rule.assumed
    fields = {row.field: getattr(v, row.field) for row in RULES if row.field}
    return LabConfig(roll=roll, a=v.a, b=v.b, c=v.c, **fields, **assumed, rules=tuple(rules))


@dataclass(frozen=True)
class LabRun:
    """One run of the lab: a roll's configuration (overrides applied), the seed and the epochs
    a run. Compute, check, sweeps and the command line all take it; it pickles, so process
    pools and Dask can run it."""

    config: LabConfig
    seed: int = 0
    epochs: int = EPOCHS

    def __post_init__(self) -> None:
        if (
            isinstance(self.epochs, bool)
            or not isinstance(self.epochs, Integral)
            or self.epochs < 1
        ):
            raise ValueError(f"epochs must be a positive whole number, got {self.epochs}")
        if self.epochs > MAX_EPOCHS:
            raise ValueError(
                f"epochs must be at most {MAX_EPOCHS:,} (every epoch's loss is kept), got "
                f"{self.epochs:,}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, Integral) or self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed}")

    @classmethod
    def from_roll(
        cls,
        roll: object,
        seed: int = 0,
        epochs: int | None = None,
        activation: str | None = None,
        added_layers: int | None = None,
    ) -> LabRun:
        """The run of roll number ``roll`` (see `lab_config` for the overrides)."""
        config = lab_config(roll, activation=activation, added_layers=added_layers)
        return cls(config, seed, config.epochs if epochs is None else epochs)

    @property
    def roll(self) -> str:
        return self.config.roll

    @property
    def reported_epochs(self) -> list[int]:
        """1, 100 and the last epoch, those this run has."""
        return record_epochs(self.epochs)
