"""The README documents the command line exactly (issue 8, item 6), the way
sqlite-utils tests its CLI reference: every command and every option that
`--help` shows is in the README, and every command and option the README
names exists."""

from __future__ import annotations

import re

import click
import pytest

from conftest import ROOT
from planner.cli import cli

# the README and the docs/ pages it points to (the README is being cut down, issue 16's docs move;
# the mail and calendar services are documented in docs/mail-and-calendars.md, issue 19)
README = "\n".join(path.read_text(encoding="utf-8")
                   for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
GENERIC = {"--help", "--version"}  # click's own, on every command
# commands that have their own issues and are being built on other branches:
# the README may name them before they are merged (but every command the CLI
# has must be documented all the same)
PENDING = {"replies", "serve"} - set(cli.commands)


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
        out.append(text)
    return out


# `--name`, also inside a longer span such as `--time-limit SECONDS` or `--starttls/--no-starttls`
DOCUMENTED_OPTIONS = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", "\n".join(snippets())))
DOCUMENTED_COMMANDS = set(re.findall(r"\bplanner ([a-z][a-z-]*)", "\n".join(snippets())))


def commands() -> dict[str, click.Command]:
    return dict(sorted(cli.commands.items()))


def option_names(command: click.Command) -> set[str]:
    names = set()
    for param in command.params:
        if isinstance(param, click.Option):
            names |= {n for n in (*param.opts, *param.secondary_opts) if n.startswith("--")}
    return names


@pytest.mark.parametrize("name", list(commands()))
def test_every_command_is_documented(name):
    assert name in DOCUMENTED_COMMANDS, f"`planner {name}` is not in README.md's command table"


@pytest.mark.parametrize("name", list(commands()))
def test_every_option_is_documented(name):
    missing = sorted(option_names(commands()[name]) - DOCUMENTED_OPTIONS - GENERIC)
    assert not missing, f"options of `planner {name}` not in README.md: {', '.join(missing)}"


def test_every_documented_command_exists():
    assert DOCUMENTED_COMMANDS, "no `planner COMMAND` found in README.md"
    assert DOCUMENTED_COMMANDS <= set(commands()), sorted(DOCUMENTED_COMMANDS - set(commands()))


def test_every_documented_option_exists():
    known = set().union(*(option_names(c) for c in commands().values())) | option_names(cli) | GENERIC
    assert DOCUMENTED_OPTIONS <= known, f"README.md names options no command has: {sorted(DOCUMENTED_OPTIONS - known)}"


def test_every_help_text_lists_what_the_readme_says(tmp_path):
    """`planner COMMAND --help` really shows each option (nothing hidden)."""
    from click.testing import CliRunner

    for name, command in commands().items():
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        for option in option_names(command):
            assert option in result.output, f"{option} missing from `planner {name} --help`"
