"""Saving and loading a state dict (``{name: array}``) as one ``.npz`` file: ``tl.save`` and
``tl.load``, as ``torch.save`` and ``torch.load`` are used for a model's ``state_dict()``.

    tl.save(model.state_dict(), "model.npz")
    model.load_state_dict(tl.load("model.npz"))   # checks every key and shape first
"""

from __future__ import annotations

import os
import secrets
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_lab.tensor import Tensor


def save(state_dict: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write every ``name: array`` (or Tensor) of ``state_dict`` to ``path``, exactly that file.

    The write is atomic: a temporary file beside ``path`` is written, then renamed over it, so
    an interrupted save never leaves a half-written file, and an existing one stays as it was.
    """
    arrays = _arrays(state_dict)
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: a new file of our own; mode 0o666 less the umask, as open(path, "w") would give
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            _write_npz(handle, arrays)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it the file
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write(handle: Any, state_dict: Mapping[str, Any]) -> None:
    """What `save` writes, into an open binary file (for writers that stage their files)."""
    _write_npz(handle, _arrays(state_dict))


def _arrays(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"save: every key must be a non-empty string, got {name!r}")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"save: {name} holds {array.dtype} values; expected numbers")
        arrays[name] = array
    return arrays


def _write_npz(handle: Any, arrays: dict[str, np.ndarray]) -> None:
    """What ``np.savez`` writes (one ``name.npy`` member an array), without its keyword
    arguments, which a key such as ``file`` would collide with."""
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The ``{name: array}`` that `save` wrote to ``path`` (arrays only: nothing is unpickled)."""
    if not zipfile.is_zipfile(path):
        if not os.path.exists(path):
            raise FileNotFoundError(f"load: no such file: {path}")
        raise ValueError(f"load: {path} is not an .npz file (tl.save writes one)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as err:  # an .npz holding pickled objects, which is not ours
        raise ValueError(f"load: {path} is not a state dict saved by tl.save ({err})") from None
