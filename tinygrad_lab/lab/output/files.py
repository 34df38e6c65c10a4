"""Every file the lab writes goes through `OutputFiles`, the one place files are written.

Each file is staged under a temporary name in its own folder and renamed into place only when
every file of the command is staged, so a failure (a full disk, a read-only file, Ctrl-C)
leaves no partial file: only the files as they were before. A folder is made only when a file
goes into it, and removed again if the command's files are discarded.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Content = str | bytes | Callable[[BinaryIO], object]  # text, bytes, or a writer of a file

_names = itertools.count()


class OutputError(Exception):
    """A file or folder that cannot be written: one line for the user."""


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def check_out(out: Path) -> None:
    """Before any work: ``out`` is a folder that can be written, or one that can be made,
    without making it (`OutputFiles` makes it when there is something to put in it)."""
    if not str(out):
        raise OutputError("--out needs a folder name, got ''")
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot write to --out {out}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to --out {out}: {existing} is not writable")


class OutputFiles:
    """Files staged to be written together. Use as a context manager: on a clean exit every
    staged file is renamed into place (``written`` lists them); on an exception, Ctrl-C
    included, every staged file and every folder made for them is removed."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temporary, final)
        self._made: list[Path] = []  # folders made for the files, outermost first
        self.written: list[Path] = []

    def write(self, path: Path, content: Content) -> Path:
        """Stage ``content`` for ``path`` (text is UTF-8). An OSError is an `OutputError`
        naming the file."""
        path = Path(path)
        try:
            self._make_folder(path.parent)
            temporary = path.with_name(f".{path.name}.{os.getpid()}-{next(_names)}.tmp")
            # os.open with mode 0o666 leaves the mode to the umask, as a plain open() would
            handle = os.fdopen(
                os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb"
            )
            self._staged.append((temporary, path))
            with handle:
                if callable(content):
                    content(handle)
                else:
                    handle.write(content.encode() if isinstance(content, str) else content)
        except OSError as err:
            raise OutputError(f"cannot write {path}: {_reason(err)}") from None
        return path

    def _make_folder(self, folder: Path) -> None:
        missing = [p for p in [folder, *folder.parents] if not p.exists()]
        for made in reversed(missing):  # outermost first
            made.mkdir()
            self._made.append(made)

    def commit(self) -> list[Path]:
        """Rename every staged file into place. What would stop a rename (an existing
        read-only file, which is not replaced, or a folder of the file's name) is checked for
        all before any is renamed, so the folder is left as it was."""
        for _, final in self._staged:
            if final.is_dir():
                raise OutputError(f"cannot write {final}: it is a folder")
            if final.exists() and not final.stat().st_mode & stat.S_IWUSR:
                raise OutputError(f"cannot write {final}: the existing file is read-only")
        for temporary, final in self._staged:
            try:
                os.replace(temporary, final)
            except OSError as err:
                raise OutputError(f"cannot write {final}: {_reason(err)}") from None
            self.written.append(final)
        self._staged.clear()
        return self.written

    def discard(self) -> None:
        """Remove every staged file, and the folders made for them."""
        for temporary, _ in self._staged:
            temporary.unlink(missing_ok=True)
        self._staged.clear()
        for folder in reversed(self._made):  # innermost first; only folders left empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._made.clear()

    def __enter__(self) -> OutputFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            try:
                self.commit()
                return
            except BaseException:
                self.discard()
                raise
        self.discard()
