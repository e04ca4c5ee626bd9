"""The docs and the package keep their promises, command by command (as sqlite-utils tests its docs).

For every command: help text with an example, a section in docs/cli.md, a line in the
README, its documented example run for real, and ``--json`` printing one JSON document.
Plus: the README's quick start is what CI runs, links resolve, the public surface is honest
and a headless import never loads xlwings.
"""

from __future__ import annotations

import argparse
import json
import pkgutil
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import xlplan
from xlplan.cli import build_parser, main
from xlplan.examples import Example
from xlplan.workspace.folder import Workspace, init_workspace

ROOT = Path(__file__).resolve().parents[1]
CLI_PAGE = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


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


COMMANDS = sorted(_commands())


def _section(name: str) -> str:
    """The command's section of docs/cli.md."""
    return CLI_PAGE.split(f"## xlplan {name}\n", 1)[1].split("\n## ", 1)[0]


def _examples(name: str) -> list[str]:
    """The command lines of the command's section (``xlplan …`` lines of its code blocks)."""
    blocks = re.findall(r"```\n(.*?)\n```", _section(name), flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith(f"xlplan {name}")]


def _takes_json(name: str) -> bool:
    return any("--json" in action.option_strings for action in _commands()[name]._actions)


def test_the_commands_are_the_contract() -> None:
    # docs/cli.md's contract changes only by additions.
    assert {"init", "demo", "plan show", "distribute", "collect", "validate", "status", "remind",
            "consolidate", "excel build"} <= set(COMMANDS)  # fmt: skip


@pytest.mark.parametrize("name", COMMANDS)
def test_the_command_has_help_with_an_example(name: str) -> None:
    description = _commands()[name].description or ""
    assert len(description) > 10 and f"例: xlplan {name}" in description, description
    shown = _commands()[name].format_help()  # what -h prints: Japanese headings over Japanese texts
    assert shown.startswith("使い方: xlplan") and "オプション:" in shown, shown
    assert not {"usage:", "options:", "positional arguments:"} & set(shown.replace("\n", " ").split(" ")), (
        shown
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_the_command_has_a_page_and_a_readme_line(name: str) -> None:
    assert f"## xlplan {name}\n" in CLI_PAGE, name
    assert _examples(name), f"docs/cli.md shows no example of xlplan {name}"
    assert f"`xlplan {name}" in (ROOT / "README.md").read_text(encoding="utf-8"), name


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory, example: Example) -> Path:
    """A folder holding the docs' workspace 令和3年度, distributed, with one department's return as 回答.xlsx.

    The workspace's inbox has 文化課's answers without their manifest, collected: a return awaiting review.
    """
    import openpyxl

    from xlplan.demo.respond import fill_response
    from xlplan.form import layout

    folder = tmp_path_factory.mktemp("docs")
    workspace = init_workspace(folder / "令和3年度", example.plan)
    sent = xlplan.distribute(workspace)
    item = next(item for item in sent.departments if item.department == "文化課")
    assert item.workbook is not None
    answers = [a for a in example.answers if example.plan.canonical_department(a.department) == "文化課"]
    fill_response(item.workbook, answers, folder / "回答.xlsx")
    unsigned = openpyxl.load_workbook(folder / "回答.xlsx")
    unsigned.remove(unsigned[layout.MANIFEST_SHEET])
    unsigned.save(workspace.inbox / "回答（管理情報なし）.xlsx")
    assert xlplan.collect(workspace).count("review") == 1
    return folder


@pytest.fixture
def here(ready: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of ``ready``, the current folder for the test (the docs' examples use relative paths)."""
    folder = tmp_path / "docs"
    shutil.copytree(ready, folder)
    monkeypatch.chdir(folder)
    return folder


def _run(line: str, here: Path) -> int:
    argv = shlex.split(line)[1:]
    if argv[0] == "init" and (here / argv[1]).exists():  # the docs' workspace exists: make a second one
        argv[1] = f"{argv[1]}（例）"
    if argv[0] == "demo":
        argv.append(str(here / "デモ"))
    if argv[0] == "serve":  # the example would listen until stopped: check its settings instead
        argv.append("--check")
    if argv[0] == "rollover":  # the docs' workspace is mid-cycle: the office decides the waiting return first
        workspace = Workspace(here / "令和3年度")
        for item in xlplan.review(workspace).pending:
            xlplan.decide(workspace, item.receipt, "accept", department="文化課", by="docs")
    if argv[0] == "review" and argv[1] in ("accept", "reject"):  # the docs' number is an example
        pending = xlplan.review(Workspace(here / "令和3年度")).pending
        argv[2] = str(pending[0].receipt)
    return main(argv)


@pytest.mark.parametrize("name", COMMANDS)
def test_the_documented_example_runs(name: str, here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if name == "consolidate" and shutil.which("soffice") is None:
        pytest.skip("the example asks for a PDF: LibreOffice is not installed (.ci/run installs it)")
    for line in _examples(name):
        status = _run(line, here)
        output = capsys.readouterr()
        # 0, or 1 where the example's workspace has something to act on (an overdue department …):
        # never a usage, output or configuration error.
        assert status in (0, 1), (line, status, output.err)
        assert "Traceback" not in output.err, line


@pytest.mark.parametrize("name", [name for name in COMMANDS if _takes_json(name)])
def test_json_prints_one_document(name: str, here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = {"demo": ["demo", str(here / "デモ")], "validate": ["validate", "回答.xlsx"]}.get(
        name, name.split()
    )
    if name != "demo":
        argv += ["-w", "令和3年度"]
    if name in ("review accept", "review reject"):
        argv.append(str(xlplan.review(Workspace(here / "令和3年度")).pending[0].receipt))
    status = main([*argv, "--json"])
    out = capsys.readouterr().out
    document = json.loads(out)  # the whole of standard output is one JSON document
    assert isinstance(document, dict), name
    if status == 2:  # refused (the docs' workspace is mid-cycle for rollover): the document says why
        assert document["ok"] is False and document["exit_code"] == 2 and document["findings"], document
    else:
        assert status in (0, 1), (name, status)
    for finding in document.get("findings", []):
        assert {"code", "severity", "file", "sheet", "cell", "message", "message_en", "params"} <= set(
            finding
        )


@pytest.mark.parametrize("name", [name for name in COMMANDS if _takes_json(name)])
def test_a_usage_error_is_said_in_japanese_and_as_json(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # docs/cli.md: --json prints one document even when the command stops (exit 2), argparse's refusals too.
    given = {"validate": ["回答.xlsx"], "review accept": ["1"], "review reject": ["1"]}.get(name, [])
    assert main([*name.split(), *given, "--json", "--no-such-option"]) == 2
    output = capsys.readouterr()
    [finding] = json.loads(output.out)["findings"]
    assert finding["code"] == "usage-unrecognized" and finding["params"]["arguments"] == "--no-such-option"
    assert f"xlplan {name}: 「--no-such-option」は使えない指定です" in output.err  # the command's own words
    assert "unrecognized arguments" not in output.err


def test_usage_errors_name_what_is_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        ("review", "accept", "abc"): "RECEIPT の値「abc」を読み取れません",
        ("validate",): "次の指定が必要です: FILE",
        ("frob",): "COMMAND に「frob」は指定できません",
        ("status", "--lang"): "--lang のあとに値を書いてください",
    }
    for argv, words in cases.items():
        assert main(list(argv)) == 2, argv
        assert words in capsys.readouterr().err, argv
    assert main(["status", "--lang", "en", "--bogus"]) == 2
    assert (
        "unrecognized arguments: --bogus" in capsys.readouterr().err
    )  # English, asked for after the command


def test_the_language_may_follow_the_command(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "-w", "令和3年度", "--lang", "en"]) in (0, 1)
    assert "status of returns" in capsys.readouterr().out


def test_review_alone_lists_with_the_options_of_review_list(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", "-w", "令和3年度", "--json"]) in (0, 1)
    listed = json.loads(capsys.readouterr().out)
    assert main(["review", "list", "-w", "令和3年度", "--json"]) in (0, 1)
    assert json.loads(capsys.readouterr().out) == listed and listed["pending"]
    # Given before the subcommand, -w and --json are not undone by the subcommand's defaults: a
    # decision recorded in the current folder's ledger instead of the one named would be final.
    assert main(["review", "-w", "令和3年度", "--json", "list"]) in (0, 1)
    assert json.loads(capsys.readouterr().out) == listed
    receipt = str(listed["pending"][0]["receipt"])
    assert main(["review", "-w", "令和3年度", "--json", "reject", receipt, "--note", "テスト"]) == 0
    assert json.loads(capsys.readouterr().out)["decided"]
    assert receipt not in [str(item.receipt) for item in xlplan.review(Workspace(here / "令和3年度")).pending]


def test_options_are_not_abbreviated_and_the_last_language_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--js"]) == 2  # not taken for --json: refused as it is written
    assert "「--js」は使えない指定です" in capsys.readouterr().err
    assert main(["--lang", "en", "status", "--lang", "ja", "--bogus"]) == 2
    assert "「--bogus」は使えない指定です" in capsys.readouterr().err


def test_a_failure_of_the_system_is_one_json_document_too(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import xlplan.cli as cli

    def full(args: argparse.Namespace) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", "reports/回答状況.xlsx")

    monkeypatch.setattr(cli, "cmd_status", full)
    assert main(["status", "-w", "令和3年度", "--json"]) == 3
    output = capsys.readouterr()
    [finding] = json.loads(output.out)["findings"]
    assert finding["code"] == "environment-failed"
    assert finding["params"]["reason"] == "No space left on device"  # the system's words, kept as data
    assert "ディスクの空き容量が足りません" in finding["message"] and "No space" not in finding["message"]
    assert "ディスクの空き容量が足りません" in output.err


def test_remind_json_is_the_remind_document(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `xlplan remind --json` used to fail with "unrecognized arguments".
    assert main(["remind", "-w", "令和3年度", "--json"]) in (0, 1)
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"today", "deadline", "send", "reminders", "findings"}


def test_english_is_available_for_every_message(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "status", "-w", "令和3年度"]) in (0, 1)
    out = capsys.readouterr().out
    assert "status of returns" in out and "回答状況（" not in out


def test_exit_status_by_who_must_act(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlplan.errors import EXIT_USAGE

    assert main(["status", "-w", str(tmp_path / "none")]) == EXIT_USAGE  # not a workspace: fix the command
    assert "workspace-not-found" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["status"]) == EXIT_USAGE
    assert f"{tmp_path} は xlplan の作業フォルダではありません" in capsys.readouterr().err  # not ". は …"


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## クイックスタート", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```\n(.*?)\n```", section, flags=re.S)
    assert blocks == ["pip install . && xlplan demo", 'pip install ".[test]" && pytest']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"TEST_COMMAND='{blocks[1]}'" in ci
    assert "\nlint-imports\n" in ci  # the layers contract is checked in CI


def test_the_offline_wheelhouse_lists_every_dependency() -> None:
    # docs/excel-setup.md: the wheels for a closed network, gathered on Linux for Windows; xlplan's own
    # wheel is built --no-deps, so a dependency missing from the list fails on the office's PC.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["excel"]]
    names = {re.split(r"[<>=!~\[; ]", item, maxsplit=1)[0].lower() for item in wanted}
    page = (ROOT / "docs" / "excel-setup.md").read_text(encoding="utf-8")
    command = page.split("python -m pip download", 1)[1].split("```", 1)[0]
    listed = {word.strip('"').split("<")[0].lower() for word in command.replace("\\", " ").split()}
    assert names <= listed, names - listed
    # What only Windows needs, anywhere below them (pandas' tzdata, tqdm's colorama, xlwings' pywin32):
    # pip judges those markers on the machine that gathers the wheels, so each must be listed by name.
    assert windows_only(names) <= listed, windows_only(names) - listed


def windows_only(names: set[str]) -> set[str]:
    """The dependencies, at any depth, that a requirement marker asks for on Windows and not here."""
    from importlib import metadata

    from packaging.requirements import Requirement

    windows = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "extra": ""}
    found: set[str] = set()
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # a Windows-only package is not installed here: it was listed by name already
        for text in requires:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not marker.evaluate({"extra": ""}) and not marker.evaluate(windows):
                continue  # an extra, or another platform's
            key = requirement.name.lower()
            if marker is not None and marker.evaluate(windows) and not marker.evaluate({"extra": ""}):
                found.add(key)
            todo.append(key)
    return found


def test_docs_links_resolve() -> None:
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+\.md)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_the_package_map_names_every_package() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    packages = sorted(path.parent.name for path in (ROOT / "xlplan").glob("*/__init__.py"))
    for name in packages:
        assert f"`{name}/`" in page, name
        assert f"`{name}/`" in readme, name


def test_the_public_surface_is_what_all_lists() -> None:
    names = set(xlplan.__all__)
    assert names == {"__version__", *xlplan._EXPORTS}
    for name in xlplan.__all__:
        assert getattr(xlplan, name) is not None, name
    verbs = {"init", "distribute", "collect", "validate", "status", "remind", "consolidate"}
    assert verbs <= names and all(callable(getattr(xlplan, verb)) for verb in verbs)
    assert issubclass(xlplan.BusyError, xlplan.XlplanError) and xlplan.OutputError.exit_code == 3
    with pytest.raises(AttributeError):
        _ = xlplan.no_such_name  # type: ignore[attr-defined]


def test_no_module_of_the_package_hides_a_name_of_the_surface() -> None:
    # Importing a subpackage sets it as an attribute of xlplan: a subpackage named like a verb
    # (xlplan/rollover/ beside xlplan.rollover()) would turn that verb into a module for whoever
    # imported the subpackage first, in a fresh process as here.
    modules = {info.name for info in pkgutil.iter_modules(xlplan.__path__)}
    assert not modules & set(xlplan.__all__)
    code = (
        "import importlib, pkgutil, xlplan\n"
        "for info in pkgutil.iter_modules(xlplan.__path__):\n"
        "    if info.name not in ('__main__', 'excel', 'demo', 'serve', 'buttons'):\n"
        "        importlib.import_module('xlplan.' + info.name)\n"
        "print(all(callable(getattr(xlplan, verb)) for verb in ('rollover', 'collect', 'status', 'review')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True"]


def test_import_does_not_load_xlwings_or_the_stages() -> None:
    code = (
        "import sys, xlplan; lazy = 'xlplan.collection.run' not in sys.modules; "
        "import xlplan.cli, xlplan.excel, xlplan.workspace.master; xlplan.Workspace('.'); xlplan.collect; "
        "print('xlwings' in sys.modules, lazy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


def test_every_verb_returns_the_one_result_shape(here: Path) -> None:
    workspace = Workspace(here / "令和3年度")
    results = [
        xlplan.collect(workspace),
        xlplan.validate(workspace, [here / "回答.xlsx"]),
        xlplan.status(workspace),
        xlplan.remind(workspace),
        xlplan.consolidate(workspace),
        xlplan.distribute(workspace, only=["文化課"], resend=True),
    ]
    for result in results:
        assert isinstance(result, xlplan.Result), type(result)
        for language in ("ja", "en"):
            assert all(isinstance(line, str) for line in result.lines(language)), type(result)
            json.dumps(result.to_dict(language), ensure_ascii=False)
        assert isinstance(result.ok, bool)


def test_no_module_is_over_six_hundred_lines() -> None:
    # One job per module: the message catalogue aside, a module over 600 lines holds more than one.
    long = {
        str(path.relative_to(ROOT)): count
        for path in (ROOT / "xlplan").rglob("*.py")
        if path.name != "catalogue.py" and (count := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}
