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
import re
from pathlib import Path

from tinygrad_lab.lab.audit.document import (
    DIGIT_NAMES,
    PRINTED,
    QUANTITIES,
    SUFFIXES,
    Claim,
    Digits,
    Document,
    Mention,
    Unparsed,
    most_precise,
)
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
    Pattern,
)
from tinygrad_lab.lab.audit.values import (
    assignments,
    body,
    decimals_of,
    labelled,
    read_value,
    safe_eval,
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
        parsed = read_value(kind, text, self.names)
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
            if row.body and not row.body.search(body(self.lines, i)):
                continue
            if row.is_label:
                hit = labelled(self.lines, i, m, row.value)
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
    cleared = form in ("ipynb", "text") and "code" in sources and printed.isdisjoint(PRINTED)
    return Document(
        path, form, tuple(mentions), tuple(claims), tuple(scan.unparsed), digits, cleared
    )
