"""The header rows of a consolidated table (事業実績一覧) read by ``init --from``: where the columns are,
which years they hold, and whether every sheet that looks like part of the table was read as one.

The header is the row holding 担当課 and 現状値 (and a column of 実績); the row below it names the
years of the value columns. Problems are findings on the sheet and cell, collected by :class:`Reader`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xlplan.adoption.cells import text_of as _text
from xlplan.errors import ConfigurationError
from xlplan.findings import Finding
from xlplan.plan.fiscal_year import FiscalYear, FiscalYearError, parse_fiscal_year
from xlplan.xlsx.cells import a1


@dataclass
class Reader:
    """Where the import's findings go, all of them collected before it stops."""

    file: str
    findings: list[Finding] = field(default_factory=list)

    def fail(self, code: str, sheet: str | None = None, cell: str | None = None, **params: Any) -> None:
        self.findings.append(Finding(code, params, file=self.file, sheet=sheet, cell=cell))


@dataclass
class Header:
    """Where a section's columns are: levels, number, description, 担当課, 現状値, the years' values, 実績内容."""

    row: int  # 1-based
    levels: list[str]  # names of the middle level columns (empty: a 番号 column)
    number: int  # 0-based column of the project numbers
    description: int
    leaf: str
    department: int
    baseline: int
    years: list[
        tuple[int, str]
    ]  # (column, year label) of 実績値 columns, oldest first; the last is the current
    narrative: int | None
    baseline_label: str


def find_headers(rows: list[list[Any]]) -> list[int]:
    """0-based indexes of header rows: 担当課 and 現状値 in the same row."""
    found = []
    for index, row in enumerate(rows):
        texts = [_text(cell) for cell in row]
        # 実績 too: the 推移 sheet xlplan adds has 担当課 and 現状値 but is not a section of the table.
        if (
            "担当課" in texts
            and any(t and t.startswith("現状値") for t in texts)
            and any(t and "実績" in t for t in texts)
        ):
            found.append(index)
    return found


def looks_like_a_section(rows: list[list[Any]]) -> bool:
    """True when a row of the sheet reads like a table's header (a 現状値 cell and another with 実績)
    without being read as one; a note that mentions both words in one sentence does not."""
    for row in rows[:60]:
        texts = [text for cell in row if (text := _text(cell))]
        if any(text.startswith("現状値") for text in texts) and any(
            "実績" in text and not text.startswith("現状値") for text in texts
        ):
            return True
    return False


def read_header(reader: Reader, sheet: str, rows: list[list[Any]], index: int) -> Header | None:
    first = [_text(cell) or "" for cell in rows[index]]
    second = [_text(cell) or "" for cell in rows[index + 1]] if index + 1 < len(rows) else []
    department = first.index("担当課")
    baseline = next(i for i, t in enumerate(first) if t.startswith("現状値"))
    if department < 1:
        reader.fail("table-no-header", sheet=sheet, cell=a1(index + 1, 1))
        return None
    description = department - 1
    leaf = first[description].split("\n")[0]
    middle = [text.split("\n")[0] for text in first[:description]]
    levels = [] if middle == ["番号"] else middle
    number = max(description - 1, 0) if middle else description
    years: list[tuple[int, str]] = []
    narrative: int | None = None
    for column in range(baseline + 1, len(first)):
        text = first[column]
        below = second[column] if column < len(second) else ""
        if text.startswith("②") or (text and "実績" in text and not text.endswith("実績値")):
            narrative = column
            break
        if below:
            years.append((column, below))
    label = second[baseline] if baseline < len(second) else ""
    return Header(index + 1, levels, number, description, leaf, department, baseline, years, narrative, label)


def table_years(reader: Reader, sheet: str, header: Header, body: list[list[Any]]) -> list[FiscalYear]:
    """The fiscal years of the 現状値 column and the 実績値 columns, from the header's second row."""
    labels = [label for _, label in header.years]
    years: list[FiscalYear] = []
    for column, label in header.years:
        try:
            years.append(parse_fiscal_year(label))
        except FiscalYearError:
            reader.fail("table-bad-year", sheet=sheet, cell=a1(header.row + 1, column + 1), value=label)
    if len(years) != len(labels) or len(years) < 1:
        if len(years) < 1:
            reader.fail("table-no-years", sheet=sheet, cell=a1(header.row + 1, header.baseline + 2))
        raise ConfigurationError(reader.findings)
    for (column, label), before, year in zip(header.years[1:], years[:-1], years[1:], strict=True):
        if (
            year.western <= before.western
        ):  # 今年度 mislabelled 令和7年度 twice: the master's year would be wrong
            reader.fail("table-years-out-of-order", sheet=sheet, cell=a1(header.row + 1, column + 1), value=label,
                        before=before.wareki)  # fmt: skip
    if reader.findings:
        raise ConfigurationError(reader.findings)
    return years


def year_texts(header: Header) -> list[int | str]:
    """The 実績値 columns' years of a header, as western years where they read as years."""
    texts: list[int | str] = []
    for _, label in header.years:
        try:
            texts.append(parse_fiscal_year(label).western)
        except FiscalYearError:
            texts.append(label)
    return texts


def baseline_year_of(
    reader: Reader, sheet: str, header: Header, years: list[FiscalYear]
) -> tuple[FiscalYear, str | None]:
    """The 現状値 column's year, and its label where the table prints it without its era (27年度)."""
    label = header.baseline_label
    try:
        return parse_fiscal_year(label), None
    except FiscalYearError:
        pass
    # 27年度: the latest era in which that year comes before the table's own years.
    for era in ("令和", "平成", "昭和"):
        try:
            year = parse_fiscal_year(label, era_hint=era)
        except FiscalYearError:
            continue
        if year.western <= years[0].western:
            return year, label
    reader.fail(
        "table-bad-year", sheet=sheet, cell=a1(header.row + 1, header.baseline + 1), value=label or ""
    )
    return years[0], None
