"""Cutting exercises from the project's own source with `ast`: a target's definition with its
body replaced (by the blank, by a call into the student's file, or mutated), and the file a
student edits, which holds the blanks of one exercise.

A method's blank sits in a subclass of the project's class of the same name (``class
Mul(_project.Mul)``), so the student's op is a working op (``Mul.apply(x, y)``) and a call of
that class inside the file (``call(Conv2dInputGrad, ...)``) reaches the student's method.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import io
import tokenize
import types
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tinygrad_lab.lab.exercises.catalog import Exercise, Mutant


@dataclass(frozen=True)
class Located:
    """Where a target's definition is: its module, file, class (if a method) and def node."""

    target: str
    module: types.ModuleType
    path: Path
    lines: tuple[str, ...]
    owner: ast.ClassDef | None
    node: ast.FunctionDef

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def body_start(self) -> int:
        """The first line (1-based) of the body after the signature and docstring, comments
        included."""
        first = self.node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            return first.end_lineno + 1
        line = max(n.end_lineno for n in ast.walk(self.node.args) if hasattr(n, "end_lineno"))
        line = max(line, self.node.returns.end_lineno if self.node.returns else 0, self.node.lineno)
        while not self.lines[line - 1].split("#")[0].rstrip().endswith(":"):
            line += 1
        return line + 1

    @property
    def head(self) -> list[str]:
        """Decorators, signature and docstring, as in the source."""
        first = min([d.lineno for d in self.node.decorator_list] + [self.node.lineno])
        return list(self.lines[first - 1 : self.body_start - 1])

    @property
    def body(self) -> list[str]:
        return list(self.lines[self.body_start - 1 : self.node.end_lineno])

    @property
    def indent(self) -> str:
        line = self.lines[self.node.lineno - 1]
        return line[: len(line) - len(line.lstrip())] + "    "


@cache
def locate(target: str) -> Located:
    """The definition of ``target`` (``"package.module:Class.method"`` or ``"...:function"``)."""
    module_name, qualname = target.split(":")
    module = importlib.import_module(module_name)
    path = Path(module.__file__)
    source = path.read_text()
    tree = ast.parse(source)
    *owner_name, name = qualname.split(".")
    scope, owner = tree.body, None
    if owner_name:
        owner = next(n for n in scope if isinstance(n, ast.ClassDef) and n.name == owner_name[0])
        scope = owner.body
    node = next(n for n in scope if isinstance(n, ast.FunctionDef) and n.name == name)
    return Located(target, module, path, tuple(source.splitlines()), owner, node)


def math_comments(where: Located) -> list[str]:
    """The comments of the project's body: each derivative's math sits beside its line."""
    text = "\n".join(line.strip() for line in where.body)
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT]


def _dedent(lines: list[str], indent: str) -> list[str]:
    cut = len(indent) - 4
    return [line[cut:] if line.strip() else "" for line in lines]


def blank_body(where: Located, exercise: Exercise) -> list[str]:
    """The blank: the math, then `NotImplementedError`."""
    pad = where.indent
    comments = math_comments(where) or ["(see the docstring)"]
    lines = [f"{pad}# TODO: your code here. The math, from the project's source:"]
    lines += [f"{pad}#   {c}" for c in comments]
    qualname = where.target.split(":")[1]
    return lines + [f'{pad}raise NotImplementedError("exercise {exercise.name}: write {qualname}")']


def call_arguments(node: ast.FunctionDef) -> str:
    """``node``'s parameters as the arguments of a call passing each on."""
    args = node.args
    parts = [a.arg for a in (*args.posonlyargs, *args.args)]
    parts += [f"*{args.vararg.arg}"] if args.vararg else []
    parts += [f"{a.arg}={a.arg}" for a in args.kwonlyargs]
    parts += [f"**{args.kwarg.arg}"] if args.kwarg else []
    return ", ".join(parts)


def delegating_body(where: Located, exercise: Exercise) -> list[str]:
    """For the student's copy of the package: call the student's version of the target."""
    pad, arguments = where.indent, call_arguments(where.node)
    if where.owner is None:
        fetch = f"from exercises.{exercise.name} import {where.name} as _yours"
        call = f"_yours({arguments})"
    else:
        fetch = f"from exercises.{exercise.name} import {where.owner.name} as _Yours"
        call = f"_Yours.{where.name}({arguments})"
    return [f"{pad}{fetch}  # your answer: exercises/{exercise.name}.py", "", f"{pad}return {call}"]


def mutated_body(where: Located, mutant: Mutant) -> list[str]:
    """The project's body with ``mutant``'s mistake in it (`Mutant`)."""
    text = "\n".join(where.body)
    if mutant.old is None:  # every returned value negated
        tree = ast.parse("\n".join(_dedent([*where.head, *where.body], where.indent)))
        _NegateReturns().visit(tree)
        function = tree.body[0]
        return [where.indent + line for s in function.body for line in ast.unparse(s).splitlines()]
    if mutant.old not in text:
        raise ValueError(
            f"mutant {mutant.kind} of {where.target}: {mutant.old!r} not in its source"
        )
    return text.replace(mutant.old, mutant.new).splitlines()


class _NegateReturns(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        return node

    def visit_Return(self, node: ast.Return) -> ast.AST:  # noqa: N802
        if node.value is not None:
            flipped = ast.parse(f"_flip({ast.unparse(node.value)})", mode="eval").body
            node.value = flipped
        return node


FLIP = '''
def _flip(value):
    """Every gradient negated (a known mistake's output)."""
    if isinstance(value, tuple):
        return tuple(None if v is None else -v for v in value)
    return None if value is None else -value
'''


def definition(where: Located, body: list[str]) -> list[str]:
    """The def of ``where`` with ``body``, dedented to sit in a class (4) or module (0)."""
    return _dedent([*where.head, *body], where.indent)


def _module_imports(wheres: list[Located], defined: set[str]) -> list[str]:
    """Import lines for the names the targets use from their modules (helpers, ``np``)."""
    lines = []
    for where in wheres:
        used = {n.id for n in ast.walk(where.node) if isinstance(n, ast.Name)}
        namespace = vars(where.module)
        for name in sorted(used - defined - set(dir(builtins))):
            if name not in namespace:
                continue
            value = namespace[name]
            if isinstance(value, types.ModuleType):
                full = value.__name__
                package, _, last = full.rpartition(".")
                if last == name and package:
                    lines.append(f"from {package} import {name}")
                else:
                    lines.append(f"import {full}" + ("" if full == name else f" as {name}"))
            else:
                home = getattr(value, "__module__", None) or where.module.__name__
                if getattr(importlib.import_module(home), name, None) is not value:
                    home = where.module.__name__
                lines.append(f"from {home} import {name}")
    return sorted(set(lines))


def exercise_file(exercise: Exercise, bodies: dict[str, list[str]] | None = None) -> str:
    """The file ``exercises/<name>.py`` of a student's copy: each target blank, or with the
    body given in ``bodies`` (the project's own, a mutant's: for the tests and the grader)."""
    wheres = [locate(t) for t in exercise.targets]
    owners = {w.owner.name for w in wheres if w.owner is not None}
    defined = owners | {w.name for w in wheres if w.owner is None}
    out = [
        f'"""Exercise `{exercise.name}` ({exercise.set}, {exercise.points} points):',
        f"{exercise.title}.",
        "",
        "Write the body of each function marked TODO; keep its name, its signature and what it",
        f"returns. Walk through it in notebooks/{exercise.name}.ipynb. Only this file is graded.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *_module_imports(wheres, defined),
    ]
    modules = sorted({w.module.__name__ for w in wheres if w.owner is not None})
    out += [f"import {m} as _{m.rsplit('.', 1)[1]}" for m in modules]
    if bodies and any("_flip(" in line for body in bodies.values() for line in body):
        out += FLIP.splitlines()
    done: set[str] = set()
    for where in wheres:
        body = (bodies or {}).get(where.target) or blank_body(where, exercise)
        if where.owner is None:
            out += ["", "", *definition(where, body)]
            continue
        owner = where.owner.name
        if owner not in done:
            done.add(owner)
            base = f"_{where.module.__name__.rsplit('.', 1)[1]}.{owner}"
            out += ["", "", f"class {owner}({base}):"]
            doc = ast.get_docstring(where.owner, clean=False)
            if doc:
                out += [f'    """{doc}"""', ""]
        out += ["    " + line if line else "" for line in definition(where, body)]
    return "\n".join(out) + "\n"


def solution_bodies(exercise: Exercise, mutant: Mutant | None = None) -> dict[str, list[str]]:
    """The project's own bodies of ``exercise``'s targets, with ``mutant``'s mistake if given."""
    bodies = {t: locate(t).body for t in exercise.targets}
    if mutant is not None:
        bodies[mutant.target] = mutated_body(locate(mutant.target), mutant)
    return bodies
