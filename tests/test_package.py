"""The package: its version lives in one place (tinygrad_lab.__version__, which setup.cfg reads),
the command reports it, and every file of the package that is not Python is package data, so
the wheel carries it (.ci/run builds the wheel, checks it with twine and runs it in a clean
venv)."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import tinygrad_lab

ROOT = Path(__file__).resolve().parent.parent


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def test_the_version_lives_in_one_place():
    assert setup_cfg()["metadata"]["version"] == "attr: tinygrad_lab.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", tinygrad_lab.__version__)
    assert "0.1.0" not in (ROOT / "pyproject.toml").read_text()  # no second copy


def test_the_command_reports_the_version():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_lab", "--version"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and done.stdout == f"tinygrad-lab {tinygrad_lab.__version__}\n"


def test_every_file_of_the_package_that_is_not_python_is_package_data():
    package = ROOT / "tinygrad_lab"
    on_disk = {
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }
    declared = set()
    for name, files in setup_cfg()["options.package_data"].items():
        folder = name.removeprefix("tinygrad_lab").lstrip(".").replace(".", "/")
        declared |= {f"{folder}/{f.strip()}".lstrip("/") for f in files.split(",") if f.strip()}
    assert on_disk == declared
