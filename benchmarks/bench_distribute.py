"""Distribution benchmark: N synthetic departments (default 1,741, one per municipality of Japan).

Each department is in charge of all 69 projects of the example. Three ways of
doing the same work are timed, each in a fresh process so that its peak memory
is its own:

- ``xlplan``: :func:`xlplan.distribution.run.distribute` — styled, validated,
  protected workbooks with signed manifests and mail drafts, two worker processes;
- ``openpyxl`` (baseline a): what a user would write — load a styled template
  with openpyxl, fill in the rows, save, once per department, in one process;
- ``floor`` (baseline b): XlsxWriter writing the same cells with no styles,
  validation or protection, in the same two-worker pool;
- ``plain``: xlplan again, with XlsxWriter's public API only (``XLPLAN_PLAIN_XLSXWRITER=1``:
  no fast path on its internals, :mod:`xlplan.xlsx.fast`), to show what that path is worth.

Peak RSS is sampled every 20 ms over the phase's process and its descendants (so the
workers count), from the benchmark's own process (:mod:`sampling`: a sampling thread in the
measured process would make xlplan fork no workers); forked workers share the parent's pages, which a sum of RSS
counts once per process, so the proportional set size (PSS, shared pages split
between the processes sharing them) is summed beside it: the memory the phase
really holds. "cores" is CPU time over wall time. Nothing here is asserted.

    python benchmarks/bench_distribute.py            # N = 1,741
    python benchmarks/bench_distribute.py --n 100    # a quick run
    python benchmarks/bench_distribute.py --repeat 3 # best of three rounds, taken in turns
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sampling import own_cpu, run_sampled

from xlplan.examples import load_example
from xlplan.form import layout
from xlplan.form.rows import columns_for, response_rows
from xlplan.plan.model import Department, Entry, Plan

TARGETS = "targets: ≤ 2× floor, ≥ 2× faster than openpyxl, peak RSS ≤ 500 MB, both cores used"


def synthetic_plan(n: int) -> Plan:
    """The example with ``n`` departments, each in charge of every project (one entry each)."""
    example = load_example("ogi").plan
    names = [f"市町村{index:04d}課" for index in range(1, n + 1)]
    departments = tuple(
        Department(name, email=f"d{index:04d}@bench.example") for index, name in enumerate(names, 1)
    )
    previous = {(r.project_no, r.fiscal_year): r for r in example.history if r.department is None}
    projects, history = [], []
    for project in example.projects:
        projects.append(dataclasses.replace(project, entries=tuple(Entry(name, (name,)) for name in names)))
        record = previous.get((project.no, example.settings.previous_year))
        if record is not None:
            history += [
                dataclasses.replace(record, entry=name, narrative="前年度の取り組み。" * 10) for name in names
            ]
    return Plan(example.settings, example.nodes, tuple(projects), departments, tuple(history))


# ----------------------------------------------------------------------------------------
# The three phases (each runs in its own process)
# ----------------------------------------------------------------------------------------


def phase_xlplan(plan: Plan, out: Path, workers: int) -> None:
    from xlplan.distribution.run import distribute
    from xlplan.workspace.folder import Workspace

    workspace = Workspace(out)
    workspace.outbox.mkdir(parents=True)
    result = distribute(workspace, plan=plan, workers=workers)
    assert len(result.departments) == len(plan.departments)


def _rows(plan: Plan) -> list[tuple[str, list[list[Any]]]]:
    """Every department's rows as plain cell values (the same cells the xlplan workbook holds)."""
    columns = columns_for(plan.settings)
    result = []
    for name, rows in response_rows(plan).items():
        cells = [[_plain(row.cells.get(column.key)) for column in columns] for row in rows]
        result.append((name, cells))
    return result


def _plain(value: object) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def phase_openpyxl(plan: Plan, out: Path, workers: int) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = columns_for(plan.settings)
    template = out / "template.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = layout.RESPONSE_SHEET
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=layout.HEADER_ROW, column=index, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.column_dimensions[cell.column_letter].width = column.width
    sheet.protection.sheet = True
    workbook.create_sheet(layout.GUIDE_SHEET)["A1"] = "記入方法"
    workbook.save(template)
    grey, yellow = PatternFill("solid", fgColor="F2F2F2"), PatternFill("solid", fgColor="FFF2A8")
    wrap, unlocked = Alignment(wrap_text=True, vertical="top"), Protection(locked=False)
    inputs = {index for index, column in enumerate(columns, start=1) if column.input}
    for name, rows in _rows(plan):
        book = openpyxl.load_workbook(template)
        sheet = book[layout.RESPONSE_SHEET]
        for offset, values in enumerate(rows):
            r = layout.FIRST_DATA_ROW + offset
            for index, value in enumerate(values, start=1):
                cell = sheet.cell(row=r, column=index, value=value)
                cell.alignment = wrap
                cell.fill = yellow if index in inputs else grey
                if index in inputs:
                    cell.protection = unlocked
        validation = DataValidation(type="list", formula1='"○,×,—"')
        sheet.add_data_validation(validation)
        validation.add(f"N{layout.FIRST_DATA_ROW}:N{layout.FIRST_DATA_ROW + len(rows) - 1}")
        book.save(out / f"{name}.xlsx")


def _floor_one(job: tuple[str, list[list[Any]], str]) -> None:
    import xlsxwriter

    name, rows, folder = job
    workbook = xlsxwriter.Workbook(os.path.join(folder, f"{name}.xlsx"), {"in_memory": True})
    sheet = workbook.add_worksheet(layout.RESPONSE_SHEET)
    for offset, values in enumerate(rows):
        r = layout.FIRST_DATA_ROW - 1 + offset
        for index, value in enumerate(values):
            if isinstance(value, str):
                sheet.write_string(r, index, value)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, index, value)
    workbook.close()


def phase_floor(plan: Plan, out: Path, workers: int) -> None:
    jobs = [(name, rows, str(out)) for name, rows in _rows(plan)]
    with multiprocessing.Pool(workers) as pool:
        pool.map(_floor_one, jobs, chunksize=max(1, len(jobs) // (workers * 8)))


def phase_plain(plan: Plan, out: Path, workers: int) -> None:
    from xlplan.xlsx.fast import PLAIN_ENV

    os.environ[PLAIN_ENV] = "1"  # the workers inherit it
    phase_xlplan(plan, out, workers)


PHASES: dict[str, Callable[[Plan, Path, int], None]] = {
    "xlplan": phase_xlplan,
    "plain": phase_plain,
    "openpyxl": phase_openpyxl,
    "floor": phase_floor,
}


def run_phase(name: str, n: int, workers: int) -> dict[str, Any]:
    """Run one phase in this process (sampled from outside, see :mod:`sampling`)."""
    plan = synthetic_plan(n)
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
        cpu_before = own_cpu()
        start = time.perf_counter()
        PHASES[name](plan, Path(folder), workers)
        wall = time.perf_counter() - start
        cpu_after = own_cpu()
        files = sum(1 for path in Path(folder).rglob("*.xlsx") if path.name != "template.xlsx")
    self_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "phase": name,
        "n": n,
        "files": files,
        "wall_s": round(wall, 2),
        "cpu_own_s": cpu_after - cpu_before,
        "ru_maxrss_self_mb": round(self_max, 1),
        "ru_maxrss_largest_child_mb": round(child_max, 1),
    }


def measure(name: str, n: int, workers: int) -> dict[str, Any]:
    """Run a phase in a fresh process, sampled from here."""
    sampled = run_sampled(
        [sys.executable, __file__, "--phase", name, "--n", str(n), "--workers", str(workers)]
    )
    result = dict(sampled.result)
    # The phase's own CPU within its clock, and its workers'.
    cpu_seconds = result.pop("cpu_own_s") + sampled.descendants_cpu
    return {
        **result,
        "cpu_s": round(cpu_seconds, 2),
        "cores": round(cpu_seconds / result["wall_s"], 2),
        "peak_rss_mb": round(sampled.peak_rss / 2**20, 1),
        "peak_pss_mb": round(sampled.peak_pss / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1741, help="departments (default 1,741)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for xlplan and floor")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of xlplan, plain and floor; the best of each is kept"
    )
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.n, args.workers)))
        return
    print(f"distribution benchmark: N = {args.n:,} departments × 69 projects, {args.workers} workers, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    # The machine is shared: with --repeat, xlplan, plain and floor take turns and each keeps its
    # best run (openpyxl, a minute a run, runs once), so that a burst of someone else's load during
    # one phase does not decide the ratio.
    rounds = [("xlplan", "plain", "floor")] * max(1, args.repeat)
    rounds[0] = ("xlplan", "plain", "floor", "openpyxl")
    for names in rounds:
        for name in names:
            r = measure(name, args.n, args.workers)
            print(f"  {name:9} wall {r['wall_s']:8.2f} s  cpu {r['cpu_s']:8.2f} s  cores {r['cores']:4.2f}  "
                  f"peak RSS {r['peak_rss_mb']:7.1f} MB  PSS {r['peak_pss_mb']:7.1f} MB  files {r['files']}")  # fmt: skip
            if name not in results or r["wall_s"] < results[name]["wall_s"]:
                results[name] = r
    ours, floor, naive = results["xlplan"], results["floor"], results["openpyxl"]
    print(f"  xlplan / floor      = {ours['wall_s'] / floor['wall_s']:.2f}×  (target ≤ 2×)")
    print(f"  plain / floor       = {results['plain']['wall_s'] / floor['wall_s']:.2f}×  (public API only)")
    print(f"  openpyxl / xlplan   = {naive['wall_s'] / ours['wall_s']:.2f}×  (target ≥ 2×)")
    print(
        f"  xlplan peak RSS     = {ours['peak_rss_mb']:.1f} MB summed, {ours['peak_pss_mb']:.1f} MB PSS  (target ≤ 500 MB)"
    )
    print(f"  xlplan cores used   = {ours['cores']:.2f}  ({'both' if ours['cores'] > 1.3 else 'NOT both'})")
    print(f"  {TARGETS}")


if __name__ == "__main__":
    main()
