"""Putting a version of a target into the running project: the student's, the project's own,
a known mistake's, or a blank. A method is set on its class; a function is replaced wherever a
module holds it (``from tinygrad_lab.numpy_interop import unbroadcast`` made a second name).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinygrad_lab.lab.exercises.catalog import Exercise

STUDENT_PREFIX = "_submitted_"  # the module name of a student's file: _submitted_<exercise>


def _owner_and_name(target: str) -> tuple[Any, str]:
    module_name, qualname = target.split(":")
    owner: Any = importlib.import_module(module_name)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def current(target: str) -> Any:
    """The version of ``target`` installed now (a method as stored: a staticmethod object)."""
    owner, name = _owner_and_name(target)
    return vars(owner)[name]


def install(target: str, version: Any) -> None:
    """Make ``version`` the one the project runs for ``target``."""
    owner, name = _owner_and_name(target)
    old = vars(owner)[name]
    if old is version:
        return
    if isinstance(owner, type):
        setattr(owner, name, version)
        return
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith(("tinygrad_lab", STUDENT_PREFIX)) and module is not None:
            namespace = vars(module)
            for key, value in list(namespace.items()):
                if value is old:
                    namespace[key] = version


@contextlib.contextmanager
def substituted(versions: dict[str, Any]) -> Iterator[None]:
    """Run with ``versions`` installed, then put back what was there."""
    before = {target: current(target) for target in versions}
    try:
        for target, version in versions.items():
            install(target, version)
        yield
    finally:
        for target, version in before.items():
            install(target, version)


def load_file(path: Path, exercise: str) -> types.ModuleType:
    """Import a student's (or a generated) exercise file as its own module."""
    name = STUDENT_PREFIX + exercise
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def versions_in(module: types.ModuleType, exercise: Exercise) -> dict[str, Any]:
    """The file's version of each of ``exercise``'s targets; a KeyError names a missing one."""
    found = {}
    for target in exercise.targets:
        *owner, name = target.split(":")[1].split(".")
        scope = vars(module)
        if owner:
            if not isinstance(scope.get(owner[0]), type):
                raise KeyError(f"no class {owner[0]} in exercises/{exercise.name}.py")
            scope = vars(scope[owner[0]])
        if name not in scope:
            where = f"{owner[0]}.{name}" if owner else name
            raise KeyError(f"no {where} in exercises/{exercise.name}.py")
        found[target] = scope[name]
    return found


def compile_file(text: str, exercise: str) -> types.ModuleType:
    """A generated exercise file (the project's own bodies, a mutant's) as a module."""
    module = types.ModuleType(STUDENT_PREFIX + exercise)
    sys.modules[module.__name__] = module
    exec(compile(text, f"<{exercise}>", "exec"), vars(module))  # noqa: S102  (our own source)
    return module
