"""The docs document the command line exactly (issue 8, item 6), the way
sqlite-utils tests its CLI reference: every command and every option that
`--help` shows is described by hand in README.md or docs/*.md, and every
command and option they name exists. docs/commands.md's reference part is
generated from `--help` itself (`python -m planner.cli_docs`, or `make docs`),
and a test fails while it differs."""

from __future__ import annotations

import re

import click
import pytest

from conftest import ROOT
from planner import cli_docs
from planner.cli import cli

# hand-written text only: the generated reference would document everything by itself
HAND_WRITTEN = {path: path.read_text(encoding="utf-8") for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]}
COMMANDS_MD = HAND_WRITTEN.get(ROOT / "docs" / "commands.md", "")
if cli_docs.START in COMMANDS_MD:
    HAND_WRITTEN[ROOT / "docs" / "commands.md"] = (COMMANDS_MD[:COMMANDS_MD.index(cli_docs.START)]
                                                   + COMMANDS_MD[COMMANDS_MD.index(cli_docs.END):])
README = "\n".join(HAND_WRITTEN.values())
GENERIC = {"--help", "--version"}  # click's own, on every command
# commands that have their own issues and are being built on other branches:
# the docs may name them before they are merged (but every command the CLI
# has must be documented all the same)
PENDING = {"replies", "serve", "availability", "login", "logout"} - set(cli.commands)


def option_names(command: click.Command) -> set[str]:
    names = set()
    for param in command.params:
        if isinstance(param, click.Option):
            names |= {n for n in (*param.opts, *param.secondary_opts) if n.startswith("--")}
    return names


def snippets() -> list[str]:
    """Inline code spans, and the command lines of fenced blocks, that are
    about `planner` (not `python benchmarks/run.py --quick`, not a pending command)."""
    spans = re.findall(r"`([^`\n]+)`", README)
    spans += [line for line in re.findall(r"^```[a-z]*\n(.*?)^```", README, flags=re.S | re.M)
              for line in line.splitlines() if re.search(r"\bplanner [a-z]", line)]
    out = []
    for span in spans:
        text = span.strip()
        if re.match(r"(python|make|pip|\.venv/bin/python)\b", text):
            continue
        command = re.search(r"\bplanner ([a-z][a-z-]*)", text)
        if command and command.group(1) in PENDING:
            continue
        if "--via" in text and not any("--via" in option_names(c) for c in cli.commands.values()):
            continue  # contract 1.2's --via (issue 19), being built on another branch
        out.append(text)
    return out


# `--name`, also inside a longer span such as `--time-limit SECONDS` or `--starttls/--no-starttls`
DOCUMENTED_OPTIONS = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", "\n".join(snippets())))
DOCUMENTED_COMMANDS = set(re.findall(r"\bplanner ([a-z][a-z-]*)", "\n".join(snippets())))


def commands() -> dict[str, click.Command]:
    return dict(sorted(cli.commands.items()))


@pytest.mark.parametrize("name", list(commands()))
def test_every_command_is_documented(name):
    assert name in DOCUMENTED_COMMANDS, f"`planner {name}` is not in README.md's command table nor in docs/"


@pytest.mark.parametrize("name", list(commands()))
def test_every_option_is_documented(name):
    missing = sorted(option_names(commands()[name]) - DOCUMENTED_OPTIONS - GENERIC)
    assert not missing, f"options of `planner {name}` not in README.md nor docs/*.md: {', '.join(missing)}"


def test_every_documented_command_exists():
    assert DOCUMENTED_COMMANDS, "no `planner COMMAND` found in README.md or docs/"
    assert DOCUMENTED_COMMANDS <= set(commands()), sorted(DOCUMENTED_COMMANDS - set(commands()))


def test_every_documented_option_exists():
    known = set().union(*(option_names(c) for c in commands().values())) | option_names(cli) | GENERIC
    assert DOCUMENTED_OPTIONS <= known, f"the docs name options no command has: {sorted(DOCUMENTED_OPTIONS - known)}"


def test_every_help_text_lists_what_the_readme_says(tmp_path):
    """`planner COMMAND --help` really shows each option (nothing hidden)."""
    from click.testing import CliRunner

    for name, command in commands().items():
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        for option in option_names(command):
            assert option in result.output, f"{option} missing from `planner {name} --help`"


def test_the_command_reference_is_the_help():
    """docs/commands.md holds every command's --help as the program prints it."""
    text = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert cli_docs.block() in text, \
        "docs/commands.md differs from the commands' --help: run .venv/bin/python -m planner.cli_docs (or make docs)"


def test_the_command_reference_names_every_command():
    """The generator itself: one section per command, each with its usage line."""
    text = cli_docs.block()
    for name in cli.commands:
        assert f"### `planner {name}`" in text and f"Usage: planner {name} " in text, name
