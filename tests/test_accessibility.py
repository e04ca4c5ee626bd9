"""Accessible publication: the tagged PDF (pdfinfo), the HTML page's structure (read back with the
standard library's parser), its values against the CSV, and axe-core in a real headless browser."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from xlplan.cli import main
from xlplan.examples import Example
from xlplan.plan.model import Answer
from xlplan.plan.values import format_number
from xlplan.publish.consolidate import ConsolidationResult, consolidate_plan
from xlplan.publish.table import build_table
from xlplan.workspace.folder import Workspace

HOSTILE = '<b>太字</b> & "引用" <script>alert(1)</script>\n2行目'
"""A narrative meant as markup, with a line break: shown as typed, on two lines."""


def _hostile(example: Example) -> list[Answer]:
    answers = list(example.answers)
    answers[0] = dataclasses.replace(answers[0], narrative=HOSTILE)
    return answers


@pytest.fixture(scope="module")
def published(example: Example, tmp_path_factory: pytest.TempPathFactory) -> ConsolidationResult:
    """The example consolidated with --csv --html, its first answer's narrative meant as markup."""
    out = tmp_path_factory.mktemp("reports")
    return consolidate_plan(example.plan, _hostile(example), out, csv=True, html=True)


class Page(HTMLParser):
    """The page read back: its tags, and each table as rows of cells (rowspans filled in)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, list[str]] = {}  # tag -> texts of its elements (title, h1, h2, caption)
        self.tables: list[list[list[dict[str, Any]]]] = []
        self._cell: dict[str, Any] | None = None
        self._open: list[str] = []
        self._spans: dict[int, tuple[int, dict[str, Any]]] = {}  # column -> (rows left, cell)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("title", "h1", "h2", "caption"):
            self._open.append(tag)
            self.texts.setdefault(tag, []).append("")
        elif tag == "table":
            self.tables.append([])
            self._spans = {}
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("th", "td"):
            self._cell = {"tag": tag, "scope": dict(attrs).get("scope"), "text": "", "attrs": dict(attrs)}
        elif tag == "br" and self._cell is not None:
            self._cell["text"] += "\n"

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == self._open[-1]:
            self._open.pop()
        if tag in ("th", "td") and self._cell is not None:
            row = self.tables[-1][-1]
            self._fill_spans(row)
            row.append(self._cell)
            span = int(self._cell["attrs"].get("rowspan") or 1)
            if span > 1:
                self._spans[len(row) - 1] = (span - 1, self._cell)
            self._cell = None
        elif tag == "tr":
            self._fill_spans(self.tables[-1][-1])

    def _fill_spans(self, row: list[dict[str, Any]]) -> None:
        while len(row) in self._spans:
            left, cell = self._spans.pop(len(row))
            row.append(cell)
            if left > 1:
                self._spans[len(row) - 1] = (left - 1, cell)

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data
        if self._open:
            self.texts[self._open[-1]][-1] += data


def _page(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def _entry_rows(page: Page) -> list[list[str]]:
    """Department rows of every table: number, 事業, 担当課, 現状値, …, 今年度, narrative."""
    return [
        [cell["text"] for cell in row]
        for table in page.tables
        for row in table
        if row and row[0]["scope"] == "row"
    ]


def test_the_pdf_is_tagged_with_its_title_and_language(
    example: Example, tmp_path: Path, soffice: tuple[str, Path]
) -> None:
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    result = consolidate_plan(example.plan, example.answers, tmp_path, pdf=True)
    assert result.pdf is not None and result.pdf.exists(), result.findings
    info = subprocess.run(["pdfinfo", str(result.pdf)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert fields["Tagged"].strip() == "yes"
    assert fields["Title"].strip() == example.plan.settings.title
    assert b"/Lang(ja-JP)" in result.pdf.read_bytes()


def test_the_html_page_is_written_beside_the_xlsx(published: ConsolidationResult) -> None:
    assert published.html == published.xlsx.with_suffix(".html")
    assert published.html.exists()
    assert f"HTML: {published.html}" in published.lines()
    assert published.to_dict()["html"] == str(published.html)
    assert not list(published.html.parent.glob("*.tmp*"))


def test_the_page_has_language_title_captions_and_header_scopes(
    published: ConsolidationResult, example: Example
) -> None:
    assert published.html is not None
    text = published.html.read_text(encoding="utf-8")
    page = _page(text)
    settings = example.plan.settings
    html_tag = next(attrs for tag, attrs in page.tags if tag == "html")
    assert html_tag["lang"] == "ja"
    assert page.texts["title"] == [settings.title] and page.texts["h1"] == [settings.title]
    sections = build_table(example.plan, example.answers).sections
    # One table per section, then the section of trend charts (figures, not tables).
    *goals, trends = page.texts["h2"]
    assert trends == "数値目標の推移"
    assert len(page.tables) == len(page.texts["caption"]) == len(goals) == len(sections)
    assert all(caption.startswith(h2) for caption, h2 in zip(page.texts["caption"], goals, strict=True))
    figures = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert figures and all(
        attrs["role"] == "img" and attrs["aria-label"].startswith("事業番号") for attrs in figures
    )
    assert len([tag for tag, _ in page.tags if tag == "figcaption"]) == len(figures)
    assert page.texts["h2"][0].startswith("基本目標Ⅰ")
    for table in page.tables:
        header = [cell for row in table[:2] for cell in row]
        assert header and all(cell["tag"] == "th" and cell["scope"] == "col" for cell in header)
        headings = [row[0] for row in table[2:] if row[0]["scope"] == "rowgroup"]
        assert headings and all(cell["tag"] == "th" for cell in headings)
    headings = [
        cell["text"] for table in page.tables for row in table if (cell := row[0])["scope"] == "rowgroup"
    ]
    assert "(1) 男女平等の意識啓発" in headings and "① 男女平等意識に関する情報発信・啓発" in headings
    # No layout tables, no script, no outside files: one self-contained page.
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "link" not in tags and "img" not in tags and "iframe" not in tags
    assert not any("src" in attrs or "href" in attrs for _, attrs in page.tags)
    assert not any(attrs.get("role") == "presentation" for _, attrs in page.tags)


def test_every_project_and_department_row_is_there(published: ConsolidationResult, example: Example) -> None:
    assert published.html is not None
    rows = _entry_rows(_page(published.html.read_text(encoding="utf-8")))
    plan = example.plan
    expected = [(str(p.no), entry.name) for p in plan.projects for entry in p.entries]
    assert [(row[0], row[2]) for row in rows] == expected
    assert len(rows) == published.rows == 86


def test_department_text_is_escaped_and_keeps_its_line_breaks(published: ConsolidationResult) -> None:
    assert published.html is not None
    text = published.html.read_text(encoding="utf-8")
    page = _page(text)
    assert "<b>" not in text and "<script>alert" not in text
    assert "&lt;b&gt;太字&lt;/b&gt; &amp; &quot;引用&quot;" in text
    assert {tag for tag, _ in page.tags}.isdisjoint({"b", "script"})
    narratives = [row[-1] for row in _entry_rows(page)]
    assert any(HOSTILE in narrative for narrative in narratives)  # "\n" read back from <br>


def _csv_display(record: dict[str, str], period: str) -> str:
    """A year's value as the table shows it, from the CSV's one-value-per-cell columns."""
    if record[f"{period}_記号"]:
        return record[f"{period}_記号"]
    if record[f"{period}_数値"]:
        return format_number(Decimal(record[f"{period}_数値"])) + record[f"{period}_単位"]
    return ""


def test_the_pages_values_equal_the_csvs(published: ConsolidationResult) -> None:
    assert published.html is not None and published.csv is not None
    rows = _entry_rows(_page(published.html.read_text(encoding="utf-8")))
    with published.csv.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert len(rows) == len(records)
    shown = [(row[0], row[3], row[4], row[5]) for row in rows]
    from_csv = [
        (record["事業番号"], *(_csv_display(record, period) for period in ("現状値", "前年度", "今年度")))
        for record in records
    ]
    assert shown == from_csv
    assert ("1", "172人", "213人", "159人") in shown  # the joint entry: 90人 + 69人
    assert any(value == "○" for row in shown for value in row[1:])


def test_the_command_line_writes_the_page_with_html(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["consolidate", "-w", str(workspace.root), "--html", "--json"]) in (0, 1)
    document = json.loads(capsys.readouterr().out)
    assert document["html"] and Path(document["html"]).parent == workspace.reports
    assert _page(Path(document["html"]).read_text(encoding="utf-8")).tables
    assert document["csv"] is None and document["pdf"] is None


def test_the_charts_are_figures_with_their_values_in_words(example: Example) -> None:
    from xlplan.publish.html import charts_html

    table = build_table(example.plan, example.answers)
    charts = charts_html(table)
    assert charts.count("<figure>") == charts.count("<figcaption>") == charts.count('role="img"') > 10
    # 事業1's points, as the caption says them: 172人 (27年度) and 213人 (令和元年度).
    assert (
        "事業番号 1「男女共同参画に関する研修会等の受講者数」の推移。" in charts
        and "平成27年度 172人" in charts
    )


# -- axe-core in headless chromium ---------------------------------------------------------------


def test_axe_finds_no_violations_in_a_real_browser(
    browser: Any, published: ConsolidationResult, example: Example
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    assert published.html is not None
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(published.html.resolve().as_uri())
        assert page.locator("html").get_attribute("lang") == "ja"
        assert page.title() == example.plan.settings.title
        # The hostile narrative is text on the page, not a bold element or a script.
        assert page.locator("main b").count() == 0
        assert page.get_by_text("<b>太字</b>", exact=False).count() == 1
        results = Axe().run(page)
    finally:
        page.close()
    assert results.violations_count == 0, results.generate_report()
    assert requests == [published.html.resolve().as_uri()]  # nothing fetched from outside the file


def test_a_long_address_in_a_narrative_wraps_inside_the_page(
    browser: Any, example: Example, tmp_path: Path
) -> None:
    address = "https://www.city.example.lg.jp/kurashi/danjo/index.html?page=" + "0123456789abcdef" * 16
    answers = list(example.answers)
    answers[0] = dataclasses.replace(answers[0], narrative=f"詳しくは {address} を参照。")
    result = consolidate_plan(example.plan, answers, tmp_path, html=True)
    assert result.html is not None
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        page.goto(result.html.resolve().as_uri())
        assert page.get_by_text(address, exact=False).count() == 1  # all of it is there, wrapped
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    finally:
        page.close()
    assert overflow <= 0, f"the page is {overflow}px wider than the window"
