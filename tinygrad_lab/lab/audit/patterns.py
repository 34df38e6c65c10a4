"""The tables the extraction applies to every line of a submission: `PATTERNS` (one row a way
a figure is written), `MARKERS` (prose that says which run or Part B section follows), `CLAIMS`
(what the prose asserts). Add a row to read a new way of writing a figure.

A row of `PATTERNS` is one of:

- a *label* (``GRI``, ``Loss Epoch 1``, ``Dense parameters``) then ``:``, ``=`` or ``|``: its
  value is the number that ends the statement. A statement runs on over following lines that
  start with ``=``, and, after a bare label such as ``Conv parameters:``, over the next formula
  line. Of the numbers at its start or right after a spaced ``=``, the last one that no
  operator follows is the value: ``Hidden width = 6 + a = 12`` gives 12, ``(GRI = 1.22=18)``
  gives 1.22, and ``4 + (b mod 3)`` gives nothing;
- a *match*: a regex whose group ``value`` is the value (``three additional hidden layers``);
- an *assignment* in code, ``hidden_width = 6 + a``, evaluated by a safe evaluator (numbers,
  ``+ - * / // % **``, names ``a``, ``b``, ``c`` from the roll, names assigned a number before).
  A cell that prints these variables (``print(hidden_width, lr)``, or a last line
  ``dense_params``) makes its output tell their printed values too.

Which run a figure belongs to: a run named in its line (``Run2``, ``GRI (run 1)``); otherwise a
guess (`extract` says how) that the seed search checks against every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CLAIM_KINDS = ("no_vanishing", "no_exploding", "gri_decreased", "gri_increased", "no_divergence")

# --- value syntaxes ---------------------------------------------------------------------------
NUMBER = r"[-−+]?(?:\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf)"
NAME = r"\b(?:leaky[ _-]?relu|relu|sigmoid|tanh|identity|linear|softplus|gelu|selu|elu|swish)\b"
COUNT = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten"
WORDS = {w: i for i, w in enumerate(COUNT.split("|")[1:], 1)}
# A number ends a statement unless an operator follows it ("6 + a", "0.002 × (c + 1)").
_FINAL = r"(?![\w.]|\s*(?:[-+*/×÷^%·(]|x\s*[\d(]))"
# The r of U(-r, r): "[-1/7, +1/7]", "±1/7", "U(-0.14, 0.14)", or a bare "1/7".
RANGE = r"(?:U(?:niform)?\s*)?(?:[\[(]\s*[-−]\s*|±\s*)?(?P<v>\d+\s*/\s*\d+|\d+(?:\.\d+)?)"
VALUES = {
    "number": re.compile(rf"(?P<v>{NUMBER}){_FINAL}"),
    "range": re.compile(rf"{RANGE}{_FINAL}"),
    "name": re.compile(rf"(?P<v>{NAME})", re.I),
    "digits": re.compile(r"(?P<v>\d{4,})(?!\w)"),
}

# --- the table of patterns ------------------------------------------------------------------
# a label that begins the line or a clause (after bullets, list numbers, bold)
START = r"(?:^|[,;|])[\s>*#+-]*(?:\d+[.)]\s+)?[*_`]*"
SEP = r"[\s*_`]*[:=|][\s*_`]*"
_LOSS = "run{run}.loss.{epoch}"
PROSE = frozenset({"text", "output"})
CODE = frozenset({"code"})


@dataclass(frozen=True)
class Pattern:
    """One row: ``quantity`` (may hold ``{run}``, ``{epoch}``, ``{part}``), where it applies
    (``sources``), its ``regex``, how the value is read (``value``: number, range, name,
    digits, count, expr), and what it is: a label the value follows, or a match holding the
    value; ``header``: only under such a line in the same paragraph; ``body``: only if the
    indented lines under the match hold this; ``names``: the variables an assignment sets."""

    quantity: str
    regex: re.Pattern[str]
    value: str = "number"
    sources: frozenset[str] = PROSE
    is_label: bool = False
    header: re.Pattern[str] | None = None
    body: re.Pattern[str] | None = None
    names: re.Pattern[str] | None = None


# a short aside between a label and its value: "GRI (run 1) =", "Hidden width (6 + a) ="
_ASIDE = r"(?:\s*\([^()=:]{1,30}\))?"


def label(quantity: str, regex: str, value: str = "number") -> Pattern:
    return Pattern(quantity, re.compile(rf"(?:{regex}){_ASIDE}{SEP}", re.I), value, is_label=True)


def match(quantity: str, regex: str, value: str = "number", **kw: object) -> Pattern:
    return Pattern(quantity, re.compile(regex, re.I), value, **kw)


def assign(quantity: str, names: str, value: str = "expr") -> Pattern:
    rhs = {"expr": r"(?P<value>[^=#\s][^#]*?)", "name": rf"[\"']?(?P<value>{NAME})[\"']?"}
    rhs["digits"] = r"[\"']?(?P<value>\d{4,})[\"']?"
    regex = rf"^\s*(?:{names})\s*=\s*{rhs[value]}\s*(?:#.*)?$"
    return Pattern(quantity, re.compile(regex, re.I), value, CODE, names=re.compile(names, re.I))


PATTERNS: tuple[Pattern, ...] = (
    label("roll", START + r"roll[ _-]?(?:number|no\.?|num)?", "digits"),
    match("roll", r"\broll[ _-]?(?:number|no\.?)\s+(?P<value>\d{4,})\b", "digits"),
    assign("roll", r"roll(?:_?number|_?no)?", "digits"),
    label("hidden_width", START + r"hidden[ _](?:layer[ _])?(?:width|size|units)"),
    assign("hidden_width", r"hidden_width|width|hidden_size|hidden_units|n_hidden"),
    label("hidden_layers", START + r"(?:number of |num |no\.? of )?(?:hidden[ _]layers|depth)"),
    assign("hidden_layers", r"num_hidden_layers|hidden_layers|n_hidden_layers|num_layers|depth"),
    label("learning_rate", START + r"(?:learning[ _]rate|lr|η)"),
    assign("learning_rate", r"learning_rate|lr|eta"),
    label("activation", START + r"activation(?:[ _]function)?(?:[ _]name)?", "name"),
    match("activation", rf"\b(?:even|odd)\b\)?\s*(?:→|->|=>|⇒)\s*(?P<value>{NAME})", "name"),
    assign("activation", r"activation(?:_name|_fn)?|act(?:_name|_fn)?", "name"),
    label("init_range", START + r"(?:weight[ _])?init\w*(?:[ _](?:range|limit|bound))", "range"),
    label("init_range", START + r"weight[ _]init(?:iali[sz]ation)?", "range"),
    assign("init_range", r"init_range|init_limit|init_bound|weight_range|limit"),
    match(
        "added_layers",
        rf"\badd(?:ed|ing|s)?\s*\+?\s*(?P<value>{COUNT})\s+(?:hidden\s+)?layers?\b",
        "count",
    ),
    match(
        "added_layers",
        rf"\b(?P<value>{COUNT})\s+(?:additional|extra|more)\s+(?:hidden\s+)?layers?\b",
        "count",
    ),
    label("added_layers", START + r"(?:added|extra|additional) layers|layers added"),
    assign("added_layers", r"added_layers|extra_layers|n_added|num_added(?:_layers)?"),
    # the notebook's break: `for _ in range(3):` around `weights.insert(-1, W)`
    match(
        "added_layers",
        r"^\s*for\s+\w+\s+in\s+range\(\s*(?P<value>[^(),]+?)\s*\)\s*:",
        "expr",
        sources=CODE,
        body=re.compile(r"\.insert\("),
    ),
    label(
        "hidden_layers_after",
        START + r"(?:new (?:number of )?hidden[ _]layers|new depth|(?:hidden[ _]layers|depth) "
        r"after(?: the)? break)",
    ),
    assign("hidden_layers_after", r"hidden_layers_after|new_hidden_layers|new_depth"),
    label(_LOSS, r"\bloss\s*(?:at\s+|@\s*|after\s+)?epoch\s*#?\s*(?P<epoch>\d+)"),
    label(_LOSS, r"\bepoch\s*#?\s*(?P<epoch>\d+)\s*loss\b"),
    # a loss-history table: "256,257,1.679399" or "256    257  1.679399" under "Epoch Loss"
    match(
        _LOSS,
        rf"^[\s|]*(?:\d+[\s,|]+)?(?P<epoch>\d+)[\s,|]+(?P<value>{NUMBER})[\s|]*$",
        header=re.compile(r"\bepoch\b[\s,|]+loss\b", re.I),
    ),
    label(
        "run{run}.grad_first",
        r"\bgrad(?:ient)?[ _]?(?:norm[ _])?first\b|(?:‖|\|\|)\s*(?:∇\s*|d)?W[ _]?first\s*(?:‖|\|\|)"
        r"|\bgradient norm \((?:of )?(?:the )?first(?: hidden)? layer\)"
        r"|\bfirst[- ](?:hidden[- ])?layer gradient(?: norm)?(?: \(X\))?",
    ),
    assign("run{run}.grad_first", r"grad_first(?P<run>\d)?"),
    label(
        "run{run}.grad_last",
        r"\bgrad(?:ient)?[ _]?(?:norm[ _])?last\b|(?:‖|\|\|)\s*(?:∇\s*|d)?W[ _]?last\s*(?:‖|\|\|)"
        r"|\bgradient norm \((?:of )?(?:the )?last(?: hidden)? layer\)"
        r"|\blast[- ](?:hidden[- ])?layer gradient(?: norm)?(?: \(Y\))?",
    ),
    assign("run{run}.grad_last", r"grad_last(?P<run>\d)?"),
    label("run{run}.gri", r"\bGRI(?P<run>\d)?\b|\bgradient ratio index(?: \(GRI\))?"),
    assign("run{run}.gri", r"gri(?P<run>\d)?"),
    label("dense_params", r"\bdense(?:[ _]layer)?[ _]param(?:eter)?s(?:[ _]count)?"),
    label(
        "conv_params", r"\bconv(?:olution(?:al)?)?(?:[ _]layer)?[ _]param(?:eter)?s(?:[ _]count)?"
    ),
    # "Total parameters:" counts for the dense or the convolution section it is in
    label("{part}_params", START + r"(?:total )?(?:number of )?param(?:eter)?s(?: count)?"),
    assign("dense_params", r"dense_params|dense_parameters|dense_param_count|params_dense"),
    assign("conv_params", r"conv_params|conv_parameters|conv_param_count|params_conv"),
    label(
        "output_size", r"\b(?:conv(?:olution)?[ _])?output[ _](?:size|dim(?:ension)?)(?: formula)?"
    ),
    match("output_size", rf"\boutput[ _]size{SEP}(?P<value>\d+)\s*[×x]\s*(?P=value)\b"),
    assign("output_size", r"output_size|out_size|output_dim|conv_output_size"),
    label(
        "manual_conv",
        r"\b(?:final |manual )?cent(?:er|re)(?: convolution)? (?:output|value|result)"
        r"|\bmanual[ _]conv(?:olution)?(?:[ _](?:output|result|value))?",
    ),
    assign("manual_conv", r"manual_conv|result|conv_result|cent(?:er|re)_(?:value|output)"),
)


@dataclass(frozen=True)
class Marker:
    """Prose that says which run (or Part B section) the following lines are about."""

    key: str  # "run" or "part"
    value: str | None  # None: the regex's group "n"
    regex: re.Pattern[str]


MARKERS: tuple[Marker, ...] = (
    Marker("run", None, re.compile(r"\b(?:run|ejecuci[oó]n)\s*#?\s*(?P<n>[123])\b", re.I)),
    Marker("run", "1", re.compile(r"\bbaseline\b|\bfirst run\b", re.I)),
    Marker(
        "run", "2", re.compile(r"\bstructural break\b|\bafter the break\b|\bsecond run\b", re.I)
    ),
    Marker("run", "3", re.compile(r"\bthird run\b", re.I)),
    Marker("part", "dense", re.compile(r"\bdense\b", re.I)),
    Marker("part", "conv", re.compile(r"\bconv(?:olution(?:al)?)?\b", re.I)),
)
TRAINING_LOOP = re.compile(r"^for\s+\w*epoch\w*\s+in\b")  # in code, it starts the next run

_NOT = r"(?:did not|didn't|does not|doesn't|never|not)"
CLAIMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(regex, re.I))
    for kind, regex in (
        ("no_vanishing", rf"\bno (?:sign of )?vanishing\b|\bnot vanishing\b|\b{_NOT} vanish\b"),
        (
            "no_exploding",
            rf"\bno (?:vanishing (?:or|nor|and|/) )?exploding\b|\bno (?:\w+ (?:or|nor) )?"
            rf"explosion\b|\b{_NOT} explode\b",
        ),
        (
            "gri_decreased",
            r"\bGRI\b[\w\s]{0,25}?\b(?:decreased|reduced|dropped|fell|declined|shrank)\b"
            r"|\b(?:decrease|drop|reduction|fall) (?:in|of) (?:the )?GRI\b",
        ),
        (
            "gri_increased",
            r"\bGRI\b[\w\s]{0,25}?\b(?:increased|rose|grew)\b|\b(?:increase|rise) (?:in|of) "
            r"(?:the )?GRI\b",
        ),
        (
            "no_divergence",
            rf"\bno divergence\b|\b{_NOT} diverge\b|\bwithout (?:\w+ (?:or|and) )?divergence\b",
        ),
    )
)
