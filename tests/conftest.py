"""Shared fixtures: the embedded example, fresh workspaces, and a second reader."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xlplan
from tests.office import Office, office_session
from xlplan.demo.respond import fill_response
from xlplan.examples import Example, load_example
from xlplan.workspace.folder import Workspace, init_workspace


@pytest.fixture(scope="session")
def example() -> Example:
    """The ogi example: plan and the departments' 令和2年度 answers."""
    return load_example("ogi")


@pytest.fixture
def workspace(tmp_path: Path, example: Example) -> Workspace:
    """A fresh workspace made from the ogi example."""
    return init_workspace(tmp_path / "ws", example.plan)


@pytest.fixture(autouse=True)
def _japanese_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests assert Japanese messages unless they ask for English themselves.
    monkeypatch.delenv("XLPLAN_LANG", raising=False)


def calamine_rows(path: Path, sheet: str) -> list[list[Any]]:
    """All rows of ``sheet`` read by python-calamine: the second reader, independent of openpyxl."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    rows: list[list[Any]] = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return rows


def soffice_path() -> str | None:
    """The LibreOffice binary, or None where it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture
def soffice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(binary, private profile dir) for LibreOffice headless; skips where LibreOffice is absent."""
    binary = soffice_path()
    if binary is None:
        pytest.skip("LibreOffice (soffice) is not installed; .ci/run installs it")
    yield binary, tmp_path_factory.mktemp("lo-profile")


def convert_with_soffice(binary: str, profile: Path, source: Path, target_format: str, outdir: Path) -> Path:
    """Convert ``source`` with LibreOffice headless; returns the output path. Raises on failure."""
    outdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(profile)}
    subprocess.run(
        [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            target_format,
            "--outdir",
            str(outdir),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    produced = outdir / (source.stem + "." + target_format.split(":")[0])
    if not produced.exists():
        raise FileNotFoundError(produced)
    return produced


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("XLPLAN_REQUIRE_BROWSER"):
    raise RuntimeError("chromium is required here (XLPLAN_REQUIRE_BROWSER) but is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright, for the pages xlplan serves and publishes."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    # As root, and with no way out of this closed network: no sandbox, no background connections.
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """LibreOffice headless driven through UNO, for departments that type into their workbooks.

    One per test module: a LibreOffice 7.4 kept for the whole session was seen to abort after a
    few hundred jobs; a fresh one per module costs a few seconds and keeps modules independent."""
    yield from office_session(tmp_path_factory.mktemp("office-profile"))


def fill_and_collect(workspace: Workspace, example: Example, *, only: set[str] | None = None) -> None:
    """Every department (or ``only`` these) answers the current round with the example's answers."""
    result = xlplan.distribute(workspace)
    plan = workspace.load_plan()
    for dispatch in result.departments:
        if dispatch.workbook is None or (only is not None and dispatch.department not in only):
            continue
        answers = [
            a for a in example.answers if plan.canonical_department(a.department) == dispatch.department
        ]
        fill_response(dispatch.workbook, answers, workspace.inbox / dispatch.workbook.name)
    xlplan.collect(workspace)


@contextlib.contextmanager
def run_lock_held_elsewhere(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For the block, another process holds the workspace's run lock, as a collection does while it
    checks files; the waits for it are shortened to 0.3 s (and restored after)."""
    from xlplan.workspace import lock

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from xlplan.workspace.folder import Workspace\nfrom xlplan.workspace.lock import run_lock\n"
         "with run_lock(Workspace(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)",
         str(workspace.root)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with monkeypatch.context() as patched:
            patched.setattr(lock, "LOCK_TIMEOUT", 0.3)
            yield
    finally:
        holder.kill()
        holder.wait()
