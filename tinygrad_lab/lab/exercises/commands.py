"""``tinygrad-lab exercises make|grade``: its options and its run. A usage error (an unknown
set, no submission, a folder that is not new) is a ValueError: one line and exit status 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tinygrad_lab.lab import options
from tinygrad_lab.lab.exercises import grade, report, sandbox
from tinygrad_lab.lab.exercises.catalog import BY_NAME, SETS, choose

SET_HELP = (
    f"a set ({', '.join(SETS)}, all) or a comma list of sets and exercises ({', '.join(BY_NAME)})"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``exercises`` command's options (the CLI adds the subcommand, this its own)."""
    sub = parser.add_subparsers(dest="exercises_command", required=True, metavar="make|grade")
    make = sub.add_parser("make", help="write a student's copy of a set of exercises")
    make.add_argument("--set", required=True, dest="exercise_set", metavar="SET", help=SET_HELP)
    options.add_out(make, "a new folder", required=True)
    grading = sub.add_parser("grade", help="grade a submission or a class folder")
    grading.add_argument(
        "submission", nargs="?", type=Path, metavar="DIR", help="one student's folder"
    )
    grading.add_argument(
        "--class",
        dest="class_folder",
        type=Path,
        metavar="FOLDER",
        help="a folder of students' folders",
    )
    options.add_out(grading, "write <student>.md, grades.csv and grades.json here")
    grading.add_argument(
        "--set",
        dest="exercise_set",
        metavar="SET",
        help=SET_HELP + " (default: each copy's exercises.json)",
    )
    grading.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="one exercise's time limit (default 60)",
    )
    options.add_no_progress(grading)
    options.add_json(grading, "print the grades as JSON")


def command(args: argparse.Namespace) -> int:
    if args.exercises_command == "make":
        made = make_command(args)
        print(f"wrote {len(made)} files to {args.out} ({args.exercise_set})")
        return 0
    return grade_command(args)


def make_command(args: argparse.Namespace) -> list[Path]:
    from tinygrad_lab.lab.exercises.make import make_copy

    return make_copy(choose(args.exercise_set), args.out)


def _folders(args: argparse.Namespace) -> list[Path]:
    if (args.submission is None) == (args.class_folder is None):
        raise ValueError("exercises grade: give one submission folder DIR or --class FOLDER")
    if args.submission is not None:
        if not args.submission.is_dir():
            raise ValueError(f"exercises grade: {args.submission} is not a folder")
        return [args.submission]
    if not args.class_folder.is_dir():
        raise ValueError(f"exercises grade: --class {args.class_folder} is not a folder")
    folders = sorted(p for p in args.class_folder.iterdir() if p.is_dir())
    if not folders:
        raise ValueError(f"exercises grade: --class {args.class_folder} holds no student folder")
    return folders


def grade_command(args: argparse.Namespace) -> int:
    folders = _folders(args)
    if args.timeout <= 0:
        raise ValueError(f"exercises grade: --timeout must be > 0, got {args.timeout}")
    exercises = choose(args.exercise_set) if args.exercise_set else None
    if exercises is None:
        for folder in folders:  # every copy readable before any grading
            grade.manifest_exercises(folder)
    limits = sandbox.Limits(exercise_seconds=args.timeout, case_seconds=min(10.0, args.timeout))
    progress = args.class_folder is not None and not args.no_progress
    results = grade.grade_class(folders, exercises, limits, args.class_folder, progress)
    if args.out is not None:
        write_grades(results, args.out)
    if args.json:
        print(json.dumps(report.as_json(results), indent=1))
    elif args.class_folder is None:
        print(report.markdown(results[0]))
    else:
        sys.stdout.write(report.grades_csv(results))
    return 0


def write_grades(results: list[grade.StudentResult], out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            (out / f"{result.student}.md").write_text(report.markdown(result))
        (out / "grades.csv").write_text(report.grades_csv(results))
        (out / "grades.json").write_text(json.dumps(report.as_json(results), indent=1) + "\n")
    except OSError as err:
        raise ValueError(f"exercises grade: cannot write to {out}: {err.strerror}") from None
