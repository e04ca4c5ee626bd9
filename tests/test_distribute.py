"""Distribution on real files: the example's 15 workbooks and drafts, read back by a second reader."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import re
import subprocess
import threading
import zipfile
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import calamine_rows
from xlplan.cli import main
from xlplan.demo.respond import fill_response
from xlplan.distribution.run import DistributionResult, distribute
from xlplan.errors import ConfigurationError, OutputError
from xlplan.examples import Example
from xlplan.form import layout, manifest
from xlplan.form.rows import response_rows
from xlplan.plan.values import Value
from xlplan.workspace.folder import Workspace, init_workspace

NOW = dt.datetime(2021, 4, 15, 9, 0).astimezone()


@pytest.fixture
def distributed(workspace: Workspace) -> DistributionResult:
    """The example distributed once (drafts only)."""
    return distribute(workspace, now=NOW)


def _dispatches(workspace: Workspace) -> list[tuple[str, int, str]]:
    with workspace.ledger() as connection:
        rows = connection.execute("SELECT department, version, status FROM dispatches ORDER BY id").fetchall()
    connection.close()
    return [(row["department"], row["version"], row["status"]) for row in rows]


def _manifest(path: Path) -> manifest.Manifest:
    """The manifest as read by python-calamine (not by the library that wrote it)."""
    chunks = [str(row[0]) for row in calamine_rows(path, layout.MANIFEST_SHEET) if row and row[0]]
    return manifest.loads(chunks)


def _expected(value: Value | None) -> Any:
    """What a reader finds in a value cell: the number as a float, a mark as text, or empty."""
    if value is None or value.is_blank:
        return ""
    if value.number is not None:
        return float(value.number)
    return value.display()


# ----------------------------------------------------------------------------------------
# The example
# ----------------------------------------------------------------------------------------


def test_example_gives_15_workbooks_and_15_drafts(
    workspace: Workspace, distributed: DistributionResult
) -> None:
    folder = workspace.outbox / "2020-R1"
    assert distributed.folder == folder
    assert [item.status for item in distributed.departments] == ["drafted"] * 15
    assert distributed.findings == []
    assert len(list(folder.glob("*.xlsx"))) == 15
    assert len(list(folder.glob("*.eml"))) == 15
    bunka = next(item for item in distributed.departments if item.department == "文化課")
    assert bunka.workbook is not None
    assert bunka.workbook.name == "第2次小城市男女共同参画プラン_令和2年度実績照会_文化課.xlsx"
    assert _dispatches(workspace) == [(item.department, 1, "drafted") for item in distributed.departments]


def test_every_prefilled_value_equals_the_master(example: Example, distributed: DistributionResult) -> None:
    plan = example.plan
    previous = plan.settings.previous_year
    seen = 0
    for item in distributed.departments:
        assert item.workbook is not None
        issued = _manifest(item.workbook)
        rows = calamine_rows(item.workbook, layout.RESPONSE_SHEET)
        column = {key: index for index, key in enumerate(issued.columns)}
        header = rows[layout.HEADER_ROW - 1]
        assert header[column[layout.CURRENT_VALUE]] == "今年度の値（令和2年度）"
        for sent in issued.rows:
            cells = rows[sent.row - 1]
            project = plan.project(sent.project_no)
            entry = project.entry(sent.entry)
            record = plan.history_for(project.no, entry.name, previous, sent.department) or plan.history_for(
                project.no, entry.name, previous
            )
            assert cells[column[layout.ROW_ID]] == sent.row_id
            assert cells[column[layout.PROJECT_NO]] == project.no
            assert cells[column[layout.DESCRIPTION]] == project.description
            assert cells[column[layout.INDICATOR]] == (project.indicator or "")
            assert cells[column[layout.UNIT]] == (project.unit or "")
            assert cells[column[layout.ENTRY]] == entry.name
            assert cells[column[layout.DEPARTMENT]] == sent.department
            assert sent.department in entry.members
            assert plan.canonical_department(sent.department) == item.department
            assert cells[column[layout.BASELINE]] == _expected(project.baseline)
            assert cells[column[layout.PREVIOUS_VALUE]] == _expected(record.value if record else None)
            assert cells[column[layout.CURRENT_VALUE]] == ""
            for depth, node in enumerate(plan.ancestors(project)):
                assert cells[column[f"level{depth + 1}"]] == f"{node.number} {node.title}"
            seen += 1
    # One row per project × entry × member: every member of a joint entry answers its own share.
    assert seen == sum(len(entry.members) for project in plan.projects for entry in project.entries)


def test_manifest_verifies_and_its_hashes_match_what_a_second_reader_reads(
    workspace: Workspace, distributed: DistributionResult
) -> None:
    key = workspace.signing_key()
    for item in distributed.departments:
        assert item.workbook is not None
        issued = _manifest(item.workbook)
        assert manifest.verify(issued, key)
        assert not manifest.verify(issued, b"another workspace's key".ljust(32))
        assert (issued.plan, issued.fiscal_year, issued.department, issued.round) == (
            "第2次小城市男女共同参画プラン",
            2020,
            item.department,
            1,
        )
        assert issued.template_version == layout.TEMPLATE_VERSION
        assert issued.issued_at == NOW.isoformat(timespec="seconds")
        rows = calamine_rows(item.workbook, layout.RESPONSE_SHEET)
        columns = [column for column in _columns(workspace) if column.key in issued.columns]
        for sent in issued.rows:
            cells = dict(zip(issued.columns, rows[sent.row - 1], strict=False))
            assert manifest.prefill_hash(layout.prefilled(columns, cells)) == sent.prefill_sha256


def _columns(workspace: Workspace) -> list[layout.Column]:
    settings = workspace.load_plan().settings
    return layout.response_columns(settings.levels, "x", "y", "z")


def test_sheets_are_protected_validated_and_set_up_for_print(distributed: DistributionResult) -> None:
    item = next(item for item in distributed.departments if item.department == "企画政策課")
    assert item.workbook is not None
    with zipfile.ZipFile(item.workbook) as package:
        workbook_xml = package.read("xl/workbook.xml").decode()
        sheet_xml = package.read("xl/worksheets/sheet1.xml").decode()
        names = package.namelist()
    assert '<workbookProtection lockStructure="1"/>' in workbook_xml
    assert 'state="veryHidden"' in workbook_xml
    assert "vbaProject.bin" not in " ".join(names)  # a plain .xlsx: no macros
    assert "<f>" not in sheet_xml  # no formulas anywhere in the data
    assert "fitToPage" not in sheet_xml  # never the whole width squeezed onto one page …
    setup = re.search(r"<pageSetup [^>]*>", sheet_xml)
    assert (
        setup is not None and 'paperSize="9"' in setup.group() and 'orientation="landscape"' in setup.group()
    )
    scale = re.search(r'scale="(\d+)"', setup.group())
    assert scale is not None and 80 <= int(scale.group(1)) <= 100  # … but a fixed scale: text at 8 pt or more
    assert 'pageOrder="overThenDown"' in setup.group()  # what was sent, then the answers, row set by row set
    assert 'formatColumns="0" formatRows="0"' in sheet_xml  # people may still resize rows and columns

    book = openpyxl.load_workbook(item.workbook)
    assert book.sheetnames == ["回答", "記入方法", "_xlplan"]
    assert book["_xlplan"].sheet_state == "veryHidden"
    sheet = book["回答"]
    assert sheet.protection.sheet and book["記入方法"].protection.sheet
    assert sheet.freeze_panes == "F5"  # the header and row id … project number (A–E) stay in view
    assert sheet.print_title_rows == "$4:$4"
    assert sheet.print_title_cols == "$E:$F"  # 事業番号 and 事業の内容 on every page
    assert sheet.print_area == "'回答'!$E$4:$O$25"  # not the row id and the levels
    assert [brk.id for brk in sheet.col_breaks.brk] == [12]  # 前年度の実績内容 (column M) starts a page
    assert sheet.page_setup.orientation == "landscape"
    columns = {cell.value: cell.column_letter for cell in sheet[layout.HEADER_ROW]}
    value_col, narrative_col = columns["今年度の値（令和2年度）"], columns["今年度の実績内容（令和2年度）"]
    for row in range(layout.FIRST_DATA_ROW, sheet.max_row + 1):
        for cell in sheet[row]:
            editable = cell.column_letter in (value_col, narrative_col)
            assert cell.protection.locked is not editable, cell.coordinate
            assert cell.fill.fgColor.rgb == ("FFFFF2A8" if editable else "FFF2F2F2"), cell.coordinate
    rules = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            for (cell,) in (
                sheet[cell_range.coord] if ":" in cell_range.coord else [(sheet[cell_range.coord],)]
            ):
                rules[cell.coordinate] = validation
    first = layout.FIRST_DATA_ROW
    # Row 5 is project 1 (人, a count), row 6 project 2 (no indicator: a drop-down of marks).
    count = rules[f"{value_col}{first}"]
    assert count.type == "custom" and count.showErrorMessage and count.errorStyle in (None, "stop")
    assert count.formula1 == (
        f"IF(ISNUMBER({value_col}{first}),AND({value_col}{first}>=0,{value_col}{first}=INT({value_col}{first})),"
        f'OR({value_col}{first}="○",{value_col}{first}="×",{value_col}{first}="—"))'
    )
    assert "0以上の整数" in (count.prompt or "")
    marks = rules[f"{value_col}{first + 1}"]
    assert marks.type == "list" and marks.formula1 == '"○,×,—"'
    assert rules[f"{narrative_col}{first}"].type == "textLength"
    assert sheet[f"{value_col}{first}"].number_format == '#,##0"人"'
    assert sheet[f"{narrative_col}{first}"].alignment.wrap_text


def test_percent_rows_accept_0_to_100(workspace: Workspace, example: Example) -> None:
    rows = response_rows(example.plan)
    percent = [row for rows_ in rows.values() for row in rows_ if row.rule.unit == "%"]
    assert percent and all(
        (row.rule.kind, row.rule.minimum, row.rule.maximum) == ("decimal", 0, 100) for row in percent
    )


def test_plan_text_that_looks_like_a_formula_stays_text(tmp_path: Path, example: Example) -> None:
    plan = example.plan
    hostile = ['=HYPERLINK("http://x","y")', "+81 研修", "-1 減", "@SUM(A1)"]
    projects = list(plan.projects)
    projects[2] = dataclasses.replace(projects[2], description=hostile[0], indicator=hostile[1])
    nodes = [
        dataclasses.replace(node, title=hostile[2]) if node.key == ("Ⅰ",) else node for node in plan.nodes
    ]
    history = [
        dataclasses.replace(record, narrative=hostile[3]) if record.project_no == 3 else record
        for record in plan.history
    ]
    odd = dataclasses.replace(plan, projects=tuple(projects), nodes=tuple(nodes), history=tuple(history))
    workspace = init_workspace(tmp_path / "ws", odd)
    result = distribute(workspace, only=["文化課"], now=NOW)
    path = result.departments[0].workbook
    assert path is not None
    with zipfile.ZipFile(path) as package:
        assert "<f>" not in package.read("xl/worksheets/sheet1.xml").decode()
    cells = [value for row in calamine_rows(path, layout.RESPONSE_SHEET) for value in row]
    assert hostile[0] in cells and hostile[1] in cells and hostile[3] in cells
    assert f"Ⅰ {hostile[2]}" in cells


def test_text_shaped_like_a_rich_string_stays_text_in_workbook_and_table(
    tmp_path: Path, example: Example
) -> None:
    """Last year's narrative "<r>…</r>" (as a department could type it) is one cell of plain text in the
    next year's workbook and in the consolidated table, as a second reader reads them: never XML markup."""
    from python_calamine import CalamineWorkbook

    from xlplan.publish.consolidate import consolidate_plan

    hostile = "<r>事業</t></si><si><t>INJECTED</r>"
    plan = example.plan
    history = tuple(
        dataclasses.replace(record, narrative=hostile) if record.project_no == 3 else record
        for record in plan.history
    )
    odd = dataclasses.replace(plan, history=history)
    workspace = init_workspace(tmp_path / "ws", odd)
    result = distribute(workspace, only=["文化課"], now=NOW)
    path = result.departments[0].workbook
    assert path is not None
    cells = [value for row in calamine_rows(path, layout.RESPONSE_SHEET) for value in row]
    assert hostile in cells and "INJECTED" not in cells
    answers = [
        dataclasses.replace(answer, narrative=hostile) if answer.project_no == 3 else answer
        for answer in example.answers
    ]
    table = consolidate_plan(plan, answers, tmp_path / "reports")
    texts = [
        value
        for sheet in CalamineWorkbook.from_path(str(table.xlsx)).sheet_names
        for row in calamine_rows(table.xlsx, sheet)
        for value in row
    ]
    assert hostile in texts and "INJECTED" not in texts


# ----------------------------------------------------------------------------------------
# Mail drafts
# ----------------------------------------------------------------------------------------


def test_each_draft_parses_and_carries_the_workbook(
    example: Example, distributed: DistributionResult
) -> None:
    for item in distributed.departments:
        assert item.mail is not None and item.workbook is not None
        message = email.message_from_bytes(item.mail.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        department = example.plan.department(item.department)
        assert message["To"].addresses[0].addr_spec == department.email
        assert message["From"].addresses[0].addr_spec == "kikaku@ogi.example"
        assert (
            message["Subject"]
            == f"【5月31日（月）締切】第2次小城市男女共同参画プラン 令和2年度実績の照会（{item.department}）"
        )
        assert message["Message-ID"] == item.message_id
        body = message.get_body(("plain",))
        assert body is not None and f"{item.department} {department.contact} 様" in body.get_content()
        attachments = list(message.iter_attachments())
        assert len(attachments) == 1
        assert attachments[0].get_filename() == item.workbook.name
        assert attachments[0].get_content() == item.workbook.read_bytes()
        # The Japanese file name is encoded per RFC 2231 (filename*=utf-8''…).
        assert re.search(rb"filename\*(0\*)?=utf-8''", item.mail.read_bytes())


# ----------------------------------------------------------------------------------------
# Versions, bad input
# ----------------------------------------------------------------------------------------


def test_distributing_again_writes_a_new_version_and_keeps_the_old(
    workspace: Workspace, distributed: DistributionResult
) -> None:
    again = distribute(workspace, only=["文化課"], now=NOW)
    (item,) = again.departments
    assert item.version == 2 and item.workbook is not None and item.mail is not None
    assert item.workbook.name == "第2次小城市男女共同参画プラン_令和2年度実績照会_文化課_第2版.xlsx"
    assert item.mail.name == "第2次小城市男女共同参画プラン_令和2年度実績照会_文化課_第2版.eml"
    assert (again.folder / "第2次小城市男女共同参画プラン_令和2年度実績照会_文化課.xlsx").exists()
    assert _dispatches(workspace)[-1] == ("文化課", 2, "drafted")


def test_workers_that_are_not_forked_write_the_same_workbooks(
    workspace: Workspace, distributed: DistributionResult
) -> None:
    """The server distributes from a worker thread, where the pool cannot fork: its workers get the
    plan's rows pickled once and make each department's rows themselves; the sheets are the same."""
    from xlplan.children import pool_context

    found: list[DistributionResult] = []
    methods: list[str] = []

    def run() -> None:
        methods.append(pool_context().get_start_method())
        found.append(distribute(workspace, now=NOW, workers=2))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert methods[0] != "fork"
    again = {item.department: item for item in found[0].departments}
    assert len(again) == len(distributed.departments) == 15
    for item in distributed.departments:
        second = again[item.department]
        assert item.workbook is not None and second.workbook is not None and second.version == 2
        with zipfile.ZipFile(item.workbook) as first_zip, zipfile.ZipFile(second.workbook) as second_zip:
            for part in ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet3.xml"):
                assert first_zip.read(part) == second_zip.read(part), (item.department, part)
        assert _manifest(second.workbook) == _manifest(item.workbook)


def test_department_without_mail_gets_a_workbook_and_a_warning(tmp_path: Path, example: Example) -> None:
    plan = example.plan
    departments = tuple(
        dataclasses.replace(department, email=None) if department.name == "文化課" else department
        for department in plan.departments
    )
    workspace = init_workspace(tmp_path / "ws", dataclasses.replace(plan, departments=departments))
    result = distribute(workspace, only=["文化課", "市民課"], now=NOW)
    bunka, shimin = result.departments
    assert (bunka.status, bunka.mail, [f.code for f in bunka.findings]) == (
        "no-mail",
        None,
        ["distribute-no-email"],
    )
    assert bunka.workbook is not None and bunka.workbook.exists()
    assert bunka.findings[0].severity == "warning" and "文化課" in bunka.findings[0].message()
    assert shimin.status == "drafted"
    assert _dispatches(workspace) == [("文化課", 1, "skipped"), ("市民課", 1, "drafted")]


def test_unwritable_outbox_stops_before_anything_is_written(workspace: Workspace) -> None:
    workspace.outbox.rmdir()
    workspace.outbox.write_text("not a folder")  # a file where the folder should be: fails even as root
    with pytest.raises(OutputError) as caught:
        distribute(workspace, now=NOW)
    assert [finding.code for finding in caught.value.findings] == ["output-not-writable"]
    assert _dispatches(workspace) == []


def test_unknown_department_stops_before_anything_is_written(workspace: Workspace) -> None:
    with pytest.raises(ConfigurationError) as caught:
        distribute(workspace, only=["文化課", "存在しない課"], now=NOW)
    assert [(f.code, f.params["department"]) for f in caught.value.findings] == [
        ("distribute-unknown-department", "存在しない課")
    ]
    assert not (workspace.outbox / "2020-R1").exists()


def test_a_file_open_in_excel_is_written_under_a_numbered_name(workspace: Workspace) -> None:
    target = "第2次小城市男女共同参画プラン_令和2年度実績照会_文化課.xlsx"
    # A file under the name already (Excel holds it open on the office's PC, or staff kept a copy):
    # it is neither overwritten nor waited for.
    held = workspace.outbox / "2020-R1" / target
    held.parent.mkdir(parents=True, exist_ok=True)
    held.write_bytes(b"open in Excel")
    (item,) = distribute(workspace, only=["文化課"], now=NOW).departments
    assert (
        item.workbook is not None
        and item.workbook.name == "第2次小城市男女共同参画プラン_令和2年度実績照会_文化課（2）.xlsx"
    )
    assert [(f.code, f.params["actual"]) for f in item.findings] == [
        ("distribute-renamed", item.workbook.name)
    ]
    assert "使用中" in item.findings[0].message()
    assert held.read_bytes() == b"open in Excel"


def test_cli_distribute(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["distribute", "-w", str(workspace.root), "--only", "文化課"]) == 0
    out = capsys.readouterr().out
    assert "文化課: 下書きを作成" in out
    assert main(["distribute", "-w", str(workspace.root), "--only", "無い課"]) == 2


# ----------------------------------------------------------------------------------------
# A department fills in its workbook; LibreOffice opens every workbook
# ----------------------------------------------------------------------------------------


def test_a_filled_workbook_keeps_its_manifest_and_reads_back(
    tmp_path: Path, workspace: Workspace, example: Example, distributed: DistributionResult
) -> None:
    plan = example.plan
    key = workspace.signing_key()
    for item in distributed.departments:
        assert item.workbook is not None
        answers = [a for a in example.answers if plan.canonical_department(a.department) == item.department]
        out = tmp_path / item.workbook.name
        fill_response(item.workbook, answers, out)
        issued = _manifest(out)
        assert manifest.verify(issued, key)
        rows = calamine_rows(out, layout.RESPONSE_SHEET)
        column = {key_: index for index, key_ in enumerate(issued.columns)}
        by_row = {(r.project_no, r.entry, r.department): r.row for r in issued.rows}
        for answer in answers:
            cells = rows[by_row[(answer.project_no, answer.entry, answer.department)] - 1]
            assert cells[column[layout.CURRENT_VALUE]] == _expected(answer.value)
            assert cells[column[layout.CURRENT_NARRATIVE]] == (answer.narrative or "")


def test_libreoffice_converts_every_workbook_to_pdf(
    tmp_path: Path, distributed: DistributionResult, soffice: tuple[str, Path]
) -> None:
    binary, profile = soffice
    paths = [item.workbook for item in distributed.departments if item.workbook is not None]
    outdir = tmp_path / "pdf"
    # One LibreOffice start for all 15 files: starting it is most of the cost.
    subprocess.run(
        [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(outdir), *map(str, paths)],
        check=True, capture_output=True, timeout=300, env={"HOME": str(profile), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    for path in paths:
        pdf = outdir / (path.stem + ".pdf")
        assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), path.name


def test_joint_entry_members_each_get_their_own_row(example: Example) -> None:
    rows = response_rows(example.plan)
    # Project 1 is reported jointly by 企画政策課 and 生涯学習課: each answers its own share.
    first = [(row.row_id, row.department) for row in rows["企画政策課"] if row.project_no == 1]
    second = [(row.row_id, row.department) for row in rows["生涯学習課"] if row.project_no == 1]
    assert first == [("P001-1-1", "企画政策課")] and second == [("P001-1-2", "生涯学習課")]
    # The alias in project 2's cell (人権・同和对策室) reaches the registry's 人権・同和対策室.
    assert [row.department for row in rows["人権・同和対策室"] if row.project_no == 2] == ["人権・同和对策室"]


def test_two_workspaces_distributing_at_once_in_one_process_keep_their_own_plans(
    tmp_path: Path, example: Example
) -> None:
    """The server runs two workspaces' distributions in two threads of one process: a few departments
    each are written in that process, and neither run may write with the other's plan or key."""
    import sys

    other = dataclasses.replace(
        example.plan,
        settings=dataclasses.replace(example.plan.settings, plan_name="別の市のプラン"),
        projects=tuple(
            dataclasses.replace(p, description="別の市 " + p.description) for p in example.plan.projects
        ),
    )
    workspaces = {
        "ogi": init_workspace(tmp_path / "ogi", example.plan),
        "other": init_workspace(tmp_path / "other", other),
    }
    plans = {"ogi": example.plan, "other": other}
    names = [department.name for department in example.plan.departments][:6]
    results: dict[str, DistributionResult] = {}

    def run(tag: str) -> None:
        results[tag] = distribute(workspaces[tag], only=names, now=NOW, plan=plans[tag], workers=1)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so that the runs interleave
    try:
        threads = [threading.Thread(target=run, args=(tag,)) for tag in workspaces]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    for tag, workspace in workspaces.items():
        key = workspace.signing_key()
        written = [item for item in results[tag].departments if item.workbook is not None]
        assert len(written) == 6
        for item in written:
            assert item.workbook is not None
            issued = _manifest(item.workbook)
            assert issued.plan == plans[tag].settings.plan_name and manifest.verify(issued, key), (tag, item)
            texts = [str(cell) for row in calamine_rows(item.workbook, layout.RESPONSE_SHEET) for cell in row]
            assert any(text.startswith("別の市 ") for text in texts) == (tag == "other"), (
                tag,
                item.department,
            )
