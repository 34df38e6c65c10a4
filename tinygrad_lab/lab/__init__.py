"""The course lab, one subpackage per feature: `stress` (Part A, Q2, Part B), `studies`,
`sequences` (the time study), `digits`, `audit`, `explorer`, `exercises`; shared by them:
`rules`, `roster`, `options` (every option's parser), `pool` (many runs at once), `output`
(files, plots, tables) and `cli` (the command).

The lab's modules used to sit at this level (``tinygrad_lab.lab.part_a``, ...). Those paths,
which the README, the notebook and older scripts import, still work: each is the moved module
itself, imported on first use (`MOVED`)."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType

# old path (below tinygrad_lab.lab) -> where the module lives now
MOVED = {
    "analysis": "stress.analysis",
    "check": "stress.check",
    "compute": "stress.compute",
    "curvature": "stress.curvature",
    "graph": "stress.graph",
    "network": "stress.network",
    "outputs": "stress.outputs",
    "part_a": "stress.part_a",
    "part_b": "stress.part_b",
    "plots": "stress.plots",
    "report": "stress.report",
    "spec_against": "stress.spec_against",
    "sweep": "stress.sweep",
    "files": "output.files",
    "seed_axis": "studies.seed_axis",
    "study": "studies.compute",
    "study_cli": "studies.command",
    "study_plots": "studies.plots",
    "study_report": "studies.report",
    "explore": "explorer.explore",
    "audit.cli": "audit.command",
    "audit.class_plot": "audit.plots",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old path as the module at its new one (the same module object, so a
    monkeypatch or an isinstance check through either name sees the same thing)."""

    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        old = name.removeprefix(__name__ + ".")
        if old == name or old not in MOVED:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        old = spec.name.removeprefix(__name__ + ".")
        return importlib.import_module(f"{__name__}.{MOVED[old]}")

    def exec_module(self, module: ModuleType) -> None:
        # importing set the alias's spec on the module: give it back its own
        module.__spec__ = importlib.util.spec_from_file_location(module.__name__, module.__file__)


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())
