"""The ``xlplan`` command line: a thin shell over the library's public verbs.

Each command parses its options, calls one verb of :mod:`xlplan`, and hands the
result to :func:`report`, which prints its lines in Japanese (``--lang en`` or
``XLPLAN_LANG=en`` for English) or, with ``--json``, its one JSON document. The
exit status is the result's (0 all valid, 1 findings of severity error) or, when
the run could not complete, the exception's (:mod:`xlplan.errors`: 2 usage or
configuration, 3 an output could not be written, 4 the workspace is busy).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import xlplan
from xlplan.errors import EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, MissingExtraError, XlplanError
from xlplan.findings import (
    Finding,
    Language,
    findings_json,
    format_table,
    language_of,
    os_params,
    sqlite_params,
)
from xlplan.plan.fiscal_year import FiscalYear
from xlplan.plan.text import printable
from xlplan.result import Result, say
from xlplan.usage import Parser, UsageError, given_lang

Handler = Callable[[argparse.Namespace], int]


def report(result: Result, args: argparse.Namespace, **extra: Any) -> int:
    """Print ``result`` as the command line does; returns its exit status.

    With ``--json``: the result's JSON document (plus ``extra`` keys) on standard output.
    Otherwise: its lines on standard output and its findings as a table on standard error.
    """
    language: Language = args.language
    if getattr(args, "json", False):
        print(json.dumps({**result.to_dict(language), **extra}, ensure_ascii=False, indent=2))
    else:
        for line in result.lines(language):
            print(line)
        if result.findings:
            print(format_table(result.findings, language), file=sys.stderr)
    return EXIT_OK if result.ok else 1


def _workspace(args: argparse.Namespace) -> xlplan.Workspace:
    return xlplan.Workspace(args.workspace)


# ----------------------------------------------------------------------------------------
# the commands (the docstring is the --help text; tests/test_docs.py checks each has a page)
# ----------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    """新しい作業フォルダを作ります。例: xlplan init 男女共同参画 --levels 基本目標,施策,事業 --title 第3次みらい市男女共同参画プラン"""
    levels = [name for name in re.split(r"[,、，]", args.levels)] if args.levels is not None else None
    noticed: list[Finding] = []
    workspace = xlplan.init(
        args.dir, example=args.example, levels=levels, title=args.title, source=args.source, warnings=noticed
    )
    if noticed:
        print(format_table(noticed, args.language), file=sys.stderr)
    print(
        say(
            args.language,
            f"作業フォルダを作成しました: {workspace.root}",
            f"Workspace created: {workspace.root}",
        )
    )
    print(
        say(
            args.language, f"計画マスタ: {workspace.master_path}", f"Master workbook: {workspace.master_path}"
        )
    )
    plan = workspace.load_plan()
    if not plan.projects:
        print(say(args.language,
                  "次に、計画マスタの設定シート（計画名・年度・照会元）、担当課シート、計画シートに入力してください。"
                  "書き方は計画マスタの説明シートにあります。",
                  "Next, fill in the master's settings, departments and plan sheets; its guide sheet explains how."))  # fmt: skip
    else:
        years = sorted({record.fiscal_year.western for record in plan.history})
        print(say(args.language,
                  f"事業 {len(plan.projects)} 件、担当課 {len(plan.departments)}、履歴 {len(plan.history)} 件"
                  + (f"（{FiscalYear(years[0]).wareki}" + (f"〜{FiscalYear(years[-1]).wareki}" if len(years) > 1 else "")
                     + "）" if years else ""),
                  f"{len(plan.projects)} projects, {len(plan.departments)} departments, {len(plan.history)} history records"))  # fmt: skip
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """組み込みの例（小城市男女共同参画プラン）で作業フォルダを作り、一連の処理を実行します。例: xlplan demo"""
    from xlplan.demo import run_demo  # the one importer of the demo (the layers contract says so)

    root = args.dir if args.dir is not None else _fresh_folder(Path("xlplan-demo"))
    summary = run_demo(root)
    return report(summary, args)


def _fresh_folder(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3`` … whichever does not exist yet (a demo never reuses a folder)."""
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def cmd_plan_show(args: argparse.Namespace) -> int:
    """計画マスタの内容（階層・事業・担当課・年度ごとの値）を表示します。例: xlplan plan show --json"""
    plan = _workspace(args).load_plan()
    document = plan.to_dict()
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return EXIT_OK
    language, counts = args.language, document["counts"]
    settings = plan.settings
    if not plan.projects:
        print(say(language, f"{settings.plan_name}（{settings.current_year.label}）: 事業がまだありません。"
                  "計画マスタの計画シートに事業と担当課を入力してください。",
                  f"{settings.plan_name} ({settings.current_year.western}): no projects yet. "
                  "Enter them on the master's plan sheet."))  # fmt: skip
        return EXIT_OK
    print(say(language, f"{settings.plan_name}（{settings.current_year.label}）",
              f"{settings.plan_name} ({settings.current_year.western})"))  # fmt: skip
    for level, count in counts["per_level"].items():
        print(f"  {level}: {count}")
    print(
        say(
            language,
            f"  担当課の行: {counts['entries']}（課の延べ数 {counts['named_departments']}）、担当課: {counts['departments']}",
            f"  department entries: {counts['entries']} ({counts['named_departments']} named), "
            f"departments: {counts['departments']}",
        )
    )
    for project in plan.projects:
        names = " / ".join(entry.name for entry in project.entries)
        print(f"  {project.no:>3} {project.description[:40]} [{names}]")
    return EXIT_OK


def cmd_distribute(args: argparse.Namespace) -> int:
    """担当課ごとの回答用ブックとメールの下書きを outbox/ に作ります。例: xlplan distribute --only 文化課"""
    return report(
        xlplan.distribute(_workspace(args), only=args.only, send=args.send, resend=args.resend), args
    )


def cmd_collect(args: argparse.Namespace) -> int:
    """inbox/ に届いたファイル（--imap: 先にメールボックスのメールも）を保管・検証し、台帳と差し戻し票を更新します。例: xlplan collect --json"""
    result = xlplan.collect(_workspace(args), send=args.send, progress=_progress(args), imap=args.imap)
    return report(result, args)


def cmd_validate(args: argparse.Namespace) -> int:
    """回答ファイルを取り込まずに検証します（保管・台帳・差し戻しはしません）。例: xlplan validate 回答.xlsx --json"""
    return report(xlplan.validate(_workspace(args), args.files), args)


def cmd_status(args: argparse.Namespace) -> int:
    """担当課ごとの状況（未送付・送付済み・要修正・受理・期限超過）を表示し、reports/回答状況.xlsx に保存します。例: xlplan status"""
    from xlplan.followup.status_sheet import status_document

    result, document = status_document(_workspace(args), args.language)
    code = report(result, args, workbook=document["workbook"])
    if not args.json and document["workbook"] is not None:
        print(
            say(
                args.language,
                f"回答状況を保存しました: {document['workbook']}",
                f"Status workbook: {document['workbook']}",
            )
        )
    # 1 when a department must correct its return, is overdue, or a return awaits review.
    return code


def cmd_review_list(args: argparse.Namespace) -> int:
    """提出元を証明できない回答（署名付きの管理情報がないもの）の一覧。照会元が受理か却下を決めます。例: xlplan review list"""
    from xlplan.followup.review import review

    result = review(_workspace(args))
    code = report(result, args)
    return 1 if result.pending else code


def cmd_review_accept(args: argparse.Namespace) -> int:
    """確認待ちの回答を、照会元の判断で受理します（だれが・いつ受理したかを台帳に記録）。例: xlplan review accept 12 --as 文化課"""
    from xlplan.followup.review import decide

    result = decide(_workspace(args), args.receipt, "accept", department=args.department, by=args.by,
                    note=args.note, replace=args.replace)  # fmt: skip
    return report(result, args)


def cmd_review_reject(args: argparse.Namespace) -> int:
    """確認待ちの回答を却下します（ファイルは保管フォルダと台帳に残ります）。例: xlplan review reject 12 --note 別の課の記入"""
    from xlplan.followup.review import decide

    return report(decide(_workspace(args), args.receipt, "reject", by=args.by, note=args.note), args)


def cmd_remind(args: argparse.Namespace) -> int:
    """締切を過ぎて未回答の課への督促メールを outbox/<年度>-R<回>/督促/ に作ります（--send で送信）。例: xlplan remind --send"""
    return report(xlplan.remind(_workspace(args), send=args.send), args)


def cmd_consolidate(args: argparse.Namespace) -> int:
    """受理した回答から集約表（事業実績一覧）を作ります。例: xlplan consolidate --pdf --csv --html"""
    return report(xlplan.consolidate(_workspace(args), pdf=args.pdf, csv=args.csv, html=args.html), args)


def cmd_rollover(args: argparse.Namespace) -> int:
    """今年度を締めて次年度に切り替えます（受理した回答を履歴に入れ、年度を1年進めます）。例: xlplan rollover"""
    return report(xlplan.rollover(_workspace(args), force=args.force), args)


def cmd_serve(args: argparse.Namespace) -> int:
    """作業フォルダをサーバーで公開し、ボタン・回答の送付・状況のページを HTTP で受け付けます。例: xlplan serve -w 令和3年度 --host 0.0.0.0 --port 8080"""
    try:
        from xlplan.serve import run
        from xlplan.serve.app import served
        from xlplan.serve.run import networks_from
    except ImportError as exc:  # the HTTP stack is the serve extra: a staff PC never needs it
        if (exc.name or "").split(".")[0] not in (
            "starlette",
            "uvicorn",
            "anyio",
            "multipart",
            "python_multipart",
        ):
            raise
        raise MissingExtraError([Finding("serve-extra-missing", {"module": exc.name or ""})]) from exc

    workspaces = [xlplan.Workspace(path) for path in (args.workspaces or [Path(".")])]
    if args.check:
        # Everything but listening: the masters read, the names distinct, the tokens made (printed once).
        state = served(workspaces, networks=networks_from(args.allow), language=args.language)
        print(say(args.language, f"設定に問題はありません（作業フォルダ: {'、'.join(state.workspaces)}）。",
                  f"The settings are fine (workspaces: {', '.join(state.workspaces)})."))  # fmt: skip
        return EXIT_OK
    run(workspaces, host=args.host, port=args.port, allow=args.allow, imap_every=args.imap_every,
        upload_limit=args.upload_limit, language=args.language)  # fmt: skip
    return EXIT_OK


def cmd_excel_build(args: argparse.Namespace) -> int:
    """計画マスタからボタン付きの master.xlsm を作ります（元のファイルは .xlplan/backup/ へ）。例: xlplan excel build"""
    return report(
        xlplan.build_buttons(_workspace(args), interpreter_win=args.interpreter, server=args.server), args
    )


def _progress(args: argparse.Namespace) -> bool:
    """A progress bar only for a person watching a terminal, never under ``--json``."""
    return not getattr(args, "json", False) and sys.stderr.isatty()


# ----------------------------------------------------------------------------------------
# parser
# ----------------------------------------------------------------------------------------


# An option a subcommand shares with its parent command (`xlplan review -w X accept 12`) has no default
# of its own: argparse copies the subcommand's values over the parent's, defaults included, so the
# subcommand's default would silently undo the -w given before it. The parent sets the defaults.
def _workspace_arg(parser: argparse.ArgumentParser, *, shared: bool = False) -> None:
    parser.add_argument("-w", "--workspace", type=Path, default=argparse.SUPPRESS if shared else Path("."),
                        help="作業フォルダ（既定: 現在のフォルダ）")  # fmt: skip


def _json_arg(parser: argparse.ArgumentParser, *, shared: bool = False) -> None:
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS if shared else False,
                        help="結果を JSON で出力")  # fmt: skip


def _command(
    commands: Any,
    name: str,
    handler: Handler,
    *,
    workspace: bool = True,
    json_output: bool = True,
    shared: bool = False,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=_doc(handler), description=_doc(handler))
    if workspace:
        _workspace_arg(parser, shared=shared)
    if json_output:
        _json_arg(parser, shared=shared)
    _lang_arg(parser)
    parser.set_defaults(handler=handler, command_parser=parser)
    return parser


def _lang_arg(parser: argparse.ArgumentParser) -> None:
    # Accepted before and after the command's name; after it, it is the command's own (SUPPRESS: unset
    # when not given, so that `xlplan --lang en status` keeps its choice).
    parser.add_argument("--lang", choices=("ja", "en"), default=argparse.SUPPRESS,
                        help="メッセージの言語（既定: ja、環境変数 XLPLAN_LANG）")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (also used to test that each command has help)."""
    parser = Parser(
        prog="xlplan",
        description="計画の進捗照会（配布 → 回収・検証 → 集約）を Excel で行うツール。",
    )
    parser.add_argument(
        "--lang", choices=("ja", "en"), help="メッセージの言語（既定: ja、環境変数 XLPLAN_LANG）"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = _command(commands, "init", cmd_init, workspace=False, json_output=False)
    init.add_argument("dir", type=Path, help="作成する作業フォルダ")
    init.add_argument(
        "--levels", help="階層名を上から順に「,」区切りで（既定: 基本目標,施策の方向,基本事業,事業）"
    )
    init.add_argument("--title", help="計画名（空の計画マスタ、または --from の表の計画名の代わり）")
    init.add_argument("--from", dest="source", type=Path, metavar="TABLE",
                      help="いまある事業実績一覧（.xlsx）から計画マスタを作る")  # fmt: skip
    init.add_argument("--example", help="組み込みの例から始める（ogi）")

    demo = _command(commands, "demo", cmd_demo, workspace=False)
    demo.add_argument(
        "dir", nargs="?", type=Path, help="作業フォルダ（既定: ./xlplan-demo、既にあれば -2, -3 …）"
    )

    plan = commands.add_parser("plan", help="計画マスタの表示", description="計画マスタの表示")
    plan.set_defaults(command_parser=plan)
    plan_commands = plan.add_subparsers(dest="plan_command", metavar="SUBCOMMAND")
    _command(plan_commands, "show", cmd_plan_show)

    distribute = _command(commands, "distribute", cmd_distribute)
    distribute.add_argument("--send", action="store_true", help="SMTP でメールを送信する（既定: 下書きのみ）")
    distribute.add_argument("--only", metavar="DEPT", action="append", help="この課だけに配布（複数指定可）")
    distribute.add_argument("--resend", action="store_true", help="送信済みの課にも再送する")

    collect = _command(commands, "collect", cmd_collect)
    collect.add_argument("--send", action="store_true", help="差し戻しメールを SMTP で送信する")
    collect.add_argument(
        "--imap", action="store_true", help="先に照会元のメールボックス（IMAP）から回答のメールを受信する"
    )

    validate = _command(commands, "validate", cmd_validate)
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE", help="検証するファイル")

    _command(commands, "status", cmd_status)

    review = commands.add_parser(
        "review",
        help="提出元を証明できない回答の確認（受理・却下）",
        description="提出元を証明できない回答の確認（受理・却下）",
    )
    # `xlplan review` alone lists (with -w and --json as `review list` takes them).
    _workspace_arg(review, shared=True)
    _json_arg(review, shared=True)
    _lang_arg(review)
    review.set_defaults(handler=cmd_review_list, command_parser=review, workspace=Path("."), json=False)
    review_commands = review.add_subparsers(dest="review_command", metavar="SUBCOMMAND")
    _command(review_commands, "list", cmd_review_list, shared=True)
    for name, handler in (("accept", cmd_review_accept), ("reject", cmd_review_reject)):
        decide = _command(review_commands, name, handler, shared=True)
        decide.add_argument(
            "receipt", type=int, metavar="RECEIPT", help="受付番号（xlplan review list の番号）"
        )
        if name == "accept":
            decide.add_argument(
                "--as",
                dest="department",
                metavar="DEPT",
                help="この課の回答として受理（既定: 内容から見た課）",
            )
            decide.add_argument("--replace", action="store_true", help="署名付きの受理済みの回答を置き換える")
        decide.add_argument("--by", metavar="NAME", help="判断した人（既定: ログインしているユーザー）")
        decide.add_argument("--note", metavar="TEXT", help="判断の理由（台帳に残ります）")

    remind = _command(commands, "remind", cmd_remind)
    remind.add_argument("--send", action="store_true", help="SMTP で送信する（既定: 下書きのみ）")

    consolidate = _command(commands, "consolidate", cmd_consolidate)
    consolidate.add_argument(
        "--pdf", action="store_true", help="PDF も作る（LibreOffice または Excel が必要）"
    )
    consolidate.add_argument("--csv", action="store_true", help="オープンデータ用の CSV と JSON も作る")
    consolidate.add_argument(
        "--html", action="store_true", help="ウェブサイトに載せるアクセシブルな HTML も作る"
    )

    rollover = _command(commands, "rollover", cmd_rollover)
    rollover.add_argument(
        "--force", action="store_true", help="未検証の回答があっても、受理した回答がなくても切り替える"
    )

    serve = _command(commands, "serve", cmd_serve, workspace=False, json_output=False)
    serve.add_argument("-w", "--workspace", dest="workspaces", type=Path, action="append",
                       help="公開する作業フォルダ（複数指定可。URL にはフォルダ名を使います。既定: 現在のフォルダ）")  # fmt: skip
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="待ち受けるアドレス（既定: 127.0.0.1。庁内に公開するなら 0.0.0.0）",
    )
    serve.add_argument("--port", type=int, default=8080, help="待ち受けるポート（既定: 8080）")
    serve.add_argument("--allow", action="append", default=[], metavar="NETWORK",
                       help="接続を許可するネットワーク（例: 10.20.0.0/16。複数指定可。既定: すべて）")  # fmt: skip
    serve.add_argument("--check", action="store_true", help="設定を確かめて終了する（サーバーは起動しない）")
    serve.add_argument("--imap-every", type=float, metavar="MINUTES",
                       help="この分ごとに照会元のメールボックス（IMAP）から回答を受信して回収する（設定シートの IMAP の項目を使う）")  # fmt: skip
    serve.add_argument("--upload-limit", type=int, default=256, metavar="MB",
                       help="1回の送信（回答ファイルの送付）の大きさの上限（MB。既定: 256。ファイル1つは 50 MB まで）")  # fmt: skip

    excel = commands.add_parser(
        "excel", help="Excel のボタン付きブック", description="Excel のボタン付きブック"
    )
    excel.set_defaults(command_parser=excel)
    excel_commands = excel.add_subparsers(dest="excel_command", metavar="SUBCOMMAND")
    build = _command(excel_commands, "build", cmd_excel_build)
    mode = build.add_mutually_exclusive_group()
    mode.add_argument(
        "--interpreter",
        metavar="PYTHONW_EXE",
        help="ボタンで使う pythonw.exe の場所（xlwings.conf シートの B1。既定: 前回の値）",
    )
    mode.add_argument(
        "--server",
        metavar="URL",
        help="サーバーモード: ボタンが xlplan サーバー（例: http://xlplan.city.local:8080）を呼ぶ。PC に Python は不要",
    )
    return parser


def _doc(handler: Handler) -> str:
    return (handler.__doc__ or "").strip()


class _Printable:
    """A text stream that shows control characters as escapes: a file name with a terminal escape
    sequence in it, or a narrative with one, never drives the terminal it is printed on."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return int(self._stream.write(printable(text)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    out, err = sys.stdout, sys.stderr
    if not isinstance(out, _Printable):
        sys.stdout, sys.stderr = _Printable(out), _Printable(err)
    try:
        return _main(argv)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args, extra = parser.parse_known_args(arguments)
        if extra:  # said by the command's own parser, with its usage, rather than by xlplan's
            getattr(args, "command_parser", parser).error("unrecognized arguments: " + " ".join(extra))
    except SystemExit as exc:  # --help (and --version) end here
        return int(exc.code or 0)
    except UsageError as refused:
        # Said as any stop is said: in the user's language, and as one JSON document under --json.
        language = language_of(given_lang(arguments) or os.environ.get("XLPLAN_LANG"))
        print(refused.usage.rstrip(), file=sys.stderr)
        return _stopped([refused.finding], EXIT_USAGE, language, json_output="--json" in arguments)
    args.language = getattr(args, "lang", None) or language_of(os.environ.get("XLPLAN_LANG"))
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except XlplanError as exc:
        return _stopped(exc.findings, exc.exit_code, args.language, json_output=getattr(args, "json", False))
    except BrokenPipeError:
        # `xlplan plan show | head`: the reader has gone; say nothing more, as other commands do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(say(args.language, "中断しました。", "Interrupted."), file=sys.stderr)
        return 130
    except (OSError, sqlite3.Error) as exc:
        # The environment failed where no finding was foreseen (a full disk, a read-only folder):
        # say so in the user's words, with the file, rather than a traceback. Nothing half-written
        # stays: outputs are written beside their target and moved in place, the ledger is SQLite.
        path = str(getattr(exc, "filename", None) or args_workspace(args))
        params = os_params(exc) if isinstance(exc, OSError) else sqlite_params(exc)
        failed = Finding("environment-failed", {"path": path, **params})
        return _stopped([failed], EXIT_OUTPUT, args.language, json_output=getattr(args, "json", False))


def _stopped(findings: Sequence[Finding], exit_code: int, language: Language, *, json_output: bool) -> int:
    """Say why a command stopped (usage, configuration, output, busy): the findings on standard error,
    and with ``--json`` one document on standard output, so a script reads why nothing was done."""
    print(format_table(findings, language), file=sys.stderr)
    if json_output:
        document = {"ok": False, "exit_code": exit_code, "findings": findings_json(findings, language)}
        print(json.dumps(document, ensure_ascii=False, indent=2))
    return exit_code


def args_workspace(args: argparse.Namespace) -> Path:
    """The workspace a command was run on (the current folder by default)."""
    return Path(getattr(args, "workspace", None) or ".").resolve()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
