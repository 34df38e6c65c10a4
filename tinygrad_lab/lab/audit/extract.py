"""Every figure one submission file reports, each with its file and line; nothing guessed.

A file (.ipynb, a notebook exported to .txt, markdown, .py) is first flattened into lines
(`lines.read_lines`), each ``"text"`` (prose), ``"code"`` or ``"output"`` (printed by code). Then
one table, `patterns.PATTERNS`, is applied to every line, and one more, `patterns.CLAIMS`, to
the prose; `patterns` says how a row reads its value.

Which run a figure belongs to: a run named in its line (``Run2``, ``baseline``, ``GRI (run 1)``);
otherwise it is a guess (the last run named in prose, `MARKERS`, or started by a training loop
``for epoch in …``, the n-th loop starting run n; before any of these, run 1), and the figure
keeps the other runs as `Mention.alternatives`, which the seed search compares it with too. A
document that reports a loss at epoch 0 counts from 0: each loss may be the next epoch's too.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tinygrad_lab.lab.audit.lines import (
    DISPLAY_WRAPPER,
    ExtractionError,
    Line,
    parse_code,
    print_calls,
    read_lines,
)
from tinygrad_lab.lab.audit.patterns import (
    CLAIM_KINDS,
    CLAIMS,
    MARKERS,
    PATTERNS,
    TRAINING_LOOP,
    VALUES,
    WORDS,
    Pattern,
)

__all__ = [
    "CLAIM_KINDS",
    "QUANTITIES",
    "SUFFIXES",
    "Claim",
    "Document",
    "ExtractionError",
    "Mention",
    "Unparsed",
    "decimals_of",
    "most_precise",
    "read_document",
    "safe_eval",
]

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
_PRINTED = {"output", "warning"}  # what running a cell leaves
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


# --- reading values --------------------------------------------------------------------------
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def safe_eval(expr: str, names: dict[str, float]) -> float | None:
    """The value of an arithmetic expression over numbers and ``names``, or None for anything
    else (calls, attributes, unknown names, a division by zero); never runs code."""

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](value(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
                raise ValueError("too large a power")  # 9**9**9 would hang
            return _BINARY[type(node.op)](left, right)
        raise ValueError(f"not arithmetic: {ast.dump(node)[:40]}")

    tree = parse_code(expr.strip())
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    try:
        return float(value(tree.body[0].value))
    except (ValueError, ArithmeticError, TypeError):  # TypeError: a complex result
        return None


def decimals_of(text: str) -> int | None:
    """Digits after the point as printed, less the exponent ("1.5464e-03" -> 7); None for
    nan and inf."""
    m = re.fullmatch(r"[-−+]?\d*(?:\.(\d+))?(?:[eE]([-+]?\d+))?", text)
    return None if m is None else len(m[1] or "") - int(m[2] or 0)


def _read(kind: str, text: str, names: dict[str, float]) -> tuple[float | str, int | None] | None:
    if kind == "expr":
        value = safe_eval(text, names)
        return None if value is None else (value, None)
    if kind == "name":
        name = re.sub(r"[ -]", "_", text.lower()).replace("leakyrelu", "leaky_relu")
        return ("identity" if name == "linear" else name), None
    if kind == "digits":
        return text, None
    if kind == "count" and text.lower() in WORDS:
        return float(WORDS[text.lower()]), None
    if "/" in text:  # a fraction, exact
        numerator, denominator = (float(part) for part in text.split("/"))
        return (numerator / denominator, None) if denominator else None
    return float(text.replace("−", "-")), decimals_of(text)


def _math(text: str) -> bool:
    """A formula line: digits, and no word longer than a letter (but ``mod``)."""
    return bool(re.search(r"\d", text)) and not re.search(r"[A-Za-z]{2,}", text.replace("mod", ""))


def _labelled(lines: list[Line], i: int, m: re.Match[str], kind: str) -> tuple | None:
    """The value a label gives (the rule is in the module's docstring): (line index, column,
    text), or None."""
    segments = [(i, m.end())]
    bare = not lines[i].text[m.end() :].strip()
    for j in range(i + 1, len(lines)):
        line = lines[j]
        if (line.source, line.block) != (lines[i].source, lines[i].block):
            break
        text = line.text.strip()
        if not text:
            continue
        if not (text.startswith("=") or (bare and _math(text))):
            break
        segments.append((j, 0))
        bare = False
    found = None
    for j, start in segments:
        # a clause ends the statement: "; ", " | ", ", Word"
        text = re.split(r"[;|]|,\s+(?=[A-Za-z]{2})", lines[j].text[start:])[0]
        offsets = [len(text) - len(text.lstrip())]
        offsets += [e.end() for e in re.finditer(r"(?:^|(?<=\s))=\s*", text)]
        for offset in offsets:
            value = VALUES[kind].match(text, offset)
            if value:
                found = (j, start + value.start("v"), value["v"])
    return found


def _body(lines: list[Line], i: int) -> str:
    """The code indented under line ``i``."""
    indent, body = len(lines[i].text) - len(lines[i].text.lstrip()), []
    for line in lines[i + 1 :]:
        if line.block != lines[i].block or line.source != "code":
            break
        if line.text.strip():
            if len(line.text) - len(line.text.lstrip()) <= indent:
                break
            body.append(line.text)
    return "\n".join(body)


_ASSIGNMENT = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<expr>[^=#\s][^#]*?)\s*(?:#.*)?$")
# several names at once: `a, b, c = 1, 5, 3` (or in brackets)
_NAMES = r"[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)+"
_TUPLE_ASSIGNMENT = re.compile(
    rf"^\s*(?:\(\s*(?P<bracketed>{_NAMES})\s*,?\s*\)|(?P<names>{_NAMES})\s*,?)\s*=\s*"
    r"(?P<expr>[^=#\s][^#]*?)\s*(?:#.*)?$"
)


def assignments(text: str, names: dict[str, float]) -> list[tuple[str, float | None]]:
    """Each name a code line assigns with its value, None where that is not arithmetic over
    ``names`` (`safe_eval`): ``x = 6 + a``, ``a, b, c = 1, 5, 3``; none for other lines."""
    single = _ASSIGNMENT.match(text)
    if single:
        return [(single["name"], safe_eval(single["expr"], names))]
    several = _TUPLE_ASSIGNMENT.match(text)
    if not several:
        return []
    targets = re.split(r"\s*,\s*", several["names"] or several["bracketed"])
    tree = parse_code(several["expr"])
    value = tree.body[0].value if tree and len(tree.body) == 1 else None
    elements = value.elts if isinstance(value, ast.Tuple | ast.List) else []
    if len(elements) != len(targets):  # `a, b, c = map(int, …)`: no value known
        return [(name, None) for name in targets]
    return [(n, safe_eval(ast.unparse(e), names)) for n, e in zip(targets, elements, strict=True)]


_CODE_ROWS = tuple(p for p in PATTERNS if p.names is not None)


def _is_print(statement: ast.stmt) -> bool:
    call = getattr(statement, "value", None)
    return isinstance(call, ast.Call) and getattr(call.func, "id", "") == "print"


def _echoes(code: str, outputs: list[Line]) -> list[tuple[Line, str, ast.expr]]:
    """What a cell prints of its variables, as (output line, printed text, printed node): its
    output lines are taken one per top-level print, then one for a displayed last expression,
    and only when the cell has exactly that many (so no print is in a loop)."""
    tree = parse_code(code)
    if tree is None or not tree.body:
        return []
    prints = [s.value for s in tree.body if _is_print(s)]
    shown = isinstance(tree.body[-1], ast.Expr) and not _is_print(tree.body[-1])
    printed = [line for line in outputs if line.text.strip()]
    if len(prints) != len(print_calls(code)) or len(printed) != len(prints) + shown:
        return []
    shows = [
        (line, call.args, line.text.split()) for call, line in zip(prints, printed, strict=False)
    ]
    if shown:
        text = DISPLAY_WRAPPER.sub(r"\1", printed[-1].text.strip()).strip("'\"")
        shows.append((printed[-1], [tree.body[-1].value], [text]))
    return [
        (line, text, node)
        for line, nodes, texts in shows
        if len(nodes) == len(texts)
        for node, text in zip(nodes, texts, strict=True)
    ]


# --- applying the tables ---------------------------------------------------------------------
def _markers(line: Line, key: str) -> list[tuple[int, str]]:
    """(position, value) of every marker of ``key`` in a prose or output line."""
    return sorted(
        (m.start(), marker.value or m["n"])
        for marker in MARKERS
        if marker.key == key
        for m in marker.regex.finditer(line.text)
    )


RUNS = ("1", "2", "3")


def _other_runs(quantity: str) -> tuple[str, ...]:
    """``run2.gri`` -> (``run1.gri``, ``run3.gri``): a figure whose run is a guess may be any."""
    run, _, rest = quantity.partition(".")
    return tuple(f"run{n}.{rest}" for n in RUNS if f"run{n}" != run)


_EPOCH = re.compile(r"(run\d\.loss\.)(\d+)")


def _from_zero(mentions: list[Mention]) -> list[Mention]:
    """A document that reports a loss at epoch 0 counts epochs from 0 (``range(400)``), in
    some places at least: each of its losses may be the next epoch's too (epoch 0 is 1)."""
    if not any(_EPOCH.fullmatch(m.quantity) and m.quantity.endswith(".0") for m in mentions):
        return mentions
    shifted = []
    for mention in mentions:
        if _EPOCH.fullmatch(mention.quantity):
            nxt = [_EPOCH.sub(lambda e: f"{e[1]}{int(e[2]) + 1}", k) for k in mention.keys]
            keys = [k for k in dict.fromkeys((*mention.keys, *nxt)) if k != mention.quantity]
            mention = dataclasses.replace(mention, alternatives=tuple(keys))
        shifted.append(mention)
    return shifted


class _Scan:
    """One pass over a file's lines: the sections it is in, the names code has assigned."""

    def __init__(self, lines: list[Line], path: Path, names: dict[str, float]) -> None:
        self.lines, self.path, self.names = lines, path, dict(names)
        self.blocks: dict[tuple[int, int], list[int]] = {}  # each block's line indices, once
        for k, line in enumerate(lines):
            self.blocks.setdefault(line.block, []).append(k)
        self.sticky = set(names)  # a, b, c from the roll: `a = int(roll[-1])` keeps them
        self.digits: dict[str, tuple[int, Line]] = {}  # a, b, c set by hand: value, first line
        self.section: dict[str, str | None] = {"run": "1", "part": None}
        self.runs_started = 0
        self.found: dict[tuple[str, int, int], Mention] = {}
        self.echoed: set[tuple[int, int]] = set()  # the cells whose output `echo` has read
        self.claims: list[Claim] = []
        self.unparsed: list[Unparsed] = []

    def add(self, row: Pattern, groups: dict, i: int, col: int, text: str, kind: str) -> None:
        line = self.lines[i]
        run = groups.get("run")
        if run is None and line.source != "code":
            hits = _markers(line, "run")
            before = [value for start, value in hits if start < col]
            run = before[-1] if before else next((v for s, v in hits if s > col), None)
        named = run is not None  # else its run is a guess: the last marker or training loop
        run = run or self.section["run"]
        if "{part}" in row.quantity and self.section["part"] is None:
            return
        parsed = _read(kind, text, self.names)
        if parsed is None:
            return
        epoch = groups.get("epoch")
        quantity = row.quantity.format(
            run=int(run), epoch=epoch and int(epoch), part=self.section["part"]
        )
        others = () if named or not quantity.startswith("run") else _other_runs(quantity)
        self.found.setdefault(
            (quantity, i, col),
            Mention(
                quantity, text, *parsed, self.path, line.line, line.cell, line.source,
                line.raw.strip(), others,
            ),
        )  # fmt: skip

    def row(self, row: Pattern, i: int, headers: set[int]) -> None:
        """``headers``: the rows whose header is in the paragraph above line ``i``."""
        line = self.lines[i]
        for m in row.regex.finditer(line.text):
            if row.header and id(row) not in headers:
                continue
            if row.body and not row.body.search(_body(self.lines, i)):
                continue
            if row.is_label:
                hit = _labelled(self.lines, i, m, row.value)
                if hit:
                    self.add(row, m.groupdict(), *hit, row.value)
                else:
                    self.not_a_number(row, m, i)
            else:
                self.add(row, m.groupdict(), i, m.start("value"), m["value"], row.value)

    def not_a_number(self, row: Pattern, m: re.Match[str], i: int) -> None:
        """A label followed by a single token with a digit in it that reads as no value."""
        line, rest = self.lines[i], self.lines[i].text[m.end() :].strip()
        if "{part}" in row.quantity or not re.fullmatch(r"[^\s]*\d[^\s]*", rest):
            return
        groups = m.groupdict()
        run, epoch = groups.get("run") or self.section["run"], groups.get("epoch")
        quantity = row.quantity.format(run=int(run), epoch=epoch and int(epoch))
        self.unparsed.append(
            Unparsed(quantity, rest, self.path, line.line, line.cell, line.raw.strip())
        )

    def echo(self, i: int) -> None:
        block = self.lines[i].block
        if block in self.echoed:
            return
        self.echoed.add(block)
        cell = [self.lines[k] for k in self.blocks[block]]
        code = "\n".join(line.raw for line in cell if line.source == "code")
        index = {id(self.lines[k]): k for k in self.blocks[block]}
        outputs = [line for line in cell if line.source == "output"]
        for line, text, node in _echoes(code, outputs):
            variable = getattr(node, "id", "")
            row = next((p for p in _CODE_ROWS if p.names.fullmatch(variable)), None)
            kind = "number" if row is None or row.value == "expr" else row.value
            if row and VALUES[kind].fullmatch(text):
                groups = row.names.fullmatch(variable).groupdict()
                self.add(row, groups, index[id(line)], line.text.find(text), text, kind)

    def code(self, line: Line) -> None:
        if TRAINING_LOOP.match(line.text):
            self.runs_started += 1
            self.section["run"] = str(self.runs_started)
        for name, value in assignments(line.text, self.names):
            if value is not None:
                self.names[name] = value
                if name in DIGIT_NAMES and value in range(10) and name not in self.digits:
                    self.digits[name] = int(value), line
            elif name not in self.sticky:
                self.names.pop(name, None)

    def prose(self, line: Line) -> None:
        for key in ("run", "part"):
            hits = _markers(line, key)
            if hits:
                self.section[key] = hits[-1][1]
        # a question is not a claim
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", line.text) if not s.endswith("?")]
        for kind, regex in CLAIMS:
            if any(regex.search(sentence) for sentence in sentences):
                self.claims.append(Claim(kind, self.path, line.line, line.cell, line.raw.strip()))

    def run(self, rows: tuple[Pattern, ...]) -> tuple[list[Mention], list[Claim]]:
        """The mentions in file order, and the claims; what would not parse is in
        ``self.unparsed``."""
        # the paragraph: the lines since a blank one, in this block and source; of it, only
        # which rows' headers it holds is kept (each line searched once, not once a row below)
        paragraph: tuple[tuple[int, int], str] | None = None
        headers: set[int] = set()
        with_header = [row for row in rows if row.header]
        for i, line in enumerate(self.lines):
            if not line.text.strip():
                paragraph = None
                continue
            here = (line.block, line.source)
            if paragraph != here:
                paragraph, headers = here, set()
            if line.source == "text":
                self.prose(line)
            for row in rows:
                if line.source in row.sources:
                    self.row(row, i, headers)
            if line.source == "output":
                self.echo(i)
            if line.source == "code":
                self.code(line)
            headers |= {id(row) for row in with_header if row.header.search(line.text)}
        order = sorted(self.found.items(), key=lambda item: item[0][1:])
        return [mention for _, mention in order], self.claims


def read_document(path: str | Path) -> Document:
    """Every figure and claim in one submission file (see the module's docstring)."""
    path = Path(path)
    form = SUFFIXES.get(path.suffix.lower())
    if form is None:
        supported = ", ".join(SUFFIXES)
        raise ExtractionError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; supported: {supported}"
        )
    lines = read_lines(path, form)
    rolls, _ = _Scan(lines, path, {}).run(tuple(p for p in PATTERNS if p.quantity == "roll"))
    roll = Document(path, form, tuple(rolls), ()).roll
    places = dict(zip(DIGIT_NAMES, (-1, -2, -3), strict=True))  # a, b, c: the last digits
    names = {k: float(roll[d]) for k, d in places.items()} if roll and len(roll) >= 3 else {}
    scan = _Scan(lines, path, names)
    mentions, claims = scan.run(PATTERNS)
    mentions = _from_zero(mentions)
    digits = None
    known = {k: int(v) for k, v in names.items()} | {k: v for k, (v, _) in scan.digits.items()}
    if scan.digits and len(known) == 3:
        first = next(iter(scan.digits.values()))[1]  # set in file order
        a, b, c = (known[k] for k in DIGIT_NAMES)
        digits = Digits(a, b, c, path, first.line, first.cell, first.raw.strip())
    # outputs cleared: code, and no output (a text export's prose after a cell may read as
    # output, so there: no figure read from output)
    sources = {line.source for line in lines}
    printed = sources if form == "ipynb" else {m.source for m in mentions}
    cleared = form in ("ipynb", "text") and "code" in sources and printed.isdisjoint(_PRINTED)
    return Document(
        path, form, tuple(mentions), tuple(claims), tuple(scan.unparsed), digits, cleared
    )
