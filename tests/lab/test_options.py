"""Every option of every command and the function that parses it: one option, one parser
(`tinygrad_lab.lab.options`), whichever command takes it."""

import argparse
from pathlib import Path

import pytest

from tinygrad_lab.lab import options
from tinygrad_lab.lab.cli import COMMANDS, parser


def parser_name(parse: object) -> str | None:
    """The function (or class) that parses an option's value: a closure by the function that
    made it (every `whole_number(...)` is `whole_number`), None for a flag or a choice."""
    if parse is None:
        return None
    return f"{parse.__module__}.{parse.__qualname__.replace('.<locals>.parse', '')}"


def parsers_by_option(top: argparse.ArgumentParser) -> dict[str, dict[str, set[str]]]:
    """option -> parser -> the commands that parse the option with it."""
    found: dict[str, dict[str, set[str]]] = {}
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    for command, one in sub.choices.items():
        parsers = [one]  # the command's, and those of its own subcommands (exercises make|grade)
        while parsers:
            current = parsers.pop()
            for action in current._actions:
                if isinstance(action, argparse._SubParsersAction):
                    parsers.extend(action.choices.values())
                name = parser_name(action.type)
                for option in action.option_strings or [action.dest]:
                    if name is not None:
                        found.setdefault(option, {}).setdefault(name, set()).add(command)
    return found


def clashes(top: argparse.ArgumentParser) -> dict[str, dict[str, set[str]]]:
    return {option: by for option, by in parsers_by_option(top).items() if len(by) > 1}


def test_every_command_is_in_the_one_table_with_its_help():
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == list(COMMANDS)
    helps = {action.dest: action.help for action in sub._choices_actions}
    assert all(helps[name] == command.help and command.help for name, command in COMMANDS.items())


def test_no_option_is_parsed_by_two_functions():
    assert clashes(parser()) == {}


def test_the_shared_options_are_parsed_by_the_options_module():
    table = parsers_by_option(parser())
    whole = "tinygrad_lab.lab.options.whole_number"
    expected = {
        "--seed": whole,
        "--epochs": whole,
        "--workers": whole,
        "--added-layers": whole,
        "--seeds": "tinygrad_lab.lab.options.seed_list",
        "--seed-range": "tinygrad_lab.lab.options.seed_range",
        "--roll": "tinygrad_lab.lab.options.roll",
        "--out": "tinygrad_lab.lab.options.out_path",
        "--rolls": "pathlib.Path",
    }
    assert {option: set(table[option]) for option in expected} == {
        option: {name} for option, name in expected.items()
    }
    # every command that writes files checks --out the one way
    writes = {c for c, command in COMMANDS.items() if c not in ("graph", "explore")}
    assert table["--out"]["tinygrad_lab.lab.options.out_path"] >= writes


def test_a_second_parser_for_an_option_is_found():
    """The check above can fail: a command parsing --seeds its own way is a clash."""
    top = parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    rogue = sub.add_parser("rogue")
    rogue.add_argument("--seeds", type=lambda text: [int(s) for s in text.split(",")])
    assert set(clashes(top)) == {"--seeds"}
    assert clashes(top)["--seeds"]["tinygrad_lab.lab.options.seed_list"] == {
        "stress-test", "lab", "check", "study"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (options.positive_int, "x", "expected a positive whole number, got 'x'"),
        (options.positive_int, "0", "must be a positive whole number, got 0"),
        (options.non_negative_int, "-2", "must be at least 0, got -2"),
        (options.non_negative_int, "1_000", "expected a whole number >= 0, got '1_000'"),
        (options.out_path, " ", "expected a folder name, got ''"),
        (options.seed_range, "1,5", "expected one range of seeds like 0-999, got '1,5'"),
        (options.roll, "12", "bad roll number '12'"),
    ],
)
def test_each_parser_names_what_it_expected(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse(text)


def test_the_parsers_return_the_value():
    assert options.positive_int(" 7 ") == 7
    assert options.seed_list("3,0-2") == (3, 0, 1, 2)
    assert options.seed_range("4-6") == (4, 6)
    assert options.out_path("d/e") == Path("d/e")
    epochs = options.whole_number(1, 10, expected="epochs")
    with pytest.raises(argparse.ArgumentTypeError, match="must be at most 10, got 11"):
        epochs("11")
    with pytest.raises(argparse.ArgumentTypeError, match="expected epochs, got '0'"):
        epochs("0")
