"""The lab's shape (issue 30): at most 8 modules at its top level, one subpackage per feature,
each with a command; no module over 400 lines; the paths modules had before still import
them."""

import importlib
from pathlib import Path

import pytest

import tinygrad_lab.lab as lab

LAB = Path(lab.__file__).parent
FEATURES = ("stress", "studies", "digits", "audit", "explorer")


def test_at_most_8_modules_at_the_top_level():
    modules = sorted(p.name for p in LAB.glob("*.py"))
    assert len(modules) <= 8, modules


def test_one_subpackage_per_feature_each_with_its_command():
    for feature in FEATURES:
        assert (LAB / feature / "__init__.py").is_file(), feature
        assert (LAB / feature / "command.py").is_file(), feature


def test_no_module_of_the_lab_is_over_400_lines():
    long = {
        str(p.relative_to(LAB)): n
        for p in LAB.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


@pytest.mark.parametrize(("old", "new"), sorted(lab.MOVED.items()))
def test_a_moved_module_imports_by_its_old_path_as_itself(old, new):
    moved = importlib.import_module(f"tinygrad_lab.lab.{old}")
    assert moved is importlib.import_module(f"tinygrad_lab.lab.{new}")
    assert moved.__spec__.name == f"tinygrad_lab.lab.{new}"


def test_the_old_paths_the_readme_and_notebook_import_from():
    from tinygrad_lab.lab.analysis import affine_fold
    from tinygrad_lab.lab.compute import compute_lab
    from tinygrad_lab.lab.part_a import run_stress_test
    from tinygrad_lab.lab.study_report import finding
    from tinygrad_lab.lab.sweep import parse_seeds, run_many

    from tinygrad_lab.lab.stress.analysis import affine_fold as fold
    from tinygrad_lab.lab.stress.compute import compute_lab as compute
    from tinygrad_lab.lab.stress.part_a import run_stress_test as stress
    from tinygrad_lab.lab.studies.findings import finding as find

    assert (affine_fold, compute_lab, run_stress_test, finding) == (fold, compute, stress, find)
    assert parse_seeds("0-2") == [0, 1, 2] and callable(run_many)


def test_an_unknown_old_path_is_still_an_import_error():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("tinygrad_lab.lab.no_such_module")
