"""The lab's roll-number rules (lab-spec §1 and §3) as one configuration object.

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
from dataclasses import dataclass, field
from fractions import Fraction

from tinygrad_lab.nn import get_activation

EXAMPLE_ROLL = "102303346"
DEFAULT_ODD_ACTIVATION = "relu"  # the notebook's code uses ReLU whatever a is
DEFAULT_ADDED_LAYERS = 3  # the notebook's code adds 3 whatever b is
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


@dataclass(frozen=True)
class Rule:
    quantity: str
    rule: str
    value: object
    assumed: bool = False  # True when a documented default filled a rule the documents leave open


@dataclass(frozen=True)
class LabConfig:
    """Every figure the roll number fixes. Build it with `lab_config`."""

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
    # Part A data and training
    n_samples: int = 400
    epochs: int = 400
    # Part B
    image_side: int = 0
    dense_neurons: int = 0
    conv_filter_size: int = 0
    conv_filters: int = 0
    output_filter_size: int = 3
    output_stride: int = 1
    output_padding: int = 0
    rules: tuple[Rule, ...] = field(default=(), compare=False, repr=False)

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

    def table(self) -> list[tuple[str, str, object]]:
        """``(quantity, rule, value)`` rows, lab-spec §1 then §3."""
        return [
            (r.quantity, r.rule + (" [assumed default]" if r.assumed else ""), r.value)
            for r in self.rules
        ]

    def format_table(self) -> str:
        rows = [("quantity", "rule", "value")] + [(q, r, _fmt(v)) for q, r, v in self.table()]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [
            " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return f"roll number {self.roll}: a={self.a}, b={self.b}, c={self.c}\n" + "\n".join(lines)

    def _repr_markdown_(self) -> str:
        from tinygrad_lab.display import markdown_table

        rows = [(q, r, _fmt(v)) for q, r, v in self.table()]
        return (
            f"**roll number {self.roll}**: a={self.a}, b={self.b}, c={self.c}\n\n"
            + markdown_table(["quantity", "rule", "value"], rows)
        )


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def output_size_fraction(config: LabConfig) -> Fraction:
    """``(N - F + 2P) / S + 1`` exactly, for Part B's output-size question."""
    n, f, s, p = (
        config.image_side,
        config.output_filter_size,
        config.output_stride,
        config.output_padding,
    )
    return Fraction(n - f + 2 * p, s) + 1


def lab_config(
    roll: object, activation: str | None = None, added_layers: int | None = None
) -> LabConfig:
    """The configuration of roll number ``roll``; ``activation`` and ``added_layers`` override
    the rules (or the documented defaults where the documents leave a rule open)."""
    roll = parse_roll(roll)
    a, b, c = int(roll[-1]), int(roll[-2]), int(roll[-3])
    if activation is not None:
        get_activation(activation)  # a ValueError naming the known ones
    if added_layers is not None and (int(added_layers) != added_layers or added_layers < 0):
        raise ValueError(f"added layers must be a whole number >= 0, got {added_layers}")
    ruled_activation = "relu" if a % 2 == 0 else None
    ruled_added = 3 if b % 3 == 1 else None
    act = activation or ruled_activation or DEFAULT_ODD_ACTIVATION
    act_assumed = activation is None and ruled_activation is None
    added = (
        int(added_layers)
        if added_layers is not None
        else (ruled_added if ruled_added is not None else DEFAULT_ADDED_LAYERS)
    )
    added_assumed = added_layers is None and ruled_added is None
    width, layers = 6 + a, 4 + (b % 3)
    lr, r = 0.002 * (c + 1), 1 / (a + 1)
    n, neurons, f, k = 24 + a, 32 + b, 3 + (c % 2), 8 + a
    stride, padding = 1 + (b % 2), c % 2

    act_rule = "ReLU when a is even" + ("" if a % 2 == 0 else "; a is odd: not defined")
    added_rule = "b mod 3 = 1 → add 3 hidden layers" + (
        "" if b % 3 == 1 else f"; b mod 3 = {b % 3}: not defined"
    )
    if activation is not None:
        act_rule += " (overridden)"
    if added_layers is not None:
        added_rule += " (overridden)"
    rules = (
        Rule("hidden width", "6 + a", width),
        Rule("hidden layers", "4 + (b mod 3)", layers),
        Rule("learning rate", "0.002 × (c + 1)", lr),
        Rule("activation", act_rule, act, act_assumed),
        Rule("weight init", "Uniform[−1/(a+1), +1/(a+1)]", f"±1/{a + 1} (±{r:.6g})"),
        Rule("bias init", "0", 0),
        Rule("structural break", added_rule, added, added_assumed),
        Rule("image side N", "24 + a", n),
        Rule("dense hidden neurons", "32 + b", neurons),
        Rule("dense parameters", "N²·neurons + neurons", n * n * neurons + neurons),
        Rule("conv filter size F", "3 + (c mod 2)", f),
        Rule("conv filters K", "8 + a", k),
        Rule("conv parameters", "F²·K + K (1 input channel)", f * f * k + k),
        Rule(
            "output size",
            "((N − F + 2P) / S) + 1, F = 3, S = 1 + (b mod 2), P = c mod 2",
            _output_size_text(n, 3, stride, padding),
        ),
    )
    return LabConfig(
        roll=roll,
        a=a,
        b=b,
        c=c,
        hidden_width=width,
        hidden_layers=layers,
        learning_rate=lr,
        activation=act,
        init_range=r,
        added_layers=added,
        activation_assumed=act_assumed,
        added_layers_assumed=added_assumed,
        image_side=n,
        dense_neurons=neurons,
        conv_filter_size=f,
        conv_filters=k,
        output_stride=stride,
        output_padding=padding,
        rules=rules,
    )


def _output_size_text(n: int, f: int, s: int, p: int) -> str:
    size = Fraction(n - f + 2 * p, s) + 1
    if size.denominator != 1:
        return f"not an integer: ({n} − {f} + 2·{p}) / {s} + 1 = {float(size):g}"
    return str(size.numerator)
