"""The child process that runs one student's code (``python -I runner.py ROOT MEMORY SECONDS``,
started by `sandbox`, in a temporary folder holding a copy of the submission).

It loads the project from ROOT with every target of the submission's exercises blanked, then
answers requests, one JSON line each on stdin: run exercise E on the cases in ``cases/E.npz``
with the student's versions (and, for each prerequisite, the student's or the project's, as the
grader says); write the raw outputs to ``outputs/E.npz`` and reply one JSON line: the errors of
each case and what the code tried (network, exit, memory, time, monkeypatching). It holds no
reference value and decides nothing: the grader compares. Whatever the student prints goes to
``child.log``, not to the replies.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import traceback
from typing import Any

TRIED: set[str] = set()  # what the student's code attempted, for the report


class CaseTimeout(BaseException):  # (not an Exception: a student's `except Exception` passes it)
    pass


def _block_network() -> None:
    """Best effort, without root: the socket module's ways out raise (and are noted)."""
    import socket

    def refuse(*args: Any, **kwargs: Any) -> Any:
        TRIED.add("network")
        raise OSError("network access is disabled while grading")

    for name in ("socket", "create_connection", "socketpair", "getaddrinfo", "fromfd"):
        setattr(socket, name, refuse)


def _snapshot() -> dict[tuple[str, str, str], int]:
    """id of every attribute of the project's modules and their classes, and of NumPy's."""
    seen = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name.startswith("tinygrad_lab") or name == "numpy"):
            continue
        for key, value in list(vars(module).items()):
            seen[(name, "", key)] = id(value)
            if isinstance(value, type) and value.__module__ == name:
                for attr, inner in list(vars(value).items()):
                    seen[(name, key, attr)] = id(inner)
    return seen


class Runner:
    def __init__(self, exercises: list[str], files: dict[str, str]) -> None:
        from tinygrad_lab.lab.exercises import catalog, substitute

        self.exercises = [catalog.BY_NAME[n] for n in exercises]
        self.files = files
        self.project: dict[str, Any] = {}
        for exercise in self.exercises:
            for target in exercise.targets:
                self.project[target] = substitute.current(target)
                substitute.install(target, _blank(target, self.project[target]))
        self.loaded: dict[str, Any] = {}  # exercise -> its module, or the error importing it
        self.known = {id(v) for v in self.project.values()}
        self.known |= {id(substitute.current(t)) for t in self.project}
        self.before = _snapshot()

    def load(self, name: str) -> Any:
        from tinygrad_lab.lab.exercises import catalog, substitute

        if name not in self.loaded:
            try:
                module = substitute.load_file(self.files[name], name)
                versions = substitute.versions_in(module, catalog.BY_NAME[name])
                self.loaded[name] = (module, versions)
                self.known |= {id(v) for v in versions.values()}
            except (Exception, SystemExit) as err:  # the file itself fails: its exercise fails
                self.loaded[name] = _error(err, f"importing exercises/{name}.py")
        return self.loaded[name]

    def handle(self, request: dict) -> dict:
        import numpy as np

        from tinygrad_lab.lab.exercises import substitute
        from tinygrad_lab.lab.exercises.case import Case
        from tinygrad_lab.lab.exercises.harness import run

        name, tried_before = request["exercise"], set(TRIED)
        loaded = self.load(name)
        if isinstance(loaded, str):
            return {"import_error": loaded, "tried": sorted(TRIED - tried_before)}
        for exercise in self.exercises:
            use = "student" if exercise.name == name else request["use"].get(exercise.name)
            chosen = self.load(exercise.name) if use == "student" else None
            for target in exercise.targets:
                good = isinstance(chosen, tuple)
                substitute.install(target, chosen[1][target] if good else self.project[target])
        arrays = dict(np.load(request["cases"], allow_pickle=False))
        outputs, errors = {}, {}
        for i, settings in enumerate(request["settings"]):
            case = Case(
                {k.split("|", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{i}|")},
                settings,
            )
            try:
                got = _timed(run, request["seconds"], name, case, loaded[0])
                for key, value in got.items():
                    outputs[f"{i}|{key}"] = _plain(value)
            except (Exception, SystemExit, CaseTimeout) as err:
                errors[str(i)] = _error(err, "")
                break  # (the first failing case is the one reported: the rest need not run)
        index = [[key, list(value.shape)] for key, value in outputs.items()]
        flat = [np.asarray(v, dtype=np.float64).ravel() for v in outputs.values()]
        np.save(request["outputs"], np.concatenate(flat) if flat else np.zeros(0))
        reply = {"errors": errors, "tried": sorted(TRIED - tried_before), "index": index}
        return reply | {"tampered": self.tampered()}

    def tampered(self) -> list[str]:
        """Attributes of the project or NumPy the student's code replaced."""
        now = _snapshot()
        changed = [k for k, v in now.items() if k in self.before and v != self.before[k]]
        # A version of a target is ours (installed); a number is state (a counter); any other
        # callable or module put in the project or NumPy is the student's doing.
        return [".".join(p for p in k if p) for k in changed if _patched(k, self.known)]


def _patched(key: tuple[str, str, str], ours: set[int]) -> bool:
    module = sys.modules[key[0]]
    scope = vars(module) if not key[1] else vars(getattr(module, key[1]))
    value = scope.get(key[2])
    return id(value) not in ours and (callable(value) or isinstance(value, type(sys)))


def _blank(target: str, project: Any) -> Any:
    def blank(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{target.split(':')[1]} is not written")

    return staticmethod(blank) if isinstance(project, staticmethod) else blank


def _plain(value: Any) -> Any:
    import numpy as np

    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"expected an array of numbers, got {type(value).__name__}")
    return array


def _timed(work: Any, seconds: float, *args: Any) -> Any:
    def stop(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"took longer than {seconds:g} s")

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return work(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _error(err: BaseException, doing: str) -> str:
    """One line: the exception, and where in the student's file it was raised."""
    if isinstance(err, SystemExit):
        TRIED.add("exit")
        return f"called exit({err.code})"
    if isinstance(err, MemoryError):
        TRIED.add("memory")
    if isinstance(err, CaseTimeout):
        TRIED.add("time")
    here = os.getcwd()  # (the student's files are in it; the project's are not)
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith(here)]
    where = (
        f" (exercises/{os.path.basename(frames[-1].filename)}, line {frames[-1].lineno})"
        if frames
        else ""
    )
    text = f"{type(err).__name__}: {err}".strip()
    return (f"{doing}: " if doing else "") + text[:300] + where


def main() -> None:
    root, memory, _ = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sys.path[0] = root  # the grader's project, not the runner's folder nor the submission
    replies = os.fdopen(os.dup(1), "w")
    log = os.open("child.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    import numpy  # noqa: F401  (before the limit: its libraries reserve address space)

    import tinygrad_lab  # noqa: F401

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    _block_network()
    setup = json.loads(sys.stdin.readline())
    runner = Runner(setup["exercises"], setup["files"])
    for line in sys.stdin:
        request = json.loads(line)
        done = "exercise" not in request  # the grader's last request: nothing to run
        reply = {"id": request["id"]} if done else runner.handle(request) | {"id": request["id"]}
        sys.stdout.flush()  # (what the student printed is in child.log before any kill)
        sys.stderr.flush()
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
