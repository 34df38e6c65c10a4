"""The architecture the project promises, checked on its source: the engine imports nothing
above it, the only import cycle is the engine ↔ ops one, ``import tinygrad_lab`` needs only
NumPy and loads no tool, the backward path is short, and no function is long."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import tinygrad_lab

PACKAGE = Path(tinygrad_lab.__file__).parent
ENGINE = ("tinygrad_lab.tensor", "tinygrad_lab.graph", "tinygrad_lab.grad_mode")
ENGINE += ("tinygrad_lab.hooks", "tinygrad_lab.display", "tinygrad_lab.integrity")
ENGINE += ("tinygrad_lab.sites", "tinygrad_lab.errors", "tinygrad_lab.numpy_interop")
ENGINE += ("tinygrad_lab.differentiable", "tinygrad_lab.autograd")
ABOVE_THE_ENGINE = ("viz", "trace", "nn", "reference", "lab")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(name: str) -> set[str]:
    """Modules of the package that ``name`` imports anywhere, function bodies included."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return {m for m in found if m in MODULES and m != name}


def cycles() -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    graph = {name: imports(name) for name in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_the_only_import_cycle_is_the_engine_and_its_ops():
    ops = {name for name in MODULES if name.startswith("tinygrad_lab.ops")}
    assert cycles() == [ops | {"tinygrad_lab.tensor"}]


def test_the_engine_imports_nothing_above_it_even_inside_functions():
    engine = [*ENGINE, *(name for name in MODULES if name.startswith("tinygrad_lab.ops"))]
    for name in engine:
        above = {m for m in imports(name) if m.split(".")[1] in ABOVE_THE_ENGINE}
        assert not above, f"{name} imports {above}"


def test_the_framework_never_imports_the_lab():
    for name in MODULES:
        if name.startswith("tinygrad_lab.lab") or name == "tinygrad_lab.__main__":
            continue
        assert not {m for m in imports(name) if m.startswith("tinygrad_lab.lab")}, name


BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"graphviz", "pandas", "matplotlib", "tqdm", "distributed"}:
            raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, Block())
import tinygrad_lab as tl
x = tl.Tensor([1.0, 2.0], requires_grad=True)
(x * x).sum().backward()
assert x.grad.tolist() == [2.0, 4.0]
loaded = sorted(m for m in sys.modules if m.startswith(("tinygrad_lab", "graphviz")))
print(" ".join(loaded))
"""


def test_import_needs_only_numpy_and_loads_no_tool():
    result = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "tinygrad_lab.tensor" in loaded and "tinygrad_lab.nn" in loaded
    for tool in ("graphviz", "tinygrad_lab.viz", "tinygrad_lab.trace", "tinygrad_lab.reference"):
        assert tool not in loaded
    assert not any(m.startswith("tinygrad_lab.lab") for m in loaded)


def test_tools_load_on_first_use():
    code = (
        "import tinygrad_lab as tl, sys; tl.compare; tl.trace_backward; print(sorted(sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "'tinygrad_lab.reference'" in result.stdout and "'tinygrad_lab.trace'" in result.stdout


def functions(path: Path) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def length(node: ast.AST) -> int:
    return node.end_lineno - node.lineno + 1


def test_no_function_in_the_package_is_over_50_lines():
    long = [
        f"{path.relative_to(PACKAGE)}:{f.lineno} {f.name} ({length(f)} lines)"
        for path in PACKAGE.rglob("*.py")
        for f in functions(path)
        if length(f) > 50
    ]
    assert not long


BACKWARD_PATH = {"backward", "_seed", "_walk", "_visit", "_commit", "_release", "_fit"}


def test_the_backward_path_is_at_most_150_lines_in_the_engine_file():
    path = PACKAGE / "tensor.py"
    found = {f.name: length(f) for f in functions(path) if f.name in BACKWARD_PATH}
    assert set(found) == BACKWARD_PATH
    assert sum(found.values()) <= 150, found


def test_the_engine_core_is_at_most_400_lines():
    assert len((PACKAGE / "tensor.py").read_text().splitlines()) <= 400


def test_an_op_is_named_in_one_file_only():
    """`grep -rlw Mish tinygrad_lab/`: the op's class, its registration and nothing else."""
    named = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and re.search(r"\bMish\b", path.read_text(errors="ignore"))
    ]
    assert named == ["ops/activation.py"]


DERIVATIVE_HOMES = ("ops", "reference")


def test_no_file_outside_ops_and_reference_computes_a_derivative():
    """No `Function` subclass and no `backward` outside the ops and the matrix-form oracle
    (the engine's own `Function.backward` stub and `Tensor.backward` walk excepted)."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        where = path.relative_to(PACKAGE)
        if where.parts[0] in DERIVATIVE_HOMES or where == Path("tensor.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            bases = [ast.unparse(b) for b in getattr(node, "bases", ())]
            if isinstance(node, ast.ClassDef) and any(b.endswith("Function") for b in bases):
                found.append(f"{where}:{node.lineno} class {node.name}")
            if isinstance(node, ast.FunctionDef) and node.name == "backward":
                found.append(f"{where}:{node.lineno} def backward")
    assert found == []
