"""Graded exercises: students write the backward passes, the project grades them.

``tinygrad-lab exercises make --set ops --out DIR`` cuts a student's copy from the project's
own code (`make`, `cut`); ``tinygrad-lab exercises grade DIR`` (or ``--class FOLDER``) runs
each student's code in a child process of its own (`sandbox`, `runner`), compares its raw
outputs with the project's own here (`judge`) and writes the grades (`report`). The catalog of
exercises, their points, prerequisites and known mistakes is `catalog`. See docs/exercises.md.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``exercises`` command's options (`commands.add_arguments`)."""
    from tinygrad_lab.lab.exercises.commands import add_arguments as add

    add(parser)


def command(args: argparse.Namespace) -> int:
    """Run ``exercises make`` or ``exercises grade`` (`commands.command`). The grader's modules
    load here, never in a student's process (which imports only what runs the code)."""
    from tinygrad_lab.lab.exercises.commands import command as run

    return run(args)


__all__ = ["add_arguments", "command"]
