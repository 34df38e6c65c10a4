"""Graded exercises: students write the backward passes, the project grades them.

``tinygrad-lab exercises make --set ops --out DIR`` cuts a student's copy from the project's
own code (`make`, `cut`); ``tinygrad-lab exercises grade DIR`` (or ``--class FOLDER``) runs
each student's code in a child process of its own (`sandbox`, `runner`), compares its raw
outputs with the project's own here (`judge`) and writes the grades (`report`). The catalog of
exercises, their points, prerequisites and known mistakes is `catalog`. See docs/exercises.md.
"""

from tinygrad_lab.lab.exercises.command import add_arguments, command

__all__ = ["add_arguments", "command"]
