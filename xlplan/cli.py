"""The ``xlplan`` command line: a thin shell over the library.

Each command parses its options, calls one library function, and prints the
result in Japanese (``--lang en`` for English) or as one JSON document with
``--json``. Exit status: 0 all valid, 1 findings of severity error, 2 usage
or configuration error (a bad master, a missing workspace).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from xlplan.findings import XlplanError, current_language, format_table

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]


def _say(ja: str, en: str) -> None:
    """Print a line for people, in the chosen language."""
    print(en if current_language() == "en" else ja)


def _print_json(document: Any) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=2))


def _workspace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-w", "--workspace", type=Path, default=Path("."), help="作業フォルダ（既定: 現在のフォルダ）"
    )


# ----------------------------------------------------------------------------------------
# init, demo, plan show
# ----------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    """新しい作業フォルダを作ります。例: xlplan init 令和3年度 --example ogi"""
    from xlplan.examples import load_example
    from xlplan.workspace.folder import init_workspace

    plan = load_example(args.example).plan
    workspace = init_workspace(args.dir, plan)
    _say(f"作業フォルダを作成しました: {workspace.root}", f"Workspace created: {workspace.root}")
    _say(f"計画マスタ: {workspace.master_path}", f"Master workbook: {workspace.master_path}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """組み込みの例（小城市男女共同参画プラン）で作業フォルダを作り、一連の処理を実行します。"""
    from xlplan.demo.run import run_demo

    root = args.dir if args.dir is not None else _fresh_folder(Path("xlplan-demo"))
    summary = run_demo(root)
    for ja, en in summary.lines():
        _say(ja, en)
    if summary.findings:
        print(format_table(summary.findings), file=sys.stderr)
    return EXIT_FINDINGS if any(finding.is_error for finding in summary.findings) else EXIT_OK


def _fresh_folder(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3`` … whichever does not exist yet (a demo never reuses a folder)."""
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def cmd_plan_show(args: argparse.Namespace) -> int:
    """計画マスタの内容（階層・事業・担当課・年度ごとの値）を表示します。例: xlplan plan show --json"""
    from xlplan.workspace.folder import Workspace

    plan = Workspace(args.workspace).load_plan()
    document = plan.to_json()
    if args.json:
        _print_json(document)
        return EXIT_OK
    counts = document["counts"]
    _say(
        f"{plan.settings.plan_name}（{plan.settings.current_year.label}）",
        f"{plan.settings.plan_name} ({plan.settings.current_year.western})",
    )
    for level, count in counts["per_level"].items():
        _say(f"  {level}: {count}", f"  {level}: {count}")
    _say(
        f"  担当課の行: {counts['entries']}（課の延べ数 {counts['named_departments']}）、担当課: {counts['departments']}",
        f"  department entries: {counts['entries']} ({counts['named_departments']} named), "
        f"departments: {counts['departments']}",
    )
    for project in plan.projects:
        names = " / ".join(entry.name for entry in project.entries)
        print(f"  {project.no:>3} {project.description[:40]} [{names}]")
    return EXIT_OK


# ----------------------------------------------------------------------------------------
# the cycle: distribute, collect, validate, status, remind, consolidate, excel build
# ----------------------------------------------------------------------------------------


def cmd_distribute(args: argparse.Namespace) -> int:
    """担当課ごとの回答用ブックとメールの下書きを outbox/ に作ります。例: xlplan distribute --only 文化課"""
    from xlplan.distribute.run import distribute
    from xlplan.findings import has_errors
    from xlplan.workspace.folder import Workspace

    result = distribute(Workspace(args.workspace), only=args.only, send=args.send, resend=args.resend)
    for ja, en in result.lines():
        _say(ja, en)
    if result.findings:
        print(format_table(result.findings), file=sys.stderr)
    return EXIT_FINDINGS if has_errors(result.findings) else EXIT_OK


def cmd_collect(args: argparse.Namespace) -> int:
    """inbox/ に届いたファイルを保管・検証し、台帳と差し戻し票を更新します。例: xlplan collect --json"""
    from xlplan.collect.run import collect
    from xlplan.findings import has_errors
    from xlplan.workspace.folder import Workspace

    result = collect(Workspace(args.workspace), send=args.send)
    if args.json:
        _print_json(result.to_dict())
    else:
        for ja, en in result.lines():
            _say(ja, en)
        if result.all_findings:
            print(format_table(result.all_findings), file=sys.stderr)
    return EXIT_FINDINGS if has_errors(result.all_findings) else EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """回答ファイルを取り込まずに検証します（保管・台帳・差し戻しはしません）。例: xlplan validate 回答.xlsx --json"""
    from xlplan.collect.run import validate, validation_findings
    from xlplan.findings import has_errors
    from xlplan.workspace.folder import Workspace

    results = validate(Workspace(args.workspace), args.files)
    findings = validation_findings(results)
    if args.json:
        _print_json({"files": [item.to_dict() for item in results]})
    else:
        for item in results:
            state = "問題なし" if item.checked.outcome == "accepted" else "要修正"
            _say(f"{item.path}: {state}", f"{item.path}: {'valid' if state == '問題なし' else 'invalid'}")
        if findings:
            print(format_table(findings), file=sys.stderr)
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """担当課ごとの状況（未送付・送付済み・要修正・受理・期限超過）を表示し、reports/回答状況.xlsx に保存します。例: xlplan status"""
    from xlplan.followup.status import format_status, save_status, status
    from xlplan.workspace.folder import Workspace

    workspace = Workspace(args.workspace)
    report = status(workspace)
    path = save_status(workspace, report)
    if args.json:
        _print_json({**report.to_dict(), "workbook": str(path)})
    else:
        print(format_status(report))
        _say(f"回答状況を保存しました: {path}", f"Status workbook: {path}")
    # 1 when a department must correct its return or is overdue, so a scheduled run can alert.
    return EXIT_FINDINGS if report.needs_action() else EXIT_OK


def cmd_remind(args: argparse.Namespace) -> int:
    """締切を過ぎて未回答の課への督促メールを outbox/<年度>-R<回>/督促/ に作ります（--send で送信）。例: xlplan remind --send"""
    from xlplan.followup.remind import remind
    from xlplan.workspace.folder import Workspace

    result = remind(Workspace(args.workspace), send=args.send)
    if getattr(args, "json", False):
        _print_json(result.to_dict())
    else:
        print("\n".join(result.lines()))
        if result.findings:
            print(format_table(result.findings), file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FINDINGS


def cmd_consolidate(args: argparse.Namespace) -> int:
    """受理した回答から集約表（事業実績一覧）を作ります。例: xlplan consolidate --pdf --csv"""
    from xlplan.findings import has_errors
    from xlplan.publish.consolidate import consolidate_workspace
    from xlplan.workspace.folder import Workspace

    result = consolidate_workspace(Workspace(args.workspace), pdf=args.pdf, csv=args.csv)
    for ja, en in result.lines():
        _say(ja, en)
    if result.findings:
        print(format_table(result.findings), file=sys.stderr)
    return EXIT_FINDINGS if has_errors(result.findings) else EXIT_OK


def cmd_excel_build(args: argparse.Namespace) -> int:
    """計画マスタからボタン付きの master.xlsm を作ります（元のファイルは .xlplan/backup/ へ）。例: xlplan excel build"""
    from xlplan.buttons.build import build_excel_master
    from xlplan.buttons.vba import XlwingsVbaNotFoundError
    from xlplan.workspace.folder import Workspace

    try:
        result = build_excel_master(Workspace(args.workspace), interpreter_win=args.interpreter)
    except XlwingsVbaNotFoundError as exc:
        _say(
            f'xlwings が入っていないため作成できません: pip install "xlplan[excel]"（{exc}）',
            f'xlwings is not installed: pip install "xlplan[excel]" ({exc})',
        )
        return EXIT_USAGE
    for ja, en in result.lines():
        _say(ja, en)
    return EXIT_OK


# ----------------------------------------------------------------------------------------
# parser
# ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (also used to test that each command has help)."""
    parser = argparse.ArgumentParser(
        prog="xlplan",
        description="計画の進捗照会（配布 → 回収・検証 → 集約）を Excel で行うツール。",
    )
    parser.add_argument(
        "--lang", choices=("ja", "en"), help="メッセージの言語（既定: ja、環境変数 XLPLAN_LANG）"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = commands.add_parser("init", help=_doc(cmd_init), description=_doc(cmd_init))
    init.add_argument("dir", type=Path, help="作成する作業フォルダ")
    init.add_argument("--example", default="ogi", help="使う例（既定: ogi）")
    init.set_defaults(handler=cmd_init)

    demo = commands.add_parser("demo", help=_doc(cmd_demo), description=_doc(cmd_demo))
    demo.add_argument(
        "dir", nargs="?", type=Path, help="作業フォルダ（既定: ./xlplan-demo、既にあれば -2, -3 …）"
    )
    demo.set_defaults(handler=cmd_demo)

    plan = commands.add_parser("plan", help="計画マスタの表示", description="計画マスタの表示")
    plan_commands = plan.add_subparsers(dest="plan_command", metavar="SUBCOMMAND")
    show = plan_commands.add_parser("show", help=_doc(cmd_plan_show), description=_doc(cmd_plan_show))
    _workspace_arg(show)
    show.add_argument("--json", action="store_true", help="JSON で出力")
    show.set_defaults(handler=cmd_plan_show)

    distribute = commands.add_parser(
        "distribute", help=_doc(cmd_distribute), description=_doc(cmd_distribute)
    )
    _workspace_arg(distribute)
    distribute.add_argument("--send", action="store_true", help="SMTP でメールを送信する（既定: 下書きのみ）")
    distribute.add_argument("--only", metavar="DEPT", action="append", help="この課だけに配布（複数指定可）")
    distribute.add_argument("--resend", action="store_true", help="送信済みの課にも再送する")
    distribute.set_defaults(handler=cmd_distribute)

    collect = commands.add_parser("collect", help=_doc(cmd_collect), description=_doc(cmd_collect))
    _workspace_arg(collect)
    collect.add_argument("--json", action="store_true", help="結果を JSON で出力")
    collect.add_argument("--send", action="store_true", help="差し戻しメールを SMTP で送信する")
    collect.set_defaults(handler=cmd_collect)

    validate = commands.add_parser("validate", help=_doc(cmd_validate), description=_doc(cmd_validate))
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE", help="検証するファイル")
    _workspace_arg(validate)
    validate.add_argument("--json", action="store_true", help="結果を JSON で出力")
    validate.set_defaults(handler=cmd_validate)

    status = commands.add_parser("status", help=_doc(cmd_status), description=_doc(cmd_status))
    _workspace_arg(status)
    status.add_argument("--json", action="store_true", help="JSON で出力")
    status.set_defaults(handler=cmd_status)

    remind = commands.add_parser("remind", help=_doc(cmd_remind), description=_doc(cmd_remind))
    _workspace_arg(remind)
    remind.add_argument("--send", action="store_true", help="SMTP で送信する（既定: 下書きのみ）")
    remind.set_defaults(handler=cmd_remind)

    consolidate = commands.add_parser(
        "consolidate", help=_doc(cmd_consolidate), description=_doc(cmd_consolidate)
    )
    _workspace_arg(consolidate)
    consolidate.add_argument(
        "--pdf", action="store_true", help="PDF も作る（LibreOffice または Excel が必要）"
    )
    consolidate.add_argument("--csv", action="store_true", help="オープンデータ用の CSV と JSON も作る")
    consolidate.set_defaults(handler=cmd_consolidate)

    excel = commands.add_parser(
        "excel", help="Excel のボタン付きブック", description="Excel のボタン付きブック"
    )
    excel_commands = excel.add_subparsers(dest="excel_command", metavar="SUBCOMMAND")
    build = excel_commands.add_parser("build", help=_doc(cmd_excel_build), description=_doc(cmd_excel_build))
    _workspace_arg(build)
    build.add_argument(
        "--interpreter",
        metavar="PYTHONW_EXE",
        help="ボタンで使う pythonw.exe の場所（xlwings.conf シートの B1。既定: 前回の値）",
    )
    build.set_defaults(handler=cmd_excel_build)
    return parser


def _doc(handler: Handler) -> str:
    return (handler.__doc__ or "").strip()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if args.lang:
        os.environ["XLPLAN_LANG"] = args.lang
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except XlplanError as exc:
        print(format_table(exc.findings), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("中断しました。", "Interrupted.")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
