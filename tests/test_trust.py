"""No department answers for another: a return is accepted only with proof or by the office's recorded decision.

Each test plays one of the forgeries found when xlplan was tried adversarially, through the
real distribution, a second writer (openpyxl) for the departments, intake, the forked
readers and the ledger, and checks that the forged file is never accepted by itself, never
supersedes a signed return, and never makes a 差し戻し票 for the department it names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import sqlite3
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlplan
from tests.conftest import run_lock_held_elsewhere
from xlplan.cli import main
from xlplan.collection.results import FileOutcome
from xlplan.demo.respond import fill_response
from xlplan.examples import Example
from xlplan.form import layout, manifest
from xlplan.workspace import ledger
from xlplan.workspace.folder import Workspace

A = "文化課"  # the department that forges
B = "総務課"  # the department forged for


@pytest.fixture
def sent(workspace: Workspace) -> dict[str, Path]:
    result = xlplan.distribute(workspace)
    return {item.department: item.workbook for item in result.departments if item.workbook is not None}


def _fill(
    example: Example, sent: dict[str, Path], department: str, target: Path, *, narrative: str | None = None
) -> Path:
    answers = [a for a in example.answers if example.plan.canonical_department(a.department) == department]
    if narrative is not None:
        answers = [replace(a, narrative=narrative) for a in answers]
    fill_response(sent[department], answers, target)
    return target


def _without_manifest(path: Path) -> None:
    book = openpyxl.load_workbook(path)
    book.remove(book[layout.MANIFEST_SHEET])
    book.save(path)


def _accepted_narratives(workspace: Workspace, department: str) -> set[str | None]:
    plan = workspace.load_plan()
    return {
        a.narrative
        for a in workspace.accepted_answers(plan)
        if plan.canonical_department(a.department) == department
    }


def _statuses(workspace: Workspace) -> list[tuple[str, str | None]]:
    with sqlite3.connect(workspace.ledger_path) as connection:
        return [
            tuple(row) for row in connection.execute("SELECT status, department FROM receipts ORDER BY id")
        ]


def test_a_return_without_its_manifest_is_never_accepted_nor_supersedes(
    workspace: Workspace, example: Example, sent: dict[str, Path], tmp_path: Path
) -> None:
    _fill(example, sent, B, workspace.inbox / "1-総務課.xlsx", narrative="総務課の本当の回答")
    assert xlplan.collect(workspace).count("accepted") == 1
    # A takes B's workbook (its row ids and project numbers are in plain view), deletes the
    # hidden sheet and answers for B.
    forged = _fill(example, sent, B, tmp_path / "forged.xlsx", narrative="文化課が書いた偽の回答")
    _without_manifest(forged)
    forged.rename(workspace.inbox / "2-総務課.xlsx")
    result = xlplan.collect(workspace)
    [item] = result.files
    assert item.outcome == "review" and item.department == B and not result.feedback
    assert _accepted_narratives(workspace, B) == {"総務課の本当の回答"}  # B's signed return stands
    report = xlplan.status(workspace)
    assert [review["receipt"] for review in report.reviews] == [item.receipt_id] and not report.ok


def test_the_office_decides_and_the_decision_is_recorded(
    workspace: Workspace, example: Example, sent: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pasted = _fill(example, sent, B, workspace.inbox / "総務課.xlsx", narrative="管理情報のない回答")
    _without_manifest(pasted)
    [item] = xlplan.collect(workspace).files
    assert _accepted_narratives(workspace, B) == set()
    assert main(["review", "list", "-w", str(workspace.root)]) == 1
    assert f"受付番号 {item.receipt_id}" in capsys.readouterr().out
    assert main(["review", "accept", str(item.receipt_id), "-w", str(workspace.root), "--by", "企画 太郎",
                 "--note", "電話で確認"]) == 0  # fmt: skip
    assert _accepted_narratives(workspace, B) == {"管理情報のない回答"}
    with sqlite3.connect(workspace.ledger_path) as connection:
        decided = connection.execute(
            "SELECT decision, department, decided_by, note FROM decisions"
        ).fetchall()
    assert decided == [("accept", B, "企画 太郎", "電話で確認")]
    assert xlplan.review(workspace).pending == ()
    # A decision is made once: the same receipt cannot be decided again.
    assert main(["review", "reject", str(item.receipt_id), "-w", str(workspace.root)]) == 2
    assert "review-not-found" in capsys.readouterr().err


def test_a_rejected_return_stays_in_the_archive_and_is_not_accepted(
    workspace: Workspace, example: Example, sent: dict[str, Path]
) -> None:
    pasted = _fill(example, sent, B, workspace.inbox / "総務課.xlsx")
    _without_manifest(pasted)
    [item] = xlplan.collect(workspace).files
    xlplan.decide(workspace, item.receipt_id, "reject", by="企画 太郎", note="別の課の記入")
    assert _statuses(workspace) == [("rejected", B)] and _accepted_narratives(workspace, B) == set()
    assert item.archived.is_file()


def test_a_rejected_forgery_does_not_count_as_the_departments_answer(
    workspace: Workspace, example: Example, sent: dict[str, Path]
) -> None:
    forged = _fill(example, sent, B, workspace.inbox / "総務課.xlsx", narrative="文化課が書いた偽の回答")
    _without_manifest(forged)
    [item] = xlplan.collect(workspace).files
    xlplan.decide(workspace, item.receipt_id, "reject", note="文化課の職員が記入したもの")
    late = dt.date(2099, 1, 1)
    [state] = [entry for entry in xlplan.status(workspace, today=late).departments if entry.department == B]
    assert (state.state, state.receipts, state.last_received_at) == ("overdue", 0, None)
    reminded = [reminder.department for reminder in xlplan.remind(workspace, today=late).reminders]
    assert B in reminded  # B never answered: it is reminded like every department that has not


def _signed_then_unsigned(
    workspace: Workspace, example: Example, sent: dict[str, Path], tmp_path: Path, signed: str, unsigned: str
) -> FileOutcome:
    """B's signed return (narratives ``signed``) accepted, then B's workbook without its manifest
    (``unsigned``) collected into review; the latter's outcome."""
    _fill(example, sent, B, workspace.inbox / "1.xlsx", narrative=signed)
    xlplan.collect(workspace)
    pasted = _fill(example, sent, B, tmp_path / "2.xlsx", narrative=unsigned)
    _without_manifest(pasted)
    pasted.rename(workspace.inbox / "2.xlsx")
    [item] = xlplan.collect(workspace).files
    return item


def test_accepting_never_replaces_a_signed_return_unless_asked(
    workspace: Workspace, example: Example, sent: dict[str, Path], tmp_path: Path
) -> None:
    item = _signed_then_unsigned(workspace, example, sent, tmp_path, "署名付き", "署名なし")
    with pytest.raises(xlplan.ConfigurationError) as refused:
        xlplan.decide(workspace, item.receipt_id, "accept")
    assert [f.code for f in refused.value.findings] == ["review-would-replace-signed"]
    assert _accepted_narratives(workspace, B) == {"署名付き"}
    xlplan.decide(workspace, item.receipt_id, "accept", replace=True)
    assert _accepted_narratives(workspace, B) == {"署名なし"}


def test_a_return_is_never_accepted_as_a_department_whose_rows_it_does_not_hold(
    workspace: Workspace, example: Example, sent: dict[str, Path], tmp_path: Path
) -> None:
    item = _signed_then_unsigned(
        workspace, example, sent, tmp_path, "総務課の署名付きの回答", "総務課の行を文化課として"
    )
    # Accepted "as A", B's rows would stand in A's place and replace B's signed answers in the table.
    with pytest.raises(xlplan.ConfigurationError) as refused:
        xlplan.decide(workspace, item.receipt_id, "accept", department=A, replace=True)
    [finding] = refused.value.findings
    assert finding.code == "review-rows-of-other-department" and B in finding.message()
    assert _accepted_narratives(workspace, A) == set()
    assert _accepted_narratives(workspace, B) == {"総務課の署名付きの回答"}
    assert [pending.receipt for pending in xlplan.review(workspace).pending] == [item.receipt_id]


def test_a_decision_waits_for_a_running_collection(
    workspace: Workspace, example: Example, sent: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pasted = _fill(example, sent, B, workspace.inbox / "総務課.xlsx")
    _without_manifest(pasted)
    [item] = xlplan.collect(workspace).files
    with run_lock_held_elsewhere(workspace, monkeypatch):
        with pytest.raises(xlplan.BusyError):
            xlplan.decide(workspace, item.receipt_id, "accept")
        assert _statuses(workspace) == [("review", B)]  # nothing decided while the collection ran
    xlplan.decide(workspace, item.receipt_id, "accept")
    assert _statuses(workspace) == [("accepted", B)]


def test_a_bad_signature_sends_nothing_to_the_department_it_names(
    workspace: Workspace, example: Example, sent: dict[str, Path]
) -> None:
    path = _fill(example, sent, B, workspace.inbox / "総務課.xlsx")
    book = openpyxl.load_workbook(path)
    hidden = book[layout.MANIFEST_SHEET]
    chunks = [str(row[0]) for row in hidden.iter_rows(max_col=1, values_only=True) if row[0]]
    issued = manifest.loads(chunks)
    forged = replace(issued, round=issued.round)  # the same content, a signature made up by hand
    forged = replace(forged, signature="0" * 64)
    for index, chunk in enumerate(manifest.dumps(forged), start=1):
        hidden.cell(index, 1).value = chunk
    # and an error in a cell, which a verified department would get a 差し戻し票 for
    answer_sheet = book[layout.RESPONSE_SHEET]
    answer_sheet.cell(issued.rows[0].row, issued.columns.index(layout.CURRENT_VALUE) + 1).value = "たくさん"
    book.save(path)
    result = xlplan.collect(workspace)
    [item] = result.files
    assert "manifest-bad-signature" in {f.code for f in item.findings}
    assert item.outcome == "review" and result.feedback == ()
    assert not list(workspace.feedback.rglob("*"))  # no 差し戻し票 and no mail, to anyone


def test_another_departments_manifest_identifies_nobody(
    workspace: Workspace, example: Example, sent: dict[str, Path]
) -> None:
    # B's rows pasted under A's signed manifest: neither side is proven.
    mine = _fill(example, sent, A, workspace.inbox / "文化課.xlsx")
    theirs = openpyxl.load_workbook(_fill(example, sent, B, workspace.root / "総務課.xlsx"))
    book = openpyxl.load_workbook(mine)
    del book[layout.RESPONSE_SHEET]
    target = book.create_sheet(layout.RESPONSE_SHEET, 0)
    for row in theirs[layout.RESPONSE_SHEET].iter_rows():
        for cell in row:
            target.cell(cell.row, cell.column).value = cell.value
    book.save(mine)
    result = xlplan.collect(workspace)
    [item] = result.files
    assert "manifest-other-department" in {f.code for f in item.findings}
    assert item.department is None and item.outcome == "unidentified" and result.feedback == ()
    assert _accepted_narratives(workspace, A) == set() and _accepted_narratives(workspace, B) == set()


def test_a_stranger_mailing_a_departments_workbook_is_flagged(
    workspace: Workspace, example: Example, sent: dict[str, Path], tmp_path: Path
) -> None:
    # B's workbook, filled by anyone: the manifest proves whose workbook it is, not who filled it in.
    filled = _fill(example, sent, B, tmp_path / "総務課.xlsx")
    mail = EmailMessage()
    mail["From"] = "stranger@example.com"
    mail["To"] = "kikaku@city.example"
    mail["Subject"] = "回答"
    mail.set_content("回答を送ります。")
    mail.add_attachment(
        filled.read_bytes(), maintype="application", subtype="octet-stream", filename="総務課.xlsx"
    )
    (workspace.inbox / "回答.eml").write_bytes(bytes(mail))
    [item] = xlplan.collect(workspace).files
    [flag] = [f for f in item.findings if f.code == "sender-not-registered"]
    assert flag.params["sender"] == "stranger@example.com" and "stranger@example.com" in flag.message()
    registered = workspace.load_plan().department(B).email
    assert flag.params["registered"] == registered


def test_control_characters_never_reach_a_published_file_or_the_terminal(
    workspace: Workspace, example: Example, sent: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # ESC typed through the workbook's own escape (_x001B_, which readers decode), NUL, and a
    # right-to-left override that shows text in another order than it is stored.
    narrative = "講座を開催した。_x001B_[2J_x0000_\u202e円0001\u202c"
    name = "総務課\x1b[31m.xlsx"  # and a file name that would colour the terminal red
    _fill(example, sent, B, workspace.inbox / name, narrative=narrative)
    assert main(["collect", "-w", str(workspace.root)]) in (0, 1)
    printed = capsys.readouterr()
    assert "\x1b" not in printed.out + printed.err and "\\u001b" in printed.out + printed.err
    # A name with a line break in it stays on its own line, so it cannot pose as another line.
    broken = "総務課\n  受理: 企画政策課.xlsx"
    _fill(example, sent, B, workspace.inbox / broken, narrative="講座を開催した。")
    assert main(["collect", "-w", str(workspace.root)]) in (0, 1)
    printed = capsys.readouterr()
    assert "総務課\\u000a  受理: 企画政策課.xlsx" in printed.out, printed.out
    assert not [line for line in printed.out.splitlines() if line.startswith("  受理: 企画政策課.xlsx")]
    with sqlite3.connect(workspace.ledger_path) as connection:
        codes = {row[0] for row in connection.execute("SELECT code FROM findings")}
    assert "text-unsafe-removed" in codes
    result = xlplan.consolidate(workspace, csv=True)
    assert result.csv is not None
    published = result.csv.read_text(encoding="utf-8-sig") + result.json.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "講座を開催した。" in published
    for char in ("\x1b", "\x00", "\u202e", "\u202c"):
        assert char not in published, repr(char)
    from tests.conftest import calamine_rows

    cells = [str(value) for sheet in ("基本目標Ⅰ", "基本目標Ⅱ", "基本目標Ⅲ", "基本目標Ⅳ", "基本目標Ⅴ")
             for row in calamine_rows(result.xlsx, sheet) for value in row]  # fmt: skip
    assert not [cell for cell in cells if "\x1b" in cell or "\u202e" in cell]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.none() | st.text() | st.integers() | st.sampled_from(["", '"', "\\", "\n", "\u2028", "課"]),
        max_size=16,
    )
)
def test_prefill_hash_is_the_sha256_of_the_rows_json(values: list[object]) -> None:
    """Workbooks issued before keep verifying: the hash stays SHA-256 of json.dumps of the texts."""
    import hashlib
    import json

    texts = [None if value is None else str(value) for value in values]
    try:
        expected = hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode("utf-8")).hexdigest()
    except UnicodeEncodeError:  # a lone surrogate: no cell of a real file holds one
        with pytest.raises(UnicodeEncodeError):
            manifest.prefill_hash(values)
        return
    assert manifest.prefill_hash(values) == expected


def test_a_manifest_signed_and_dumped_at_once_reads_back_and_verifies(example: Example) -> None:
    """The text distribution writes (sign_and_dump) is read as dumps' text is, and its signature holds."""
    issued = manifest.Manifest(
        plan=example.plan.settings.plan_name, fiscal_year=2020, department="文化課", round=1,
        template_version=layout.TEMPLATE_VERSION, issued_at="2021-04-15T09:00:00+09:00",
        columns=("row_id", "project_no"), workspace_id="w",
        rows=(manifest.ManifestRow("P001-1-1", 5, 1, "「男女」\\n", "文化課", "0" * 64),),
    )  # fmt: skip
    key = b"k" * 32
    signed, chunks = manifest.sign_and_dump(issued, key)
    assert signed == manifest.sign(issued, key) and signed.signature == manifest.sign(issued, key).signature
    assert manifest.loads(chunks) == manifest.loads(manifest.dumps(signed)) == signed
    assert manifest.verify(manifest.loads(chunks), key)
    assert manifest.loads(chunks).signature == signed.signature
    assert not manifest.verify(manifest.loads(chunks), b"x" * 32)


_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(plan=_TEXT, department=_TEXT, entry=_TEXT, edit=st.integers(min_value=0))
def test_a_signed_text_verifies_as_it_stands_and_any_edit_breaks_it(
    plan: str, department: str, entry: str, edit: int
) -> None:
    """Collection checks the HMAC of the manifest's text itself: true for what sign_and_dump wrote
    under the key, false under another key, for dumps' text (then verify decides) and for any text
    changed by one character, however the change still parses."""
    issued = manifest.Manifest(
        plan=plan, fiscal_year=2020, department=department, round=1, template_version="1",
        issued_at="2021-04-15T09:00:00+09:00", columns=("row_id",), workspace_id="w",
        rows=(manifest.ManifestRow("P001-1-1", 5, 1, entry, department, "0" * 64),),
    )  # fmt: skip
    key = b"k" * 32
    signed, chunks = manifest.sign_and_dump(issued, key)
    assert manifest.verify_text(chunks, key)
    assert not manifest.verify_text(chunks, b"x" * 32)
    older = manifest.dumps(signed)
    assert not manifest.verify_text(older, key) and manifest.verify(manifest.loads(older), key)
    text = "".join(chunks)
    position = edit % len(text)
    for replacement in ("x", " ", "\\"):
        changed = text[:position] + replacement + text[position + 1 :]
        if changed != text:
            assert not manifest.verify_text([changed], key)
    assert not manifest.verify_text([text + " "], key) and not manifest.verify_text([text[:-1]], key)


def test_a_return_issued_with_the_older_manifest_text_is_still_accepted(
    workspace: Workspace, example: Example, sent: dict[str, Path]
) -> None:
    """Workbooks issued before the manifest was written as signed text carry dumps' text: they verify
    the long way; the same text with the department changed does not."""
    older = _fill(example, sent, A, workspace.inbox / "文化課.xlsx")
    edited = _fill(example, sent, A, workspace.inbox / "文化課（改）.xlsx", narrative="改めて記入した。")
    for path, department in ((older, A), (edited, B)):
        book = openpyxl.load_workbook(path)
        hidden = book[layout.MANIFEST_SHEET]
        chunks = [str(row[0]) for row in hidden.iter_rows(max_col=1, values_only=True) if row[0]]
        assert manifest.verify_text(chunks, workspace.signing_key())  # written by sign_and_dump
        issued = manifest.loads(chunks)
        text = manifest.dumps(replace(issued, department=department))
        for index in range(1, hidden.max_row + 1):
            hidden.cell(index, 1).value = None
        for index, chunk in enumerate(text, start=1):
            hidden.cell(index, 1).value = chunk
        book.save(path)
    result = xlplan.collect(workspace)
    outcomes = {item.name: item for item in result.files}
    assert outcomes["文化課.xlsx"].outcome == "accepted" and outcomes["文化課.xlsx"].department == A
    changed = outcomes["文化課（改）.xlsx"]
    assert "manifest-bad-signature" in {f.code for f in changed.findings} and changed.outcome == "review"


def test_manifest_chunks_fit_a_cell_in_utf16_even_with_characters_beyond_the_bmp(example: Example) -> None:
    """Excel counts a cell's 32,767 characters in UTF-16 units: 𠮷 takes two, and no chunk may be cut."""
    rows = tuple(
        manifest.ManifestRow(f"P{index:03d}-1-1", 5 + index, index, "𠮷野家" * 300, "文化課", "0" * 64)
        for index in range(1, 70)
    )
    issued = manifest.Manifest(
        plan="𠮷" * 10, fiscal_year=2020, department="文化課", round=1, template_version=layout.TEMPLATE_VERSION,
        issued_at="2021-04-15T09:00:00+09:00", columns=("row_id",), rows=rows, workspace_id="w",
    )  # fmt: skip
    signed, chunks = manifest.sign_and_dump(issued, b"k" * 32)
    assert len("".join(chunks)) > manifest.CELL_LIMIT  # more than one cell's worth
    assert all(len(chunk.encode("utf-16-le")) // 2 <= 32_767 for chunk in chunks)
    assert manifest.loads(chunks) == signed and manifest.verify(manifest.loads(chunks), b"k" * 32)
    assert all(len(chunk.encode("utf-16-le")) // 2 <= 32_767 for chunk in manifest.dumps(signed))


def test_of_two_decisions_made_at_once_only_one_is_recorded(
    workspace: Workspace, example: Example, sent: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Decisions take the run lock, one at a time; should two still meet (a lock file on a share that
    # does not honour locks), the other decision (a rejection) lands between this one's check of
    # the return and its write, as the ledger records a decision.
    review = importlib.import_module("xlplan.followup.review")  # the module, not the function of that name
    pasted = _fill(example, sent, B, workspace.inbox / "総務課.xlsx", narrative="管理情報のない回答")
    _without_manifest(pasted)
    [item] = xlplan.collect(workspace).files
    real = review.current_round

    def meanwhile(connection, settings):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(review, "current_round", real)
        with contextlib.closing(workspace.ledger()) as other, other:
            assert ledger.decide(other, item.receipt_id, decision="reject", department=None,
                                 decided_by="別の職員", note=None, round_id=None)  # fmt: skip
        return real(connection, settings)

    monkeypatch.setattr(review, "current_round", meanwhile)
    with pytest.raises(xlplan.ConfigurationError) as refused:
        xlplan.decide(workspace, item.receipt_id, "accept", by="企画 太郎")
    assert [f.code for f in refused.value.findings] == ["review-not-found"]
    with sqlite3.connect(workspace.ledger_path) as connection:
        decided = connection.execute("SELECT decision, decided_by FROM decisions").fetchall()
        accepted = connection.execute("SELECT receipt_id FROM acceptances").fetchall()
    assert decided == [("reject", "別の職員")] and accepted == []
    assert _statuses(workspace) == [("rejected", B)] and _accepted_narratives(workspace, B) == set()


def test_a_return_waiting_from_an_earlier_year_cannot_be_accepted_as_this_years(
    workspace: Workspace, example: Example, sent: dict[str, Path]
) -> None:
    pasted = _fill(example, sent, B, workspace.inbox / "総務課.xlsx", narrative="令和2年度の実績")
    _without_manifest(pasted)
    [item] = xlplan.collect(workspace).files
    assert item.outcome == "review"
    xlplan.rollover(workspace, force=True)  # the year closed while it waited
    with pytest.raises(xlplan.ConfigurationError) as refused:
        xlplan.decide(workspace, item.receipt_id, "accept", by="企画 太郎")
    assert (
        refused.value.findings[0].code == "review-other-round"
        and "前の回" in refused.value.findings[0].message()
    )
    assert _accepted_narratives(workspace, B) == set()
    xlplan.decide(workspace, item.receipt_id, "reject", by="企画 太郎")  # it can still be set aside
    assert xlplan.review(workspace).pending == ()
