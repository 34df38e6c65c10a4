"""The grader's side of a student's process: start it (`runner`) in a temporary folder with a
copy of the submission, limits of memory and time, no network (best effort: the socket module's
ways out raise in the child; without root nothing stronger is available), then send it requests
and read its raw outputs. A child that overruns its time is killed with its process group, and
a new one is started for the exercises left; files outside the child's folder that it changed
are found (`Watch`), put back and reported.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_lab

RUNNER = Path(__file__).with_name("runner.py")
PROJECT_ROOT = Path(tinygrad_lab.__file__).parent.parent
MAX_OUTPUT_BYTES = 64 << 20  # a student's outputs file larger than this is not read


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 << 30  # the child's address space (RLIMIT_AS)
    case_seconds: float = 10.0  # one case, enforced in the child (an alarm)
    exercise_seconds: float = 60.0  # one exercise, enforced here (kill)


class Child:
    """One student's process; `request` returns its reply, or None if it died or overran."""

    def __init__(self, folder: Path, files: dict[str, str], limits: Limits) -> None:
        self.folder, self.files, self.limits = folder, files, limits
        self.process: subprocess.Popen | None = None
        self.buffer = b""
        self.sent = 0  # requests sent
        self.answered_twice: set[int] = set()  # requests with a forged reply

    def start(self) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.folder)}
        env |= {"TMPDIR": str(self.folder), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        env["MKL_NUM_THREADS"] = "1"
        command = [sys.executable, "-I", str(RUNNER), str(PROJECT_ROOT)]
        command += [str(self.limits.memory_bytes), str(self.limits.case_seconds)]
        self.process = subprocess.Popen(
            command,
            cwd=self.folder,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: killed with whatever it started
        )
        self.buffer = b""
        self._send({"exercises": list(self.files), "files": self.files})

    def _send(self, message: dict) -> bool:
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def request(self, message: dict, seconds: float) -> dict | None:
        if self.process is None:
            self.start()
        self.sent += 1
        message = {**message, "id": self.sent}  # echoed: a reply to another request is forged
        if not self._send(message):
            self.kill()
            return None
        deadline = time.monotonic() + seconds
        while (line := self._read_line(deadline - time.monotonic())) is not None:
            try:
                reply = json.loads(line)
                if isinstance(reply, dict) and isinstance(reply.get("id"), int):
                    if reply["id"] < self.sent:  # an earlier request's second reply: the
                        self.answered_twice.add(reply["id"])  # first of the two was forged
                        continue
                    if reply["id"] == self.sent:
                        return _checked(reply)
            except (ValueError, TypeError, AttributeError):
                pass
            break  # not what the runner writes: forged
        self.kill()
        return None

    def _read_line(self, seconds: float) -> bytes | None:
        out = self.process.stdout
        selector = selectors.DefaultSelector()
        selector.register(out, selectors.EVENT_READ)
        try:
            while b"\n" not in self.buffer:
                if not selector.select(seconds):
                    return None  # (overran: the caller kills it)
                chunk = os.read(out.fileno(), 1 << 16)
                if not chunk:
                    return None  # it ended
                self.buffer += chunk
                if len(self.buffer) > 1 << 20:
                    return None
        finally:
            selector.close()
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        self.process = None

    def finish(self, seconds: float = 5.0) -> set[int]:
        """The requests that were answered twice (a reply forged, then the runner's own):
        a last request, with nothing to run, reads every reply still on its way."""
        if self.process is not None:
            self.request({}, seconds)
        return self.answered_twice

    def close(self) -> None:
        """Done with it: killed (it keeps nothing; its printing was flushed after each reply)."""
        self.kill()


def _checked(reply: Any) -> dict:
    """A reply as the runner writes it (strings where strings belong), or a ValueError."""
    if not isinstance(reply, dict):
        raise ValueError("not a reply")
    checked = {"errors": {str(k): str(v) for k, v in reply.get("errors", {}).items()}}
    checked["tried"] = [str(t) for t in reply.get("tried", [])]
    checked["tampered"] = [str(t) for t in reply.get("tampered", [])]
    checked["index"] = list(reply.get("index", []))
    if "import_error" in reply:
        checked["import_error"] = str(reply["import_error"])
    return checked


def read_outputs(path: Path, index: Any) -> dict[str, np.ndarray]:
    """The child's raw outputs: one file of numbers (no pickle) of bounded size, cut into the
    arrays its reply's ``index`` lists ([key, shape] each); nothing if they do not fit."""
    if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_OUTPUT_BYTES:
        return {}
    try:
        flat = np.load(path, allow_pickle=False)
        shapes = [(str(key), tuple(int(n) for n in shape)) for key, shape in index]
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if any(n < 0 for _, shape in shapes for n in shape):
        return {}
    sizes = [int(np.prod(shape)) for _, shape in shapes]
    if flat.ndim != 1 or flat.dtype != np.float64 or sum(sizes) != flat.size:
        return {}
    starts = np.cumsum([0, *sizes]).tolist()
    cut = zip(shapes, starts, starts[1:], strict=False)
    return {key: flat[a:b].reshape(shape) for (key, shape), a, b in cut}


def copy_submission(source: Path, names: list[str], into: Path) -> dict[str, str]:
    """Copy the exercise files (plain files only, no links) into ``into``/exercises."""
    (into / "exercises").mkdir(parents=True)
    (into / "cases").mkdir()
    (into / "outputs").mkdir()
    files = {}
    for name in names:
        path = source / "exercises" / f"{name}.py"
        if path.is_file() and not path.is_symlink():
            shutil.copyfile(path, into / "exercises" / f"{name}.py")
            files[name] = str(into / "exercises" / f"{name}.py")
    return files


class Watch:
    """Files the children must not change: the grader's project and the class's folder. Their
    contents are kept, so a change is put back (and a new file removed) before the next student."""

    def __init__(self, *roots: Path) -> None:
        self.roots = [r for r in roots if r is not None]
        self.kept = self._scan()

    def _scan(self) -> dict[Path, tuple[int, int]]:
        found = {}
        for root in self.roots:  # (os.walk: a scan after every exercise must be cheap)
            for folder, folders, files in os.walk(root):
                folders[:] = [f for f in folders if f != "__pycache__"]
                for name in files:
                    stat = os.lstat(os.path.join(folder, name))
                    if not os.path.islink(os.path.join(folder, name)):
                        found[Path(folder, name)] = (stat.st_mtime_ns, stat.st_size)
        return found

    def start(self) -> None:
        self.contents = {p: p.read_bytes() for p in self.kept}

    def _stamps(self) -> dict[Path, tuple[int, int] | None]:
        found = {}
        for path in self.kept:
            try:
                stat = os.lstat(path)
                found[path] = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                found[path] = None
        return found

    def changes(self, new_files: bool = True) -> list[str]:
        """Changed, removed (and, with ``new_files``, new) files since `start`, put back, as
        lines for the report. (Without: no walk of the folders, cheap after each exercise.)"""
        now, lines = self._scan() if new_files else self._stamps(), []
        for path, stamp in self.kept.items():
            if now.get(path) != stamp:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(self.contents[path])
                lines.append(f"changed {path} (put back)")
        for path in set(now) - set(self.kept) if new_files else ():
            path.unlink()
            lines.append(f"created {path} (removed)")
        if lines:
            self.kept = self._scan()
        return lines


def workspace() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="tinygrad-lab-grade-")


@functools.cache
def _packed(name: str) -> bytes:
    from tinygrad_lab.lab.exercises import judge

    cases = judge.reference(name)[0]
    arrays = {f"{i}|{k}": v for i, case in enumerate(cases) for k, v in case.arrays.items()}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def write_cases(path: Path, name: str) -> list[dict]:
    """Exercise ``name``'s cases' arrays into ``path`` (npz); their settings, for the request."""
    from tinygrad_lab.lab.exercises import judge

    path.write_bytes(_packed(name))
    return [case.settings for case in judge.reference(name)[0]]
