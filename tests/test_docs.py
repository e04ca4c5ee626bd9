"""The docs and the package keep their promises: help for every command, a page for every command,
the README's quick start run by CI, and no xlwings on a headless import."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from xlplan.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{prefix} {name}".strip())
        if prefix and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            found[prefix] = parser

    walk(build_parser(), "")
    return found


def test_every_command_has_help_and_an_example() -> None:
    commands = _commands()
    assert {"init", "demo", "plan show", "distribute", "collect", "validate", "status", "consolidate"} <= set(
        commands
    )
    for name, parser in commands.items():
        assert parser.description and len(parser.description) > 10, name


def test_every_command_is_documented() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in _commands():
        assert f"## xlplan {name}" in page, name
        assert f"xlplan {name}" in readme, name


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## クイックスタート", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```\n(.*?)\n```", section, flags=re.S)
    assert blocks == ["pip install . && xlplan demo", 'pip install ".[test]" && pytest']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"TEST_COMMAND='{blocks[1]}'" in ci


def test_docs_links_resolve() -> None:
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+\.md)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_import_does_not_load_xlwings() -> None:
    code = "import sys, xlplan, xlplan.cli, xlplan.workspace.master; print('xlwings' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
