"""Every figure one submission file reports, each with its file and line; nothing guessed.

A file (.ipynb, a notebook exported to .txt, markdown, .py) is first flattened into lines, each
``"text"`` (prose), ``"code"`` or ``"output"`` (printed by code). Then one table, `PATTERNS`,
is applied to every line, and one more, `CLAIMS`, to the prose. A row of `PATTERNS` is one of:

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

Which run a figure belongs to: a run named in its line (``Run2``, ``baseline``); otherwise the
last run named in prose (`MARKERS`), or started by a training loop ``for epoch in …`` (the
n-th loop starts run n); before any of these, run 1.

In a .txt export, ``In [n]:`` starts a code cell. Its code runs on while the lines still parse
as Python (complete or unfinished). If the code can print (it calls ``print``, or ends in an
expression other than a plotting call), output begins at the first line that does not parse,
at a literal such as ``32436`` or ``np.float64(-70.0)``, or, after a blank line, at a line that
starts with the label of one of its ``print`` calls (``a = 6`` after ``print("a =", a)``);
else the line begins prose. Output ends at a blank line; prose follows until the next
``In [n]:``.
"""

from __future__ import annotations

import ast
import codeop
import json
import operator
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CLAIM_KINDS = ("no_vanishing", "no_exploding", "gri_decreased", "gri_increased", "no_divergence")
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


class ExtractionError(ValueError):
    """A file that cannot be read; the message names the file and the cause."""


def _where(file: Path, cell: int | None, line: int) -> str:
    return f"{file.name}:{line}" if cell is None else f"{file.name}:cell {cell}:{line}"


@dataclass(frozen=True)
class Mention:
    """One figure as a file reports it."""

    quantity: str
    text: str  # as printed: "0.00154", "1/7", "ReLU"
    value: float | str  # a float, a lower-case activation name, or the roll's digits
    decimals: int | None  # printed precision is 0.5 * 10**-decimals; None: exact
    file: Path
    line: int  # 1-based; in a notebook, within the cell's source or output text
    cell: int | None  # .ipynb only, 1-based
    source: str  # "output", "code" or "text"
    line_text: str

    @property
    def where(self) -> str:
        return _where(self.file, self.cell, self.line)


@dataclass(frozen=True)
class Unparsed:
    """A figure's label followed by one token that is not a number (``Loss Epoch1: 2.1O89``):
    the figure is not found, and the audit says why in one line."""

    quantity: str
    text: str
    file: Path
    line: int
    cell: int | None
    line_text: str

    @property
    def where(self) -> str:
        return _where(self.file, self.cell, self.line)


@dataclass(frozen=True)
class Claim:
    """A prose line that claims one of `CLAIM_KINDS`."""

    kind: str
    file: Path
    line: int
    cell: int | None
    line_text: str

    @property
    def where(self) -> str:
        return _where(self.file, self.cell, self.line)


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

    def all(self, quantity: str) -> list[Mention]:
        return [m for m in self.mentions if m.quantity == quantity]

    def best(self, quantity: str) -> Mention | None:
        """The most precise mention of ``quantity`` (see `most_precise`)."""
        return most_precise(self.all(quantity))

    @property
    def roll(self) -> str | None:
        best = self.best("roll")
        return best.text if best else None


# --- value syntaxes ---------------------------------------------------------------------------
NUMBER = r"[-−+]?(?:\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf)"
NAME = r"\b(?:leaky[ _-]?relu|relu|sigmoid|tanh|identity|linear|softplus|gelu|selu|elu|swish)\b"
COUNT = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten"
_WORDS = {w: i for i, w in enumerate(COUNT.split("|")[1:], 1)}
# A number ends a statement unless an operator follows it ("6 + a", "0.002 × (c + 1)").
_FINAL = r"(?![\w.]|\s*(?:[-+*/×÷^%·(]|x\s*[\d(]))"
# The r of U(-r, r): "[-1/7, +1/7]", "±1/7", "U(-0.14, 0.14)", or a bare "1/7".
RANGE = r"(?:U(?:niform)?\s*)?(?:[\[(]\s*[-−]\s*|±\s*)?(?P<v>\d+\s*/\s*\d+|\d+(?:\.\d+)?)"
_VALUES = {
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


def label(quantity: str, regex: str, value: str = "number") -> Pattern:
    return Pattern(quantity, re.compile(rf"(?:{regex}){SEP}", re.I), value, is_label=True)


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
        r"\bgrad(?:ient)?[ _]?(?:norm[ _])?first\b|‖\s*∇\s*W[ _]?first\s*‖"
        r"|\bgradient norm \((?:of )?(?:the )?first(?: hidden)? layer\)"
        r"|\bfirst[- ](?:hidden[- ])?layer gradient(?: norm)?(?: \(X\))?",
    ),
    assign("run{run}.grad_first", r"grad_first(?P<run>\d)?"),
    label(
        "run{run}.grad_last",
        r"\bgrad(?:ient)?[ _]?(?:norm[ _])?last\b|‖\s*∇\s*W[ _]?last\s*‖"
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
    Marker("run", None, re.compile(r"\brun\s*#?\s*(?P<n>\d+)\b", re.I)),
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


# --- flattening a file into lines ---------------------------------------------------------
@dataclass(frozen=True)
class _Line:
    text: str  # repaired, for matching
    raw: str  # as in the file
    line: int
    cell: int | None
    source: str  # "text", "code" or "output"
    block: tuple[int, int]  # (cell, part): a cell with its output, a fenced block, prose


def _repair(text: str) -> str:
    """Undo a double UTF-8 encoding ("‚Üí" or "â†’" for "→"); other text is left alone."""
    if text.isascii():
        return text
    for codec in ("mac_roman", "cp1252"):
        try:
            return text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return text


def _markdown(text: str, cell: int | None = None) -> list[_Line]:
    lines, fenced, part = [], False, 0
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.lstrip().startswith(("```", "~~~")):  # a fence opens or closes a code block
            fenced, part = not fenced, part + 1
            continue
        source = "code" if fenced else "text"
        lines.append(_Line(_repair(raw), raw, number, cell, source, (cell or 0, part)))
    return lines


def _output_text(outputs: list) -> str:
    text = ""
    for output in outputs:
        if output.get("output_type") == "stream":
            text += output.get("text", "")
        elif "text/plain" in output.get("data", {}):
            text += ("" if text.endswith("\n") or not text else "\n") + output.data["text/plain"]
            text += "\n"
    return text


def _notebook(text: str, name: str) -> list[_Line]:
    try:
        import nbformat  # an extra: only notebooks need it
    except ImportError:
        raise ExtractionError(
            f"{name}: reading a notebook needs nbformat: pip install 'tinygrad_lab[audit]'"
        ) from None
    try:
        json.loads(text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4)
        cells = list(notebook.cells)
    except Exception as exc:  # nbformat raises many kinds; all mean "not a notebook"
        raise ExtractionError(f"{name}: not a notebook: {str(exc).splitlines()[0]}") from exc
    lines: list[_Line] = []
    for index, cell in enumerate(cells, 1):
        if cell.cell_type != "code":
            lines += _markdown(cell.source, index)
            continue
        for source, text in (("code", cell.source), ("output", _output_text(cell.outputs))):
            for number, raw in enumerate(text.splitlines(), 1):
                lines.append(_Line(_repair(raw), raw, number, index, source, (index, 0)))
    return lines


def _parse(code: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def _python(code: str) -> str:
    """Whether ``code`` is "complete", "incomplete" (unfinished, so far valid) or "invalid"."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = codeop.compile_command(code, "<cell>", "exec")
    except (SyntaxError, ValueError, OverflowError):
        return "invalid"
    return "complete" if compiled else "incomplete"


def _prints(code: str) -> list[ast.Call]:
    tree = _parse(code)
    nodes = ast.walk(tree) if tree else ()
    return [n for n in nodes if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"]


def _can_print(code: str) -> bool:
    """Whether the code shows anything: a print, or a last expression Jupyter displays (a
    plotting call shows a figure, which a text export cannot hold)."""
    tree = _parse(code)
    if tree is None or _prints(code):
        return tree is not None
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr):
        return False
    called = ast.unparse(last.value.func) if isinstance(last.value, ast.Call) else ""
    return not re.search(r"^plt\.|\b(?:show|plot|savefig|imshow)$", called)


_DISPLAY_WRAPPER = re.compile(r"^(?:np|numpy)\.\w+\((.*)\)$")


def _is_display(line: str) -> bool:
    """A literal as Jupyter displays a value: ``32436``, ``[1, 2]``, ``np.float64(-70.0)``."""
    inner = _DISPLAY_WRAPPER.sub(r"\1", line.strip())
    try:
        ast.literal_eval(inner)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _print_labels(code: str) -> list[str]:
    labels = []
    for call in _prints(code):
        first = call.args[0] if call.args else None
        if isinstance(first, ast.JoinedStr) and first.values:
            first = first.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.strip():
            labels.append(first.value.strip())
    return labels


_CELL_MARK = re.compile(r"^In \[\s*\d*\s*\]:\s*$")


def _text_export(text: str) -> list[_Line]:
    """Lines of a notebook exported to text (the rule is in the module's docstring)."""
    lines, state, code, block, blank_before = [], "text", [], 0, False
    for number, raw in enumerate(text.splitlines(), 1):
        blank = not raw.strip()
        if _CELL_MARK.match(raw.strip()):
            state, code, block = "code", [], block + 1
            continue
        if state == "code" and not blank:
            so_far = "\n".join(code)
            printed = any(raw.strip().startswith(p) for p in _print_labels(so_far))
            # a bare literal is no code anyone writes, but a label needs the blank line
            if (
                _python(so_far) == "complete"
                and _can_print(so_far)
                and (_is_display(raw) or (blank_before and printed))
            ):
                state = "output"
            elif _python(f"{so_far}\n{raw}") != "invalid":
                code.append(raw)
            elif _can_print(so_far):
                state = "output"
            else:
                state, block = "text", block + 1
        elif state == "output" and blank:
            state, block = "text", block + 1
        elif state == "code":
            code.append(raw)
        lines.append(_Line(_repair(raw), raw, number, None, state, (0, block)))
        blank_before = blank
    return lines


def _read_lines(path: Path, form: str) -> list[_Line]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"{path.name}: not UTF-8 text: {exc}") from exc
    except OSError as exc:
        raise ExtractionError(f"{path.name}: cannot read: {exc.strerror or exc}") from exc
    if form == "ipynb":
        return _notebook(text, path.name)
    if form == "text":
        return _text_export(text)
    if form == "markdown":
        return _markdown(text)
    return [
        _Line(_repair(r), r, n, None, "code", (0, 0)) for n, r in enumerate(text.splitlines(), 1)
    ]


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

    tree = _parse(expr.strip())
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
    if kind == "count" and text.lower() in _WORDS:
        return float(_WORDS[text.lower()]), None
    if "/" in text:  # a fraction, exact
        numerator, denominator = (float(part) for part in text.split("/"))
        return (numerator / denominator, None) if denominator else None
    return float(text.replace("−", "-")), decimals_of(text)


def _math(text: str) -> bool:
    """A formula line: digits, and no word longer than a letter (but ``mod``)."""
    return bool(re.search(r"\d", text)) and not re.search(r"[A-Za-z]{2,}", text.replace("mod", ""))


def _labelled(lines: list[_Line], i: int, m: re.Match[str], kind: str) -> tuple | None:
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
            value = _VALUES[kind].match(text, offset)
            if value:
                found = (j, start + value.start("v"), value["v"])
    return found


def _body(lines: list[_Line], i: int) -> str:
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
_CODE_ROWS = tuple(p for p in PATTERNS if p.names is not None)


def _is_print(statement: ast.stmt) -> bool:
    call = getattr(statement, "value", None)
    return isinstance(call, ast.Call) and getattr(call.func, "id", "") == "print"


def _echoes(code: str, outputs: list[_Line]) -> list[tuple[_Line, str, ast.expr]]:
    """What a cell prints of its variables, as (output line, printed text, printed node): its
    output lines are taken one per top-level print, then one for a displayed last expression,
    and only when the cell has exactly that many (so no print is in a loop)."""
    tree = _parse(code)
    if tree is None or not tree.body:
        return []
    prints = [s.value for s in tree.body if _is_print(s)]
    shown = isinstance(tree.body[-1], ast.Expr) and not _is_print(tree.body[-1])
    printed = [line for line in outputs if line.text.strip()]
    if len(prints) != len(_prints(code)) or len(printed) != len(prints) + shown:
        return []
    shows = [
        (line, call.args, line.text.split()) for call, line in zip(prints, printed, strict=False)
    ]
    if shown:
        text = _DISPLAY_WRAPPER.sub(r"\1", printed[-1].text.strip()).strip("'\"")
        shows.append((printed[-1], [tree.body[-1].value], [text]))
    return [
        (line, text, node)
        for line, nodes, texts in shows
        if len(nodes) == len(texts)
        for node, text in zip(nodes, texts, strict=True)
    ]


# --- applying the tables ---------------------------------------------------------------------
def _markers(line: _Line, key: str) -> list[tuple[int, str]]:
    """(position, value) of every marker of ``key`` in a prose or output line."""
    return sorted(
        (m.start(), marker.value or m["n"])
        for marker in MARKERS
        if marker.key == key
        for m in marker.regex.finditer(line.text)
    )


class _Scan:
    """One pass over a file's lines: the sections it is in, the names code has assigned."""

    def __init__(self, lines: list[_Line], path: Path, names: dict[str, float]) -> None:
        self.lines, self.path, self.names = lines, path, dict(names)
        self.sticky = set(names)  # a, b, c from the roll: `a = int(roll[-1])` keeps them
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
        self.found.setdefault(
            (quantity, i, col),
            Mention(
                quantity, text, *parsed, self.path, line.line, line.cell, line.source,
                line.raw.strip(),
            ),
        )  # fmt: skip

    def row(self, row: Pattern, i: int, paragraph: list[_Line]) -> None:
        line = self.lines[i]
        for m in row.regex.finditer(line.text):
            if row.header and not any(row.header.search(p.text) for p in paragraph):
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
        cell = [line for line in self.lines if line.block == block]
        code = "\n".join(line.raw for line in cell if line.source == "code")
        index = {id(line): k for k, line in enumerate(self.lines) if line.block == block}
        outputs = [line for line in cell if line.source == "output"]
        for line, text, node in _echoes(code, outputs):
            variable = getattr(node, "id", "")
            row = next((p for p in _CODE_ROWS if p.names.fullmatch(variable)), None)
            kind = "number" if row is None or row.value == "expr" else row.value
            if row and _VALUES[kind].fullmatch(text):
                groups = row.names.fullmatch(variable).groupdict()
                self.add(row, groups, index[id(line)], line.text.find(text), text, kind)

    def code(self, line: _Line) -> None:
        if TRAINING_LOOP.match(line.text):
            self.runs_started += 1
            self.section["run"] = str(self.runs_started)
        assignment = _ASSIGNMENT.match(line.text)
        if assignment:
            value = safe_eval(assignment["expr"], self.names)
            if value is not None:
                self.names[assignment["name"]] = value
            elif assignment["name"] not in self.sticky:
                self.names.pop(assignment["name"], None)

    def prose(self, line: _Line) -> None:
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
        paragraph: list[_Line] = []  # the lines since a blank one, in this block and source
        for i, line in enumerate(self.lines):
            if not line.text.strip():
                paragraph = []
                continue
            here = (line.block, line.source)
            if paragraph and (paragraph[-1].block, paragraph[-1].source) != here:
                paragraph = []
            if line.source == "text":
                self.prose(line)
            for row in rows:
                if line.source in row.sources:
                    self.row(row, i, paragraph)
            if line.source == "output":
                self.echo(i)
            if line.source == "code":
                self.code(line)
            paragraph.append(line)
        order = sorted(self.found.items(), key=lambda item: item[0][1:])
        return [mention for _, mention in order], self.claims


def read_document(path: str | Path) -> Document:
    """Every figure and claim in one submission file (see the module's docstring)."""
    path = Path(path)
    form = SUFFIXES.get(path.suffix.lower())
    if form is None:
        supported = ", ".join(SUFFIXES)
        raise ExtractionError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; "
            f"supported: {supported}"
        )
    lines = _read_lines(path, form)
    rolls, _ = _Scan(lines, path, {}).run(tuple(p for p in PATTERNS if p.quantity == "roll"))
    roll = Document(path, form, tuple(rolls), ()).roll
    digits = {"a": 1, "b": 2, "c": 3}
    names = {k: float(roll[-d]) for k, d in digits.items()} if roll and len(roll) >= 3 else {}
    scan = _Scan(lines, path, names)
    mentions, claims = scan.run(PATTERNS)
    return Document(path, form, tuple(mentions), tuple(claims), tuple(scan.unparsed))
