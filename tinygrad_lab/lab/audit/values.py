"""How `extract` reads a value from a line: a number or a safe arithmetic expression of names
(never ``eval``), its decimals, an assignment, a printed expression echoed in the output."""

from __future__ import annotations

import ast
import operator
import re

from tinygrad_lab.lab.audit.lines import (
    Line,
    parse_code,
)
from tinygrad_lab.lab.audit.patterns import (
    VALUES,
    WORDS,
)

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


def read_value(
    kind: str, text: str, names: dict[str, float]
) -> tuple[float | str, int | None] | None:
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


def labelled(lines: list[Line], i: int, m: re.Match[str], kind: str) -> tuple | None:
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


def body(lines: list[Line], i: int) -> str:
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
