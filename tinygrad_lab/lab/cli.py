"""The ``tinygrad-lab`` command (also ``python -m tinygrad_lab``): the one table of the lab's
commands (`COMMANDS`), each with its help, its options and what it runs.

Every user error (a bad roll number, epochs, seed range, roster, option, output folder,
missing matplotlib or scheduler) is one line on stderr and exit status 2, before any training;
a file that cannot be written is one line and exit 2 too, with nothing half-written
(`lab.output.files`). Ctrl-C is one line and exit 130; a closed stdout (``| head``) exits 141
quietly.

A new command is one entry of `COMMANDS`: its help, the functions that add its options (the
shared ones are in `lab.options`), and its ``run(args) -> exit status``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tinygrad_lab import __version__
from tinygrad_lab.lab import exercises
from tinygrad_lab.lab.audit import command as audit
from tinygrad_lab.lab.digits import command as digits
from tinygrad_lab.lab.explorer import command as explorer
from tinygrad_lab.lab.options import Parser, UsageError
from tinygrad_lab.lab.roster import notes_on_stderr
from tinygrad_lab.lab.rules import RollNumberError
from tinygrad_lab.lab.stress import command as stress
from tinygrad_lab.lab.studies import command as studies

Options = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    """A command: its help, the functions that add its options, what it runs (with the parsed
    options; its exit status), and the values of options it does not take that ``run`` reads."""

    help: str
    options: tuple[Options, ...]
    run: Callable[[argparse.Namespace], int]
    defaults: dict[str, Any] = field(default_factory=dict)


_STRESS = (stress.who, stress.rules, stress.output)
_TRAINED = (*_STRESS, stress.training, stress.running)

COMMANDS = {
    "spec": Command(
        "the roll-number configuration table",
        (*_STRESS, stress.against),
        stress.spec,
        stress.DEFAULTS,
    ),
    "stress-test": Command(
        "Part A (and Q2)", (*_TRAINED, stress.plots), stress.run, stress.DEFAULTS
    ),
    "part-b": Command("Part B", (stress.who, stress.output), stress.run, stress.DEFAULTS),
    "lab": Command(
        "the whole lab: Part A, Q2, Part B",
        (*_TRAINED, stress.plots),
        stress.run,
        stress.DEFAULTS,
    ),
    "check": Command(
        "train the lab network and check autograd against the notebook's matrix-form "
        "backprop at every epoch (exit 1 if not)",
        _TRAINED,
        stress.check,
        stress.DEFAULTS,
    ),
    "graph": Command(
        "draw the lab network's computation graph", (stress.graph_options,), stress.graph
    ),
    "explore": Command(
        "step through the lab network's backward in the browser (one HTML page)",
        (explorer.add_arguments,),
        explorer.run,
    ),
    "digits": Command("train a CNN on handwritten digits", (digits.add_arguments,), digits.run),
    "study": Command(
        "a lab question over many seeds: depth, init, lr; time (RNNs)",
        (studies.add_arguments,),
        studies.run,
    ),
    "audit": Command(
        "check a class's submissions against the rules and seeds",
        (audit.add_arguments,),
        audit.run,
    ),
    "exercises": Command(
        "students write backward passes: make their copy, grade it",
        (exercises.add_arguments,),
        exercises.command,
    ),
}


def parser() -> argparse.ArgumentParser:
    """The whole command line: one subcommand a `COMMANDS` entry."""
    top = Parser(
        prog="tinygrad-lab",
        description="Run the course lab (Lab 6: deep network structural stress test) with "
        "tinygrad_lab, for one roll number, many seeds, or a whole class.",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        one = sub.add_parser(name, help=command.help)
        for add in command.options:
            add(one)
        # defaults of options this command does not take (set before ``run``: a value of the
        # command's own option is never replaced, as its own default is applied first)
        one.set_defaults(**{k: v for k, v in command.defaults.items() if not _takes(one, k)})
        one.set_defaults(_run=command.run)  # not `run`: explore has a --run
    return top


def _takes(parser: argparse.ArgumentParser, dest: str) -> bool:
    return any(action.dest == dest for action in parser._actions)


INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C
BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports `yes | head`'s yes


def main(argv: list[str] | None = None) -> int:
    try:
        with notes_on_stderr():  # a seed given twice in --seeds: a note
            args = parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2, already printed)
        return int(exit_.code or 0)
    from tinygrad_lab.lab.output.files import OutputError

    try:
        return args._run(args)
    except (UsageError, OutputError, RollNumberError, ValueError, ImportError) as err:
        print(f"tinygrad-lab: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a pool is stopped and staged files removed on the way here
        print("tinygrad-lab: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # stdout closed early (| head): the files are already written
        _silence_stdout()
        return BROKEN_PIPE


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail on the closed
    pipe again (and print a traceback after all)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (stdout replaced, as in tests)
        pass
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
