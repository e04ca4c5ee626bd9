"""Benchmark: consolidating 1,741 respondents × 69 projects (120,129 department rows).

Compares :func:`xlplan.publish.consolidate.consolidate` with a floor — XlsxWriter writing
the same values into the same sheets with no styles, merges or row heights —
each in its own child process of the same run, so peak memory is measured
separately: the resident memory of the child and any process it starts (the
consolidation writes with two processes on Linux), summed, sampled every 20 ms
— pages the two share after fork() are counted twice, so this errs high.
"cores" is CPU time over wall time. Target: consolidation within 2 × the
floor's wall time and under 1 GB peak. A third run, ``plain``, consolidates with
XlsxWriter's public API only (``XLPLAN_PLAIN_XLSXWRITER=1``: no fast path on its
internals, :mod:`xlplan.xlsx.fast`, and so one process), to show what that path is worth.

The synthetic plan is the example's hierarchy and 69 projects, each with one
entry per synthetic department (課0001 … 課1741), a previous-year value and an
answer with a narrative of seed-like length.

    python benchmarks/bench_consolidate.py            # full size
    python benchmarks/bench_consolidate.py --n 100    # 100 departments (6,900 rows)

Timings are printed, never asserted: shared machines are noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sampling import run_sampled  # noqa: E402 - beside this script

from xlplan.examples import load_example  # noqa: E402
from xlplan.plan.model import Answer, Department, Entry, HistoryRecord, Plan  # noqa: E402
from xlplan.plan.values import Mark, Value  # noqa: E402

TARGET_RATIO = 2.0
TARGET_PEAK_MB = 1024
KINDS = ("floor", "consolidate", "plain")


def synthetic(respondents: int) -> tuple[Plan, list[Answer]]:
    """The example's 69 projects, each answered by ``respondents`` departments, one entry each."""
    example = load_example("ogi")
    plan = example.plan
    settings = plan.settings
    names = [f"課{index:04d}" for index in range(1, respondents + 1)]
    narratives = [answer.narrative for answer in example.answers if answer.narrative]
    projects = []
    history = []
    answers = []
    for project in plan.projects:
        projects.append(dataclasses.replace(project, entries=tuple(Entry(name, (name,)) for name in names)))
        for index, name in enumerate(names):
            if project.unit is not None:
                previous, current = (
                    Value(Decimal(index % 97), project.unit),
                    Value(Decimal(index % 89), project.unit),
                )
            else:
                previous, current = (
                    Value(mark=Mark.DONE),
                    Value(mark=Mark.NOT_DONE if index % 7 else Mark.DONE),
                )
            history.append(HistoryRecord(project.no, name, settings.previous_year, previous))
            narrative = narratives[(project.no * 31 + index) % len(narratives)]
            answers.append(Answer(project.no, name, name, current, narrative))
    departments = tuple(Department(name) for name in names)
    return Plan(settings, plan.nodes, tuple(projects), departments, tuple(history)), answers


def run_floor(respondents: int, out: Path) -> float:
    """XlsxWriter, no styles: the same sheets and values as the consolidated table."""
    import xlsxwriter

    from xlplan.publish.table import Heading, build_table
    from xlplan.publish.writer import sheet_names

    plan, answers = synthetic(respondents)
    table = build_table(plan, answers)
    names = sheet_names(table)
    # The rows as plain values, prepared before the clock starts: the floor is the writing alone.
    sheets = []
    for section in table.sections:
        rows: list[list[object]] = []
        for item in section.items:
            if isinstance(item, Heading):
                rows.append([f"{item.node.number} {item.node.title}"])
                continue
            project = item.project
            for offset, row in enumerate(item.rows):
                first = offset == 0
                rows.append(
                    [
                        None,
                        project.no if first else None,
                        project.description if first else None,
                        row.entry.name,
                        _plain(project.baseline) if first else None,
                        _plain(row.previous),
                        _plain(row.current),
                        row.narrative,
                    ]
                )
        sheets.append(rows)
    start = time.perf_counter()
    workbook = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False})
    for name, rows in zip(names, sheets, strict=True):
        sheet = workbook.add_worksheet(name)
        for row_number, cells in enumerate(rows, start=5):
            for column, value in enumerate(cells):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(row_number, column, value)
                else:
                    sheet.write_number(row_number, column, value)  # type: ignore[arg-type]
    workbook.close()
    return time.perf_counter() - start


def _plain(value: Value) -> object:
    if value.number is not None:
        return float(value.number)
    return value.mark.value if value.mark is not None else None


def run_consolidate(respondents: int, out: Path) -> float:
    """The real thing: table, styled workbook, read-back check, audit, safe replace."""
    from xlplan.publish.consolidate import consolidate_plan

    plan, answers = synthetic(respondents)
    start = time.perf_counter()
    result = consolidate_plan(plan, answers, out.parent)
    elapsed = time.perf_counter() - start
    assert result.rows == respondents * len(plan.projects), result.rows
    return elapsed


def child(kind: str, respondents: int) -> None:
    if kind == "plain":
        import os

        from xlplan.xlsx.fast import PLAIN_ENV

        os.environ[PLAIN_ENV] = "1"
    with tempfile.TemporaryDirectory(prefix="xlplan-bench-") as folder:
        out = Path(folder) / "floor.xlsx"
        seconds = run_floor(respondents, out) if kind == "floor" else run_consolidate(respondents, out)
        size = sum(path.stat().st_size for path in Path(folder).glob("*.xlsx"))
    peak_kb = max(
        resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )  # kilobytes on Linux
    print(json.dumps({"kind": kind, "seconds": seconds, "max_rss_mb": peak_kb / 1024, "bytes": size}))


def measured_run(command: list[str]) -> dict[str, float]:
    """Run a child, sampling the summed RSS and the CPU of it and its own children (:mod:`sampling`)."""
    sampled = run_sampled(command)
    measured = dict(sampled.result)
    measured["peak_mb"] = max(sampled.peak_rss / 2**20, measured["max_rss_mb"])
    measured["cores"] = sum(sampled.cpu.values()) / sampled.wall_s
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1741, help="respondents (departments); default 1741")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best time is kept")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n)
        return
    results: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for kind in KINDS:
            measured = measured_run([sys.executable, __file__, "--child", kind, "--n", str(args.n)])
            best = results.get(kind)
            if best is None or measured["seconds"] < best["seconds"]:
                results[kind] = measured
    rows = args.n * 69
    floor, ours = results["floor"], results["consolidate"]
    ratio = ours["seconds"] / floor["seconds"]
    print(f"rows: {rows:,} ({args.n:,} respondents × 69 projects)")
    print(f"{'':14}{'wall s':>9}{'peak MB':>10}{'cores':>8}{'xlsx MB':>10}")
    for kind in KINDS:
        item = results[kind]
        print(
            f"{kind:14}{item['seconds']:9.2f}{item['peak_mb']:10.0f}{item['cores']:8.2f}{item['bytes'] / 1e6:10.1f}"
        )
    print(
        f"ratio: {ratio:.2f} × floor (target ≤ {TARGET_RATIO}); peak {ours['peak_mb']:.0f} MB (target ≤ {TARGET_PEAK_MB})"
    )
    print(f"plain XlsxWriter (public API only): {results['plain']['seconds'] / floor['seconds']:.2f} × floor")


if __name__ == "__main__":
    main()
